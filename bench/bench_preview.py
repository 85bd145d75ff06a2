"""Preview latency: POST /v1/sites/<id>/flows/<key>/preview for every flow and step, through the
app.

    COMPANION_DATABASE_URL=sqlite:///demo.db companion demo seed      # prints the site id and token
    COMPANION_DATABASE_URL=sqlite:///demo.db .venv/bin/python bench/bench_preview.py SITE_ID TOKEN

Each step is previewed 5 times for the store's sample contact and 5 times for the contact of the
newest order; prints the median and the worst per row. Target: under 200 ms (docs/flows.md).
"""

from __future__ import annotations

import argparse
import statistics
import time

from companion.app import create_app
from companion.flows.definitions import FLOWS
from companion.models import Contact, Order


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("site_id")
    parser.add_argument("token")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    client = create_app().test_client()
    headers = {"Authorization": f"Bearer {args.token}"}
    newest = Order.select(Order, Contact).join(Contact).order_by(Order.counted_at.desc()).first()
    worst = 0.0
    for key, flow in FLOWS.items():
        for step in range(1, len(flow.delays_hours) + 1):
            for body in ({"step": step}, {"step": step, "email": newest.contact.email}):
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    answer = client.post(
                        f"/v1/sites/{args.site_id}/flows/{key}/preview", json=body, headers=headers
                    )
                    times.append((time.perf_counter() - start) * 1000)
                median = statistics.median(times)
                worst = max(worst, median)
                who = "contact" if "email" in body else "sample"
                print(
                    f"{key:20} {step} {who:8} {answer.status_code} median {median:6.1f} ms  max "
                    f"{max(times):6.1f} ms"
                )
    print(f"worst median {worst:.1f} ms")


if __name__ == "__main__":
    main()
