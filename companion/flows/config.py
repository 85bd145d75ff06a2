"""A site's flow settings: the owner's changes (FlowSetting rows) merged over the defaults."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from companion.email.rendering import DEFAULT_SUBJECTS, validate_override
from companion.flows.definitions import (
    DEFAULT_FLOW_CONFIG,
    DEFAULT_SITE_CONFIG,
    FLOWS,
    FlowDefinition,
)
from companion.models import FlowSetting, Site, utcnow

SITE_KEY = "_site"
EXTRAS = ("coupon", "reward", "early_access_url", "replenish_days", "consumable", "never")
WHOLE_VALUES = (
    "coupon",
    "replenish_days",
    "consumable",
    "never",
)  # a change replaces them, not merged into them
STEP_FIELDS = ("delay_hours", "enabled", "subject", "intro", "outro", "subject_b")
TEMPLATE_FIELDS = ("subject", "intro", "outro", "subject_b")
RENDERED_AS = {"subject_b": "subject"}  # subject B is checked as a subject is rendered


class InvalidSettings(ValueError):
    """Changes refused, with messages by field as the API input nests them (marshmallow's shape)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(str(fields))
        self.fields = fields


@dataclass(frozen=True)
class StepConfig:
    step: int
    delay_hours: float
    enabled: bool  # what is sent: the owner's switch, and what the step needs is set
    subject: str | None
    intro: str | None
    outro: str | None
    switched_on: bool = True  # the owner's switch
    needs: tuple[str, ...] = ()  # unset settings it waits for (any one of them will do)
    subject_b: str | None = None  # set: the step tests two subjects (flows/abtest.py)

    def overrides(self, variant: str | None = None) -> dict[str, str]:
        subject = self.subject_b if variant == "B" and self.subject_b else self.subject
        return {
            k: v
            for k, v in (("subject", subject), ("intro", self.intro), ("outro", self.outro))
            if v
        }


@dataclass(frozen=True)
class FlowConfig:
    definition: FlowDefinition
    enabled: bool
    steps: list[StepConfig]
    from_email: str
    from_name: str
    reply_to: str | None
    conditions: dict[str, Any]
    extras: dict[
        str, Any
    ]  # EXTRAS: coupon, reward, early_access_url, replenish_days, consumable, never
    postal_address: str | None = None

    def step(self, number: int) -> StepConfig:
        return self.steps[number - 1]


def _merge(base: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in (changes or {}).items():
        if (
            isinstance(value, dict)
            and isinstance(merged.get(key), dict)
            and key not in WHOLE_VALUES
        ):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def stored_changes(site_id: int) -> dict[str, dict[str, Any]]:
    rows = FlowSetting.select(FlowSetting.flow_key, FlowSetting.config).where(
        FlowSetting.site == site_id
    )
    return {r.flow_key: r.config or {} for r in rows}


def with_draft(site_id: int, key: str, draft: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """What is stored, with one flow's unsaved changes (as `flow_changes` makes them) over it:
    the owner's edits previewed before they are saved."""
    changes = stored_changes(site_id)
    if draft:
        changes[key] = _merge(changes.get(key) or {}, draft)
    return changes


def site_config(site: Site, changes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    changes = stored_changes(site.id) if changes is None else changes
    merged = _merge(DEFAULT_SITE_CONFIG, changes.get(SITE_KEY))
    merged["from_email"] = merged["from_email"] or default_sender(site)
    merged["from_name"] = merged["from_name"] or site.name
    return merged


def default_sender(site: Site) -> str:
    host = (urlparse(site.url).hostname or "example.com").removeprefix("www.")
    return f"shop@{host}"


def flow_config(
    site: Site, key: str, changes: dict[str, dict[str, Any]] | None = None
) -> FlowConfig:
    changes = stored_changes(site.id) if changes is None else changes
    shared = site_config(site, changes)
    raw = _merge(DEFAULT_FLOW_CONFIG, changes.get(key))
    definition = FLOWS[key]
    step_changes = raw.get("steps") or {}
    extras = {k: raw.get(k) for k in EXTRAS}
    steps = [
        _step(
            n,
            definition.delays_hours[n - 1],
            step_changes.get(str(n)) or {},
            _unmet(definition.step_needs(n), extras),
        )
        for n in range(1, len(definition.delays_hours) + 1)
    ]
    return FlowConfig(
        definition=definition,
        enabled=bool(raw["enabled"]),
        steps=steps,
        from_email=raw["from_email"] or shared["from_email"],
        from_name=raw["from_name"] or shared["from_name"],
        reply_to=raw["reply_to"] or shared["reply_to"],
        conditions=raw["conditions"],
        extras=extras,
        postal_address=shared.get("postal_address"),
    )


def _unmet(needs: tuple[str, ...], extras: dict[str, Any]) -> tuple[str, ...]:
    """A step that offers something (a coupon, a reward) waits until one of `needs` is set."""
    return () if not needs or any(extras.get(name) for name in needs) else needs


def _step(
    number: int, default_delay: float, changes: dict[str, Any], unmet: tuple[str, ...]
) -> StepConfig:
    switched_on = bool(changes.get("enabled", True))
    return StepConfig(
        step=number,
        delay_hours=float(changes.get("delay_hours", default_delay)),
        enabled=switched_on and not unmet,
        subject=changes.get("subject"),
        intro=changes.get("intro"),
        outro=changes.get("outro"),
        switched_on=switched_on,
        needs=unmet,
        subject_b=changes.get("subject_b"),
    )


def save_changes(site: Site, key: str, changes: dict[str, Any]) -> None:
    """Merge the owner's changes into what is stored for this flow (or SITE_KEY)."""
    row = FlowSetting.get_or_none(FlowSetting.site == site.id, FlowSetting.flow_key == key)
    if row is None:
        FlowSetting.insert(
            site=site.id, flow_key=key, config=changes, updated_at=utcnow()
        ).on_conflict_ignore().execute()
        row = FlowSetting.get(FlowSetting.site == site.id, FlowSetting.flow_key == key)
        if row.config == changes:
            return
    FlowSetting.update(config=_merge(row.config or {}, changes), updated_at=utcnow()).where(
        FlowSetting.id == row.id
    ).execute()


class Configs:
    """Flow settings read once per site for a batch of work."""

    def __init__(self) -> None:
        self._changes: dict[int, dict[str, dict[str, Any]]] = {}
        self._flows: dict[tuple[int, str], FlowConfig] = {}
        self._sites: dict[int, dict[str, Any]] = {}

    def changes(self, site: Site) -> dict[str, dict[str, Any]]:
        if site.id not in self._changes:
            self._changes[site.id] = stored_changes(site.id)
        return self._changes[site.id]

    def flow(self, site: Site, key: str) -> FlowConfig:
        if (site.id, key) not in self._flows:
            self._flows[site.id, key] = flow_config(site, key, self.changes(site))
        return self._flows[site.id, key]

    def site(self, site: Site) -> dict[str, Any]:
        if site.id not in self._sites:
            self._sites[site.id] = site_config(site, self.changes(site))
        return self._sites[site.id]


# --- what the API shows and accepts --------------------------------------------------------------


def describe(
    site: Site, key: str, changes: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    flow = flow_config(site, key, changes)
    d = flow.definition
    return {
        "key": key,
        "title": d.title,
        "trigger": d.trigger,
        "exits": d.exits,
        "is_marketing": d.is_marketing,
        "enabled": flow.enabled,
        "from_email": flow.from_email,
        "from_name": flow.from_name,
        "reply_to": flow.reply_to,
        "conditions": flow.conditions,
        **flow.extras,
        "steps": [_described_step(key, s) for s in flow.steps],
    }


def _described_step(key: str, step: StepConfig) -> dict[str, Any]:
    """`enabled` is the owner's switch; `active` whether the step is sent, `needs` what it waits
    for."""
    return {
        "step": step.step,
        "delay_hours": step.delay_hours,
        "enabled": step.switched_on,
        "active": step.enabled,
        "needs": list(step.needs),
        "subject": step.subject,
        "intro": step.intro,
        "outro": step.outro,
        "subject_b": step.subject_b,
        "default_subject": DEFAULT_SUBJECTS[key, step.step],
        "is_marketing": FLOWS[key].is_marketing_step(step.step),
    }


def describe_all(site: Site) -> dict[str, Any]:
    changes = stored_changes(site.id)
    return {
        "settings": site_config(site, changes),
        "flows": [describe(site, k, changes) for k in FLOWS],
    }


def flow_changes(key: str, data: dict[str, Any]) -> dict[str, Any]:
    """API input (steps as a list) -> what is stored (steps by number); checks step numbers."""
    changes = {k: v for k, v in data.items() if k != "steps"}
    if "conditions" in changes and changes["conditions"].get("min_value") is not None:
        changes["conditions"]["min_value"] = str(changes["conditions"]["min_value"])
    steps = {}
    for step in data.get("steps") or []:
        number = step["step"]
        if not 1 <= number <= len(FLOWS[key].delays_hours):
            raise ValueError(f"{key} has steps 1 to {len(FLOWS[key].delays_hours)}, not {number}")
        steps[str(number)] = {k: v for k, v in step.items() if k != "step"}
    if steps:
        changes["steps"] = steps
    return changes


def template_problems(key: str, data: dict[str, Any]) -> dict[str, Any]:
    """Each changed subject, intro and outro rendered as its step will be, against a sample of
    what the step is given, undefined names being errors: `{"steps": {index: {field: [why]}}}`."""
    problems: dict[str, dict[str, list[str]]] = {}
    for index, step in enumerate(data.get("steps") or []):
        number = step.get("step")
        if not isinstance(number, int) or not 1 <= number <= len(FLOWS[key].delays_hours):
            continue  # flow_changes names the bad number
        for name in TEMPLATE_FIELDS:
            if step.get(name):
                try:
                    validate_override(step[name], key, number, RENDERED_AS.get(name, name))
                except ValueError as exc:
                    problems.setdefault(str(index), {})[name] = [str(exc)]
    return {"steps": problems} if problems else {}


def update_flows(site: Site, data: dict[str, Any]) -> None:
    """Save site-wide settings and per-flow changes; nothing is saved if any part is invalid
    (InvalidSettings names the fields)."""
    problems = {
        key: found
        for key, flow in (data.get("flows") or {}).items()
        if (found := template_problems(key, flow))
    }
    if problems:
        raise InvalidSettings({"flows": problems})
    prepared = {key: flow_changes(key, flow) for key, flow in (data.get("flows") or {}).items()}
    if data.get("settings"):
        prepared[SITE_KEY] = data["settings"]
    for key, changes in prepared.items():
        save_changes(site, key, changes)
