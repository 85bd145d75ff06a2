"""Access logs without secrets: sign-in, unsubscribe and tracking links carry their token in the
path, so the request line is logged with the token replaced."""

from __future__ import annotations

import logging
import re

TOKEN_IN_PATH = re.compile(r"(/dashboard/login/|/u/|/t/c/|/t/o/)[^\s?\"/]+")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_PATH.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_access_logs() -> None:
    """Install the filter on the servers' access loggers (once per process)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
