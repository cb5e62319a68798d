"""Times as the grader reads and writes them: ISO 8601 with a time zone, and the compact
UTC stamps in `grader submit` zip names.

In core because both sides need them: specs (deadlines, cutoffs) and submissions (the
manifest's `created_at`, the zip name's stamp).
"""

from __future__ import annotations

import re
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


_ZONE_WORDS = re.compile(r"\s*(?:\bUTC|\bGMT|Z)$", re.IGNORECASE)
_SPACED_OFFSET = re.compile(r"\s+(?=[+-]\d{2}:?\d{2}$)")


def parse_recorded_time(text: Any) -> datetime:
    """A time as learning-management systems export them, always with a zone: ISO 8601
    (`2026-12-01T22:59:00Z`, `2026-12-01T23:59:00+01:00`, with a space for the T, with
    seconds' fractions), an offset without a colon or after a space (`2026-12-01 23:59:00
    +0100`), or a trailing `UTC`/`GMT`/`Z` (`2026-12-01 22:59 UTC`). TimeError otherwise,
    and for a time without a zone (a time in an unknown zone cannot be compared)."""
    if not isinstance(text, str) or not text.strip():
        raise TimeError(f"expected a date and time such as {TIME_EXAMPLE} or 2026-12-01T22:59:00Z, got {text!r}")
    cleaned = _SPACED_OFFSET.sub("", _ZONE_WORDS.sub("+00:00", text.strip()))
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise TimeError(f"{text!r} is not a date and time such as {TIME_EXAMPLE} or 2026-12-01T22:59:00Z") from None
    if value.tzinfo is None:
        raise TimeError(f"{text!r} has no time zone: add one, such as +01:00 or Z")
    return value
