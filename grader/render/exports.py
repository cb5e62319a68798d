"""Gradebook exports that learning-management systems import.

- `csv`: the grader's gradebook (grader.core.output.gradebook_csv, the same file `grade` writes):
  student, one column per question id, total, max.
- `gradescope`: Gradescope autograder `results.json` (one per student), see
  https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format"); a code
  question's test output lists each of its checks and what the code printed.
- `canvas`: Canvas gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section,
  then one assignment column `Name (ID)` (so the import updates that assignment) and the
  "Points Possible" row; a Canvas gradebook export given as the roster fills the student
  columns (grader.render.canvas).
- `moodle`: Moodle "Import grades → CSV file": an identifier column ("ID number") and a
  grade column, mapped to the user field and the grade item in Moodle's import form.

Every file is written atomically. Cells that a spreadsheet would run as a formula
(text starting with = + - @ or a control character) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from grader.core.errors import GraderError
from grader.core.results import CaseResult, QuestionResult, RunRecord, StudentResult
from grader.core.output import gradebook_csv, read_results, spreadsheet_safe, unique_file_names, write_atomic

FORMATS = ("csv", "gradescope", "canvas", "moodle")
#: Longest printed output or trace carried per question into a Gradescope test's output.
MAX_OUTPUT = 4_000


class ExportError(GraderError, ValueError):
    """An export that cannot be written as asked (an unknown format, one .json for many
    students). A GraderError, so the command line shows it with exit code 2; a ValueError,
    as it always was for library callers."""

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


def canvas_rows(results: Sequence[StudentResult], column: str, roster: Path | None = None,
                warn: Callable[[str], None] | None = None) -> list[list[Any]]:
    from grader.render import canvas

    return canvas.rows(results, column, canvas.load(roster), warn)


def checked_assignment(text: str, what: str) -> str:
    """`text` as a Canvas assignment column `Name (ID)`; ExportError (exit 2) when it is not one."""
    from grader.core.canvas import assignment_problem

    problem = assignment_problem(text)
    if problem:
        raise ExportError(f"{what}: {problem}")
    return text.strip()


def moodle_rows(results: Sequence[StudentResult], column: str) -> list[list[Any]]:
    return [["ID number", column], *([r.student, r.score] for r in results)]


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
           title: str = "", canvas_assignment: str | None = None, roster: Path | None = None,
           warn: Callable[[str], None] | None = None) -> list[Path]:
    """Write `results` as `fmt` (one of FORMATS) to `out_path`; returns the files written.
    For canvas, `canvas_assignment` (`Name (ID)`) names the column (else `title`), and
    `roster`, a Canvas gradebook export, fills the student columns; `warn` hears what
    Canvas would not import as meant (no assignment id, a student not in the roster)."""
    out_path = Path(out_path)
    column = title or "grader"
    if fmt == "csv":
        return [write_atomic(out_path, gradebook_csv(results))]
    if fmt == "canvas":
        if canvas_assignment:
            column = checked_assignment(canvas_assignment, "--canvas-assignment")
        rows = canvas_rows(results, column, roster, warn)
    elif fmt == "moodle":
        rows = moodle_rows(results, column)
    elif fmt == "gradescope":
        return _write_gradescope(results, out_path)
    else:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return [write_atomic(out_path, _csv_text(rows))]


def default_target(results_dir: Path, fmt: str) -> Path:
    """Where `grader export` writes when --to is not given: beside results/."""
    return results_dir / {"csv": "grades.csv", "canvas": "canvas.csv", "moodle": "moodle.csv",
                          "gradescope": "gradescope"}[fmt]


def export_results(out_dir: Path, fmt: str, to: Path | None = None, title: str = "",
                   canvas_assignment: str | None = None, roster: Path | None = None,
                   warn: Callable[[str], None] | None = None) -> list[Path]:
    """`grader export`: read the results that `grade` wrote under out_dir and export them."""
    out_dir = Path(out_dir)
    return export(read_results(out_dir), fmt, to or default_target(out_dir, fmt), title,
                  canvas_assignment, roster, warn)
