"""Email rendering: default templates for every flow step, owner overrides, tracked links.

`render_email` renders HTML (CSS inlined) and text from `templates/email/<flow>.html|.txt`. Every
http(s) link of the output goes through the caller's `link_wrapper`, once per distinct URL, so
the flows can swap in `/t/c/<token>` links and store the originals (`RenderedEmail.links`, in
link-index order). The unsubscribe link and the open pixel are placed, not wrapped.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from companion.email.tokens import click_token, open_token, unsubscribe_token

TEMPLATE_DIR = Path(__file__).parents[1] / "templates" / "email"

REQUIRED_CONTEXT: dict[str, tuple[str, ...]] = {
    "post_purchase": ("order",),
    "abandoned_cart": ("cart",),
    "replenishment": ("product",),
    "renewal_reminder": ("subscription",),
}
DEFAULT_SUBJECTS: dict[tuple[str, int], str] = {
    ("post_purchase", 1): "Thank you for your order {{ order.number }}",
    ("post_purchase", 2): "How do you like your order, {{ contact.first_name or 'there' }}?",
    ("post_purchase", 3): "{{ 'Picked to go with your order' if bought_together "
    "else 'Our best sellers right now' }}",
    ("abandoned_cart", 1): "You left something in your cart",
    ("abandoned_cart", 2): "Your cart is still waiting",
    ("abandoned_cart", 3): "Last chance to complete your order",
    ("browse_abandonment", 1): "Still thinking about {{ (products|first).name or 'it' }}?",
    ("cross_sell", 1): "{{ 'Picked to go with your purchase' if bought_together "
    "else 'Our best sellers right now' }}",
    ("win_back", 1): "We miss you{{ ', ' ~ contact.first_name if contact.first_name }}",
    (
        "win_back",
        2,
    ): "{{ 'A welcome-back gift from ' if coupon else 'Come back to ' }}{{ shop.name }}",
    ("vip", 1): "You are a {{ shop.name }} VIP",
    ("replenishment", 1): "Time to restock {{ product.name }}"
    "{% if products|length > 1 %} and {{ products|length - 1 }} more{% endif %}?",
    ("renewal_reminder", 1): "Your {{ subscription.product_name }} renews soon",
    ("renewal_reminder", 2): "Your {{ subscription.product_name }} has expired",
}
OVERRIDABLE_BLOCKS = ("intro", "outro")

_SAMPLE_ITEM = {
    "name": "Blue mug",
    "price": "19.95",
    "quantity": 2,
    "url": "https://shop.example/mug",
    "image": "https://shop.example/mug.jpg",
}
SAMPLE_CONTEXT: dict[str, Any] = {
    # what the flows' context builders give (companion/flows/content.py), with every optional
    # value set; the owner's templates are checked against it on save
    "shop": {
        "name": "Sample shop",
        "url": "https://shop.example/",
        "address": "1 Sample Street, Sampletown",
    },
    "contact": {"first_name": "Ann"},
    "currency": "EUR",
    "order": {"number": "1042", "total": "39.90", "items": [_SAMPLE_ITEM]},
    "review_url": "https://shop.example/mug#reviews",
    # the recommendations are bought together with the order (else best sellers stand in)
    "bought_together": True,
    "products": [_SAMPLE_ITEM],
    "cart": {
        "items": [_SAMPLE_ITEM],
        "value": "39.90",
        "restore_url": "https://shop.example/checkout?sc_recover=x",
    },
    "coupon": {"code": "COMEBACK10", "description": "10% off"},
    "reward": {"title": "Free shipping", "description": "on every order", "code": "VIPSHIP"},
    "early_access_url": "https://shop.example/new",
    "product": {
        "name": "Coffee beans",
        "price": "12.50",
        "url": "https://shop.example/beans",
        "image": "https://shop.example/beans.jpg",
    },
    "reorder_url": "https://shop.example/beans",
    "subscription": {
        "product_name": "Pro plugin",
        "kind": "license",
        "expires_at": "31 December 2026",
        "price": "49.00",
        "renewal_url": "https://shop.example/renew",
    },
}
FLOW_CONTEXT: dict[str, tuple[str, ...]] = {
    "post_purchase": ("order", "review_url", "products", "bought_together"),
    "abandoned_cart": ("cart", "coupon"),
    "browse_abandonment": ("products",),
    "cross_sell": ("order", "review_url", "products", "bought_together"),
    "win_back": ("products", "coupon"),
    "vip": ("products", "reward", "early_access_url"),
    "replenishment": ("product", "products", "reorder_url"),
    "renewal_reminder": ("subscription",),
}

_MINOR_UNITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "XOF": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "BRL": "R$",
    "KRW": "₩",
    "MXN": "MX$",
    "ILS": "₪",
}
_HREF = re.compile(r'href="([^"]*)"')
_TEXT_URL = re.compile(r"https?://[^\s<>\"']+")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_TAG = re.compile(r"-sc_([a-z0-9_]+)-")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    links: list[str] = field(default_factory=list)
    # a preview filled with made-up values (no customer of the store fits the flow yet): why, in
    # the owner's words; None for a real customer's mail
    sample_values: str | None = None


class LinkRecorder:
    """A link_wrapper that records originals: link i becomes `make_url(i)`."""

    def __init__(self, make_url: Callable[[int], str]) -> None:
        self.make_url = make_url
        self.links: list[str] = []

    def __call__(self, url: str) -> str:
        self.links.append(url)
        return self.make_url(len(self.links) - 1)


class _OncePerUrl:
    """Calls the wrapper once per distinct URL, so HTML and text share link indexes."""

    def __init__(self, wrapper: Callable[[str], str], keep: set[str]) -> None:
        self.wrapper, self.keep = wrapper, keep
        self.wrapped: dict[str, str] = {}

    def __call__(self, url: str) -> str:
        if url in self.keep or not url.startswith(("http://", "https://")):
            return url
        if url not in self.wrapped:
            self.wrapped[url] = self.wrapper(url)
        return self.wrapped[url]


def format_money(amount: str | Decimal | int, currency: str) -> str:
    """`"1234.5", "USD"` -> `$1,234.50`; amounts are Decimal strings, never floats."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {amount!r}") from exc
    code = currency.upper()
    places = _MINOR_UNITS.get(code, 2)
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    number = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    if code in _SYMBOLS:
        return f"{sign}{_SYMBOLS[code]}{number}"
    return f"{sign}{number} {code}"


