"""Submissions: a folder (or a .zip of one) named after the student, holding answers.yaml,
code modules and notebooks. Everything here is untrusted input. The one way to open one
is grader.intake.open.open_submission; this module holds its parts.

A zip is unpacked into a private temporary folder only after every entry has been
checked: no absolute paths, no `..`, no links, bounded count and size (the sizes are
enforced while reading, since the sizes a zip declares can lie).
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grader.core import yamlsafe
from grader.intake import notebook

ANSWERS_FILE = "answers.yaml"
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MAX_ANSWERS_BYTES = 1_000_000
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_BYTES = 50_000_000
MAX_ZIP_RATIO = 200


class UnsafeSubmission(Exception):
    """The submission cannot be read safely; the message says why."""


@dataclass(frozen=True)
class Submission:
    student: str
    folder: Path
    """Where the files are (the folder itself, or a private copy of a zip's contents)."""
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """exercise id -> question id -> what the student wrote (text, or lists of text)."""
    error: str | None = None
    """A problem with the whole submission (unreadable answers.yaml); grading goes on."""
    origin: Path | None = None
    warnings: tuple[str, ...] = ()
    """Problems that do not stop grading (an answer given twice, a manifest note)."""
    submitted_at: str | None = None
    """When it was packaged (ISO time, from a verified `grader submit` manifest), if known."""
    packaged_specs: str | None = None
    """The spec digest(s) a verified manifest says it was packaged against, if any."""
    conflicts: tuple[notebook.Conflict, ...] = ()
    """Code given both as a file and as different notebook cells (the file is what is read)."""


#: `grader submit` names its zips `<student>-<UTC time>.zip`; the time is not part of the id.
SUBMIT_ZIP_NAME = re.compile(r"(?P<student>.+)-(?P<time>\d{8}T\d{6}Z)\.zip", re.IGNORECASE)


def student_id_from(path: Path) -> str:
    if match := SUBMIT_ZIP_NAME.fullmatch(path.name):
        return match["student"]
    name = path.name[:-4] if path.suffix.lower() == ".zip" else path.name
    return name


def packaged_time_from(path: Path) -> str:
    """The UTC time in a `grader submit` zip name (sorts in time order), else ""."""
    match = SUBMIT_ZIP_NAME.fullmatch(path.name)
    return match["time"].upper() if match else ""


def discover(paths: list[Path]) -> list[Path]:
    """Submission paths: each path that is one (has answers.yaml, code, or is a zip), or
    the sub-folders and zips of a folder of them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not _looks_like_submission(path):
            found.extend(sorted(p for p in path.iterdir()
                                if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".zip")))
        else:
            found.append(path)
    return found


def _looks_like_submission(folder: Path) -> bool:
    return (folder / ANSWERS_FILE).exists() or any(folder.glob("*.py")) or any(folder.glob("*.ipynb"))


def read_folder(folder: Path, student: str, origin: Path | None = None) -> Submission:
    """The answers in a folder as it is (answers.yaml, then notebook answers); its code is
    read later, from `folder`. Code in notebooks is placed by open_submission."""
    if not STUDENT_ID.fullmatch(student):
        return Submission(student, folder, error="the folder name is not a valid student id "
                                                 "(letters, digits, . _ @ -)", origin=origin)
    if not folder.is_dir():
        return Submission(student, folder, error=f"{folder} is not a folder or a .zip", origin=origin)
    answers_path = folder / ANSWERS_FILE
    if answers_path.is_symlink():
        return Submission(student, folder, error=f"{ANSWERS_FILE} is a link; hand in the file itself", origin=origin)
    try:
        answers = load_answers(answers_path.read_bytes()) if answers_path.exists() else {}
    except (yamlsafe.YamlError, UnsafeSubmission) as exc:
        line = f" (line {exc.line})" if isinstance(exc, yamlsafe.YamlError) and exc.line else ""
        return Submission(student, folder, error=f"{ANSWERS_FILE}{line}: {exc}", origin=origin)
    except OSError as exc:
        return Submission(student, folder, error=f"cannot read {ANSWERS_FILE}: {exc.strerror}", origin=origin)
    try:
        answers, warnings = notebook.merge_answers(folder, answers)  # answers from tagged notebook cells
    except notebook.NotebookError as exc:
        return Submission(student, folder, error=str(exc), origin=origin)
    return Submission(student, folder, answers, origin=origin, warnings=warnings)


def load_answers(data: bytes) -> dict[str, dict[str, Any]]:
    """Parse answers.yaml: exercise id -> question id -> raw answer text."""
    if len(data) > MAX_ANSWERS_BYTES:
        raise UnsafeSubmission(f"file is too large ({len(data):,} bytes; the limit is {MAX_ANSWERS_BYTES:,})")
    document = yamlsafe.loads(data, raw_scalars=True)
    if document.data is None:
        return {}
    if not isinstance(document.data, dict):
        raise UnsafeSubmission("expected a mapping of exercise id -> question id -> answer")
    answers: dict[str, dict[str, Any]] = {}
    for exercise_id, questions in document.data.items():
        if questions is None:
            continue
        if not isinstance(questions, dict):
            line = document.line(exercise_id)
            raise yamlsafe.YamlError(f"{exercise_id}: expected question id -> answer pairs", line)
        answers[exercise_id] = questions
    return answers


def unpack_zip(path: Path, destination: Path) -> Path:
    """Check and unpack `path` into `destination`; returns the submission folder inside it."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeSubmission(f"not a readable zip file ({exc})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise UnsafeSubmission(f"too many files ({len(entries)}; the limit is {MAX_ZIP_ENTRIES})")
        for entry in entries:
            _check_entry(entry)
        total = 0
        for entry in entries:
            target = destination.joinpath(*PurePosixPath(entry.filename).parts)
            if entry.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            total = _extract_bounded(archive, entry, target, total)
    return _submission_root(destination)


def _check_entry(entry: zipfile.ZipInfo) -> None:
    name = entry.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or pure.is_absolute():
        raise UnsafeSubmission(f"entry {name!r} has an absolute path")
    if ".." in pure.parts:
        raise UnsafeSubmission(f"entry {name!r} points outside the submission (..)")
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeSubmission(f"entry {name!r} is a symbolic link")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UnsafeSubmission(f"entry {name!r} is not a regular file")
    if entry.file_size > MAX_ZIP_BYTES:
        raise UnsafeSubmission(f"entry {name!r} is too large")
    if entry.compress_size and entry.file_size / entry.compress_size > MAX_ZIP_RATIO and entry.file_size > 1_000_000:
        raise UnsafeSubmission(f"entry {name!r} is compressed suspiciously well (a zip bomb?)")


def _extract_bounded(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path, total: int) -> int:
    with archive.open(entry) as source, open(target, "wb") as sink:
        while chunk := source.read(1 << 16):
            total += len(chunk)
            if total > MAX_ZIP_BYTES:
                raise UnsafeSubmission(f"unpacks to more than {MAX_ZIP_BYTES:,} bytes")
            sink.write(chunk)
    return total


def _submission_root(destination: Path) -> Path:
    """The zip's files may sit at its top or inside one folder (the student's)."""
    children = [p for p in destination.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return destination
