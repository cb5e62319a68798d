"""Per-student deadline extensions: `grader grade --extensions FILE`.

A CSV with a `student` column and a `deadline` column (a new deadline, with its zone) or
a `days` column (days added to each deadline; fractions allowed, `1.5`), or both, one of
them filled per row:

    student,deadline,days
    s123456,2026-12-10T23:59:00+01:00,
    s234567,,3

An extension applies to every exercise that has a deadline (the spec's, or `--deadline`);
an exercise without one stays without. The late policy then counts from the extended
deadline, and a `cutoff` moves by as much as the deadline did (an extension of 3 days
moves the cutoff 3 days too). The result's lateness record keeps the original deadline
(`extended_from`), and its timing says the extension in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Mapping

from grader.core.errors import GraderError
from grader.core.tables import read_table, require
from grader.core.times import TimeError, parse_recorded_time, parse_time

STUDENT_COLUMNS = ("student", "student id")
#: The longest extension in days: more is a typo (days for a deadline, a year for a day).
MAX_DAYS = 366


@dataclass(frozen=True)
class Extension:
    student: str
    deadline: str | None = None
    """A new deadline (ISO 8601 with its zone), or None."""
    days: float | None = None
    """Days added to each deadline, or None."""
    where: str = ""
    """`file:line` of its row."""

    def due(self, deadline: str) -> str:
        """The extended deadline for an exercise due at `deadline`."""
        if self.deadline is not None:
            return self.deadline
        return (parse_time(deadline) + timedelta(days=self.days or 0)).isoformat()

    def describe(self) -> str:
        what = f"deadline {self.deadline}" if self.deadline else f"{self.days:g} more days"
        return f"extension: {what} ({self.where})"


@dataclass(frozen=True)
class Extensions:
    path: str
    by_student: Mapping[str, Extension] = field(default_factory=dict)

    def unknown(self, students: set[str]) -> list[str]:
        return [f"{extension.where}: {student!r} has no submission among those graded; the extension is not used"
                for student, extension in self.by_student.items() if student not in students]


def read_extensions(path: Path) -> Extensions:
    """The extensions file at `path`; GraderError (exit 2) listing every bad row as `file:line:`."""
    table = read_table(path, "--extensions")
    (student_column,) = require(table, "--extensions", [STUDENT_COLUMNS])
    deadline_column, days_column = table.column("deadline"), table.column("days", "extra days")
    if deadline_column is None and days_column is None:
        require(table, "--extensions", [("deadline", "days")])
    found: dict[str, Extension] = {}
    problems = []
    for row in table.rows:
        where, student = table.where(row.line), row.get(student_column)
        named = f"{path.name}:{row.line}"  # what results show: no instructor folders
        deadline, days = row.get(deadline_column), row.get(days_column)
        if not student:
            problems.append(f"{where}: no student id")
        elif bool(deadline) == bool(days):
            problems.append(f"{where}: {student}: give either a deadline or a number of days, "
                            + ("not both" if deadline else "not neither"))
        elif student in found:
            problems.append(f"{where}: {student!r} already has an extension at {found[student].where}")
        elif deadline:
            try:
                found[student] = Extension(student, deadline=parse_recorded_time(deadline).isoformat(), where=named)
            except TimeError as exc:
                problems.append(f"{where}: {student}: deadline: {exc}")
        else:
            try:
                count = float(days.replace(",", "."))
            except ValueError:
                count = math.nan
            if not 0 < count <= MAX_DAYS:
                problems.append(f"{where}: {student}: days must be a number above 0 and at most {MAX_DAYS}, "
                                f"got {days!r}")
            else:
                found[student] = Extension(student, days=count, where=named)
    if problems:
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise GraderError("--extensions: rows that cannot be used:\n" + "\n".join(problems[:20]) + more)
    return Extensions(path.name, found)
