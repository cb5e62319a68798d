"""Trusted drivers that run inside the sandbox child (see `grader.sandbox` for the contract).

`call_function` calls one student function on a list of argument sets and returns, per
call, the value or the error, plus the array arguments as they were after the call (the
grader compares them with the originals to detect in-place modification). One failing
call does not stop the others, so partial credit survives an exception in one case.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any, Mapping

from grader.kinds.code import models as code_models  # imported before the lock-down: it builds recipe models in the child
from grader.sandbox.child import StudentError, restore_builtins, describe_exception


def call_function(module: ModuleType | None, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """payload: {"function": name, "calls": [{"args": [...], "kwargs": {...}, "models": {position: recipe}}],
    "return_inputs": bool}. A `models` entry puts a model built from its seeded recipe at that position."""
    name = payload["function"]
    function = _student_function(module, name)
    results = []
    for call in payload["calls"]:
        args, kwargs = list(call.get("args", [])), dict(call.get("kwargs", {}))
        try:
            for position, spec in dict(call.get("models", {})).items():
                args[int(position)] = code_models.build(spec)
            value = function(*args, **kwargs)
        except BaseException as error:
            restore_builtins()
            kind, message = describe_exception(error, os.getcwd())
            results.append({"ok": False, "kind": kind, "error": message})
            continue
        restore_builtins()
        entry = {"ok": True, "value": value}
        if payload.get("return_inputs"):
            entry["inputs"] = [_array_or_none(arg) for arg in args]
        results.append(entry)
    return results


def _student_function(module: ModuleType | None, name: str) -> Any:
    if module is None:
        raise StudentError("missing", "no module was handed in")
    function = module.__dict__.get(name)
    filename = module.__name__.split("_", 1)[-1] + ".py"
    if function is None:
        raise StudentError("missing", f"{filename} does not define {name}()")
    if not callable(function):
        raise StudentError("exception", f"{name} in {filename} is not a function")
    return function


def _array_or_none(value: Any) -> Any:
    """Arrays and tensors come back for the mutation check; other arguments need not."""
    kind = type(value).__module__.split(".")[0]
    return value if kind in ("numpy", "torch") and hasattr(value, "shape") else None
