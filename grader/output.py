"""Writing results to disk: atomically (temp file + rename), so a killed run never leaves
half a file, and as plain JSON and CSV that any tool can read."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Sequence

from grader.model import StudentResult


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def safe_name(student: str) -> str:
    """A file name for a student id (ids are checked, but never trust a name with a path)."""
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", student).lstrip(".") or "_"


def result_json(result: StudentResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"


def write_result(out: Path, result: StudentResult) -> Path:
    path = out / "results" / f"{safe_name(result.student)}.json"
    write_atomic(path, result_json(result))
    return path


def read_results(folder: Path) -> list[StudentResult]:
    results = []
    for path in sorted(folder.glob("*.json")):
        results.append(StudentResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
    return results


def question_ids(results: Sequence[StudentResult]) -> list[str]:
    ids: dict[str, None] = {}
    for result in results:
        for question in result.questions:
            ids.setdefault(question.id, None)
    return list(ids)


def gradebook_csv(results: Sequence[StudentResult]) -> str:
    """A row per student, a column per question, then total and max."""
    columns = question_ids(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *columns, "total", "max"])
    for result in sorted(results, key=lambda r: r.student):
        scores = {q.id: q.score for q in result.questions}
        writer.writerow([_cell(result.student), *(_number(scores.get(c, "")) for c in columns),
                         _number(result.score), _number(result.max_score)])
    return buffer.getvalue()


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell may not start with = + - @."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
