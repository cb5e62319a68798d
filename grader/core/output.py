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

from grader.core.errors import GraderError
from grader.core.results import StudentResult


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write `data` so that readers see the old file or the new one, never half of it.

    Text is written as UTF-8; a lone surrogate (a folder name that is not UTF-8, read with
    surrogateescape) as its escape `\\udc9b`, which JSON reads back as the same character."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
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


#: Longest file-name stem built from a student id (the hash suffix comes on top).
MAX_STEM = 80
#: Hex digits of the exact id's sha256 that an odd id's file name carries (64 bits).
HASH_CHARS = 16
#: Joins a cleaned id and its hash, and a repeated id and its count. Never part of a plain
#: name, so a plain id can never take an odd id's name (`ola_nordmann-28a3fb64` was once
#: the name of `ola.nordmann`).
SEPARATOR = "~"
_PLAIN = re.compile(rf"[a-z0-9_-]{{1,{MAX_STEM}}}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)


def safe_file_name(student: str) -> str:
    """A file-name stem for `student`, one to one: two ids never share a name, also on a
    file system that ignores case (macOS, Windows).

    A plain id (lower-case letters, digits, `_` and `-`, at most MAX_STEM characters) is its
    own name. Any other id gets a cleaned form (other characters as `_`), `~` and a hash of
    the exact id: `ola.nordmann` -> `ola_nordmann~<16 hex>`, `S1` -> `S1~<16 hex>`. `~` is
    never in a plain name, so the two forms cannot meet, and two odd ids differ in their hash."""
    if _PLAIN.fullmatch(student) and student.upper() not in _WINDOWS_RESERVED:
        return student
    cleaned = _UNSAFE.sub("_", student)[:MAX_STEM] or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    return f"{cleaned}{SEPARATOR}{digest}"


def unique_file_names(students: Iterable[str]) -> list[str]:
    """`safe_file_name` of each id; the same id given again gets `~2`, `~3`, … (a name no
    other id has: a plain name has no `~`, an odd id's ends in 16 hex digits). Raises
    GraderError rather than give two ids one file (see `refuse_shared_names`)."""
    ids = list(students)
    seen: dict[str, int] = {}
    names = []
    for student in ids:
        name = safe_file_name(student)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}{SEPARATOR}{seen[name]}")
    refuse_shared_names(ids, names)
    return names


def refuse_shared_names(students: Sequence[str], names: Sequence[str]) -> None:
    """GraderError when two different ids would be written to one file (names compared as a
    case-insensitive file system compares them). By construction only a 64-bit hash
    collision gets here; it is refused instead of one student's result overwriting another's."""
    owners: dict[str, str] = {}
    for student, name in zip(students, names):
        owner = owners.setdefault(name.casefold(), student)
        if owner != student:
            raise GraderError(f"students {owner!r} and {student!r} would be written to one file "
                              f"({name}); rename one of the submissions")

def result_json(result: StudentResult) -> str:
    # No indent: only the compact form uses json's C encoder, 3x faster on a class.
    return json.dumps(result.to_dict(), ensure_ascii=False, default=str) + "\n"


def result_path(out: Path, student: str) -> Path:
    """Where `student`'s result lives under a `grade --out` folder."""
    return out / "results" / f"{safe_file_name(student)}.json"


def write_result(out: Path, result: StudentResult) -> Path:
    path = result_path(out, result.student)
    write_atomic(path, result_json(result))
    return path


def read_result(path: Path) -> StudentResult:
    """One results file; GraderError when it is not one."""
    try:
        return StudentResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        raise GraderError(f"{path}: not a grader result file ({exc})") from exc


def read_results(folder: Path) -> list[StudentResult]:
    """Every results/<student>.json under `folder` (a `grade --out` folder, or results/),
    one per student (see `one_per_student`)."""
    folder = Path(folder)
    if (folder / "results").is_dir():
        folder = folder / "results"
    stored = [(path, read_result(path)) for path in sorted(folder.glob("*.json"))]
    if not stored:
        raise GraderError(f"{folder}: no result files (*.json) found; run `grader grade` first")
    return [result for _, result in one_per_student(stored)[0]]


