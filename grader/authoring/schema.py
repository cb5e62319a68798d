"""The JSON Schema of an exercise spec, built from the same tables the loader checks,
so editors (VS Code's YAML extension, for one) can validate specs as they are typed."""

from __future__ import annotations

from typing import Any

from grader.core import registry
from grader.authoring import spec, variants
from grader.core.model import VISIBILITIES

_ID = {"type": ["string", "integer"], "pattern": "^[A-Za-z0-9_]+$"}
_GRADESCOPE = {
    "type": "object", "additionalProperties": False,
    "description": "how a Gradescope autograder (grader gradescope) reports the questions",
    "properties": {"visibility": {"enum": list(VISIBILITIES), "description": "when students see the test"},
                   "hidden_cases": {"enum": list(VISIBILITIES),
                                    "description": "when they see the hidden checks' results (after_due_date)"},
                   "tests": {"enum": list(spec.GRADESCOPE_TESTS),
                             "description": "one test per question, or per check of the student's code"}},
}
_VALUE_SOURCE = {
    "description": "a literal value, or {solution: function_name} in the exercise's solutions module",
    "anyOf": [
        {"type": "object", "required": ["solution"], "additionalProperties": False,
         "properties": {"solution": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}}},
        {"not": {"type": "object", "required": ["solution"]}},
    ],
}


def _question_schema(kind: registry.QuestionKind) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": _ID,
        "kind": {"const": kind.name},
        "points": {"type": "number", "minimum": 0, "maximum": 1000},
        "prompt": {"type": "string", "description": "jinja2 template over the exercise params"},
        "answer": _VALUE_SOURCE,
        "reveal": {"type": "boolean", "description": "show the expected answer in feedback"},
        "gradescope": _GRADESCOPE,
        **kind.option_keys,
    }
    if kind.supports_mistakes:
        properties["mistakes"] = {"type": "array", "items": {
            "type": "object", "required": ["answer", "feedback"], "additionalProperties": False,
            "properties": {"answer": _VALUE_SOURCE, "feedback": {"type": "string"},
                           "credit": {"type": "number", "minimum": 0, "exclusiveMaximum": 1}}}}
    return {"type": "object", "required": ["id", "kind", "answer"], "additionalProperties": False,
            "properties": properties}


def _exercise_defaults(kinds: dict[str, registry.QuestionKind]) -> dict[str, Any]:
    """Schemas of the exercise-level defaults (`number_format`), as the kinds that take them declare."""
    found: dict[str, Any] = {}
    for key in spec.EXERCISE_DEFAULTS:
        for _, kind in sorted(kinds.items()):
            if key in kind.option_keys:
                found[key] = kind.option_keys[key]
                break
    return found


def spec_schema() -> dict[str, Any]:
    kinds = registry.load_all()
    draw = {"type": "object", "minProperties": 1, "additionalProperties": False,
            "properties": {name: {"type": "array"} for name in variants.DRAWS}
            | {"size": {"type": "integer", "minimum": 1}, "round": {"type": "integer", "minimum": 0}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "grader exercise spec",
        "type": "object",
        "required": ["id", "title", "questions"],
        "additionalProperties": False,
        "properties": {
            "id": _ID,
            "title": {"type": "string"},
            "source": {"type": "string"},
            "description": {"type": "string"},
            "solutions": {"type": "string", "pattern": r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$"},
            "params": {"type": "object", "additionalProperties": {"anyOf": [draw, {}]}},
            "deadline": {"type": "string", "format": "date-time"},
            "canvas": {"type": "string", "pattern": r"^\S.*?\s+\(\d+\)$",
                       "description": "the Canvas assignment grades export to, as Canvas names its column: "
                                      "`Name (ID)`, e.g. 'Exercise set 1 (123456)'"},
            "late_penalty": {
                "type": "object", "additionalProperties": False,
                "description": "share of the points lost: min(max, flat + per_day * started days late)",
                "properties": {"per_day": {"type": "number", "minimum": 0, "maximum": 1},
                               "flat": {"type": "number", "minimum": 0, "maximum": 1},
                               "max": {"type": "number", "minimum": 0, "maximum": 1},
                               "grace_minutes": {"type": "number", "minimum": 0},
                               "cutoff": {"type": "string", "format": "date-time"}}},
            "gradescope": _GRADESCOPE,
            **_exercise_defaults(kinds),
            "questions": {"type": "array", "minItems": 1,
                          "items": {"oneOf": [_question_schema(k) for _, k in sorted(kinds.items())]}},
        },
    }
