"""GET /healthz: 200 when every part answers, 503 naming the one that does not."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from companion.core import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    ok, report = health.check()
    return jsonify(report), 200 if ok else 503
