"""What bench/simulate_month.py prints: the month's mail counted, every mail checked against the
rules of docs/flows.md, and each mail's HTML written out to be looked at."""

from __future__ import annotations

import html as html_lib
import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from companion.app import create_app
from companion.flows.config import Configs
from companion.flows.definitions import FLOWS
from companion.models import Cart, Contact, Enrolment, Message, MessageBody, Site

DAY = timedelta(days=1)
BLOCKS_ALL = ("bounce", "spamreport")  # after these no mail at all (and after an erasure)
BLOCKS_MARKETING = ("unsubscribe", "no consent")
MONEY = re.compile(r"(?<![\w$.,])(\d{1,3}(?:,\d{3})*\.\d{2})\b")  # an amount without its sign
OTHER_CURRENCY = re.compile(r"€|£|\bEUR\b|\bGBP\b")
PRODUCT_STEPS = {(k, s) for k, f in FLOWS.items() for s in f.product_steps}
HREF = re.compile(r'href="([^"]+)"')


class People:
    """Who did what, as the simulation made them do it: the moment each address stopped wanting
    (or being able to take) mail, and the store's own view of their consent."""

    def __init__(self) -> None:
        self.site_id = 0
        self.stops: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
        self.erased_contacts: dict[int, datetime] = {}
        self.seen_after: dict[str, list[datetime]] = defaultdict(list)  # store events per address
        self.recipients: list[str] = []
        self._known: set[str] = set()

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "site_id": self.site_id,
                    "stops": {
                        e: [(k, f"{t:%Y-%m-%dT%H:%M:%S}") for k, t in v]
                        for e, v in self.stops.items()
                    },
                    "erased": {
                        str(c): f"{t:%Y-%m-%dT%H:%M:%S}" for c, t in self.erased_contacts.items()
                    },
                    "seen": {
                        e: [f"{t:%Y-%m-%dT%H:%M:%S}" for t in v] for e, v in self.seen_after.items()
                    },
                }
            )
        )

    @classmethod
    def load(cls, path: Path) -> People:
        data, people = json.loads(path.read_text()), cls()
        people.site_id = data["site_id"]
        for email, stops in data["stops"].items():
            people.stops[email] = [(k, datetime.fromisoformat(t)) for k, t in stops]
        people.erased_contacts = {
            int(c): datetime.fromisoformat(t) for c, t in data["erased"].items()
        }
        for email, seen in data["seen"].items():
            people.seen_after[email] = [datetime.fromisoformat(t) for t in seen]
        return people

    def mailed(self, message: Message) -> None:
        if message.to_email not in self._known:
            self._known.add(message.to_email)
            self.recipients.append(message.to_email)

    def pick(self, rng: Any, n: int) -> list[str]:
        chosen = [e for e in self.recipients if e not in self.stops]
        return rng.sample(chosen, min(n, len(chosen)))

    def blocked(self, email: str, kind: str, at: datetime) -> None:
        self.stops[email].append((kind, at))
        if kind == "erased":
            contact = Contact.get_or_none(Contact.site == self.site_id, Contact.email == email)
            if contact is not None:
                self.erased_contacts[contact.id] = at

    def as_store_sees(self, event: dict[str, Any]) -> dict[str, Any]:
        """The story's shoppers keep their consent; one who withdrew it in the store is sent as
        not consenting from then on (the store knows)."""
        contact = event.get("contact")
        if not contact:
            return event
        email = contact["email"]
        self.seen_after[email].append(datetime.strptime(event["occurred_at"], "%Y-%m-%dT%H:%M:%SZ"))
        if any(kind == "no consent" for kind, _ in self.stops.get(email, ())):
            return {**event, "contact": {**contact, "marketing_consent": False}}
        return event


def person(m: Message) -> Any:
    """Who a mail went to: the contact (an erased one keeps its row, not its address)."""
    return m.contact_id or m.to_email


def erased(m: Message) -> bool:
    return m.to_email.endswith(".invalid")  # privacy.py blanks an erased person's mail


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


def _copy(message: Message, bodies: dict[int, MessageBody]) -> tuple[str, str]:
    body = bodies[message.body_id]
    html, text = body.html, body.text
    for tag, value in (message.substitutions or {}).items():
        html, text = html.replace(tag, value), text.replace(tag, value)
    return html, text


