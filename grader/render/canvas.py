"""The Canvas gradebook CSV: what `grader export --format canvas` writes, and the Canvas
gradebook export (`--roster`) it fills the student columns from.

Canvas's gradebook export, and the import that reads the same shape, is:

    Student,ID,SIS User ID,SIS Login ID,Section,Exercise set 1 (123456),…,Current Score,…
        Points Possible,,,,,11.00,…
    "Nordmann, Kari",4711,20261234,karinor,INF5860 H2026,8.00,…

- `ID` is Canvas's own user id, `SIS User ID` and `SIS Login ID` the institution's; the
  import matches each row to a student by them (`Student`, the name, is only shown).
- An assignment column is `Name (ID)`: with the assignment's id the import updates that
  assignment; a column without one is imported as a new assignment.
- The `Points Possible` row is read-only; rows whose ID cell is empty (it, and the
  `Manual Posting` row of newer exports) are not students.

Matching (our decision, documented in the README): a grader student id (the submission's
folder or zip name) is looked up first in the roster's `SIS Login ID` (the login name,
what students usually name their folders and `grader submit --student` defaults to),
then in `SIS User ID` (the student number), ignoring case and surrounding spaces. An id
that matches two roster rows is ambiguous and is left unfilled, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Sequence

from grader.core.canvas import ASSIGNMENT
from grader.core.errors import GraderError
from grader.core.results import StudentResult
from grader.core.tables import read_table, require

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


@dataclass(frozen=True)
class Person:
    """One student row of a Canvas gradebook export."""

    name: str
    canvas_id: str
    sis_user_id: str
    sis_login_id: str
    section: str
    where: str
    """`file:line` of the row."""


@dataclass(frozen=True)
class Roster:
    path: str
    people: tuple[Person, ...]
    assignments: Mapping[str, str]
    """Assignment id -> its column header, for every `Name (ID)` column of the export."""

    def match(self, student: str) -> tuple[Person | None, str | None]:
        """The roster row of a grader student id, and a warning when there is none or two."""
        key = student.strip().casefold()
        for field, label in (("sis_login_id", "SIS Login ID"), ("sis_user_id", "SIS User ID")):
            found = [p for p in self.people if getattr(p, field).strip().casefold() == key and key]
            if len(found) == 1:
                return found[0], None
            if len(found) > 1:
                return None, (f"{student!r} is the {label} of {len(found)} rows ({', '.join(p.where for p in found)}); "
                              "its row is left with the id only")
        return None, f"{student!r} is neither an SIS Login ID nor an SIS User ID in {self.path}; its row carries " \
                     "the id as SIS Login ID only, and Canvas will not import it unless that matches"


def read_roster(path: Path) -> Roster:
    """A Canvas gradebook export (Gradebook → Export → CSV). GraderError (exit 2) when it is
    not one (no `ID` column, neither `SIS Login ID` nor `SIS User ID`)."""
    table = read_table(path, "--roster")
    require(table, "--roster", [("Student",), ("ID",)])
    login, user = table.column("SIS Login ID"), table.column("SIS User ID")
    if login is None and user is None:
        require(table, "--roster", [("SIS Login ID", "SIS User ID")])
    section = table.column("Section")
    people = []
    for row in table.rows:
        if not row.get("id") or row.get("student").casefold() == "points possible":
            continue  # the Points Possible and Manual Posting rows
        people.append(Person(row.get("student"), row.get("id"), row.get(user), row.get(login), row.get(section),
                             table.where(row.line)))
    assignments = {m["id"]: name.strip() for name in table.raw_header if (m := ASSIGNMENT.fullmatch(name.strip()))}
    return Roster(str(path), tuple(people), assignments)


def rows(results: Sequence[StudentResult], column: str, roster: Roster | None = None,
         warn: Callable[[str], None] | None = None, blank: Collection[str] = ()) -> list[list[Any]]:
    """The CSV rows: the header, Points Possible, and a row per result (matched in `roster`);
    the students in `blank` (answers awaiting review) get an empty grade cell."""
    say = warn or (lambda _text: None)
    match = ASSIGNMENT.fullmatch(column.strip())
    if match is None:
        say(f"the Canvas column {column!r} has no assignment id (`Name (ID)`): Canvas will import it as a new "
            "assignment; give --canvas-assignment 'Name (ID)' (or `canvas:` in the spec) to update one")
    elif roster is not None and roster.assignments and match["id"] not in roster.assignments:
        say(f"{roster.path} has no assignment with id {match['id']} (it has "
            + ", ".join(roster.assignments.values()) + "): check the id, or Canvas will create a new assignment")
    max_score = max((r.max_score for r in results), default=0.0)
    table: list[list[Any]] = [[*IDENTITY, column], ["Points Possible", "", "", "", "", max_score]]
    if roster is None and results:
        say("no --roster: the Canvas rows carry the student id as SIS Login ID only; give the course's Canvas "
            "gradebook export as --roster to fill Student, ID, SIS User ID and Section")
    for result in results:
        person, problem = roster.match(result.student) if roster is not None else (None, None)
        if problem:
            say(problem)
        grade = None if result.student in blank else result.score
        if person is None:
            table.append([result.student, "", "", result.student, "", grade])
        else:
            table.append([person.name, person.canvas_id, person.sis_user_id, person.sis_login_id, person.section,
                          grade])
    return table


def load(path: Path | None) -> Roster | None:
    if path is None:
        return None
    if not path.is_file():
        raise GraderError(f"--roster {path}: no such file")
    return read_roster(path)
