"""Prism playing SendGrid: SendGrid's own OpenAPI document (specs/sendgrid) served on a local
port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENDGRID_SPEC = ROOT / "specs" / "sendgrid" / "oas_v3.json"
PRISM = ROOT / "node_modules" / ".bin" / "prism"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/v3/mail/send", timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _wait_for(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Prism did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


@contextmanager
def running_prism(log_folder: Path) -> Iterator[str]:
    """SendGrid as its OpenAPI document describes it, on a free local port, until the block ends."""
    if not PRISM.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    port = _free_port()
    log = log_folder / "prism.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PRISM), "mock", "-p", str(port), "-h", "127.0.0.1", str(SENDGRID_SPEC)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(process, url, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
