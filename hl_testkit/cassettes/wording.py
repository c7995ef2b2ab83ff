"""How a value is named in an error message ("the string '200'", "a mapping"), or shown
(as short JSON)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


def show(value: Any, limit: int = 120) -> str:
    """A value as JSON, cut to `limit` characters, for messages and reports."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # a structure that holds itself
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bytes):
        return "binary data (a !!binary value)"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"the timestamp {value.isoformat()} (an unquoted date)"
    return f"a {type(value).__name__}"
