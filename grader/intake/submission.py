"""Submissions: a folder (or a .zip of one) named after the student, holding answers.yaml,
code modules and notebooks. Everything here is untrusted input. The one way to open one
is grader.intake.open.open_submission; this module holds its parts.

A zip is unpacked into a private temporary folder only after every entry has been
checked: no absolute paths, no `..`, no links, bounded count and size (the sizes are
enforced while reading, since the sizes a zip declares can lie); no control characters
in names, no name too long or nested too deep, no path given twice or as both a file and
a folder; no encryption, only the compression methods zipfile reads. Whatever else is
wrong with the bytes (a bad CRC, truncation, corrupt data, lying headers) is found while
reading. Each becomes an UnsafeSubmission naming the entry and the problem, never a
zipfile or OS error, and never a path of the grader's.
"""

from __future__ import annotations

import lzma
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grader.core import yamlsafe
from grader.core.text import printable
from grader.intake import notebook

ANSWERS_FILE = "answers.yaml"
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MAX_ANSWERS_BYTES = 1_000_000
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_BYTES = 50_000_000
MAX_ZIP_RATIO = 200


class UnsafeSubmission(Exception):
    """The submission cannot be read safely; the message says why."""

    label = "unsafe zip"
    """How the message starts when it is shown (`unsafe zip: entry 'x' is a symbolic link`)."""


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
    time_source: str = ""
    """Where `submitted_at` came from: `manifest`, `zip name`, or "" (the student's word either way)."""
    newest_entry: tuple[str, str] | None = None
    """A zip's newest file entry: (its name, its time as ISO text without a zone). Zip entry
    times are the packing machine's local wall-clock time, in a zone the zip does not record."""
    packaged_specs: str | None = None
    """The spec digest(s) a verified manifest says it was packaged against, if any."""
    conflicts: tuple[notebook.Conflict, ...] = ()
    """Code given both as a file and as different notebook cells (the file is what is read)."""


#: `grader submit` names its zips `<student>-<UTC time>.zip`; the time is not part of the id.
SUBMIT_ZIP_NAME = re.compile(r"(?P<student>.+)-(?P<time>\d{8}T\d{6}Z)\.zip", re.IGNORECASE)


def student_id_from(path: Path) -> str:
    """The student id in a folder or zip name, exactly as it is: a name that is not a valid
    id is refused later, by read_folder, under its own name (so that two odd names never
    become one id; output.safe_file_name gives each its own file, and the terminal and the
    reports escape what they show)."""
    if match := SUBMIT_ZIP_NAME.fullmatch(path.name):
        return match["student"]
    return path.name[:-4] if path.suffix.lower() == ".zip" else path.name


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


def code_module(folder: Path, name: str) -> Path | None:
    """Where the submission's code module `name` is, or None when nothing at all is there.

    A link, a folder or a device under that name is returned all the same: it is handed
    in, just not as a file, and the sandbox refuses it by name and says why (`ex03.py is a
    symbolic link; hand in the file itself`). Read as "no answer" it left the student
    with "No answer was given" for a file they can see in their folder."""
    path = folder / name
    return path if os.path.lexists(path) else None


def _looks_like_submission(folder: Path) -> bool:
    return (folder / ANSWERS_FILE).exists() or any(folder.glob("*.py")) or any(folder.glob("*.ipynb"))


def read_folder(folder: Path, student: str, origin: Path | None = None) -> Submission:
    """The answers in a folder as it is (answers.yaml, then notebook answers); its code is
    read later, from `folder`. Code in notebooks is placed by open_submission."""
    if not STUDENT_ID.fullmatch(student):
        return Submission(student, folder, error="the folder name is not a valid student id "
                                                 "(letters, digits, . _ @ -)", origin=origin)
    if not folder.is_dir():
        return Submission(student, folder, error=f"{printable(folder.name)} is not a folder or a .zip",
                          origin=origin)
    answers_path = folder / ANSWERS_FILE
    if answers_path.is_symlink():
        return Submission(student, folder, error=f"{ANSWERS_FILE} is a link; hand in the file itself", origin=origin)
    if answers_path.exists() and not answers_path.is_file():
        return Submission(student, folder, error=f"{ANSWERS_FILE} is a folder or a device, not a file",
                          origin=origin)
    try:
        answers = load_answers(_read_bounded(answers_path, MAX_ANSWERS_BYTES)) if answers_path.exists() else {}
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


