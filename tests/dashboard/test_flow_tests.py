"""A flow's page in the dashboard: subject B in the form (checked as the API checks it), the A/B
numbers with "keep this subject", and the backlog's "also send to these N people"."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from companion.flows.config import describe, update_flows
from companion.models import Contact, Enrolment, Message, MessageBody, ScheduledStep, utcnow
from tests.dashboard.session import csrf_of, sign_in
from tests.dashboard.test_flow_editor import _edit, _form

SUBJECT_B = "{{ contact.first_name }}, one more look?"


def _ab_on(shop, step=1):
    update_flows(
        shop.site,
        {"flows": {"abandoned_cart": {"steps": [{"step": step, "subject_b": SUBJECT_B}]}}},
    )


def test_subject_b_is_saved_from_the_form_and_shown_by_the_api(client, shop):
    sign_in(client, shop)
    answer = client.post(_edit(shop), data=_form(shop, client, steps__1__subject_b=SUBJECT_B))
    assert answer.status_code == 303
    steps = describe(shop.site, "abandoned_cart")["steps"]
    assert [s["subject_b"] for s in steps] == [None, SUBJECT_B, None]
    page = client.get(_edit(shop)).get_data(as_text=True)
    assert 'name="steps.1.subject_b" value="{{ contact.first_name }}, one more look?"' in page


def test_a_subject_b_that_cannot_render_is_refused_beside_its_field(client, shop):
    sign_in(client, shop)
    data = _form(shop, client, steps__0__subject_b="Hi {{ contact.frist_name }}")
    answer = client.post(_edit(shop), data=data)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="err-steps-0-subject_b"' in html and "frist_name" in html
    assert describe(shop.site, "abandoned_cart")["steps"][0]["subject_b"] is None


def test_the_preview_shows_subject_b_when_asked(client, shop):
    sign_in(client, shop)
    url = f"/dashboard/{shop.site.public_id}/flows/abandoned_cart/preview"
    data = _form(shop, client, steps__0__subject_b="Last call from {{ shop.name }}")
    a = client.post(url, data={**data, "preview_step": "1", "preview_variant": "A"})
    b = client.post(url, data={**data, "preview_step": "1", "preview_variant": "B"})
    assert "Last call from Shop" not in a.get_data(as_text=True)
    assert '<span id="subject">Last call from Shop</span>' in b.get_data(as_text=True)


def _sends(shop, step, variant, sent, clicked):
    """`sent` mails of one variant, each to its own contact, the first `clicked` of them clicked."""
    body = MessageBody.create(site=shop.site.id, digest=uuid.uuid4().hex, html="<p>x</p>", text="x")
    now = utcnow()
    for n in range(sent):
        contact = Contact.create(
            site=shop.site.id, email=f"{variant.lower()}{step}-{n}@example.com", created_at=now
        )
        Message.create(
            uuid=str(uuid.uuid4()),
            site=shop.site.id,
            step=step,
            flow_key="abandoned_cart",
            contact=contact.id,
            to_email=contact.email,
            from_email="shop@shop.example",
            subject="s",
            variant=variant,
            body=body.id,
            status="sent",
            created_at=now,
            clicked_at=now if n < clicked else None,
        )


def test_the_flow_page_shows_each_variants_numbers_and_the_verdict(client, shop):
    _ab_on(shop)
    _sends(shop, 1, "A", 120, 6)
    _sends(shop, 1, "B", 110, 22)
    sign_in(client, shop)
    html = client.get(_edit(shop)).get_data(as_text=True)
    block = html[html.index('data-ab-step="1"') :]
    row_a = block[block.index('data-variant="A"') : block.index('data-variant="B"')]
    row_b = block[block.index('data-variant="B"') : block.index("</tbody>")]
    assert ">120<" in row_a and ">6<" in row_a and ">5.0%<" in row_a
    assert ">110<" in row_b and ">22<" in row_b and ">20.0%<" in row_b
    assert "winner" in row_b and "winner" not in row_a
    assert "Click rates differ at 95 % confidence" in block
    assert "Keep B" in block


def test_keep_b_makes_it_the_only_subject_and_ends_the_test(client, shop):
    _ab_on(shop)
    sign_in(client, shop)
    token = csrf_of(client, _edit(shop))
    url = f"/dashboard/{shop.site.public_id}/flows/abandoned_cart/steps/1/keep"
    assert client.post(url, data={"variant": "B"}).status_code in (400, 403)  # no CSRF token
    answer = client.post(url, data={"variant": "B", "csrf_token": token})
    assert answer.status_code == 303 and "kept=B" in answer.headers["Location"]
    step = describe(shop.site, "abandoned_cart")["steps"][0]
    assert (step["subject"], step["subject_b"]) == (SUBJECT_B, None)
    assert "Kept subject B for email 1" in client.get(answer.headers["Location"]).get_data(
        as_text=True
    )


def _held(shop, count):
    contacts = list(Contact.select().where(Contact.site == shop.site.id).limit(count))
    assert len(contacts) == count
    moment = datetime(2026, 1, 1)
    for contact in contacts:
        Enrolment.create(
            site=shop.site.id,
            flow_key="win_back",
            key=f"winback:{contact.id}:old",
            contact=contact.id,
            status="held",
            started_at=moment,
            enrolled_at=moment,
        )


def test_the_backlog_block_says_how_many_wait_and_starts_them_over_the_days_chosen(client, shop):
    _held(shop, 3)
    sign_in(client, shop)
    page = client.get(_edit(shop, "win_back")).get_data(as_text=True)
    assert 'data-waiting="3"' in page and "Also send to these 3 people" in page
    assert "data-waiting" not in client.get(_edit(shop)).get_data(as_text=True)  # not scanned
    url = f"/dashboard/{shop.site.public_id}/flows/win_back/backlog"
    token = csrf_of(client, _edit(shop, "win_back"))
    assert client.post(url, data={"days": "3"}).status_code in (400, 403)  # no CSRF token
    answer = client.post(url, data={"days": "3", "csrf_token": token})
    assert answer.status_code == 303
    assert "released=3" in answer.headers["Location"]
    assert "released_days=3" in answer.headers["Location"]
    firsts = sorted(  # the released win-back mails only: whether the shop's orders of ~3 days
        # ago started post-purchase mail depends on the hour the test runs (recent_trigger_hours)
        s.due_at
        for s in ScheduledStep.select()
        .join(Enrolment)
        .where(Enrolment.site == shop.site.id, Enrolment.flow_key == "win_back")
        if s.step == 1
    )
    assert len(firsts) == 3 and firsts[-1] - firsts[0] == timedelta(days=2)  # one a day
    after = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Started 3 people" in after and 'data-waiting="0"' in after


def test_the_backlog_refuses_a_bad_number_of_days_and_a_flow_that_is_off(client, shop):
    _held(shop, 2)
    sign_in(client, shop)
    url = f"/dashboard/{shop.site.public_id}/flows/win_back/backlog"
    token = csrf_of(client, _edit(shop, "win_back"))
    for days in ("0", "1.5", "", "400", "²", "1²"):
        answer = client.post(url, data={"days": days, "csrf_token": token})
        assert answer.status_code == 422
        assert 'id="err-backlog-days"' in answer.get_data(as_text=True)
    update_flows(shop.site, {"flows": {"win_back": {"enabled": False}}})
    answer = client.post(url, data={"days": "2", "csrf_token": token})
    assert answer.status_code == 409 and "Switch the flow on first." in answer.get_data(
        as_text=True
    )
    held = Enrolment.select().where(Enrolment.site == shop.site.id, Enrolment.status == "held")
    assert held.count() == 2
