"""The flows as production runs them: signed events in over HTTP, the scheduler's jobs on the
queue, RQ workers sending, the owner reading the outbox."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from companion.core import runtime
from companion.models import utcnow
from jobs import events, flows
from tests import factories as f
from tests.helpers import bearer, post_events, run_jobs


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_cart_left_two_hours_ago_is_in_the_outbox_after_the_scheduler_jobs_run(client, site):
    url = f"/v1/sites/{site.site.public_id}"
    client.put(f"{url}/flows", json={"settings": {"quiet_hours": None}}, headers=bearer(site))
    assert (
        post_events(
            client, site, [f.cart("c1", at=_iso(utcnow() - timedelta(hours=2)))]
        ).status_code
        == 202
    )
    run_jobs()
    runtime.enqueue(events.mark_abandoned_carts)
    runtime.enqueue(flows.tick)
    run_jobs()  # the tick enqueues send_steps; the burst worker runs it too
    page = client.get(f"{url}/outbox", headers=bearer(site)).json
    assert page["total"] == 1 and page["messages"][0]["flow"] == "abandoned_cart"
    assert page["messages"][0]["status"] == "outbox"
    runtime.enqueue(flows.tick)
    runtime.enqueue(flows.lifecycle_scans)
    run_jobs()
    assert client.get(f"{url}/outbox", headers=bearer(site)).json["total"] == 1


def test_with_a_sendgrid_key_the_jobs_send_through_the_configured_host(
    client, site, settings, prism_url
):
    runtime.configure(
        dataclasses.replace(settings, sendgrid_api_key="SG.test-key", sendgrid_host=prism_url)
    )
    url = f"/v1/sites/{site.site.public_id}"
    client.put(f"{url}/flows", json={"settings": {"quiet_hours": None}}, headers=bearer(site))
    post_events(client, site, [f.cart("c1", at=_iso(utcnow() - timedelta(hours=2)))])
    run_jobs()
    runtime.enqueue(events.mark_abandoned_carts)
    runtime.enqueue(flows.tick)
    run_jobs()
    [message] = client.get(f"{url}/outbox", headers=bearer(site)).json["messages"]
    assert message["status"] == "sent" and message["sent_at"] is not None