def report(site: Site, people: People, settings: Any, out: Path, start: datetime) -> int:
    messages = list(
        Message.select()
        .where(Message.site == site.id, Message.created_at > start)
        .order_by(Message.created_at, Message.id)
    )
    bodies = {b.id: b for b in MessageBody.select().where(MessageBody.site == site.id)}
    zone = ZoneInfo(site.timezone)
    _counts(messages, zone)
    problems: dict[str, list[str]] = defaultdict(list)
    _who_should_not(messages, people, problems)
    _caps(messages, site, zone, problems)
    _content(messages, bodies, site, problems)
    _links(messages, bodies, settings, problems)
    _write(messages, bodies, out)
    print("\nmails that should not have gone, or say something wrong:")
    if not problems:
        print("  none")
    for kind, lines in sorted(problems.items()):
        print(f"  {kind}: {len(lines)}")
        for line in lines[:5]:
            print(f"    {line}")
    print(f"\nrendered mails: {out}")
    return sum(len(v) for v in problems.values())


def _counts(messages: list[Message], zone: ZoneInfo) -> None:
    people = {person(m) for m in messages}
    print(f"\nmails: {len(messages):,} to {len(people):,} people")
    statuses = Counter(m.status for m in messages)
    print(f"status: {dict(statuses)}")
    print("per flow and step:")
    per_step = Counter((m.flow_key, m.step) for m in messages)
    for key in FLOWS:
        steps = {s: n for (k, s), n in sorted(per_step.items()) if k == key}
        print(f"  {key:20} {sum(steps.values()):5}  {steps}")
    per_day = Counter(_local(m.created_at, zone).date() for m in messages)
    print(
        "per day (shop's time): " + ", ".join(f"{d:%m-%d} {n}" for d, n in sorted(per_day.items()))
    )
    per_person = Counter(person(m) for m in messages)
    marketing = Counter(person(m) for m in messages if m.is_marketing)
    spread = Counter(per_person.values())
    print(
        f"per person: max {max(per_person.values(), default=0)}, "
        f"marketing max {max(marketing.values(), default=0)}; "
        "people by mails: " + ", ".join(f"{k}: {v}" for k, v in sorted(spread.items()))
    )
    week = 0
    times: dict[Any, list[datetime]] = defaultdict(list)
    for m in messages:
        times[person(m)].append(m.created_at)
    for moments in times.values():
        for i, t in enumerate(moments):
            week = max(week, sum(1 for u in moments[i:] if u - t < 7 * DAY))
    print(f"most mails to one person in any 7 days: {week}")


def _who_should_not(messages: list[Message], people: People, problems: dict) -> None:
    consent = {
        c.id: c.marketing_consent
        for c in Contact.select(Contact.id, Contact.marketing_consent).where(
            Contact.id.in_({m.contact_id for m in messages if m.contact_id} or {0})
        )
    }
    for m in messages:
        what = f"{m.created_at:%m-%d %H:%M} {m.flow_key} {m.step} to {m.to_email}"
        erased_at = people.erased_contacts.get(m.contact_id or 0)
        if erased_at and m.created_at > erased_at:
            problems["erased (same contact)"].append(what)
        for kind, at in people.stops.get(m.to_email, ()):
            if at >= m.created_at:
                continue
            back = [t for t in people.seen_after.get(m.to_email, ()) if t > at]
            if kind == "erased" and not back:
                problems["erased"].append(what)
            elif (
                kind in ("bounce", "spamreport")
                or kind in ("unsubscribe", "no consent")
                and m.is_marketing
            ):
                problems[kind].append(what)
        if m.is_marketing and consent.get(m.contact_id) is False:
            stops = [k for k, _ in people.stops.get(m.to_email, ())]
            if "no consent" not in stops:
                problems["no consent (never gave it)"].append(what)


def _caps(messages: list[Message], site: Site, zone: ZoneInfo, problems: dict) -> None:
    config = Configs().site(site)
    cap, quiet = config["frequency_cap"], config["quiet_hours"]
    by_contact: dict[Any, list[Message]] = defaultdict(list)
    for m in messages:
        by_contact[person(m)].append(m)
    for email, mails in by_contact.items():
        marketing = [m for m in mails if m.is_marketing]
        if cap:
            window = timedelta(hours=cap["per_hours"])
            for i, m in enumerate(marketing):
                within = [o for o in marketing[i:] if o.created_at - m.created_at < window]
                if len(within) > cap["max_messages"]:
                    problems["frequency cap"].append(
                        f"{email}: {[(o.flow_key, f'{o.created_at:%m-%d %H:%M}') for o in within]}"
                    )
                    break
        for a, b in itertools.pairwise(mails):
            if a.flow_key == b.flow_key and b.created_at - a.created_at < timedelta(hours=1):
                problems["two of one flow at once"].append(
                    f"{email}: {a.flow_key} {a.step} and {b.step} at {a.created_at:%m-%d %H:%M}"
                )
        seen: dict[tuple[str, int], datetime] = {}  # (flow, step) -> last sent
        for m in mails:
            days = FLOWS[m.flow_key].step_once_per_days(m.step or 0)
            group = (m.flow_key, m.step or 0)
            if days and group in seen and m.created_at - seen[group] < days * DAY:
                problems["once per 30 days"].append(f"{email}: {m.flow_key} {m.step}")
            if days:
                seen[group] = m.created_at
    if quiet:
        start, end = (int(quiet[k][:2]) * 60 + int(quiet[k][3:]) for k in ("start", "end"))
        for m in messages:
            local = _local(m.created_at, zone)
            minute = local.hour * 60 + local.minute
            inside = minute >= start or minute < end if start > end else start <= minute < end
            if m.is_marketing and inside:
                problems["quiet hours"].append(f"{m.flow_key} {m.step} at {local:%m-%d %H:%M}")


