"""Default templates of every flow step: links, escaping, overrides, money."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from companion.email.rendering import (
    DEFAULT_SUBJECTS,
    LinkRecorder,
    format_money,
    render_email,
    validate_override,
)
from companion.flows.definitions import FLOWS

ALL_STEPS = [
    (key, step) for key, flow in FLOWS.items() for step in range(1, len(flow.delays_hours) + 1)
]
PIXEL = "https://companion.example.com/t/o/open-token.gif"
UNSUBSCRIBE = "https://companion.example.com/u/unsubscribe-token"


def _tracked(i: int) -> str:
    return f"https://companion.example.com/t/c/click-token-{i}"


def _render(flow: str, step: int, context: dict[str, Any]) -> tuple[Any, LinkRecorder]:
    recorder = LinkRecorder(_tracked)
    email = render_email(
        flow, step, context, recorder, open_pixel_url=PIXEL, unsubscribe_url=UNSUBSCRIBE
    )
    return email, recorder


def test_every_step_of_the_eight_flows_has_a_default_subject_and_no_subject_is_left_over() -> None:
    assert set(FLOWS) == {
        "post_purchase",
        "abandoned_cart",
        "browse_abandonment",
        "cross_sell",
        "win_back",
        "vip",
        "replenishment",
        "renewal_reminder",
    }
    assert set(DEFAULT_SUBJECTS) == set(ALL_STEPS)
    assert len(ALL_STEPS) == 14


@pytest.mark.parametrize("flow, step", ALL_STEPS)
def test_every_link_of_every_step_is_tracked(
    flow: str,
    step: int,
    shop_context: dict[str, Any],
) -> None:
    email, recorder = _render(flow, step, shop_context)
    hrefs = re.findall(r'href="([^"]+)"', email.html)
    text_urls = re.findall(r"https?://\S+", email.text)
    for url in hrefs + text_urls:
        assert url.startswith("https://companion.example.com/"), url
    assert email.links == recorder.links and len(email.links) >= 2
    assert all(link.startswith("https://shop.example.com/") for link in email.links)


@pytest.mark.parametrize("flow, step", ALL_STEPS)
def test_every_step_has_a_subject_pixel_unsubscribe_and_inlined_css(
    flow: str,
    step: int,
    shop_context: dict[str, Any],
) -> None:
    email, _ = _render(flow, step, shop_context)
    assert email.subject and "\n" not in email.subject
    assert f'src="{PIXEL}"' in email.html and f'href="{UNSUBSCRIBE}"' in email.html
    assert f"Unsubscribe: {UNSUBSCRIBE}" in email.text
    assert 'class="button" href=' in email.html and "background: #2563eb" in email.html
    assert "max-width: 600px" in email.html and "@media only screen" in email.html


@pytest.mark.parametrize("flow, step", ALL_STEPS)
def test_customer_data_is_escaped_in_html_and_plain_in_text(
    flow: str,
    step: int,
    shop_context: dict[str, Any],
) -> None:
    email, _ = _render(flow, step, shop_context)
    assert "<Admin>" not in email.html and "Ana &amp; Bo's" in email.html.replace("&#39;", "'")
    assert "Ana & Bo's" in email.text


def test_the_abandoned_cart_email_shows_the_cart_and_restores_it(
    shop_context: dict[str, Any],
) -> None:
    email, recorder = _render("abandoned_cart", 1, shop_context)
    restore = shop_context["cart"]["restore_url"]
    index = recorder.links.index(restore)
    assert re.search(f'href="{_tracked(index)}"[^>]*>Return to your cart', email.html)
    assert "Blue mug" in email.html and "€39.90" in email.html and "2 × €19.95" in email.html
    assert f"Return to your cart: {_tracked(index)}" in email.text


def test_the_last_cart_reminder_carries_the_coupon(shop_context: dict[str, Any]) -> None:
    first, _ = _render("abandoned_cart", 1, shop_context)
    last, _ = _render("abandoned_cart", 3, shop_context)
    assert "COMEBACK10" not in first.text and "COMEBACK10" in last.text


def test_a_link_used_twice_gets_one_index_in_html_and_text(shop_context: dict[str, Any]) -> None:
    email, recorder = _render("post_purchase", 1, shop_context)
    assert len(recorder.links) == len(set(recorder.links))
    mug = recorder.links.index("https://shop.example.com/product/mug?colour=blue&size=l")
    assert email.html.count(_tracked(mug)) == 2 and _tracked(mug) in email.text


def test_without_pixel_and_unsubscribe_none_is_placed(shop_context: dict[str, Any]) -> None:
    email = render_email("post_purchase", 1, shop_context, LinkRecorder(_tracked))
    assert "/t/o/" not in email.html and "Unsubscribe" not in email.html + email.text


def test_the_owner_can_override_the_subject_and_intro(shop_context: dict[str, Any]) -> None:
    context = {
        **shop_context,
        "overrides": {
            "subject": "{{ contact.first_name }}, your cart at {{ shop.name }}",
            "intro": "Psst {{ contact.first_name }}!\n\nWe kept <strong>everything</strong>.",
        },
    }
    email, _ = _render("abandoned_cart", 1, context)
    assert email.subject == "Zoë <Admin>, your cart at Ana & Bo's"
    assert "Psst Zoë &lt;Admin&gt;!" in email.html and "<strong" in email.html
    assert "Psst Zoë <Admin>!" in email.text and "We kept everything." in email.text
    assert "You left something in your cart" not in email.text


def test_an_override_cannot_reach_python_internals(shop_context: dict[str, Any]) -> None:
    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(ValueError):
        validate_override(hostile)
    with pytest.raises(Exception, match="unsafe|undefined"):
        _render("vip", 1, {**shop_context, "overrides": {"intro": hostile}})


def test_an_override_with_a_syntax_error_is_reported() -> None:
    with pytest.raises(ValueError, match="template error"):
        validate_override("Hello {{ contact.first_name ")


def test_unknown_flows_and_missing_required_data_are_refused(shop_context: dict) -> None:
    with pytest.raises(ValueError, match="no template"):
        render_email("newsletter", 1, shop_context, LinkRecorder(_tracked))
    with pytest.raises(ValueError, match="no template"):
        render_email("vip", 2, shop_context, LinkRecorder(_tracked))
    with pytest.raises(ValueError, match="needs cart"):
        render_email("abandoned_cart", 1, {"shop": shop_context["shop"]}, LinkRecorder(_tracked))


@pytest.mark.parametrize(
    "amount, currency, shown",
    [
        ("19.9", "USD", "$19.90"),
        ("1234567.005", "EUR", "€1,234,567.01"),
        ("1500", "JPY", "¥1,500"),
        ("-5", "GBP", "-£5.00"),
        ("12.3456", "KWD", "12.346 KWD"),
        ("10", "CHF", "10.00 CHF"),
    ],
)
def test_money_is_shown_in_the_currency_from_a_decimal_string(
    amount: str,
    currency: str,
    shown: str,
) -> None:
    assert format_money(amount, currency) == shown


def test_a_non_decimal_amount_is_refused() -> None:
    with pytest.raises(ValueError):
        format_money("19,90", "EUR")


@pytest.mark.parametrize("flow, step", ALL_STEPS)
def test_the_plain_text_gives_the_heading_a_line_of_its_own(
    flow: str, step: int, shop_context: dict[str, Any]
) -> None:
    """The text part is read too: a heading glued to the next sentence ("...welcome you backWe
    would love...") was seen in a simulated month's win-back mails."""
    email, _ = _render(flow, step, shop_context)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", email.html, re.DOTALL)
    assert heading, "every step has a heading"
    text = html.unescape(re.sub(r"<[^>]+>", "", heading.group(1))).strip()
    assert text in [line.strip() for line in email.text.splitlines()], (text, email.text[:300])


def test_the_review_request_does_not_claim_the_order_arrived(shop_context: dict[str, Any]) -> None:
    """The service knows when an order was paid, not when it was delivered (and a download is
    never delivered): the mail asks, it does not assert."""
    email, _ = _render("post_purchase", 2, shop_context)
    assert "arrived" not in email.text and "arrived" not in email.html
    assert "How are you getting on with order" in email.text


@pytest.mark.parametrize(
    "kind, promise, not_said",
    [
        ("license", "get back updates and support", "start it again"),
        ("subscription", "Renew it to start it again", "updates and support"),
    ],
)
def test_the_expiry_notice_promises_what_renewing_gives_back_for_that_kind(
    kind: str, promise: str, not_said: str, shop_context: dict[str, Any]
) -> None:
    """A software licence brings back updates and support; a subscription to coffee beans does
    not have any (the demo's subscriptions had been promised them)."""
    context = {**shop_context, "subscription": {**shop_context["subscription"], "kind": kind}}
    email, _ = _render("renewal_reminder", 2, context)
    for body in (email.html, email.text):
        assert promise in body and not_said not in body


def test_the_win_back_mail_calls_its_products_best_sellers_and_claims_none_without_them(
    shop_context: dict[str, Any],
) -> None:
    """Win-back shows the shop's best sellers (content._win_back), not new arrivals; with none to
    show, the mail promises none."""
    with_products, _ = _render("win_back", 1, shop_context)
    without, _ = _render("win_back", 1, {**shop_context, "products": []})
    later, _ = _render("win_back", 2, {**shop_context, "coupon": None})
    for body in (with_products.html, with_products.text):
        assert "Here are our best sellers right now." in body and "new and popular" not in body
    for body in (without.html, without.text):
        assert "best sellers" not in body and "It has been a while since your last visit." in body
    assert "Come back and see us" in later.html and "what is new" not in later.text


def test_the_cross_sell_button_says_where_it_leads(shop_context: dict[str, Any]) -> None:
    """The button goes to the shop's home page (each product links to its own page), so it says
    so; it had read 'See the recommendations'."""
    email, recorder = _render("cross_sell", 1, shop_context)
    home = recorder.links.index(shop_context["shop"]["url"])
    assert re.search(f'href="{_tracked(home)}"[^>]*>Visit the shop', email.html)
    assert f"Visit the shop: {_tracked(home)}" in email.text
    assert "See the recommendations" not in email.html + email.text
