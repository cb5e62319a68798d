"""Writing results to disk: atomically (temp file + rename), so a killed run never leaves
half a file, and as plain JSON and CSV that any tool can read."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from grader.core import text
from grader.core.errors import GraderError
from grader.core.results import StudentResult


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write `data` so that readers see the old file or the new one, never half of it."""
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
    return path


#: Longest file-name stem built from a student id (a hash suffix comes on top).
MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)


def safe_file_name(student: str) -> str:
    """A file-name stem for `student`: the id itself when it is plain, else a cleaned
    form plus a short hash of the original, so two odd ids never share a file."""
    cleaned = _UNSAFE.sub("_", student)[:MAX_STEM]
    if cleaned == student and cleaned and cleaned.upper() not in _WINDOWS_RESERVED:
        return cleaned
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned or 'student'}-{digest}"


def unique_file_names(students: Iterable[str]) -> list[str]:
    """`safe_file_name` of each id; a repeated id gets `-2`, `-3`, … in order."""
    seen: dict[str, int] = {}
    names = []
    for student in students:
        name = safe_file_name(student)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return names


def valid_unicode(result: StudentResult) -> StudentResult:
    """`result` with every lone surrogate in its text replaced by U+FFFD, so that it can be
    written as UTF-8 (the results file, the reports); the rest is as it was."""
    dumped = json.dumps(result.to_dict(), ensure_ascii=False, default=str)
    return StudentResult.from_dict(json.loads(text.valid_unicode(dumped)))


def result_json(result: StudentResult) -> str:
    # No indent: only the compact form uses json's C encoder, 3x faster on a class.
    return json.dumps(result.to_dict(), ensure_ascii=False, default=str) + "\n"


def write_result(out: Path, result: StudentResult) -> Path:
    path = out / "results" / f"{safe_file_name(result.student)}.json"
    write_atomic(path, result_json(result))
    return path


def read_results(folder: Path) -> list[StudentResult]:
    """Every results/<student>.json under `folder` (a `grade --out` folder, or results/)."""
    folder = Path(folder)
    if (folder / "results").is_dir():
        folder = folder / "results"
    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            results.append(StudentResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
            raise GraderError(f"{path}: not a grader result file ({exc})") from exc
    if not results:
        raise GraderError(f"{folder}: no result files (*.json) found; run `grader grade` first")
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
        writer.writerow([spreadsheet_safe(result.student), *(_number(scores.get(c, "")) for c in columns),
                         _number(result.score), _number(result.max_score)])
    return buffer.getvalue()


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def spreadsheet_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell may not start with = + - @
    or a control character."""
    return "'" + text if text and (text[0] in "=+-@" or text[0] < " ") else text
