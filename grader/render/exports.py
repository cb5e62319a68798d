"""Gradebook exports that learning-management systems import.

- `csv`: the grader's gradebook (grader.core.output.gradebook_csv, the same file `grade` writes):
  student, one column per question id, total, max.
- `gradescope`: Gradescope autograder `results.json` (one per student), see
  https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format"); a code
  question's test output lists each of its checks and what the code printed.
- `canvas`: Canvas gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section,
  then one assignment column; the optional "Points Possible" row gives the maximum.
  The student id goes into "SIS Login ID", which Canvas matches on when ID is empty.
- `moodle`: Moodle "Import grades → CSV file": an identifier column ("ID number") and a
  grade column, mapped to the user field and the grade item in Moodle's import form.

Answers that await review (status `review`) hold 0 points until a human decides, so an
export refuses while any are pending (`PendingReviews`), unless `allow_pending`: then
their cells are blank (in `csv` the question's cell and the student's total; in `canvas`
and `moodle` the student's grade), and a student's Gradescope results.json is not
written at all, as Gradescope has no blank score. `pending` says how many.

The assignment column (canvas, moodle) is named after the course, as `grade` titles its
reports: `grade` stores the title beside results/ (grader.core.output.COURSE_FILE) and
`grader export` reads it there, unless `--title` names another.

Every file is written atomically. Cells that a spreadsheet would run as a formula
(text starting with = + - @ or a control character) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from grader.core.errors import GraderError
from grader.core.results import CaseResult, QuestionResult, RunRecord, StudentResult
from grader.core.output import gradebook_csv, read_results, spreadsheet_safe, stored_title, unique_file_names, \
    write_atomic

FORMATS = ("csv", "gradescope", "canvas", "moodle")
#: Longest printed output or trace carried per question into a Gradescope test's output.
MAX_OUTPUT = 4_000


class ExportError(GraderError, ValueError):
    """An export that cannot be written as asked (an unknown format, one .json for many
    students). A GraderError, so the command line shows it with exit code 2; a ValueError,
    as it always was for library callers."""

DEFAULT_TITLE = "grader"
"""The assignment column's name where no course title is known (results of an older grader)."""


class PendingReviews(ExportError):
    """Answers still await review: exporting now would count each as 0 points."""


@dataclass(frozen=True)
class Pending:
    """The answers that await a human's review, by student."""

    answers: tuple[tuple[str, str], ...]
    """(student, question id) of every answer whose status is `review`."""

    @property
    def students(self) -> list[str]:
        return sorted({student for student, _ in self.answers})

    def __bool__(self) -> bool:
        return bool(self.answers)

    def count(self) -> str:
        """`3 answers of 2 students`."""
        answers, students = len(self.answers), len(self.students)
        return (f"{answers} answer{'s' if answers != 1 else ''} of {students} "
                f"student{'s' if students != 1 else ''}")

    def awaiting(self) -> str:
        """`1 answer of 1 student awaits review`, `3 answers of 2 students await review`."""
        return f"{self.count()} {'awaits' if len(self.answers) == 1 else 'await'} review"

    def examples(self, most: int = 5) -> str:
        shown = ", ".join(f"{student} {qid}" for student, qid in self.answers[:most])
        return shown + (f" and {len(self.answers) - most} more" if len(self.answers) > most else "")


def pending_reviews(results: Sequence[StudentResult]) -> Pending:
    return Pending(tuple((r.student, q.id) for r in sorted(results, key=lambda r: r.student)
                         for q in r.questions if q.status == "review"))


def refuse_pending(pending: Pending, fmt: str) -> None:
    """PendingReviews, saying what awaits review and the two ways on, unless none does."""
    if pending:
        raise PendingReviews(f"not exported ({fmt}): {pending.awaiting()} ({pending.examples()}), "
                             "and each would count as 0 points; review them first (grader review SPECS DIR), "
                             "or pass --allow-pending to export now with those cells left blank")