def _content(messages: list[Message], bodies: dict, site: Site, problems: dict) -> None:
    product_urls = f"{site.url}/product/"
    for m in (m for m in messages if not erased(m)):  # an erased person's mail is blanked
        html, text = _copy(m, bodies)
        what = f"{m.flow_key} {m.step} to {m.to_email} ({m.uuid})"
        plain = html_lib.unescape(re.sub(r"<[^>]+>", " ", html))
        for source in (m.subject, text, plain):
            if OTHER_CURRENCY.search(source) or MONEY.search(source):
                problems["amount without the shop's currency"].append(
                    f"{what}: {(OTHER_CURRENCY.search(source) or MONEY.search(source)).group(0)}"  # type: ignore[union-attr]
                )
                break
        if (m.flow_key, m.step) in PRODUCT_STEPS and not any(
            link.startswith(product_urls) for link in m.links or []
        ):
            problems["product mail without a product"].append(what)
        unsubscribe = "List-Unsubscribe" in (m.headers or {}) and "/u/" in html
        if m.is_marketing and not unsubscribe:
            problems["marketing mail without unsubscribe"].append(what)
        if re.search(r"free shipping", text, re.IGNORECASE) and m.flow_key != "vip":
            problems["free shipping promised"].append(what)
        if m.flow_key == "win_back" and m.step == 2 and "COMEBACK10" not in text:
            problems["coupon mail without its code"].append(what)
        if m.flow_key == "abandoned_cart" and m.enrolment_id:
            enrolment = Enrolment.get_or_none(Enrolment.id == m.enrolment_id)
            token = (enrolment.key.split(":", 1)[1]) if enrolment else None
            cart = Cart.get_or_none(Cart.site == site.id, Cart.token == token) if token else None
            names = [i.get("name") for i in (cart.items or [])] if cart else []
            missing = [n for n in names if n and n not in text]
            if not names or missing:
                problems["cart mail without the cart"].append(f"{what}: {missing or 'no cart'}")


def _links(messages: list[Message], bodies: dict, settings: Any, problems: dict) -> None:
    """Every link of one mail per flow and step: tracked and signed, and it leads where it says."""
    app = create_app(settings, migrate=False)
    client = app.test_client()
    sampled: set[tuple[str, int]] = set()
    for m in (m for m in messages if not erased(m)):
        if (m.flow_key, m.step) in sampled:
            continue
        sampled.add((m.flow_key, m.step))
        html, _ = _copy(m, bodies)
        for href in HREF.findall(html):
            href = html_lib.unescape(href)
            if not href.startswith(settings.public_url):
                problems["link not tracked"].append(f"{m.flow_key} {m.step}: {href}")
                continue
            path = href[len(settings.public_url) :]
            answer = client.get(path)
            expected = 302 if "/t/c/" in path else 200 if "/u/" in path else answer.status_code
            if answer.status_code != expected:
                problems["link broken"].append(
                    f"{m.flow_key} {m.step}: {path} {answer.status_code}"
                )
            if answer.status_code == 302 and not answer.location.startswith(("http", "/")):
                problems["link broken"].append(f"{m.flow_key} {m.step}: -> {answer.location}")
            forged = client.get(path[:-3] + "AAA" if len(path) > 10 else path)
            if "/t/c/" in path and forged.status_code == 302:
                problems["link not signed"].append(f"{m.flow_key} {m.step}: {path}")


def _write(messages: list[Message], bodies: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*/*.html"):
        old.unlink()
    index = []
    for m in messages:
        html, _ = _copy(m, bodies)
        folder = out / f"{m.flow_key}-{m.step}"
        folder.mkdir(exist_ok=True)
        name = f"{m.created_at:%m%d-%H%M}-{m.id}.html"
        (folder / name).write_text(html)
        index.append(
            f"{m.created_at:%Y-%m-%d %H:%M}\t{m.flow_key}\t{m.step}\t{m.to_email}\t"
            f"{m.subject}\t{folder.name}/{name}"
        )
    (out / "index.tsv").write_text("\n".join(index) + "\n")
