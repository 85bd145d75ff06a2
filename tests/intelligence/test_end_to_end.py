"""Through the event API: a new order updates its customer's scores and stage at once; the command
and jobs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from click.testing import CliRunner

from companion import pipeline
from companion.cli import main
from companion.core.db import database
from companion.ingest import receive
from companion.intelligence.refresh import latest_model, refresh_site
from companion.models import Contact, utcnow
from companion.models.intelligence import RefreshRun
from jobs import intelligence as intelligence_jobs
from tests.factories import order, refund, refund_deleted
from tests.helpers import bearer, post_events, run_jobs


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _order(n: int, email: str, days_ago: float, total: str = "40.00") -> dict[str, Any]:
    at = _iso(utcnow() - timedelta(days=days_ago))
    return order(n, email=email, total=total, created=at, paid=at, modified=at)


def test_a_new_order_updates_its_customers_scores_and_stage_at_once(site: Any, client: Any) -> None:
    history = [_order(i, f"buyer{i % 30}@example.com", 200 - i) for i in range(90)]
    assert post_events(client, site, history).status_code == 202
    run_jobs()
    assert latest_model(site.site.id) is not None  # the first orders ran the first refresh
    ann = Contact.get(Contact.email == "buyer0@example.com")
    before = (ann.stage, ann.rfm_r, ann.rfm_f)
    assert ann.stage in ("at_risk", "churned", "repeat", "vip") and ann.stage_reason
    assert (
        post_events(client, site, [_order(500, "buyer0@example.com", 0.01, "900.00")]).status_code
        == 202
    )
    run_jobs()
    ann = Contact.get(Contact.email == "buyer0@example.com")
    assert ann.rfm_r == 5 and ann.orders_count == 4 and (ann.stage, ann.rfm_r, ann.rfm_f) != before
    assert ann.stage in ("repeat", "vip") and ann.rfm_m == 5
    new = client.get(
        f"/v1/sites/{site.site.public_id}/contacts/newbie@example.com", headers=bearer(site)
    )
    assert new.status_code == 404
    assert post_events(client, site, [_order(501, "newbie@example.com", 0.01)]).status_code == 202
    run_jobs()
    profile = client.get(
        f"/v1/sites/{site.site.public_id}/contacts/newbie@example.com", headers=bearer(site)
    ).json
    assert profile["stage"] == "new" and profile["rfm"]["r"] == 5 and profile["predictions"] is None


def test_the_refresh_command_runs_for_one_site_and_as_of_a_past_date(
    site: Any, client: Any, cli_env: Any
) -> None:
    post_events(client, site, [_order(i, f"b{i % 5}@example.com", 40 - i) for i in range(20)])
    run_jobs()
    past = (utcnow() - timedelta(days=30)).date()
    result = CliRunner().invoke(
        main,
        ["intelligence", "refresh", "--site", site.site.public_id, "--as-of", past.isoformat()],
    )
    assert result.exit_code == 0, result.output
    assert "no predictions: " in result.output and "customers as of" in result.output
    database.connect(reuse_if_open=True)
    run = RefreshRun.select().order_by(RefreshRun.id.desc()).first()
    assert run.is_backtest and run.as_of.date() == past
    assert Contact.select().where(Contact.stage == "lead").count() == 5 - run.customers
    unknown = CliRunner().invoke(main, ["intelligence", "refresh", "--site", "nope"])
    assert unknown.exit_code != 0 and "No site" in unknown.output


def test_the_nightly_job_refreshes_each_site_once_a_night(site: Any, other_site: Any) -> None:
    due = intelligence_jobs.nightly_refresh()
    assert sorted(due) == sorted([site.site.id, other_site.site.id])
    run_jobs()
    database.connect(reuse_if_open=True)
    assert intelligence_jobs.nightly_refresh() == []
    assert RefreshRun.select().count() == 2


def test_customers_who_ordered_today_are_recent_even_after_a_refresh_of_the_empty_shop(
    site: Any,
) -> None:
    """On a real shop the nightly refresh ran when the service started, with no customer yet: every
    later order was scored against its thresholds and every customer was 'Lost'."""
    start = datetime(2026, 12, 4, 4, 0)
    refresh_site(site.site, start)  # the shop is empty: 0 customers scored
    for n in range(12):  # a dozen customers through the morning, each applied as it arrives
        moment = start + timedelta(minutes=20 * n)
        at = _iso(moment)
        stored = receive.store_batch(
            site.site,
            [order(n, email=f"c{n}@example.com", created=at, paid=at, modified=at)],
            moment,
        )
        pipeline.process_events(stored.accepted_ids, moment)
    customers = list(Contact.select().where(Contact.site == site.site.id))
    assert len(customers) == 12 and {c.stage for c in customers} == {"new"}
    assert {c.rfm_r for c in customers} == {5} and "Lost" not in {c.rfm_segment for c in customers}


def test_a_deleted_refund_rescores_its_customer_at_once(site: Any, client: Any) -> None:
    """The store deleting a refund gives the spend back: the customer's money score follows in the
    same pass, as it followed the refund."""
    history = [_order(i, f"buyer{i % 60}@example.com", 200 - i) for i in range(120)]
    assert post_events(client, site, history).status_code == 202
    run_jobs()
    at = _iso(utcnow() - timedelta(hours=1))
    big = _order(500, "buyer0@example.com", 0.1, "900.00")
    assert post_events(client, site, [big, refund(500, 77, "900.00", at=at)]).status_code == 202
    run_jobs()
    refunded = Contact.get(Contact.email == "buyer0@example.com")
    assert refunded.refunded == 900 and refunded.rfm_m < 5
    assert post_events(client, site, [refund_deleted(500, 77, at=at)]).status_code == 202
    run_jobs()
    restored = Contact.get(Contact.email == "buyer0@example.com")
    assert restored.refunded == 0 and restored.rfm_m == 5
