"""Reference solutions: trusted instructor code under `solutions/`, loaded by module name.

Only instructor code runs here, in the grader process. Student code never does: it goes
through grader.sandbox.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


class SolutionError(Exception):
    """A reference solution is missing, fails to import or fails to run."""


def find_root(start: Path) -> Path | None:
    """The nearest `solutions/` folder at or above `start`."""
    for folder in [start, *start.parents]:
        candidate = folder / "solutions"
        if candidate.is_dir():
            return candidate.resolve()
    return None


def module_path(root: Path, name: str) -> Path:
    return root.joinpath(*name.split(".")).with_suffix(".py")


def load_module(root: Path, name: str) -> ModuleType:
    """The solutions module `name`, imported once per text of its file: an edited
    reference is imported again, never served from what an earlier course loaded."""
    if not MODULE_NAME.fullmatch(name):
        raise SolutionError(f"{name!r} is not a module name such as inf5860.ex01")
    path = module_path(root, name)
    try:
        source = path.read_bytes()
    except OSError:
        raise SolutionError(f"solutions module {name!r} not found (looked for {path})") from None
    return _import(path, name, hashlib.sha256(source).hexdigest())


@functools.lru_cache(maxsize=256)
def _import(path: Path, name: str, digest: str) -> ModuleType:
    qualified = f"grader_solutions.{name}"
    module = ModuleType(qualified)
    module.__file__ = str(path)
    sys.modules[qualified] = module
    try:
        # compiled from the text just hashed: a cached .pyc of an older text is never used
        code = compile(path.read_bytes(), str(path), "exec")
        exec(code, module.__dict__)  # safe: trusted reference solutions from the course's solutions/
    except Exception as exc:  # an instructor's bug: report it, don't crash the run
        del sys.modules[qualified]
        raise SolutionError(f"solutions module {name!r} failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def function(root: Path, module: str, name: str) -> Callable[..., Any]:
    fn = getattr(load_module(root, module), name, None)
    if not callable(fn):
        raise SolutionError(f"solutions module {module!r} has no function {name!r}")
    return fn


def call(fn: Callable[..., Any], params: Mapping[str, Any]) -> Any:
    """Call a reference function with the params its signature names."""
    signature = inspect.signature(fn)
    accepts_all = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    kwargs = {k: v for k, v in params.items() if accepts_all or k in signature.parameters}
    try:
        return fn(**kwargs)
    except Exception as exc:
        raise SolutionError(f"reference {fn.__name__}() failed: {type(exc).__name__}: {exc}") from exc