def _money_filter(amount: Any, currency: str = "USD") -> str:
    return "" if amount is None or amount == "" else format_money(amount, currency)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=lambda name: bool(name and name.endswith(".html")),
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money_filter
    return env


@lru_cache(maxsize=8)
def _sandbox(autoescape: bool, strict: bool = False) -> SandboxedEnvironment:
    """Owner templates; `strict` (on save) makes every undefined name an error."""
    env = SandboxedEnvironment(
        autoescape=autoescape, undefined=StrictUndefined if strict else ChainableUndefined
    )
    env.filters["money"] = _money_filter
    return env


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(load_remote_stylesheets=False)


def sample_context(flow_key: str, step: int) -> dict[str, Any]:
    """What this flow's step is given when sent, with sample values (see SAMPLE_CONTEXT)."""
    keys = ("shop", "contact", "currency", *FLOW_CONTEXT.get(flow_key, ()))
    context = {key: SAMPLE_CONTEXT[key] for key in keys}
    if flow_key == "post_purchase" and step != 3:
        context.pop("products")  # only step 3 recommends products
        context.pop("bought_together")
    return context


def validate_override(
    source: str, flow_key: str | None = None, step: int = 1, field: str = "subject"
) -> None:
    """Raises ValueError with the reason when an owner's subject or block cannot be rendered.

    Without a flow: its syntax, and a render against every flow's sample values. With one: rendered
    the way that step's `field` ("subject", "intro" or "outro") is rendered when sent, against
    `sample_context(flow_key, step)`, with every undefined name an error (a typo such as
    `contact.frist_name` would otherwise render as nothing)."""
    strict = flow_key is not None
    context = sample_context(flow_key, step) if flow_key is not None else SAMPLE_CONTEXT
    values: dict[str, Any] = {
        "currency": "USD",
        **context,
        "step": step,
        "open_pixel_url": None,
        "unsubscribe_url": "https://companion.example/u/sample",
    }
    try:
        if field == "subject":
            _sandbox(False, strict).from_string(source).render(values)
        else:
            values["subject"] = "Sample subject"
            _override_html(source, values, strict)
            _override_text(source, values, strict)
    except Exception as exc:  # whatever fails here would fail the mail when sent
        reason = (
            f"template error: {exc}"
            if isinstance(exc, TemplateError)
            else f"cannot be rendered: {type(exc).__name__}: {exc}"
        )
        if "method" in str(exc):  # {{ cart.items }} is the dict's items() method, not the key
            reason += " (for a key that is also a method name, write cart['items'])"
        raise ValueError(reason) from exc


