"""Gradebook exports that learning-management systems import.

- `csv`: the grader's gradebook (grader.core.output.gradebook_csv, the same file `grade` writes):
  student, one column per question id, total, max.
- `gradescope`: Gradescope autograder `results.json` (one per student), see
  https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format"), feedback
  as HTML (the report templates, autoescaped); a code question's test lists each of its
  visible checks and what the code printed, its hidden checks are a test of their own, shown
  after the due date (the spec's `gradescope:` key says otherwise, or one test per check).
- `canvas`: Canvas gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section,
  then one assignment column `Name (ID)` (so the import updates that assignment) and the
  "Points Possible" row; a Canvas gradebook export given as the roster fills the student
  columns (grader.render.canvas).
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
from typing import Any, Callable, Iterable, Mapping, Sequence

from grader.core.errors import GraderError
from grader.core.model import AutograderTests, Course
from grader.core.results import CaseResult, QuestionResult, StudentResult
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


_number = number  # inside _test, `number` is the test's number


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


def canvas_rows(results: Sequence[StudentResult], column: str, roster: Path | None = None,
                warn: Callable[[str], None] | None = None, blank: set[str] | None = None) -> list[list[Any]]:
    from grader.render import canvas

    return canvas.rows(results, column, canvas.load(roster), warn, blank or set())


def checked_assignment(text: str, what: str) -> str:
    """`text` as a Canvas assignment column `Name (ID)`; ExportError (exit 2) when it is not one."""
    from grader.core.canvas import assignment_problem

    problem = assignment_problem(text)
    if problem:
        raise ExportError(f"{what}: {problem}")
    return text.strip()



def moodle_rows(results: Sequence[StudentResult], column: str, blank: set[str] | None = None) -> list[list[Any]]:
    return [["ID number", column], *([r.student, _grade(r, blank or set())] for r in results)]


#: Gradescope's visibilities from the most to the least shown: a question's hidden checks are
#: never shown sooner than the question itself.
_VISIBILITY_ORDER = ("visible", "after_due_date", "after_published", "hidden")


#: Statuses of a question whose checks did not all run: its visible part is no pass either.
_NOT_RUN = ("error", "missing", "invalid")


def _later(first: str, second: str) -> str:
    return max(first, second, key=_VISIBILITY_ORDER.index)


#: An error told by whose doing it is (QuestionResult.fault), as the HTML report tells it.
_FAULT_WORDS = {"grader": "Grader fault", "student": "Your code failed"}


def _result_words(q: QuestionResult) -> str:
    if q.status == "error" and q.fault:
        return _FAULT_WORDS[q.fault] if q.fault == "grader" or q.run is not None else "Submission unreadable"
    return _STATUS_WORDS.get(q.status, q.status)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else f"{text[:MAX_OUTPUT]}\n… ({len(text) - MAX_OUTPUT} more characters)"


def _render(template: str, **context: Any) -> str:
    """Gradescope's `output_format: html`: the report templates' environment (autoescape on)."""
    from grader.render.html import environment

    return environment().get_template(template).render(cut=_cut, **context).strip()


def _shares(q: QuestionResult, groups: Sequence[Sequence[CaseResult]]) -> list[tuple[float, float]]:
    """(score, max_score) of each group of the question's checks, so the tests add up to the
    question: its points split by the checks' weights, what it earned by the weights of those
    that passed. The first group also takes what no check accounts for (all of a question
    without checks; credit for a known mistake or from a reviewer; rounding)."""
    weight = sum(c.weight for c in q.cases)
    earned = sum(c.weight for c in q.cases if c.passed)
    found = [[q.score * sum(c.weight for c in g if c.passed) / earned if earned else 0.0,
              q.max_score * sum(c.weight for c in g) / weight if weight else 0.0] for g in groups]
    found[0][0] += q.score - sum(score for score, _ in found)
    found[0][1] += q.max_score - sum(most for _, most in found)
    return [(score, most) for score, most in found]


def _test(q: QuestionResult, name: str, number: str, share: tuple[float, float], passed: bool, visibility: str,
          **shown: Any) -> dict[str, Any]:
    return {"name": name, "number": number, "score": _number(share[0]), "max_score": _number(share[1]),
            "status": "passed" if passed else "failed", "visibility": visibility, "output_format": "html",
            "tags": [q.kind], "output": _render("gradescope_test.html.j2", **shown)}


def question_tests(q: QuestionResult, how: AutograderTests = AutograderTests()) -> list[dict[str, Any]]:
    """The Gradescope tests of one question. One test per question: the question with its
    visible checks, and, when it has hidden checks, a second test with those (visibility
    `how.hidden_cases`, after the due date by default: a student never learns before the
    deadline which hidden check failed). With `how.per_case`: the question's own test
    (feedback, what the code printed) and one test per check."""
    visible = [c for c in q.cases if not c.hidden]
    hidden = [c for c in q.cases if c.hidden]
    later = _later(how.visibility, how.hidden_cases)
    whole = q.status == "correct" or 0 < q.max_score <= q.score
    context = dict(words=_result_words(q), question=q, status=q.status)
    if how.per_case and q.cases:
        shares = _shares(q, [[], *([c] for c in q.cases)])
        tests = [_test(q, f"Question {q.id}", q.id, shares[0], whole, how.visibility, **context,
                       cases=[], hidden_count=0)]
        for index, (case, share) in enumerate(zip(q.cases, shares[1:]), start=1):
            tests.append(_test(q, f"Question {q.id}: {case.name}" + (" (hidden)" if case.hidden else ""),
                               f"{q.id}.{index}", share, case.passed, later if case.hidden else how.visibility,
                               case_only=case))
        return tests
    shares = _shares(q, [visible, hidden] if hidden else [visible])
    # with hidden checks, the question's test passes when its visible part does
    shown_passed = whole if not hidden else q.status not in _NOT_RUN and all(c.passed for c in visible)
    tests = [_test(q, f"Question {q.id}", q.id, shares[0], shown_passed, how.visibility, **context,
                   cases=visible, hidden_count=len(hidden), hidden_when=later)]
    if hidden:
        tests.append(_test(q, f"Question {q.id}: hidden checks", f"{q.id}.hidden", shares[1],
                           all(c.passed for c in hidden), later, hidden_cases=hidden))
    return tests


def autograder_tests(course: Course) -> dict[str, AutograderTests]:
    """How each question is reported on Gradescope, by question id (the specs' `gradescope:`)."""
    return {f"{e.id}.{q.id}": q.gradescope for e in course.exercises for q in e.questions}


def gradescope_results(result: StudentResult, tests: Mapping[str, AutograderTests] | None = None,
                       execution_time: float | None = None) -> dict[str, Any]:
    """One submission in Gradescope's results.json format (score, tests, visibility), the
    feedback as HTML. `tests` says per question id how to report it (the spec's
    `gradescope:` key, grader.core.model.AutograderTests); without it, the defaults."""
    how = tests or {}
    found = [test for q in result.questions for test in question_tests(q, how.get(q.id, AutograderTests()))]
    data: dict[str, Any] = {
        "score": number(result.score),
        "output": _render("gradescope_output.html.j2", result=result, total=number(result.score),
                          most=number(result.max_score),
                          late=[(late, number(100 * late.penalty)) for late in result.lateness]),
        "output_format": "html",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": found,
    }
    if execution_time is not None:
        data["execution_time"] = max(0, round(execution_time))
    return data


def _write_gradescope(results: Sequence[StudentResult], out_path: Path,
                      tests: Mapping[str, AutograderTests] | None = None) -> list[Path]:
    # Gradescope grades one submission per run: a `.json` path takes exactly one result
    # (e.g. /autograder/results/results.json); a folder gets <student>/results.json each.
    if out_path.suffix == ".json":
        if len(results) != 1:
            raise ExportError(f"{out_path}: a .json path holds one student, got {len(results)}")
        text = json.dumps(gradescope_results(results[0], tests), indent=2, ensure_ascii=False)
        return [write_atomic(out_path, text + "\n")]
    paths = []
    for result, name in zip(results, unique_file_names(r.student for r in results)):
        text = json.dumps(gradescope_results(result, tests), indent=2, ensure_ascii=False)
        paths.append(write_atomic(out_path / name / "results.json", text + "\n"))
    return paths


def export(results: Sequence[StudentResult], fmt: str, out_path: Path,
           title: str = "", allow_pending: bool = False,
           tests: Mapping[str, AutograderTests] | None = None, canvas_assignment: str | None = None,
           roster: Path | None = None, warn: Callable[[str], None] | None = None) -> list[Path]:
    """Write `results` as `fmt` (one of FORMATS) to `out_path`; returns the files written.
    PendingReviews while answers await review, unless `allow_pending` (see the module).
    `tests`: how the specs report each question on Gradescope (gradescope_results). For
    canvas, `canvas_assignment` (`Name (ID)`) names the column (else `title`), and `roster`,
    a Canvas gradebook export, fills the student columns; `warn` hears what Canvas would
    not import as meant (no assignment id, a student not in the roster)."""
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
        return _write_gradescope([r for r in results if r.student not in blank], out_path, tests)
    if fmt == "canvas":
        if canvas_assignment:
            column = checked_assignment(canvas_assignment, "--canvas-assignment")
        rows = canvas_rows(results, column, roster, warn, blank)
    else:
        rows = moodle_rows(results, column, blank)
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
                   allow_pending: bool = False, canvas_assignment: str | None = None,
                   roster: Path | None = None, warn: Callable[[str], None] | None = None) -> Exported:
    """`grader export`: read the results that `grade` wrote under out_dir and export them,
    with the course title `grade` stored there unless `title` names another."""
    out_dir = Path(out_dir)
    results = read_results(out_dir)
    paths = export(results, fmt, to or default_target(out_dir, fmt), title or stored_title(out_dir) or "",
                   allow_pending, canvas_assignment=canvas_assignment, roster=roster, warn=warn)
    return Exported(paths, pending_reviews(results), fmt)
