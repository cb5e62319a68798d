"""How the kinds that read numbers take a question's reading options: the course's
`number_format`, `percent` and `units`. Schema fragments and loaders, shared so the keys
mean the same in every kind that has them (see grader.parsing.numbers for the reading)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from grader.core import registry
from grader.parsing.numbers import GROUPING_NAMES, FormatError, NumberFormat, Reading, format_from_spec

NUMBER_FORMAT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "how the course writes numbers; set it at the top of a spec for all its questions",
    "properties": {
        "decimal": {"enum": [".", ","], "description": "the decimal mark (default .)"},
        "grouping": {"type": "array", "uniqueItems": True,
                     "items": {"enum": [*GROUPING_NAMES, *GROUPING_NAMES.values()]},
                     "description": "characters that may group digits in threes: space, comma, dot, apostrophe, "
                                    "underscore (default: space, apostrophe, underscore and, where unambiguous, "
                                    "the other decimal mark)"},
    },
}
PERCENT_SCHEMA = {"type": "boolean", "description": "accept a percentage: 2% is read as 0.02"}
UNITS_SCHEMA = {"type": "array", "uniqueItems": True, "minItems": 1,
                "items": {"type": "string", "pattern": r"^(%|[^\W\d_]+(?:[ -][^\W\d_]+){0,2})$"},
                "description": "words the answer may end with, such as [points]; singular and plural both match. "
                               "\"%\" here means the number is in percent (95% is 95)"}

_UNIT = re.compile(r"%|[^\W\d_]+(?:[ -][^\W\d_]+){0,2}")
#: Words the number parser reads itself, so they cannot be units.
_RESERVED = ("pi", "e", "sqrt", "nan", "inf", "infinity", "x", "by")


def load_format(raw: Mapping[str, Any]) -> NumberFormat:
    try:
        return format_from_spec(raw.get("number_format"))
    except FormatError as exc:
        raise registry.OptionError(str(exc), f"number_format.{exc.key}" if exc.key else "number_format") from None


def load_reading(raw: Mapping[str, Any], one_number: bool = True) -> Reading:
    """A question's Reading from its spec keys; OptionError names the bad key."""
    fmt = load_format(raw)
    percent = raw.get("percent", False)
    if not isinstance(percent, bool):
        raise registry.OptionError("percent must be true or false", "percent")
    units = raw.get("units", [])
    if isinstance(units, str):
        units = [units]
    if not isinstance(units, list) or not units and "units" in raw:
        raise registry.OptionError("units must be a list of words such as [points]", "units")
    for unit in units:
        if not isinstance(unit, str) or not _UNIT.fullmatch(unit.strip()):
            raise registry.OptionError(f"unit {unit!r} must be a word (or up to three), such as points, or \"%\"",
                                       "units")
        if unit.strip().lower() in _RESERVED or len(unit.strip()) < 2 and unit != "%":
            raise registry.OptionError(f"unit {unit!r} cannot be told from a number or a name the answer may use; "
                                       "use a word of two letters or more", "units")
    if percent and "%" in units:
        raise registry.OptionError('percent: true reads 2% as 0.02, units: ["%"] reads it as 2; choose one',
                                   "percent")
    return Reading(fmt, percent, tuple(u.strip() for u in units), one_number)


def describe(reading: Reading) -> str:
    """What the answer format adds to 'a number such as 2.5' (whose examples show the
    course's decimal mark): percent and units."""
    parts = []
    if reading.percent:
        parts.append("a percentage such as 2% works too")
    if reading.units:
        parts.append(f"with or without its unit ({', '.join(reading.units)})")
    return "; ".join(parts)