def left_blank(pending: Pending, fmt: str) -> str:
    """What an export with --allow-pending did with the pending answers, in words."""
    if fmt == "gradescope":
        return (f"{pending.awaiting()}: the results.json of {', '.join(pending.students)} "
                "was not written (Gradescope has no blank score); export again after the review")
    what = "their cells and those students' totals" if fmt == "csv" else "those students' grades"
    return f"{pending.awaiting()}: {what} are left blank in the {fmt} export"


_STATUS_WORDS = {
    "correct": "Correct", "partial": "Partly correct", "incorrect": "Incorrect",
    "missing": "Not answered", "invalid": "Could not read the answer",
    "error": "Error while grading", "review": "Needs review by a teacher",
}


def number(value: float) -> int | float:
    """Scores without float noise (0.1 + 0.2 -> 0.3); whole numbers as ints."""
    rounded = round(float(value), 6)
    return int(rounded) if rounded.is_integer() else rounded


def _cell(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(number(value))
    return spreadsheet_safe("" if value is None else str(value))


def _csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _grade(result: StudentResult, blank: set[str]) -> float | None:
    """The student's total, or None (a blank cell) while an answer of theirs awaits review."""
    return None if result.student in blank else result.score


def canvas_rows(results: Sequence[StudentResult], column: str, blank: set[str] | None = None) -> list[list[Any]]:
    max_score = max((r.max_score for r in results), default=0.0)
    rows: list[list[Any]] = [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column],
        ["Points Possible", "", "", "", "", max_score],
    ]
    rows += [[r.student, "", "", r.student, "", _grade(r, blank or set())] for r in results]
    return rows


def moodle_rows(results: Sequence[StudentResult], column: str, blank: set[str] | None = None) -> list[list[Any]]:
    return [["ID number", column], *([r.student, _grade(r, blank or set())] for r in results)]


def _case_lines(cases: Sequence[CaseResult]) -> list[str]:
    """A line per check; a failed one says why (hidden ones, like the report, nothing more)."""
    if not cases:
        return []
    lines = [f"Tests: {sum(c.passed for c in cases)} of {len(cases)} passed"]
    for case in cases:
        hidden = " (hidden)" if case.hidden else ""
        message = case.message.replace("\n", "\n    ")  # a trace stays under its case
        lines.append(f"  passed: {case.name}{hidden}" if case.passed
                     else f"  failed: {case.name}{hidden}: {message}".rstrip(": "))
    return lines


def _run_lines(run: RunRecord | None) -> list[str]:
    """What the student's code printed and the error it raised, cut to MAX_OUTPUT each."""
    if run is None:
        return []
    lines = []
    if run.limits_hit:
        lines.append(f"Sandbox limit reached: {run.limits_hit}")
    if run.stdout:
        lines += ["Printed output:", _cut(run.stdout)]
    if run.traceback:
        lines += ["Error trace:", _cut(run.traceback)]
    return lines