def _read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes, reading at most one byte more than `limit` (load_answers refuses
    more): a huge file is never read whole."""
    with open(path, "rb") as handle:
        return handle.read(limit + 1)


def load_answers(data: bytes) -> dict[str, dict[str, Any]]:
    """Parse answers.yaml: exercise id -> question id -> raw answer text."""
    if len(data) > MAX_ANSWERS_BYTES:
        raise UnsafeSubmission(f"file is too large (more than {MAX_ANSWERS_BYTES:,} bytes, the limit)")
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
    """Check and unpack `path` into `destination`; returns the submission folder inside it.

    Raises UnsafeSubmission (or its kinds DamagedZip, UnsupportedZip) with a message in the
    student's terms: every way a zip can be malformed ends here, never as a zipfile, zlib
    or OS error, and no message names a folder of the grader's."""
    try:
        archive = zipfile.ZipFile(path)
    except OSError as exc:
        raise DamagedZip(f"not a readable zip file ({exc.strerror or type(exc).__name__})") from None
    except _ZIP_ERRORS as exc:
        raise DamagedZip(f"not a readable zip file ({_zip_reason(exc)})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise UnsafeSubmission(f"too many files ({len(entries)}; the limit is {MAX_ZIP_ENTRIES})")
        planned = _plan(entries)
        total = 0
        for entry, parts, is_dir in planned:
            target = destination.joinpath(*parts)
            try:
                if is_dir:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                total = _extract_bounded(archive, entry, target, total)
            except OSError as exc:  # the folder is the grader's: its path is not for the student
                raise UnsafeSubmission(f"entry {_shown(entry)} cannot be unpacked "
                                       f"({exc.strerror or type(exc).__name__})") from None
    return _submission_root(destination)


class DamagedZip(UnsafeSubmission):
    """A zip whose bytes are broken: truncated, a bad checksum, corrupt compressed data."""

    label = "damaged zip"


class UnsupportedZip(UnsafeSubmission):
    """A zip that uses what grader does not read: encryption, an unusual compression method."""

    label = "unsupported zip"


#: What zipfile, zlib, bz2 and lzma raise on broken bytes (CRC, truncation, bad headers,
#: a name that is not UTF-8, corrupt extra fields, overlapping entries).
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, LookupError, struct.error,
    NotImplementedError, RuntimeError, OverflowError, zlib.error, lzma.LZMAError,
)
_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, *_ZIP_ERRORS)
#: Compression methods zipfile reads here (stored, deflate, bzip2, lzma).
_READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
                     zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_METHOD_NAMES = {1: "shrink", 2: "reduce", 3: "reduce", 4: "reduce", 5: "reduce", 6: "implode",
                 9: "deflate64", 10: "PKWARE implode", 18: "IBM TERSE", 19: "IBM LZ77", 93: "zstandard",
                 94: "MP3", 95: "xz", 96: "JPEG", 97: "WavPack", 98: "PPMd", 99: "AES encryption"}
MAX_NAME_BYTES = 255
"""The longest file or folder name in a zip (as most file systems allow)."""
MAX_PATH_CHARS = 1_000
MAX_DEPTH = 32


def _zip_reason(exc: BaseException) -> str:
    """What a zipfile error means, in words, without paths (zipfile's own messages hold none)."""
    if isinstance(exc, EOFError):
        return "it ends too early: truncated?"
    if isinstance(exc, (zlib.error, lzma.LZMAError)):
        return "its compressed data is corrupt"
    if isinstance(exc, UnicodeDecodeError):
        return "a file name is marked UTF-8 but is not"
    if isinstance(exc, OSError):  # bz2's corrupt data has no errno; a seek past the end has one
        return (f"reading it failed ({exc.strerror})" if exc.errno is not None
                else f"its compressed data is corrupt ({str(exc)[:100]})")
    text = str(exc).strip()
    if isinstance(exc, zipfile.BadZipFile) and text.startswith("Bad CRC-32"):
        return "its CRC-32 checksum does not match its data"
    return (text or type(exc).__name__)[:200]


def _shown(entry: zipfile.ZipInfo) -> str:
    """An entry's name for a message: quoted, control characters escaped, not too long."""
    name = entry.orig_filename
    return repr(name if len(name) <= 120 else name[:120] + "…")


