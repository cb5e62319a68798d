"""Submissions: a folder (or a .zip of one) named after the student, holding answers.yaml
and code modules. Everything here is untrusted input.

A zip is unpacked into a private temporary folder only after every entry has been
checked: no absolute paths, no `..`, no links, bounded count and size (the sizes are
enforced while reading, since the sizes a zip declares can lie).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from datetime import timezone
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from grader.core import yamlsafe
from grader.core.times import parse_stamp, parse_time

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


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Submission]:
    """Open a submission folder or zip; a zip's private copy is removed afterwards."""
    student = student_id_from(path)
    if path.suffix.lower() == ".zip" and path.is_file():
        workdir = Path(tempfile.mkdtemp(prefix="grader-sub-"))
        try:
            try:
                folder = unpack_zip(path, workdir)
            except UnsafeSubmission as exc:
                yield Submission(student, workdir, error=f"unsafe zip: {exc}", origin=path)
                return
            yield read_unpacked(folder, student, origin=path)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    else:
        from grader.intake import notebook

        with notebook.with_modules(path) as folder:
            yield read_folder(folder, student, origin=path)


def read_unpacked(folder: Path, student: str, origin: Path | None = None) -> Submission:
    """Read an unpacked zip: verify its `grader submit` manifest (if any), add notebook
    code, read answers, and take the submission time from the manifest or the zip name."""
    from grader.intake import manifest as manifests, notebook

    try:
        manifest = manifests.read_manifest(folder)
        problems = manifests.verify(folder, student, manifest) if manifest else []
    except (ValueError, OSError) as exc:
        manifest, problems = None, [str(exc)]
    notebook.write_modules(folder)
    opened = read_folder(folder, student, origin=origin)
    if problems:
        return replace(opened, error="the submission does not match its manifest, so it was not graded: "
                                     + "; ".join(problems[:10]))
    return _timed(opened, manifest, packaged_time_from(origin) if origin else "")


def _timed(opened: Submission, manifest: dict[str, Any] | None, stamp: str) -> Submission:
    """When it was packaged: the verified manifest's time, else the zip name's (with a warning)."""
    if manifest is None:
        if not stamp:
            return opened
        # a hand-made zip named like a submit zip: its name is the only time there is
        return replace(opened, submitted_at=parse_stamp(stamp).isoformat(),
                       warnings=opened.warnings + ("no manifest: the submission time comes from the zip name",))
    warnings = list(opened.warnings)
    created = parse_time(manifest["created_at"])
    if stamp and parse_stamp(stamp) != created.astimezone(timezone.utc).replace(microsecond=0):
        warnings.append(f"the zip name says {stamp} but its manifest says {manifest['created_at']}")
    return replace(opened, submitted_at=manifest["created_at"], warnings=tuple(warnings))


def read_folder(folder: Path, student: str, origin: Path | None = None) -> Submission:
    if not STUDENT_ID.fullmatch(student):
        return Submission(student, folder, error="the folder name is not a valid student id "
                                                 "(letters, digits, . _ @ -)", origin=origin)
    if not folder.is_dir():
        return Submission(student, folder, error=f"{folder} is not a folder or a .zip", origin=origin)
    answers_path = folder / ANSWERS_FILE
    if answers_path.is_symlink():
        return Submission(student, folder, error=f"{ANSWERS_FILE} is a link; hand in the file itself", origin=origin)
    from grader.intake.notebook import with_answers  # answers from tagged notebook cells, if any

    if not answers_path.exists():
        return with_answers(Submission(student, folder, {}, origin=origin))
    try:
        answers = load_answers(answers_path.read_bytes())
    except (yamlsafe.YamlError, UnsafeSubmission) as exc:
        line = f" (line {exc.line})" if isinstance(exc, yamlsafe.YamlError) and exc.line else ""
        return Submission(student, folder, error=f"{ANSWERS_FILE}{line}: {exc}", origin=origin)
    except OSError as exc:
        return Submission(student, folder, error=f"cannot read {ANSWERS_FILE}: {exc.strerror}", origin=origin)
    return with_answers(Submission(student, folder, answers, origin=origin))


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
