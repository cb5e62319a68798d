"""The per-student summary table printed after a grading run (plain text, any terminal)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

from grader.core.results import STATUSES, StudentResult

_SHORT = {"correct": "ok", "partial": "part", "incorrect": "wrong", "missing": "miss",
          "invalid": "inval", "error": "err", "review": "review"}


def table(results: Sequence[StudentResult]) -> str:
    if not results:
        return "no results"
    width = max(7, *(len(r.student) for r in results))
    header = f"{'student':<{width}}  {'score':>13}  " + " ".join(f"{_SHORT[s]:>6}" for s in STATUSES)
    lines = [header, "-" * len(header)]
    for result in results:
        counts = Counter(q.status for q in result.questions)
        score = f"{round(result.score, 2):g}/{result.max_score:g}"
        row = f"{result.student:<{width}}  {score:>13}  " + " ".join(f"{counts.get(s, 0):>6}" for s in STATUSES)
        if result.error:
            row += f"  ! {result.error[:80]}"
        lines.append(row)
    scores = [r.score for r in results]
    lines.append("-" * len(header))
    lines.append(f"{len(results)} students, mean {sum(scores) / len(scores):.2f}, "
                 f"max {results[0].max_score:g} points")
    return "\n".join(lines)


def lateness_lines(results: Sequence[StudentResult]) -> list[str]:
    """One `late: <student> <exercise>: … late, penalty …` line per late exercise."""
    from grader.authoring.lateness import describe

    return [f"late: {result.student} {describe(record)}" for result in results for record in result.lateness]


def written_line(out: Path, results: int, written: Sequence[Path]) -> str:
    """What a grading run wrote: the results folder, the gradebook, the reports' index."""
    index = out / "reports" / "index.html"
    return (f"wrote {out / 'results'}/ ({results} results), {out / 'grades.csv'}"
            + (f", {index}" if index in written else ""))