def _plan(entries: list[zipfile.ZipInfo]) -> list[tuple[zipfile.ZipInfo, tuple[str, ...], bool]]:
    """Every entry checked, with the path parts it unpacks to and whether it is a folder
    (a name ending in / or \\); UnsafeSubmission names the
    first entry that cannot be unpacked as it is. Folder entries with no name ("./") are
    skipped; two entries for one path, or a path that is both a file and a folder, are refused."""
    planned: list[tuple[zipfile.ZipInfo, tuple[str, ...], bool]] = []
    files: dict[tuple[str, ...], zipfile.ZipInfo] = {}
    folders: set[tuple[str, ...]] = set()
    for entry in entries:
        parts = _check_entry(entry)
        is_dir = entry.orig_filename.endswith(("/", "\\"))
        if not parts:
            if is_dir:
                continue  # "./": the zip's top folder, nothing to make
            raise UnsafeSubmission(f"entry {_shown(entry)} has no file name")
        if not is_dir and parts in files:
            raise UnsafeSubmission(f"the zip holds {'/'.join(parts)!r} twice")
        above = [parts[:i] for i in range(1, len(parts))]
        clash = next((p for p in [*above, parts] if p in files and (p != parts or is_dir)), None)
        if clash is None and not is_dir and parts in folders:
            clash = parts
        if clash is not None:
            raise UnsafeSubmission(f"{'/'.join(clash)!r} is both a file and a folder in the zip")
        if is_dir:
            folders.add(parts)
        else:
            files[parts] = entry
        folders.update(above)
        planned.append((entry, parts, is_dir))
    return planned


def _check_entry(entry: zipfile.ZipInfo) -> tuple[str, ...]:
    """The path parts `entry` unpacks to (backslashes read as separators, "." dropped);
    UnsafeSubmission (or UnsupportedZip) when it is not a plain, readable, relative file."""
    name = entry.orig_filename  # zipfile cuts `filename` at a NUL; the original keeps it
    if any(_is_control(char) for char in name):
        raise UnsafeSubmission(f"entry {_shown(entry)} has a control character in its name")
    normal = name.replace("\\", "/")
    pure = PurePosixPath(normal)
    if normal.startswith("/") or re.match(r"^[A-Za-z]:", name) or pure.is_absolute():
        raise UnsafeSubmission(f"entry {_shown(entry)} has an absolute path")
    parts = tuple(part for part in pure.parts if part != ".")
    if ".." in parts:
        raise UnsafeSubmission(f"entry {_shown(entry)} points outside the submission (..)")
    if len(parts) > MAX_DEPTH or len(normal) > MAX_PATH_CHARS:
        raise UnsafeSubmission(f"entry {_shown(entry)} is nested too deeply or its path is too long")
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in parts):
        raise UnsafeSubmission(f"entry {_shown(entry)} has a name longer than {MAX_NAME_BYTES} bytes")
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeSubmission(f"entry {_shown(entry)} is a symbolic link")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UnsafeSubmission(f"entry {_shown(entry)} is not a regular file")
    if entry.flag_bits & 0x1:
        raise UnsupportedZip(f"entry {_shown(entry)} is encrypted (password-protected); "
                             "hand in a zip without a password")
    if entry.compress_type not in _READABLE_METHODS:
        method = _METHOD_NAMES.get(entry.compress_type, "unknown")
        raise UnsupportedZip(f"entry {_shown(entry)} uses compression method {entry.compress_type} ({method}), "
                             "which grader cannot read; zip it again with the usual deflate compression")
    if entry.file_size > MAX_ZIP_BYTES:
        raise UnsafeSubmission(f"entry {_shown(entry)} is too large")
    if entry.compress_size and entry.file_size / entry.compress_size > MAX_ZIP_RATIO and entry.file_size > 1_000_000:
        raise UnsafeSubmission(f"entry {_shown(entry)} is compressed suspiciously well (a zip bomb?)")
    return parts


def _is_control(char: str) -> bool:
    """NUL, control and format characters (bidi overrides, zero-width), and lone surrogates:
    a file name with them misleads whoever reads it, or cannot be written at all."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def _extract_bounded(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path, total: int) -> int:
    try:
        with archive.open(entry) as source, open(target, "wb") as sink:
            while chunk := source.read(1 << 16):
                total += len(chunk)
                if total > MAX_ZIP_BYTES:
                    raise UnsafeSubmission(f"unpacks to more than {MAX_ZIP_BYTES:,} bytes")
                sink.write(chunk)
    except _READ_ERRORS as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            raise  # writing the grader's copy failed: unpack_zip says so without the path
        raise DamagedZip(f"entry {_shown(entry)} cannot be read: {_zip_reason(exc)}") from None
    return total


def _submission_root(destination: Path) -> Path:
    """The zip's files may sit at its top or inside one folder (the student's)."""
    children = [p for p in destination.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return destination
