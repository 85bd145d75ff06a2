"""Single-use coupons: a code of its own for each contact a coupon step mails, made in the store
before the mail goes (AutomateWoo and Klaviyo do this; one shared code ends up on coupon sites).

The code is recorded first (IssuedCoupon, unique per enrolment and step), then the store is asked
to create it through the plugin's signed route (POST ?rest_route=/sales-companion/v1/coupons,
Standard Webhooks signature with the site's secret, as the plugin signs what it sends us). The
store creates a code once however often it is asked, so a retry after a timeout asks for the same
code again. Until the store has confirmed the coupon the mail is not sent: the step waits and tries
again (delivery.BACKOFF_S), and is skipped with the reason after the last try.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests
from peewee import IntegrityError

from companion.core.db import database
from companion.core.signing import sign
from companion.email.rendering import format_money
from companion.models import Contact, Enrolment, IssuedCoupon, Site

log = logging.getLogger(__name__)

# the steps whose mail offers the flow's coupon (their templates show it)
COUPON_STEPS = {("abandoned_cart", 3), ("win_back", 2)}
ROUTE = "/sales-companion/v1/coupons"
# like a refused send (delivery.BACKOFF_S): waits between tries, then the step is skipped
BACKOFF_S = (60, 300, 900, 3600, 3 * 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
TIMEOUT_S = 10.0
# no 0/O, 1/I/L: a code read aloud or typed from a phone is typed right; 32**12 = 2**60 codes
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
PREVIEW_CODE = "SC-XXXXXXXXXXXX"


@dataclass(frozen=True)
class StoreAnswer:
    status: int  # 0: no answer (timeout, refused connection)
    body: dict[str, Any]
    error: str = ""


Poster = Callable[[Site, bytes, dict[str, str]], StoreAnswer]


class CouponNotReady(Exception):
    """The store has not created the contact's coupon: try again at `retry_at`, or (None) never.
    `reason` is short, for the step's outcome and the flow report."""

    def __init__(self, reason: str, retry_at: datetime | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at


def carries_coupon(flow_key: str, step: int) -> bool:
    return (flow_key, step) in COUPON_STEPS


def is_unique(coupon: dict[str, Any] | None) -> bool:
    return bool(coupon) and coupon.get("kind") == "unique"  # type: ignore[union-attr]


def expiry(now: datetime, days_valid: int, timezone: str) -> datetime:
    """The end of the shop's local day `days_valid` days from now (naive UTC): "valid until 12
    December" holds all of 12 December where the shop is."""
    zone = ZoneInfo(timezone or "UTC")
    last = now.replace(tzinfo=UTC).astimezone(zone).date() + timedelta(days=days_valid)
    end = datetime(last.year, last.month, last.day, 23, 59, 59, tzinfo=zone)
    return end.astimezone(UTC).replace(tzinfo=None)


def _day(value: date) -> str:
    return f"{value.day} {value:%B}"


def offer_text(template: dict[str, Any], expires_local: date | None, currency: str) -> str:
    """What a unique coupon gives, said from its settings only: "10% off, valid until 12
    December", "€5.00 off orders of €30.00 or more, valid until ..."."""
    amount = Decimal(str(template["amount"]))
    if template["discount_type"] == "percent":
        text = f"{amount.normalize():f}% off"
    else:
        text = f"{format_money(amount, currency)} off"
    if template.get("minimum_amount"):
        minimum = format_money(Decimal(str(template["minimum_amount"])), currency)
        text += f" orders of {minimum} or more"
    if expires_local is not None:
        text += f", valid until {_day(expires_local)}"
    return text


def _local(moment: datetime, timezone: str) -> date:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone or "UTC")).date()


def for_template(coupon: dict[str, Any] | None, site: Site, now: datetime) -> dict[str, Any] | None:
    """The coupon as templates see it ({code, description, expires}). A unique template has no
    code yet: a preview shows PREVIEW_CODE; a sent mail gets the contact's own (`issued_view`)."""
    if not is_unique(coupon):
        return coupon
    assert coupon is not None
    expires = _local(expiry(now, int(coupon["days_valid"]), site.timezone), site.timezone)
    return {
        "code": PREVIEW_CODE,
        "description": coupon.get("description") or offer_text(coupon, expires, site.currency),
        "expires": _day(expires),
    }


def issued_view(row: IssuedCoupon, template: dict[str, Any], site: Site) -> dict[str, Any]:
    expires = _local(row.expires_at, site.timezone)
    return {
        "code": row.code,
        "description": template.get("description") or offer_text(template, expires, site.currency),
        "expires": _day(expires),
    }


def new_code(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{prefix}-{body}" if prefix else body


# --- asking the store ----------------------------------------------------------------------------


def store_url(site: Site) -> str:
    """The route by its query form, which WordPress answers with or without pretty permalinks."""
    return site.url.rstrip("/") + "/?rest_route=" + ROUTE


def signed_headers(site: Site, body: bytes, now: float | None = None) -> dict[str, str]:
    msg_id = "msg_" + uuid.uuid4().hex
    stamp = int(time.time() if now is None else now)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(site.secret, msg_id, stamp, body),
    }


