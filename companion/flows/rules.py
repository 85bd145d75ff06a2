"""Rules every send obeys: never to a suppressed address, marketing only with the consent the site
requires, a per-contact frequency cap and the site's quiet hours (marketing only); and for the
flows that mail people out of the blue (win-back, VIP, replenishment), smart sending: not to
someone shopping right now or mailed marketing lately."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from companion.flows.definitions import FLOWS
from companion.models import Cart, Contact, Message, Order, Site, Suppression


@dataclass(frozen=True)
class Verdict:
    action: str  # "send", "skip" or "defer"
    reason: str = ""
    until: datetime | None = None

    @property
    def is_send(self) -> bool:
        return self.action == "send"


SEND = Verdict("send")
IN_FLIGHT = ("pending", "on_hold", "processing")  # placed, not yet completed, cancelled or refunded
SHOPPER_RECHECK = timedelta(hours=1)
SHOPPING_CARTS = (
    "active",
    "abandoned",
)  # with items, not bought: emptied and converted carts are not


def _hours(value: Any) -> timedelta:
    return timedelta(hours=value or 0)


@dataclass
class Facts:
    """What the rules need about the contacts of a batch of steps, read in a few queries."""

    contacts: dict[int, Contact] = field(default_factory=dict)
    suppressed: dict[tuple[int, str], str] = field(default_factory=dict)
    recent: dict[int, list[datetime]] = field(
        default_factory=dict
    )  # marketing mail sent, per contact
    shopping: dict[int, str] = field(
        default_factory=dict
    )  # contact -> "active cart" / "order in flight"
    # (contact, flow, step) -> when that step last went to the contact, for once-per-days steps
    last_step: dict[tuple[int, str, int], datetime] = field(default_factory=dict)

    def load(
        self, enrolments: list[Any], now: datetime, site_configs: list[dict[str, Any]]
    ) -> None:
        ids = sorted({e.contact_id for e in enrolments})
        smart = max([_hours(c.get("smart_sending_hours")) for c in site_configs] or [timedelta(0)])
        window = max(
            [
                timedelta(hours=(c.get("frequency_cap") or {}).get("per_hours", 24))
                for c in site_configs
            ]
            + [timedelta(hours=24), smart]
        )
        watched = (
            {
                e.contact_id
                for e in enrolments
                if e.flow_key in FLOWS and FLOWS[e.flow_key].smart_sending
            }
            if smart
            else set()
        )
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            contacts = list(Contact.select().where(Contact.id.in_(chunk)))
            self.contacts.update({c.id: c for c in contacts})
            self._load_suppressed(contacts)
            for contact_id, created in (
                Message.select(Message.contact, Message.created_at)
                .where(
                    Message.contact.in_(chunk),
                    Message.is_marketing == True,
                    Message.created_at > now - window,
                    Message.status != "failed",
                )
                .tuples()
            ):
                self.recent.setdefault(contact_id, []).append(_as_datetime(created))
            self._load_shopping([c for c in chunk if c in watched], now - smart)
            self._load_last_steps(chunk, enrolments, now)

    def _load_last_steps(self, ids: list[int], enrolments: list[Any], now: datetime) -> None:
        limited = {
            e.flow_key: max(days for _, days in FLOWS[e.flow_key].once_per_days)
            for e in enrolments
            if e.flow_key in FLOWS and FLOWS[e.flow_key].once_per_days and e.contact_id in ids
        }
        if not limited:
            return
        for contact_id, flow_key, step, created in (
            Message.select(Message.contact, Message.flow_key, Message.step, Message.created_at)
            .where(
                Message.contact.in_(ids),
                Message.flow_key.in_(list(limited)),
                Message.created_at > now - timedelta(days=max(limited.values())),
                Message.status != "failed",
            )
            .tuples()
        ):
            self.sent_step(contact_id, flow_key, step, _as_datetime(created))

    def sent_step(self, contact_id: int, flow_key: str, step: int, at: datetime) -> None:
        key = (contact_id, flow_key, step)
        self.last_step[key] = max(at, self.last_step.get(key, at))

    def _load_shopping(self, ids: list[int], since: datetime) -> None:
        """Who has a cart changed since `since` and not bought or emptied, or an order placed since
        then and not yet completed: both through the contact's index."""
        if not ids:
            return
        for (contact_id,) in (
            Cart.select(Cart.contact)
            .distinct()
            .where(Cart.contact.in_(ids), Cart.status.in_(SHOPPING_CARTS), Cart.updated_at > since)
            .tuples()
        ):
            self.shopping[contact_id] = "active cart"
        for (contact_id,) in (
            Order.select(Order.contact)
            .distinct()
            .where(
                Order.contact.in_(ids),
                Order.status.in_(IN_FLIGHT),
                Order.deleted_at.is_null(),
                Order.created_at > since,
            )
            .tuples()
        ):
            self.shopping.setdefault(contact_id, "order in flight")

    def _load_suppressed(self, contacts: list[Contact]) -> None:
        for site_id in {c.site_id for c in contacts}:
            emails = [c.email.lower() for c in contacts if c.site_id == site_id and c.email]
            for email, reason in (
                Suppression.select(Suppression.email, Suppression.reason)
                .where(Suppression.site == site_id, Suppression.email.in_(emails or [""]))
                .tuples()
            ):
                self.suppressed[site_id, email] = reason


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def check(
    site: Site,
    site_cfg: dict[str, Any],
    contact: Contact | None,
    is_marketing: bool,
    now: datetime,
    facts: Facts,
    smart: str | None = None,
) -> Verdict:
    if contact is None or contact.erased_at is not None or not contact.email:
        return Verdict("skip", "no address")
    suppressed = facts.suppressed.get((site.id, contact.email.lower()))
    if suppressed and blocks(suppressed, is_marketing):
        return Verdict("skip", f"suppressed: {suppressed}")
    if not is_marketing:
        return SEND
    if not has_consent(contact, site_cfg):
        return Verdict("skip", "no marketing consent")
    quiet = quiet_until(site.timezone, site_cfg.get("quiet_hours"), now)
    if quiet:
        return Verdict("defer", "quiet hours", quiet)
    capped = cap_until(facts.recent.get(contact.id, []), site_cfg.get("frequency_cap"), now)
    if capped:
        return Verdict("defer", "frequency cap", capped)
    if smart:
        return smart_sending(contact, site_cfg, now, facts, smart)
    return SEND