def _check_request(flow_key: str, step: int, context: Mapping[str, Any]) -> None:
    if (flow_key, step) not in DEFAULT_SUBJECTS:
        raise ValueError(f"no template for flow {flow_key!r} step {step!r}")
    missing = [key for key in REQUIRED_CONTEXT.get(flow_key, ()) if not context.get(key)]
    if missing:
        raise ValueError(f"{flow_key} needs {', '.join(missing)} in its context")


def _override_html(source: str, values: Mapping[str, Any], strict: bool = False) -> Markup:
    rendered = _sandbox(True, strict).from_string(source).render(values)
    if "<" in source:
        return Markup(rendered)
    paragraphs = [p.strip() for p in rendered.split("\n\n") if p.strip()]
    return Markup("".join(f"<p>{p}</p>" for p in paragraphs))


def _override_text(source: str, values: Mapping[str, Any], strict: bool = False) -> str:
    # Tags are stripped from the owner's source, not from the values (a name may hold "<").
    plain = html_lib.unescape(_HTML_TAG.sub("", source))
    return _sandbox(False, strict).from_string(plain).render(values).strip()


def _overrides(context: Mapping[str, Any], values: Mapping[str, Any], as_html: bool) -> dict:
    given = context.get("overrides") or {}
    render = _override_html if as_html else _override_text
    return {k: render(given[k], values) for k in OVERRIDABLE_BLOCKS if given.get(k)}


def _subject(flow_key: str, step: int, context: Mapping[str, Any], values: Mapping) -> str:
    source = (context.get("overrides") or {}).get("subject") or DEFAULT_SUBJECTS[flow_key, step]
    rendered = _sandbox(False).from_string(source).render(values)
    return " ".join(rendered.split())


def _wrap_html_links(markup: str, wrap: _OncePerUrl) -> str:
    def replace(match: re.Match[str]) -> str:
        return f'href="{escape(wrap(html_lib.unescape(match.group(1))))}"'

    return _HREF.sub(replace, markup)


def _wrap_text_links(text: str, wrap: _OncePerUrl) -> str:
    def replace(match: re.Match[str]) -> str:
        url = match.group(0)
        trimmed = url.rstrip(".,;:!?)")
        return wrap(trimmed) + url[len(trimmed) :]

    return _TEXT_URL.sub(replace, text)


def render_email(
    flow_key: str,
    step: int,
    context: Mapping[str, Any],
    link_wrapper: Callable[[str], str],
    *,
    open_pixel_url: str | None = None,
    unsubscribe_url: str | None = None,
    marketing: bool = True,
) -> RenderedEmail:
    """Subject, HTML and text of one flow step; see docs/email.md for each flow's context. A
    transactional step (`marketing=False`: a thank-you, a renewal notice) still offers the
    unsubscribe link, named for what it stops: the shop's marketing mail, not mail like this."""
    _check_request(flow_key, step, context)
    values: dict[str, Any] = {
        "currency": "USD",
        **context,
        "step": step,
        "open_pixel_url": open_pixel_url,
        "unsubscribe_url": unsubscribe_url,
        "marketing": marketing,
    }
    values["subject"] = _subject(flow_key, step, context, values)
    wrap = _OncePerUrl(link_wrapper, {unsubscribe_url} if unsubscribe_url else set())
    env = _environment()
    markup = env.get_template(f"{flow_key}.html").render(
        values, overrides=_overrides(context, values, as_html=True)
    )
    markup = _inliner().inline(_wrap_html_links(markup, wrap))
    text = env.get_template(f"{flow_key}.txt").render(
        values, overrides=_overrides(context, values, as_html=False)
    )
    text = _wrap_text_links(_tidy_text(text), wrap)
    return RenderedEmail(values["subject"], markup, text, list(wrap.wrapped))


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# --- tracking links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tracking:
    """What `render_email` needs to track one message: pass `**tracking.render_kwargs()`."""

    link_wrapper: LinkRecorder
    open_pixel_url: str
    unsubscribe_url: str

    def render_kwargs(self) -> dict[str, Any]:
        return {
            "link_wrapper": self.link_wrapper,
            "open_pixel_url": self.open_pixel_url,
            "unsubscribe_url": self.unsubscribe_url,
        }


