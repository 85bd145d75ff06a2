"""Email fan-out benchmark: N VIP emails rendered and handed to SendGrid (Prism) in batches.

    .venv/bin/python bench/bench_fanout.py                 # 100,000 emails, 2 workers
    .venv/bin/python bench/bench_fanout.py -n 10000        # smaller run
    .venv/bin/python bench/bench_fanout.py --host http://127.0.0.1:4010   # an already running Prism

Each worker takes chunks of 1,000 recipients. Per chunk it renders the VIP body once with
substitution tags (`shared_tracking`), then per recipient signs its open, click and unsubscribe
tokens, builds its subject, substitutions and List-Unsubscribe headers, and sends the chunk as one
mail/send request with 1,000 personalizations. Target: 100,000 in under 5 minutes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from companion.email.rendering import (
    LinkRecorder,
    for_substitution,
    personal_copy,
    render_email,
    shared_tracking,
    substitution_tag,
)
from companion.email.sendgrid import (
    OutgoingMessage,
    SendGridTransport,
    SendResult,
    marketing_headers,
)

ROOT = Path(__file__).resolve().parents[1]

PUBLIC_URL = "https://companion.example.com"
SECRET = b"bench-secret-bench-secret-bench!"
SHOP = "https://shop.example.com"
CONTEXT = {
    "shop": {"name": "Bench Roasters", "url": f"{SHOP}/", "address": "1 Main St"},
    "currency": "USD",
    "reward": {
        "title": "Free shipping",
        "description": "on every order this year",
        "code": "VIPSHIP",
    },
    "early_access_url": f"{SHOP}/collections/new",
    "products": [
        {
            "name": f"Single origin {i}",
            "price": f"{12 + i}.50",
            "url": f"{SHOP}/product/{i}",
            "image": f"{SHOP}/img/{i}.jpg",
        }
        for i in range(4)
    ],
}


def _chunk_messages(start: int, size: int) -> list[OutgoingMessage]:
    personal = {**CONTEXT, "contact": {"first_name": substitution_tag("first_name")}}
    shared = for_substitution(
        render_email("vip", 1, personal, **shared_tracking(PUBLIC_URL).render_kwargs())
    )
    messages = []
    for i in range(start, start + size):
        message_id = str(uuid.uuid4())
        copy = personal_copy(
            shared, PUBLIC_URL, SECRET, message_id, {"first_name": f"Customer {i}"}
        )
        messages.append(
            OutgoingMessage(
                message_id=message_id,
                to_email=f"customer{i}@example.com",
                to_name=f"Customer {i}",
                from_email="hello@shop.example.com",
                from_name="Bench Roasters",
                subject=copy.subject,
                html=shared.html,
                text=shared.text,
                categories=["vip"],
                custom_args={"flow": "vip", "step": "1"},
                headers=marketing_headers(copy.unsubscribe_url),
                substitutions=copy.substitutions,
            )
        )
    return messages


def _work(host: str, start: int, size: int) -> tuple[int, int, float, float]:
    """Renders and sends one chunk; answers (sent, failed, render seconds, send seconds)."""
    began = time.perf_counter()
    messages = _chunk_messages(start, size)
    rendered = time.perf_counter()
    outcomes = SendGridTransport("SG.bench", host, 60.0).send_batch(messages)
    sent = sum(isinstance(o, SendResult) for o in outcomes.values())
    return sent, len(messages) - sent, rendered - began, time.perf_counter() - rendered


def _start_prism(port: int) -> tuple[str, int]:
    out = subprocess.run(
        [str(ROOT / "scripts" / "prism.sh"), str(port)], check=True, capture_output=True, text=True
    ).stdout
    url = re.search(r"PRISM_URL=(\S+)", out)
    pid = re.search(r"PRISM_PID=(\d+)", out)
    assert url and pid, out
    return url.group(1), int(pid.group(1))


def _full_render_rate(samples: int) -> float:
    """Per-recipient rendering (what flows with per-recipient content pay), emails/s."""
    began = time.perf_counter()
    for i in range(samples):
        context = {**CONTEXT, "contact": {"first_name": f"Customer {i}"}}
        render_email(
            "vip",
            1,
            context,
            LinkRecorder(lambda n: f"{PUBLIC_URL}/t/c/{n}"),
            open_pixel_url=f"{PUBLIC_URL}/t/o/x.gif",
            unsubscribe_url=PUBLIC_URL,
        )
    return samples / (time.perf_counter() - began)


def _run(host: str, total: int, workers: int, chunk: int) -> None:
    starts = list(range(0, total, chunk))
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(
            pool.map(_work, [host] * len(starts), starts, [min(chunk, total - s) for s in starts])
        )
    elapsed = time.perf_counter() - began
    sent = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    render = sum(r[2] for r in results)
    send = sum(r[3] for r in results)
    print(f"emails: {total}  sent: {sent}  failed: {failed}  requests: {len(starts)}")
    print(
        f"workers: {workers}  wall time: {elapsed:.1f} s  throughput: {sent / elapsed:,.0f} "
        f"emails/s"
    )
    print(f"worker time: rendering+signing {render:.1f} s, sending to Prism {send:.1f} s")
    print(f"100,000 at this rate: {100_000 / (sent / elapsed):.0f} s (target < 300 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="emails to send (100000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=1000, help="personalizations per request")
    parser.add_argument("--host", help="a running Prism/SendGrid base URL (else one is started)")
    parser.add_argument("--port", type=int, default=4099, help="port for the Prism started here")
    args = parser.parse_args()
    print(f"per-recipient full render (1 process): {_full_render_rate(500):,.0f} emails/s")
    host, pid = (args.host, None) if args.host else _start_prism(args.port)
    try:
        _run(host, args.n, args.workers, args.chunk)
    finally:
        if pid:
            subprocess.run(["kill", str(pid)], check=False)


if __name__ == "__main__":
    main()
