"""The per-student summary table printed after a grading run (plain text, any terminal).

Student ids and errors are the students' text: each field is made terminal-safe on one
line here (grader.core.text), so a line feed in a folder name cannot forge a row; cli.py
makes everything it prints safe once more."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

from grader.core.results import STATUSES, StudentResult
from grader.core.text import terminal_safe

#: Longest student id shown in full in the table (a folder name can be much longer).
MAX_ID_SHOWN = 64
_SHORT = {"correct": "ok", "partial": "part", "incorrect": "wrong", "missing": "miss",
          "invalid": "inval", "error": "err", "review": "review"}


def table(results: Sequence[StudentResult]) -> str:
    if not results:
        return "no results"
    ids = [terminal_safe(r.student, limit=MAX_ID_SHOWN) for r in results]
    width = max(7, *(len(shown) for shown in ids))
    header = f"{'student':<{width}}  {'score':>13}  " + " ".join(f"{_SHORT[s]:>6}" for s in STATUSES)
    lines = [header, "-" * len(header)]
    for shown, result in zip(ids, results):
        counts = Counter(q.status for q in result.questions)
        score = f"{round(result.score, 2):g}/{result.max_score:g}"
        row = f"{shown:<{width}}  {score:>13}  " + " ".join(f"{counts.get(s, 0):>6}" for s in STATUSES)
        if result.error:
            row += f"  ! {terminal_safe(result.error[:80])}"
        lines.append(row)
    scores = [r.score for r in results]
    lines.append("-" * len(header))
    lines.append(f"{len(results)} students, mean {sum(scores) / len(scores):.2f}, "
                 f"max {results[0].max_score:g} points")
    return "\n".join(lines)


def lateness_lines(results: Sequence[StudentResult]) -> list[str]:
    """One `late: <student> <exercise>: … late, penalty …` line per late exercise."""
    from grader.authoring.lateness import describe

    return [terminal_safe(f"late: {result.student} {describe(record)}")
            for result in results for record in result.lateness]


def time_lines(results: Sequence[StudentResult]) -> list[str]:
    """A `time: <student>: …` line per doubtful submission time (grader.intake.times), then
    one note when times are the students' own word (their manifests, no --times row)."""
    lines = [terminal_safe(f"time: {result.student}: {flag.message}")
             for result in results if result.timing for flag in result.timing.flags]
    own = [r.student for r in results if r.timing and r.timing.submitted_at and not r.timing.trusted]
    if own:
        lines.append(f"note: {len(own)} submission time(s) are self-reported (from the students' own zips); "
                     "give the LMS's upload times with --times to trust them")
    return lines


def written_line(out: Path, results: int, written: Sequence[Path], listed: int | None = None) -> str:
    """What a grading run wrote: the results folder, the gradebook (and how many of its
    students earlier runs into the folder graded), the reports' index."""
    index = out / "reports" / "index.html"
    earlier = (listed or results) - results
    gradebook = f"{out / 'grades.csv'}" + (f" ({listed} students, {earlier} of them from earlier runs)"
                                          if earlier > 0 else "")
    return (f"wrote {out / 'results'}/ ({results} results), {gradebook}"
            + (f", {index}" if index in written else ""))
