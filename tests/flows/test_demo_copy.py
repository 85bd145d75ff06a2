"""The demo store's flow settings (what `make run` shows a newcomer) promise only what its mails
carry and its shop gives. Both were found reading a simulated month of its mail
(bench/simulate_month.py)."""

from __future__ import annotations

import re

from companion.demo.seed import create_demo_site
from companion.demo.story import SHIPPING
from companion.flows.config import flow_config
from companion.flows.preview import render_step
from companion.models import Contact
from tests import factories as f
from tests.flows.store import T0, Store

OFFER = re.compile(r"\d+\s?%|\boff\b|\bgift\b|\bcode\b|\bfree\b", re.IGNORECASE)


def _demo_with_a_customer(settings):
    """The demo site's settings and one customer of it (a preview renders for that customer with
    the site's own coupon and reward; with nobody, it shows sample values)."""
    store = Store(create_demo_site(), settings)
    store.send([f.order(1, currency="USD", total="24.00")], T0)
    return store.site, Contact.get(Contact.email == "ann@example.com")


def _mail(site, contact, key, step, variant=None):
    return render_step(site, key, step, contact, T0, "http://companion.test", variant=variant)


def test_the_demo_win_back_subjects_promise_a_discount_only_where_the_mail_has_its_code(
    db, settings
):
    """Step 1 carries no coupon (step 2 does): its A/B subjects must not promise one. Subject B
    said "your 10% is waiting" over a mail with no code in it."""
    site, ann = _demo_with_a_customer(settings)
    coupon = flow_config(site, "win_back").extras["coupon"]["code"]
    mails = [
        _mail(site, ann, "win_back", 1),
        _mail(site, ann, "win_back", 1, "B"),
        _mail(site, ann, "win_back", 2),
    ]
    assert coupon in mails[2].text
    for mail in mails:
        if OFFER.search(mail.subject):
            assert coupon in mail.text, mail.subject


def test_the_demo_vip_reward_is_one_the_demo_shop_gives_and_can_be_claimed(db, settings):
    """The demo's VIP mail promised "Free shipping on every order this year", with no code, from a
    shop whose story charges every order under $50 its shipping, VIPs' too."""
    site, ann = _demo_with_a_customer(settings)
    mail = _mail(site, ann, "vip", 1)
    assert SHIPPING > 0
    assert "free shipping" not in f"{mail.subject}\n{mail.text}".lower()
    reward = flow_config(site, "vip").extras["reward"]
    assert reward.get("code") and reward["code"] in mail.text
