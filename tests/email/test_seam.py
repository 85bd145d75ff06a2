"""SendGrid stays behind one module (DESIGN 1: only companion/email/sendgrid.py imports
sendgrid)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / name for name in ("companion", "jobs")]
IMPORTS_SENDGRID = re.compile(r"^\s*(from|import)\s+(sendgrid|python_http_client)\b", re.MULTILINE)


def test_only_the_email_module_imports_sendgrid() -> None:
    importers = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in package.rglob("*.py")
        if IMPORTS_SENDGRID.search(path.read_text(encoding="utf-8"))
    }
    assert importers == {"companion/email/sendgrid.py"}
