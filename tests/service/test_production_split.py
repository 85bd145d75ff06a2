"""The production split as an operator runs it: gunicorn, an RQ worker and the scheduler as separate
processes on the engine under test and real Redis; a signed batch ends up in a profile and /healthz
turns green once the worker and the scheduler beat."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.clock_shift import outside_time
from tests.factories import order
from tests.helpers import signed_headers

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, seconds: float = 30.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError("timed out")


# gunicorn's default (sync workers, a connection per request) and the deployment that
# docs/configuration.md recommends: threaded workers that keep connections open, and workers at a
# lower CPU priority.
DEPLOYMENTS = {
    "sync": (["-w", "2"], []),
    "gthread, worker --nice": (["-w", "1", "-k", "gthread", "--threads", "8"], ["--nice", "10"]),
}


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_gunicorn_worker_and_scheduler_build_a_profile_and_report_healthy(
    db, site, settings, tmp_path, deployment
):
    web_options, worker_options = DEPLOYMENTS[deployment]
    db.close()
    env = dict(
        os.environ,
        COMPANION_DATABASE_URL=settings.database_url,
        COMPANION_REDIS_URL=settings.redis_url,
        COMPANION_SECRET_KEY=settings.secret_key,
        COMPANION_LOG_LEVEL="WARNING",
    )
    port = _free_port()
    log = open(tmp_path / "processes.log", "wb")  # noqa: SIM115 (the processes write to it until the end)
    procs = [
        subprocess.Popen(
            [str(BIN / "gunicorn"), *web_options, "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        ),
        subprocess.Popen(
            [str(BIN / "companion"), "worker", *worker_options],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        ),
        subprocess.Popen(
            [str(BIN / "companion"), "scheduler"], cwd=ROOT, env=env, stdout=log, stderr=log
        ),
    ]
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy():
            try:
                answer = requests.get(f"{base}/healthz", timeout=5)
            except requests.RequestException:
                return None
            return answer if answer.status_code == 200 else None

        health = _wait(healthy, 60).json()
        assert health["worker"]["count"] >= 1 and health["scheduler"]["ok"]
        assert _nice(procs[1].pid) == (10 if worker_options else 0)
        assert _nice(procs[0].pid) == 0  # the web keeps its priority

        body = json.dumps({"events": [order(100, total="12.50")]}).encode()
        headers = signed_headers(site.secret, body, timestamp=int(outside_time()))
        events_url = f"{base}/v1/sites/{site.site.public_id}/events"
        with requests.Session() as session:  # one connection where the workers keep it open
            answer = session.post(events_url, data=body, headers=headers, timeout=10)
            # gunicorn reads its own clock, not this test's
            assert answer.status_code == 202 and answer.json()["accepted"] == 1
            replayed = session.post(events_url, data=body, headers=headers, timeout=10)
            assert replayed.status_code == 202
            assert replayed.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
            forged = session.post(events_url, data=body + b" ", headers=headers, timeout=10)
            assert forged.status_code == 401

        def profile():
            got = requests.get(
                f"{base}/v1/sites/{site.site.public_id}/contacts/ann@example.com",
                headers={"Authorization": f"Bearer {site.api_token}"},
                timeout=5,
            )
            return (
                got.json() if got.status_code == 200 and got.json()["orders_count"] == 1 else None
            )

        assert _wait(profile)["total_spent"] == "12.50"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        log.close()
    db.connect(reuse_if_open=True)