def http_post(site: Site, body: bytes, headers: dict[str, str]) -> StoreAnswer:
    try:
        response = requests.post(store_url(site), data=body, headers=headers, timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        return StoreAnswer(0, {}, f"{type(exc).__name__}: {exc}")
    try:
        parsed = response.json()
    except ValueError:
        parsed = {}
    return StoreAnswer(
        response.status_code, parsed if isinstance(parsed, dict) else {}, response.text[:500]
    )


def request_body(row: IssuedCoupon, email: str) -> bytes:
    return json.dumps(
        {
            "code": row.code,
            "discount_type": row.discount_type,
            "amount": f"{row.amount:.2f}",
            "minimum_amount": None if row.minimum_amount is None else f"{row.minimum_amount:.2f}",
            "individual_use": row.individual_use,
            "usage_limit": 1,
            "usage_limit_per_user": 1,
            "email": email,
            "date_expires": int(row.expires_at.replace(tzinfo=UTC).timestamp()),
            "flow": row.flow_key,
            "step": row.step,
        },
        separators=(",", ":"),
    ).encode()


def _record(
    site: Site,
    enrolment: Enrolment,
    contact: Contact,
    step: int,
    template: dict[str, Any],
    now: datetime,
) -> IssuedCoupon:
    """The contact's code for this step: the one recorded earlier, or a new one."""
    found = IssuedCoupon.get_or_none(
        IssuedCoupon.enrolment == enrolment.id, IssuedCoupon.step == step
    )
    while found is None:
        try:
            with database.atomic():
                IssuedCoupon.insert(
                    site=site.id,
                    contact=contact.id,
                    enrolment=enrolment.id,
                    flow_key=enrolment.flow_key,
                    step=step,
                    code=new_code(template.get("prefix", "SC")),
                    discount_type=template["discount_type"],
                    amount=Decimal(str(template["amount"])),
                    minimum_amount=(
                        Decimal(str(template["minimum_amount"]))
                        if template.get("minimum_amount")
                        else None
                    ),
                    individual_use=bool(template.get("individual_use", True)),
                    issued_at=now,
                    expires_at=expiry(now, int(template["days_valid"]), site.timezone),
                ).execute()
        except IntegrityError:
            pass  # another worker recorded it, or (2**-60) the code was taken: read, or draw again
        found = IssuedCoupon.get_or_none(
            IssuedCoupon.enrolment == enrolment.id, IssuedCoupon.step == step
        )
    return found


def _refusal(answer: StoreAnswer) -> str:
    said = answer.body.get("message") or answer.body.get("code") or answer.error
    return f"HTTP {answer.status}: {said}"[:2000] if answer.status else answer.error[:2000]


def issue(
    site: Site,
    enrolment: Enrolment,
    contact: Contact,
    step: int,
    template: dict[str, Any],
    now: datetime,
    post: Poster = http_post,
) -> IssuedCoupon:
    """The contact's coupon for this step, created in the store; raises CouponNotReady."""
    row = _record(site, enrolment, contact, step, template, now)
    if row.status == "created":
        return row
    if row.status == "refused":
        raise CouponNotReady(_short(row.error or ""), None)
    body = request_body(row, contact.email)
    answer = post(site, body, signed_headers(site, body))
    attempts = row.attempts + 1
    if answer.status in (200, 201) and str(answer.body.get("code", "")).upper() == row.code:
        IssuedCoupon.update(
            status="created",
            attempts=attempts,
            error=None,
            store_id=str(answer.body.get("id") or "")[:64] or None,
            created_at=now,
        ).where(IssuedCoupon.id == row.id).execute()
        return IssuedCoupon.get_by_id(row.id)
    error = _refusal(answer) if answer.status not in (200, 201) else f"unexpected answer {answer}"
    final = answer.status in (409, 422, 501) or attempts >= MAX_ATTEMPTS
    IssuedCoupon.update(
        status="refused" if final else "pending", attempts=attempts, error=error
    ).where(IssuedCoupon.id == row.id).execute()
    log.warning("coupon %s for enrolment %s not created: %s", row.code, enrolment.id, error)
    if final:
        raise CouponNotReady(_short(error), None)
    return_at = now + timedelta(seconds=BACKOFF_S[attempts - 1])
    raise CouponNotReady(_short(error), return_at)


def _short(error: str) -> str:
    """Why the step did not go, in the step's outcome (60 characters) and the flow report."""
    if "not_supported" in error or "HTTP 501" in error:
        return "no coupon: not supported by this store"
    if error.startswith("HTTP 409"):
        return "no coupon: the store holds that code already"
    if error.startswith("HTTP"):
        return f"no coupon: the store answered {error[5:8]}"
    return "no coupon: the store did not answer"
