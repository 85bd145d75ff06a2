"""Contacts: GET /v1/sites/<id>/contacts and /contacts/<contact_id or email>."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from companion import profiles
from companion.api.auth import site_for_token
from companion.api.errors import ApiError
from companion.api.schemas.contacts import (
    ContactPageSchema,
    ContactProfileSchema,
    ContactsQuerySchema,
)

bp = Blueprint("contacts", __name__)
query_schema, page_schema, profile_schema = (
    ContactsQuerySchema(),
    ContactPageSchema(),
    ContactProfileSchema(),
)


@bp.get("/v1/sites/<site_id>/contacts")
def list_contacts(site_id: str) -> Any:
    site = site_for_token(site_id)
    args = query_schema.load(request.args.to_dict())
    rows, total = profiles.list_contacts(site.id, **args)
    return jsonify(
        page_schema.dump(
            {"contacts": rows, "page": args["page"], "per_page": args["per_page"], "total": total}
        )
    )


@bp.get("/v1/sites/<site_id>/contacts/<contact_key>")
def get_contact(site_id: str, contact_key: str) -> Any:
    site = site_for_token(site_id)
    contact = profiles.find_contact(site.id, contact_key)
    if contact is None:
        raise ApiError(404, "No such contact on this site.")
    return jsonify(profile_schema.dump(profiles.profile(contact)))
