"""Errors that carry their own exit code and know how to show themselves (as click's do).

Library callers get the exception; `cli.py` is the one place that catches it and exits.
Anything else that reaches that place is a bug in the grader: `internal_error_report`
says what, where and what to send, without a traceback.
"""

from __future__ import annotations

import platform
import traceback
from dataclasses import dataclass
from pathlib import Path

from grader.core.version import __version__
from grader.core.model import Location

EXIT_OK = 0
EXIT_PROBLEMS = 1
"""Grading or validation found problems (a spec that does not prove, a submission error)."""
EXIT_USAGE = 2
"""Bad command line or unusable input (click uses 2 for usage errors too)."""
EXIT_INTERNAL = 3
"""A fault in the grader itself: an exception no part of it expected."""

_PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Problem:
    """One authoring mistake, shown as `file:line: (key.path) message`."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location} {self.message}"


class GraderError(Exception):
    """A failure the grader expected and can explain (bad input, a refused request): shown
    to the user as it is, with its own exit code. Anything else is a bug (`EXIT_INTERNAL`)."""

    exit_code = EXIT_USAGE

    def show(self) -> str:
        return str(self)


class SpecError(GraderError):
    """One or more problems in spec files; every problem is listed, none hides another."""

    exit_code = EXIT_PROBLEMS

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class SubmissionError(GraderError):
    """A submission that cannot be read at all (unsafe zip, unreadable answers file)."""

    exit_code = EXIT_PROBLEMS


def internal_error_report(error: BaseException, debug: bool = False) -> str:
    """What the command line prints for an exception nobody expected: a bug report the user
    can send (what, where in grader, which versions) instead of a traceback, which would
    read as if their files were at fault. `debug` appends the full traceback."""
    lines = [f"internal error: {type(error).__name__}: {error}",
             f"  grader {__version__}, Python {platform.python_version()}"]
    where = _innermost_grader_frame(error)
    if where:
        lines.append(f"  at {where}")
    lines.append("  This is a bug in grader, not a problem with your files: "
                 "please report this with the command you ran.")
    if debug:
        lines.append("".join(traceback.format_exception(error)).rstrip())
    else:
        lines.append("  (GRADER_DEBUG=1 shows the full traceback.)")
    return "\n".join(lines)


def _innermost_grader_frame(error: BaseException) -> str:
    """`grader/api.py:42 (validate)` for the deepest frame inside the grader package (the
    last place our code was before a library raised), else the deepest frame of all."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(_PACKAGE)]
    if not (ours or frames):
        return ""
    frame = (ours or frames)[-1]
    path = Path(frame.filename).resolve()
    shown = path.relative_to(_PACKAGE.parent) if path.is_relative_to(_PACKAGE) else path
    return f"{shown}:{frame.lineno} ({frame.name})"
