"""The JSON Schema of a results file (`results/<student>.json`), generated from the record
dataclasses in grader.core.results: their fields, type hints and field docstrings. Nothing
here names a field, so the schema cannot drift from what `StudentResult.to_dict` writes.

`grader schema --results` prints it; tools that read grades can validate against it.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from grader.core import results

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SCALARS: dict[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
_JSON_DEF = {
    "description": "JSON data: a kind's own extras",
    "anyOf": [
        {"type": ["null", "boolean", "number", "string"]},
        {"type": "array", "items": {"$ref": "#/$defs/JSON"}},
        {"type": "object", "additionalProperties": {"$ref": "#/$defs/JSON"}},
    ],
}


def results_schema() -> dict[str, Any]:
    """The schema of one results file: a StudentResult and every record inside it."""
    defs: dict[str, Any] = {}
    _record(results.StudentResult, defs)
    root = defs.pop("StudentResult")
    return {"$schema": DRAFT, "title": "grader results file", **root, "$defs": defs}


def _record(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` to `cls`'s definition, which is added to `defs` the first time."""
    name = cls.__name__
    if name not in defs:
        defs[name] = {}  # placeholder: a record that refers to itself stops here
        hints = typing.get_type_hints(cls)
        docs = _field_docs(cls)
        properties = {}
        for item in dataclasses.fields(cls):
            schema = _type(hints[item.name], defs)
            if item.name in docs:
                schema = {**schema, "description": docs[item.name]}
            properties[item.name] = schema
        defs[name] = {"type": "object", "description": _doc(cls), "additionalProperties": False,
                      "required": list(properties), "properties": properties}
    return {"$ref": f"#/$defs/{name}"}


def _type(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of one type hint, as `to_dict` writes a value of it."""
    if _is_json(hint):
        defs.setdefault("JSON", _JSON_DEF)
        return {"$ref": "#/$defs/JSON"}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _record(hint, defs)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        return _union([_type(arg, defs) for arg in args])
    if origin in (tuple, list) or (isinstance(origin, type) and issubclass(origin, Sequence)):
        return {"type": "array", "items": _type(args[0], defs)}
    if isinstance(origin, type) and issubclass(origin, Mapping) and args[0] is str:
        return {"type": "object", "additionalProperties": _type(args[1], defs)}
    raise TypeError(f"no JSON Schema for the type {hint!r}: give the record a JSON-shaped type")


def _is_json(hint: Any) -> bool:
    """The JSON alias, also as get_type_hints hands it over: its forward references
    (`list["JSON"]`) evaluated once, so the alias itself no longer compares equal."""
    if isinstance(hint, typing.ForwardRef):
        return hint.__forward_arg__ == "JSON"
    args = typing.get_args(hint)
    return typing.get_origin(hint) is typing.Union and args[:5] == typing.get_args(results.JSON)[:5] and [
        typing.get_origin(arg) for arg in args[5:]] == [list, dict]


def _union(options: list[dict[str, Any]]) -> dict[str, Any]:
    """`str | None` as `{"type": ["string", "null"]}`; anything richer as anyOf."""
    if all(set(option) == {"type"} and isinstance(option["type"], str) for option in options):
        return {"type": [option["type"] for option in options]}
    return {"anyOf": options}


def _doc(cls: type) -> str:
    return " ".join((cls.__doc__ or "").split())


@functools.cache
def _field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass (the string right after its line)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for field, after in zip(body, body[1:]):
        if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            docs[field.target.id] = " ".join(after.value.value.split())
    return docs