def tracking_for(public_url: str, secret: bytes, message_id: str) -> Tracking:
    """Signed /t/o/, /t/c/ and /u/ URLs for one message (DESIGN 3.4)."""
    base = public_url.rstrip("/")
    return Tracking(
        LinkRecorder(lambda i: f"{base}/t/c/{click_token(secret, message_id, i)}"),
        f"{base}/t/o/{open_token(secret, message_id)}.gif",
        f"{base}/u/{unsubscribe_token(secret, message_id)}",
    )


def shared_tracking(public_url: str) -> Tracking:
    """Like `tracking_for`, with substitution tags where each recipient's tokens go."""
    base = public_url.rstrip("/")
    return Tracking(
        LinkRecorder(lambda i: f"{base}/t/c/{substitution_tag(f'c{i}')}"),
        f"{base}/t/o/{substitution_tag('open')}.gif",
        f"{base}/u/{substitution_tag('unsub')}",
    )


def tracking_values(secret: bytes, message_id: str, link_count: int) -> dict[str, str]:
    """Tag values for one recipient of a `shared_tracking` body."""
    values = {
        "open": open_token(secret, message_id),
        "unsub": unsubscribe_token(secret, message_id),
    }
    values.update({f"c{i}": click_token(secret, message_id, i) for i in range(link_count)})
    return values


# --- one body for many recipients (SendGrid substitutions) ---------------------------------------


def substitution_tag(name: str) -> str:
    """A placeholder to put in the context (or a link) when one body serves many recipients."""
    return f"-sc_{name}-"


def for_substitution(rendered: RenderedEmail) -> RenderedEmail:
    """Renames tags in subject and text so their values are not HTML-escaped there."""
    return RenderedEmail(
        _TAG.sub(r"-sct_\1-", rendered.subject),
        rendered.html,
        _TAG.sub(r"-sct_\1-", rendered.text),
        rendered.links,
    )


def substitution_values(values: Mapping[str, str]) -> dict[str, str]:
    """SendGrid `substitutions` for one recipient: escaped for the HTML tag, raw for the text."""
    result: dict[str, str] = {}
    for name, value in values.items():
        result[f"-sc_{name}-"] = html_lib.escape(value)
        result[f"-sct_{name}-"] = value
    return result


def personalize(template: str, values: Mapping[str, str]) -> str:
    """Applies text-tag substitutions locally (used for per-recipient subjects)."""
    for name, value in values.items():
        template = template.replace(f"-sct_{name}-", value)
    return template


@dataclass(frozen=True)
class PersonalCopy:
    """One recipient's part of a shared body: its subject, substitutions and unsubscribe URL."""

    subject: str
    substitutions: dict[str, str]
    unsubscribe_url: str


def personal_copy(
    shared: RenderedEmail,
    public_url: str,
    secret: bytes,
    message_id: str,
    personal: Mapping[str, str],
) -> PersonalCopy:
    """`shared` comes from `for_substitution(render_email(..., **shared_tracking(...)))`."""
    values = {**personal, **tracking_values(secret, message_id, len(shared.links))}
    return PersonalCopy(
        subject=personalize(shared.subject, values),
        substitutions=substitution_values(values),
        unsubscribe_url=f"{public_url.rstrip('/')}/u/{values['unsub']}",
    )
