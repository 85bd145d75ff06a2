"""Rules every send obeys: never to a suppressed address, marketing only with the consent the site
requires, a per-contact frequency cap and the site's quiet hours (marketing only)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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


@dataclass
class Facts:
    """What the rules need about the contacts of a batch of steps, read in a few queries."""

    contacts: dict[int, Contact] = field(default_factory=dict)
    suppressed: dict[tuple[int, str], str] = field(default_factory=dict)
    recent: dict[int, list[datetime]] = field(default_factory=dict)  # marketing mail sent, per contact

    def load(self, enrolments: list[Any], now: datetime, site_configs: list[dict[str, Any]]) -> None:
        ids = sorted({e.contact_id for e in enrolments})
        window = max([timedelta(hours=(c.get("frequency_cap") or {}).get("per_hours", 24)) for c in site_configs]
                     or [timedelta(hours=24)])
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            contacts = list(Contact.select().where(Contact.id.in_(chunk)))
            self.contacts.update({c.id: c for c in contacts})
            self._load_suppressed(contacts)
            for contact_id, created in Message.select(Message.contact, Message.created_at).where(
                    Message.contact.in_(chunk), Message.is_marketing == True,
                    Message.created_at > now - window, Message.status != "failed").tuples():
                self.recent.setdefault(contact_id, []).append(_as_datetime(created))

    def _load_suppressed(self, contacts: list[Contact]) -> None:
        for site_id in {c.site_id for c in contacts}:
            emails = [c.email.lower() for c in contacts if c.site_id == site_id and c.email]
            for email, reason in Suppression.select(Suppression.email, Suppression.reason).where(
                    Suppression.site == site_id, Suppression.email.in_(emails or [""])).tuples():
                self.suppressed[site_id, email] = reason


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def check(site: Site, site_cfg: dict[str, Any], contact: Contact | None, is_marketing: bool,
          now: datetime, facts: Facts) -> Verdict:
    if contact is None or contact.erased_at is not None or not contact.email:
        return Verdict("skip", "no address")
    suppressed = facts.suppressed.get((site.id, contact.email.lower()))
    if suppressed:
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
    return SEND


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
