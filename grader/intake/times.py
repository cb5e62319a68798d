"""When a submission was handed in, and by whose word.

A `grader submit` zip carries its time in `manifest.json` and in its name, both written on
the student's machine: a student who edits `created_at` and zips the folder again (the
manifest's checksums cover the other files, not the manifest itself) changes the time
lateness is assessed with. Those times are *self-reported*. The time an LMS recorded
for the upload is not the student's to change: `grader grade --times FILE` reads them
(a CSV `student,submitted_at`, as an LMS exports it) and they take precedence.

What is checked, for every zip (`Timing.flags`, shown in the report and the gradebook):

- `times_disagree`: the manifest's time and the times file's differ by more than
  TOLERANCE (5 minutes: a slow upload, a clock off by a little). Packaging earlier than
  the upload is normal, but hours or days earlier is worth a look: it is what an edited
  `created_at` looks like. The times file's time is used either way.
- `before_zip_entries`: the zip holds a file written after the time claimed (an edited
  manifest re-zipped has the edit's time on its entries). Zip entry times are the packing
  machine's local wall-clock time without a zone, so an entry time `N` is some instant
  between `N - 14 h` (a machine in UTC+14) and `N + 12 h` (UTC-12): a claimed time is only
  impossible when it is before `N - 14 h - TOLERANCE`. `grader submit` writes UTC entry
  times equal to `created_at`, so its own zips never trip this.
- `not_in_times`: a times file was given but has no row for the student; the manifest's
  time is used and is self-reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

from grader.core.errors import GraderError
from grader.core.results import TimeFlag, TimeSource, Timing
from grader.core.tables import read_table, require
from grader.core.times import TimeError, parse_recorded_time, parse_time
from grader.intake.submission import Submission

TOLERANCE = timedelta(minutes=5)
#: The widest a zone is ahead of UTC (Kiribati, UTC+14): how far a zip's local entry times
#: may read ahead of the true instant.
ZONE_AHEAD = timedelta(hours=14)

STUDENT_COLUMNS = ("student", "student id")
TIME_COLUMNS = ("submitted at", "submission time", "submitted")


@dataclass(frozen=True)
class Recorded:
    """One student's upload time from the times file."""

    at: str
    """ISO 8601 with the zone, as read (normalised)."""
    where: str
    """`file:line` of its row."""


@dataclass(frozen=True)
class TrustedTimes:
    """The times file of a grading run (`--times`)."""

    path: str
    """The file's name (results and reports never show the instructor's folders)."""
    by_student: Mapping[str, Recorded] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    """Rows that did not stop the run (a student listed twice)."""

    def unknown(self, students: set[str]) -> list[str]:
        """A warning per row whose student has no submission in the run."""
        return [f"{recorded.where}: {student!r} has no submission among those graded; the row is not used"
                for student, recorded in self.by_student.items() if student not in students]


def read_times(path: Path) -> TrustedTimes:
    """The times file at `path`. GraderError (exit 2) listing every bad row as `file:line:`
    (a missing column, a time that does not parse or has no zone): a wrong upload time must
    not silently fall back to the student's own. A student listed twice keeps the latest
    time (an LMS lists each attempt; the newest is the one graded), with a warning."""
    table = read_table(path, "--times")
    student_column, time_column = require(table, "--times", [STUDENT_COLUMNS, TIME_COLUMNS])
    found: dict[str, tuple[datetime, Recorded]] = {}
    problems, warnings = [], []
    for row in table.rows:
        student, text, where = row.get(student_column), row.get(time_column), table.where(row.line)
        if not student:
            problems.append(f"{where}: no student id")
            continue
        try:
            moment = parse_recorded_time(text)
        except TimeError as exc:
            problems.append(f"{where}: {student}: {exc}")
            continue
        if student in found:
            earlier = found[student][1].where
            warnings.append(f"{where}: {student!r} is listed again (first at {earlier}); the latest time is used")
            if moment <= found[student][0]:
                continue
        found[student] = (moment, Recorded(moment.isoformat(), f"{path.name}:{row.line}"))
    if problems:
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise GraderError("--times: rows that cannot be used (fix them, or remove them to fall back to the "
                          "students' own times):\n" + "\n".join(problems[:20]) + more)
    return TrustedTimes(path.name, {s: r for s, (_, r) in found.items()}, tuple(warnings))


def timing(opened: Submission, trusted: TrustedTimes | None = None) -> Timing:
    """When `opened` was handed in, where that time came from, and what disagrees with it."""
    claimed = opened.submitted_at
    source: TimeSource = "manifest" if opened.time_source == "manifest" else (
        "zip name" if opened.time_source == "zip name" and claimed else "")
    flags: list[TimeFlag] = []
    recorded = trusted.by_student.get(opened.student) if trusted else None
    at: str | None
    used: TimeSource
    if recorded is not None:
        if claimed:
            flags.extend(_disagreement(claimed, source, recorded))
        at, used, trust = recorded.at, "times file", True
    else:
        if trusted is not None:
            flags.append(TimeFlag("not_in_times", f"{trusted.path} has no row for {opened.student!r}: "
                                  + (f"the {source}'s time {claimed} is used, and it is self-reported"
                                     if claimed else "the submission time is unknown")))
        at, used, trust = claimed, source, False
    if opened.newest_entry is not None:
        if claimed:
            flags.extend(_before_entries(claimed, f"the {source}", opened.newest_entry))
        if recorded is not None:
            flags.extend(_before_entries(recorded.at, f"the times file ({recorded.where})", opened.newest_entry))
    return Timing(submitted_at=at, source=used if at else "", trusted=trust, flags=tuple(flags))


def _disagreement(claimed: str, source: str, recorded: Recorded) -> list[TimeFlag]:
    gap = parse_time(claimed) - parse_recorded_time(recorded.at)
    if abs(gap) <= TOLERANCE:
        return []
    side = "before" if gap < timedelta(0) else "after"
    return [TimeFlag("times_disagree", f"the {source} says {claimed}, {_span(abs(gap))} {side} the upload time "
                                       f"{recorded.at} in {recorded.where}; the upload time is used")]


def _before_entries(claimed: str, whose: str, newest: tuple[str, str]) -> list[TimeFlag]:
    name, local = newest
    earliest = datetime.fromisoformat(local).replace(tzinfo=timezone.utc) - ZONE_AHEAD
    moment = parse_time(claimed)
    if moment >= earliest - TOLERANCE:
        return []
    return [TimeFlag("before_zip_entries",
                     f"{whose} says {claimed}, but the zip holds {name!r} dated {local} (local time of the machine "
                     f"that made the zip; even in UTC+14 that is {_span(earliest - moment)} after the time claimed)")]


def _span(gap: timedelta) -> str:
    minutes = round(gap.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
