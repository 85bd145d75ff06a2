"""Privacy requests from the plugin's exporter and eraser: /v1/sites/<id>/privacy/export and
/erase."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from companion import privacy
from companion.api.auth import site_for_token
from companion.api.errors import json_body
from companion.api.schemas import privacy as schemas
from companion.core import runtime
from companion.models import utcnow

bp = Blueprint("privacy", __name__)
export_schema, erased_schema = schemas.PrivacyExportSchema(), schemas.PrivacyErasedSchema()


@bp.post("/v1/sites/<site_id>/privacy/export")
def export(site_id: str) -> Any:
    site = site_for_token(site_id)
    email = schemas.load_request(json_body())
    return jsonify(export_schema.dump(privacy.export_person(site.id, email)))


@bp.post("/v1/sites/<site_id>/privacy/erase")
def erase(site_id: str) -> Any:
    site = site_for_token(site_id)
    email = schemas.load_request(json_body())
    counts = privacy.erase_person(site.id, email, runtime.settings().secret_key, utcnow())
    return jsonify(erased_schema.dump({"erased": counts, "total": sum(counts.values())}))
