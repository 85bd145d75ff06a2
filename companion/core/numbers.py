"""Whole numbers as people type them and other servers send them."""

from __future__ import annotations

BIGINT_DIGITS = 18  # any number this long fits a 64-bit column


def whole_number(text: str | None, digits: int = BIGINT_DIGITS) -> int | None:
    """`text` as a non-negative int when it is ASCII digits alone (spaces around allowed) and at
    most `digits` long; else None. `str.isdigit` is no test for `int()`: it also takes '²' and other
    digits `int()` refuses (a dashboard address with one answered 500), and a longer number than a
    column holds fails in SQLite's driver."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
