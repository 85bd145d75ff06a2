"""Every error answer is JSON with the right status; no input answers 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from peewee import IntegrityError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra
        self.headers = headers or {}


NESTED_TOO_DEEPLY = "The JSON is nested too deeply."


def json_body() -> Any:
    """The request's JSON (None when it is not JSON); a 400 when it is nested too deeply to read."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise ApiError(400, NESTED_TOO_DEEPLY) from None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return jsonify({"error": exc.message, **exc.extra}), exc.status, exc.headers

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError) -> Any:
        return jsonify({"error": "Invalid request.", "fields": exc.messages}), 422

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError) -> Any:
        return jsonify({"error": "This conflicts with something already stored."}), 409

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        messages = {
            413: "Request body too large (at most 5 MB).",
            404: "Not found.",
            405: "Method not allowed.",
        }
        answer = jsonify({"error": messages.get(exc.code or 500, exc.description)})
        answer.headers.extend(
            [(k, v) for k, v in exc.get_headers() if k == "Allow"]
        )  # 405 says what is
        return answer, exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        return jsonify({"error": "Internal error; it has been logged."}), 500
