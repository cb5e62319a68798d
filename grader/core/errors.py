"""Errors that carry their own exit code and know how to show themselves (as click's do).

Library callers get the exception; `cli.py` is the one place that catches it and exits.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.core.model import Location

EXIT_OK = 0
EXIT_PROBLEMS = 1
"""Grading or validation found problems (a spec that does not prove, a submission error)."""
EXIT_USAGE = 2
"""Bad command line or unusable input (click uses 2 for usage errors too)."""


@dataclass(frozen=True)
class Problem:
    """One authoring mistake, shown as `file:line: (key.path) message`."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location} {self.message}"


class GraderError(Exception):
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