def results_version(folder: Path) -> str:
    """A text that changes whenever a result file under `folder` (as `read_results` reads it)
    is written, added or removed: a digest of each `*.json`'s name, inode, time and size. A
    regrade replaces each file by a rename (`write_atomic`), so every change shows here and
    no file is ever seen half written (a temporary file is not a `*.json`)."""
    folder = Path(folder)
    if (folder / "results").is_dir():
        folder = folder / "results"
    digest = hashlib.sha256()
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(".json"))
    except OSError:
        return "none"
    for name in names:
        try:
            stat = os.stat(folder / name)
        except OSError:  # removed since the listing: the next call sees the folder as it is then
            continue
        digest.update(f"{name}\0{stat.st_ino}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def stored_results(folder: Path) -> tuple[list[tuple[Path, StudentResult]], list[str]]:
    """Every result file in `folder` (a results/ folder, which may not exist yet) with the
    result it holds, and a note for each *.json that is not a result file (left out)."""
    stored, notes = [], []
    for path in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []:
        try:
            stored.append((path, read_result(path)))
        except GraderError as error:
            notes.append(f"{error}; it is left out of the gradebook")
    return stored, notes


def one_per_student(stored: Sequence[tuple[Path, StudentResult]]) -> tuple[list[tuple[Path, StudentResult]], list[str]]:
    """One file per student: where two files hold one student (a file name an older grader
    wrote, a copy), the one at the student's own name wins, else the newest; a note names
    each file left out."""
    by_student: dict[str, list[tuple[Path, StudentResult]]] = {}
    for path, result in stored:
        by_student.setdefault(result.student, []).append((path, result))
    kept, notes = [], []
    for student, files in by_student.items():
        own = safe_file_name(student) + ".json"
        files = sorted(files, key=lambda item: (item[0].name != own, -_mtime(item[0]), item[0].name))
        kept.append(files[0])
        notes += [f"{path} also holds {student!r}; {files[0][0].name} is the one listed" for path, _ in files[1:]]
    return kept, notes


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def refuse_foreign_files(out: Path, students: Sequence[str], stored: Sequence[tuple[Path, StudentResult]]) -> None:
    """GraderError when the file a student's result goes to already holds another student's
    (only a file an older grader named can): one submission never overwrites another's."""
    holders = {path.name.casefold(): result.student for path, result in stored}
    for student in students:
        path = result_path(out, student)
        holder = holders.get(path.name.casefold(), student)
        if holder != student:
            raise GraderError(f"{path} holds the result of {holder!r}, and {student!r} would overwrite it; "
                              "move that file away (an older grader named it) or grade into a new --out folder")


def question_ids(results: Sequence[StudentResult]) -> list[str]:
    ids: dict[str, None] = {}
    for result in results:
        for question in result.questions:
            ids.setdefault(question.id, None)
    return list(ids)


def gradebook_csv(results: Sequence[StudentResult], blank_pending: bool = False) -> str:
    """A row per student, a column per question, then total and max; and `time_flags`
    (the kinds of the doubts on a submission time, grader.intake.times) when any has one.
    With `blank_pending`, an answer that awaits review has a blank cell, and so has its
    student's total (no score is known yet), instead of the 0 it holds until a human decides."""
    columns = question_ids(results)
    flagged = any(r.timing and r.timing.flags for r in results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *columns, "total", "max", *(["time_flags"] if flagged else [])])
    for result in sorted(results, key=lambda r: r.student):
        scores: dict[str, object] = {q.id: q.score for q in result.questions}
        pending = blank_pending and any(q.status == "review" for q in result.questions)
        if pending:
            scores.update({q.id: "" for q in result.questions if q.status == "review"})
        flags = [" ".join(f.kind for f in result.timing.flags) if result.timing else ""] if flagged else []
        writer.writerow([spreadsheet_safe(result.student), *(_number(scores.get(c, "")) for c in columns),
                         "" if pending else _number(result.score), _number(result.max_score), *flags])
    return buffer.getvalue()


COURSE_FILE = "course.json"
"""Beside results/: what `grade` knew of the course (its title, the specs' digest), so
`grader export`, which reads only the results, names the course as `grade` does."""


def write_course(out: Path, title: str, digest: str) -> Path:
    return write_atomic(Path(out) / COURSE_FILE,
                        json.dumps({"title": title, "spec_digest": digest}, ensure_ascii=False) + "\n")


def stored_title(folder: Path) -> str | None:
    """The course title `grade` stored in `folder` (a `grade --out` folder or its results/),
    or None where it stored none (an older grader's folder) or the file is unreadable."""
    folder = Path(folder)
    for place in (folder, folder.parent) if folder.name == "results" else (folder,):
        try:
            data = json.loads((place / COURSE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        title = data.get("title") if isinstance(data, dict) else None
        if isinstance(title, str) and title:
            return title
    return None


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def spreadsheet_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell may not start with = + - @
    or a control character."""
    return "'" + text if text and (text[0] in "=+-@" or text[0] < " ") else text
