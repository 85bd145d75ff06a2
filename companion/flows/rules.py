"""Rules every send obeys: never to a suppressed address, marketing only with the consent the site
requires, a per-contact frequency cap and the site's quiet hours (marketing only)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peewee import fn

from companion.models import Contact, Message, Site, Suppression


@dataclass(frozen=True)
class Verdict:
    action: str  # "send", "skip" or "defer"
    reason: str = ""
    until: datetime | None = None

    @property
    def is_send(self) -> bool:
        return self.action == "send"


SEND = Verdict("send")


def check(site: Site, site_cfg: dict[str, Any], contact: Contact | None, is_marketing: bool,
          now: datetime) -> Verdict:
    if contact is None or contact.erased_at is not None or not contact.email:
        return Verdict("skip", "no address")
    suppressed = suppression_reason(site.id, contact.email)
    if suppressed:
        return Verdict("skip", f"suppressed: {suppressed}")
    if not is_marketing:
        return SEND
    if not has_consent(contact, site_cfg):
        return Verdict("skip", "no marketing consent")
    quiet = quiet_until(site.timezone, site_cfg.get("quiet_hours"), now)
    if quiet:
        return Verdict("defer", "quiet hours", quiet)
    capped = cap_until(site.id, contact.id, site_cfg.get("frequency_cap"), now)
    if capped:
        return Verdict("defer", "frequency cap", capped)
    return SEND


def suppression_reason(site_id: int, email: str) -> str | None:
    row = Suppression.get_or_none(Suppression.site == site_id, Suppression.email == email.lower())
    return row.reason if row else None


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


def cap_until(site_id: int, contact_id: int, cap: dict[str, int] | None, now: datetime) -> datetime | None:
    """When the contact may get marketing mail again, if the cap is reached."""
    if not cap or not cap.get("max_messages"):
        return None
    window = timedelta(hours=cap.get("per_hours", 24))
    recent = Message.select(Message.created_at).where(
        Message.site == site_id, Message.contact == contact_id, Message.is_marketing == True,
        Message.created_at > now - window, Message.status != "failed")
    count, oldest = recent.select(fn.COUNT(Message.id), fn.MIN(Message.created_at)).scalar(as_tuple=True)
    if count < cap["max_messages"]:
        return None
    if isinstance(oldest, str):
        oldest = datetime.fromisoformat(oldest)
    return oldest + window + timedelta(seconds=1)
