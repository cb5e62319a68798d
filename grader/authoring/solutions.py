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


def source_files(root: Path) -> list[tuple[str, Path]]:
    """Every file of the solutions folder `root` (modules, and the helpers and data beside
    them), each with its name relative to `root`; no bytecode caches. What a copy of the
    folder holds (the Gradescope bundle, the Dask workers)."""
    return [(file.relative_to(root).as_posix(), file) for file in sorted(root.rglob("*"))
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc"]


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
    """Call a reference function with the params its signature names, passed by keyword."""
    signature = inspect.signature(fn)
    accepts_all = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    kwargs = {k: v for k, v in params.items() if accepts_all or k in signature.parameters}
    unmet = _unmet(signature, kwargs)
    if unmet:
        raise SolutionError(_unmet_message(fn.__name__, signature, params, unmet))
    try:
        return fn(**kwargs)
    except Exception as exc:
        raise SolutionError(f"reference {fn.__name__}() failed: {type(exc).__name__}: {exc}") from exc


def _unmet(signature: inspect.Signature, kwargs: Mapping[str, Any]) -> list[inspect.Parameter]:
    """The function's arguments that a call by keyword with `kwargs` leaves without a value."""
    return [p for p in signature.parameters.values()
            if p.default is p.empty and p.kind is not p.VAR_POSITIONAL and p.kind is not p.VAR_KEYWORD
            and (p.kind is p.POSITIONAL_ONLY or p.name not in kwargs)]


def _unmet_message(name: str, signature: inspect.Signature, params: Mapping[str, Any],
                   unmet: list[inspect.Parameter]) -> str:
    """Why a reference cannot be called: the grader passes the exercise's params by keyword,
    so each argument must be named after one (or have a default)."""
    asked = ", ".join(p.name for p in signature.parameters.values()
                      if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)) or "nothing"
    passed = ", ".join(params) if params else "none (the exercise declares no params)"
    lacking = ", ".join(p.name for p in unmet)
    positional = [p.name for p in unmet if p.kind is p.POSITIONAL_ONLY]
    hint = (f" ({', '.join(positional)} {'is' if len(positional) == 1 else 'are'} positional-only and "
            "cannot be passed by keyword)") if positional else ""
    example = f" (e.g. def {name}({', '.join(params)}))" if params else ""
    return (f"reference {name}() cannot be called: the grader passes the exercise's params by keyword, "
            f"and they are {passed}; {name}() asks for {asked}, so nothing is passed for {lacking}{hint}. "
            f"Name each argument after a param{example}, or give it a default.")


def check_positional(fn: Callable[..., Any], count: int, what: str) -> None:
    """Refuse, saying why, a reference that cannot take `count` arguments by position."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: let the call tell
        return
    try:
        signature.bind(*range(count))
    except TypeError:
        asked = ", ".join(p.name for p in signature.parameters.values()
                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)) or "none"
        raise SolutionError(f"reference {fn.__name__}() cannot be called: the grader passes {what} by "
                            f"position, {count} of them; {fn.__name__}() takes these by position: "
                            f"{asked}") from None