def smart_sending(
    contact: Contact, site_cfg: dict[str, Any], now: datetime, facts: Facts, mode: str
) -> Verdict:
    """Win-back, VIP and replenishment write to people out of the blue: not while they shop (a cart
    or an order in flight within the window) nor within `smart_sending_hours` of their last
    marketing mail. `mode` "skip": the step is dropped (an order ends those flows anyway, and the
    next lapse or due date writes again); "defer": it waits (the VIP welcome comes once)."""
    window = _hours(site_cfg.get("smart_sending_hours"))
    if not window:
        return SEND
    if contact.id in facts.shopping:
        reason, until = f"smart sending: {facts.shopping[contact.id]}", now + SHOPPER_RECHECK
    else:
        lately = [sent for sent in facts.recent.get(contact.id, []) if sent > now - window]
        if not lately:
            return SEND
        reason, until = "smart sending: mailed lately", max(lately) + window + timedelta(seconds=1)
    return Verdict("defer", reason, until) if mode == "defer" else Verdict("skip", reason)


def once_per(contact: Contact, flow_key: str, step: int, now: datetime, facts: Facts) -> Verdict:
    """A step a contact gets at most once in `once_per_days` (FlowDefinition): skipped, with the
    day it last went, if it went to them more recently."""
    days = FLOWS[flow_key].step_once_per_days(step) if flow_key in FLOWS else None
    last = facts.last_step.get((contact.id, flow_key, step))
    if days is None or last is None or last <= now - timedelta(days=days):
        return SEND
    return Verdict("skip", f"sent to this contact on {last:%Y-%m-%d} (at most once in {days} days)")


def blocks(suppression_reason: str, is_marketing: bool) -> bool:
    """An unsubscribe stops marketing only; a bounce or a spam complaint stops every mail."""
    return is_marketing or suppression_reason != "unsubscribe"


def has_consent(contact: Contact, site_cfg: dict[str, Any]) -> bool:
    if contact.marketing_consent is None:
        return site_cfg.get("unknown_consent", "allow") == "allow"
    return bool(contact.marketing_consent)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(timezone: str, quiet: dict[str, str] | None, now: datetime) -> datetime | None:
    """When quiet hours end (naive UTC), if `now` falls inside them in the site's time zone."""
    if not quiet or not quiet.get("start") or not quiet.get("end"):
        return None
    zone = ZoneInfo(timezone)
    local = now.replace(tzinfo=UTC).astimezone(zone)
    start, end, clock = _clock(quiet["start"]), _clock(quiet["end"]), local.time()
    if start == end:
        return None
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if overnight and clock >= start else local.date()
    ends = datetime.combine(day, end, tzinfo=zone)
    return ends.astimezone(UTC).replace(tzinfo=None)


def cap_until(sent: list[datetime], cap: dict[str, int] | None, now: datetime) -> datetime | None:
    """When the contact may get marketing mail again, if the cap is reached (`sent`: when the
    contact's recent marketing mail went out)."""
    if not cap or not cap.get("max_messages"):
        return None
    window = timedelta(hours=cap.get("per_hours", 24))
    inside = sorted(t for t in sent if t > now - window)
    if len(inside) < cap["max_messages"]:
        return None
    return inside[-cap["max_messages"]] + window + timedelta(seconds=1)