def _cut(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else f"{text[:MAX_OUTPUT]}\n… ({len(text) - MAX_OUTPUT} more characters)"


#: An error told by whose doing it is (QuestionResult.fault), as the HTML report tells it.
_FAULT_WORDS = {"grader": "Grader fault", "student": "Your code failed"}


def _result_words(q: QuestionResult) -> str:
    if q.status == "error" and q.fault:
        return _FAULT_WORDS[q.fault] if q.fault == "grader" or q.run is not None else "Submission unreadable"
    return _STATUS_WORDS.get(q.status, q.status)


def _test_output(q: QuestionResult) -> str:
    lines = [f"Result: {_result_words(q)}"]
    if q.answer is not None:
        lines.append(f"Your answer: {q.answer}")
    if q.feedback:
        lines.append(q.feedback)
    if q.expected is not None:
        lines.append(f"Expected: {q.expected}")
    lines += _case_lines(q.cases) + _run_lines(q.run)
    if q.review is not None:
        state = "not applied, the exercise changed since" if q.review.stale else "applied"
        lines.append(f"Reviewed by {q.review.by} at {q.review.at} ({state}): {q.review.comment}")
    return "\n".join(lines)


def gradescope_results(result: StudentResult, visibility: str = "visible") -> dict[str, Any]:
    """One submission in Gradescope's results.json format (score, tests, visibility)."""
    output = [f"Total: {number(result.score)} of {number(result.max_score)} points"]
    if result.error:
        output.append(f"Problem with the submission: {result.error}")
    output += [f"Warning: {w}" for w in result.warnings]
    output += [f"Exercise {late.exercise} was late (deadline {late.deadline}); "
               f"{number(100 * late.penalty)}% of its points were taken off"
               for late in getattr(result, "lateness", ()) or ()]
    tests = [
        {
            "name": f"Question {q.id}",
            "number": q.id,
            "score": number(q.score),
            "max_score": number(q.max_score),
            "status": "passed" if q.status == "correct" or (0 < q.max_score <= q.score) else "failed",
            "output": _test_output(q),
            "visibility": visibility,
        }
        for q in result.questions
    ]
    return {
        "score": number(result.score),
        "output": "\n".join(output),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _write_gradescope(results: Sequence[StudentResult], out_path: Path) -> list[Path]:
    # Gradescope grades one submission per run: a `.json` path takes exactly one result
    # (e.g. /autograder/results/results.json); a folder gets <student>/results.json each.
    if out_path.suffix == ".json":
        if len(results) != 1:
            raise ExportError(f"{out_path}: a .json path holds one student, got {len(results)}")
        text = json.dumps(gradescope_results(results[0]), indent=2, ensure_ascii=False)
        return [write_atomic(out_path, text + "\n")]
    paths = []
    for result, name in zip(results, unique_file_names(r.student for r in results)):
        text = json.dumps(gradescope_results(result), indent=2, ensure_ascii=False)
        paths.append(write_atomic(out_path / name / "results.json", text + "\n"))
    return paths


def export(results: Sequence[StudentResult], fmt: str, out_path: Path,
           title: str = "", allow_pending: bool = False) -> list[Path]:
    """Write `results` as `fmt` (one of FORMATS) to `out_path`; returns the files written.
    PendingReviews while answers await review, unless `allow_pending` (see the module)."""
    out_path = Path(out_path)
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    pending = pending_reviews(results)
    if not allow_pending:
        refuse_pending(pending, fmt)
    blank = set(pending.students)
    column = title or DEFAULT_TITLE
    if fmt == "csv":
        return [write_atomic(out_path, gradebook_csv(results, blank_pending=True))]
    if fmt == "gradescope":
        return _write_gradescope([r for r in results if r.student not in blank], out_path)
    rows = canvas_rows(results, column, blank) if fmt == "canvas" else moodle_rows(results, column, blank)
    return [write_atomic(out_path, _csv_text(rows))]


def default_target(results_dir: Path, fmt: str) -> Path:
    """Where `grader export` writes when --to is not given: beside results/."""
    return results_dir / {"csv": "grades.csv", "canvas": "canvas.csv", "moodle": "moodle.csv",
                          "gradescope": "gradescope"}[fmt]


@dataclass(frozen=True)
class Exported:
    """What `grader export` wrote, and what it left blank."""

    paths: list[Path]
    pending: Pending
    fmt: str

    def note(self) -> str | None:
        """The warning to show when answers awaiting review were left blank."""
        return left_blank(self.pending, self.fmt) if self.pending else None


def export_results(out_dir: Path, fmt: str, to: Path | None = None, title: str = "",
                   allow_pending: bool = False) -> Exported:
    """`grader export`: read the results that `grade` wrote under out_dir and export them,
    with the course title `grade` stored there unless `title` names another."""
    out_dir = Path(out_dir)
    results = read_results(out_dir)
    paths = export(results, fmt, to or default_target(out_dir, fmt), title or stored_title(out_dir) or "",
                   allow_pending)
    return Exported(paths, pending_reviews(results), fmt)
