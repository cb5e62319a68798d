"""Times as the grader reads and writes them: ISO 8601 with a time zone, and the compact
UTC stamps in `grader submit` zip names.

In core because both sides need them: specs (deadlines, cutoffs) and submissions (the
manifest's `created_at`, the zip name's stamp).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

TIME_EXAMPLE = "2026-12-01T23:59:00+01:00"


class TimeError(ValueError):
    """A time that is not ISO 8601 with a time zone."""


def parse_time(text: Any) -> datetime:
    """An aware datetime from ISO 8601 text; naive times are refused (which zone?)."""
    if not isinstance(text, str):
        raise TimeError(f"expected a date and time such as {TIME_EXAMPLE}, got {text!r}")
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimeError(f"{text!r} is not a date and time such as {TIME_EXAMPLE}") from None
    if value.tzinfo is None:
        raise TimeError(f"{text!r} has no time zone: add one, such as +01:00 or Z")
    return value


def utc_stamp(moment: datetime) -> str:
    """Compact UTC time for file names: 20261127T101500Z."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def parse_stamp(text: str) -> datetime:
    """The aware UTC datetime of a `utc_stamp`."""
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
