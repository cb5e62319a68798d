"""A submission as bytes, for graders on machines that share no disk with the instructor's
(grader.grading.distributed): `pack` reads it where `grader grade` found it, `unpack`
writes it again into a private folder on the grading machine, where open_submission
reads it as it would have read the original.

A zip travels as its bytes. A folder travels as its own entries, the way grading sees
them: regular files with their bytes and permission bits, links as links (their target
is kept, never followed), sub-folders as empty folders (nothing in grader reads below
the top level: answers.yaml, notebooks and modules sit in the folder itself), anything
else (a FIFO, a device) as a FIFO, which every reader refuses as it refused the original.
A file with other hard links keeps one on the grading machine, so the sandbox refuses it
as it did here. Everything read is bounded (a student's folder is hostile): a file is
read up to CUT bytes and the rest travels as its size only (a sparse file of the same
size, so each size check and bounded read of grader sees what it saw here, every read
limit being below CUT); a folder whose own files hold more than MAX_BYTES, or more than
MAX_ENTRIES entries, or a zip larger than MAX_BYTES, is not sent: `Packed.problem` says so.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from grader.intake.open import is_zip
from grader.intake.submission import student_id_from

CUT = 32_000_000
"""Bytes of a file that travel; above every limit a reader of grader applies (a notebook's
20 MB, answers.yaml's 1 MB, a module's 1 MB: tests/test_packed.py checks)."""
MAX_BYTES = 200_000_000
MAX_ENTRIES = 10_000
EntryKind = Literal["file", "folder", "link", "other"]


@dataclass(frozen=True)
class Entry:
    """One entry of a submission folder's top level."""

    name: str
    kind: EntryKind
    data: bytes = b""
    """A file's first CUT bytes (all of them, for any file grader reads)."""
    size: int = 0
    """A file's size."""
    mode: int = 0o644
    """Permission bits of a file or folder."""
    target: str = ""
    """Where a link points (never followed here or there)."""
    linked: bool = False
    """A file with other hard links (the sandbox refuses those)."""


@dataclass(frozen=True)
class Packed:
    """A submission as bytes: what crosses to a grading machine."""

    name: str
    """The folder's or zip's own name, as given (a `grader submit` zip's time comes from it)."""
    student: str
    """The id it is graded under, from its real name (student_id_from), as grading here reads it."""
    zipped: bytes | None = None
    """A zip's bytes; None for a folder."""
    entries: tuple[Entry, ...] = ()
    """A folder's top-level entries."""
    problem: str | None = None
    """Why it could not be packed (too large to send); then it carries nothing else."""


def pack(path: Path) -> Packed:
    """The submission at `path` (a folder or a zip, a link to one followed, as grading
    follows it) as bytes. Never raises for what the student handed in."""
    name = path.name if path.name not in ("", ".", "..") else path.resolve().name
    student = student_id_from(path.resolve())
    if is_zip(path):
        return _pack_zip(path, name, student)
    try:
        return _pack_folder(path, name, student)
    except _TooLarge as exc:
        return Packed(name, student, problem=str(exc))


class _TooLarge(Exception):
    pass


def _pack_zip(path: Path, name: str, student: str) -> Packed:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return Packed(name, student, problem=f"the zip cannot be read ({exc.strerror})")
    if len(data) > MAX_BYTES:
        return Packed(name, student, problem=f"the zip is larger than {MAX_BYTES:,} bytes, too large to send to the "
                                    "grading machines")
    return Packed(name, student, zipped=data)


def _pack_folder(folder: Path, name: str, student: str) -> Packed:
    try:
        listed = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:  # not a folder, or not readable: the copy is an empty folder, read the same
        return Packed(name, student)
    if len(listed) > MAX_ENTRIES:
        raise _TooLarge(f"the folder holds more than {MAX_ENTRIES:,} entries, too many to send to the grading "
                        "machines")
    entries, total = [], 0
    for item in listed:
        try:
            entry = _entry(item)
        except OSError:  # gone since it was listed: as good as absent
            continue
        total += len(entry.data)
        if total > MAX_BYTES:
            raise _TooLarge(f"the folder's files hold more than {MAX_BYTES:,} bytes, too large to send to the "
                            "grading machines")
        entries.append(entry)
    return Packed(name, student, entries=tuple(entries))


def _entry(item: os.DirEntry[str]) -> Entry:
    """One top-level entry, read without following a link and without blocking on a FIFO."""
    info = item.stat(follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        return Entry(item.name, "link", target=os.readlink(item.path))
    if stat.S_ISDIR(info.st_mode):
        return Entry(item.name, "folder", mode=stat.S_IMODE(info.st_mode))
    if not stat.S_ISREG(info.st_mode):
        return Entry(item.name, "other")
    mode = stat.S_IMODE(info.st_mode)
    try:
        fd = os.open(item.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # unreadable here (its mode): unreadable there too, by its mode
        return Entry(item.name, "file", size=info.st_size, mode=mode, linked=info.st_nlink > 1)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(CUT)
    return Entry(item.name, "file", data=data, size=max(info.st_size, len(data)), mode=mode,
                 linked=info.st_nlink > 1)


@contextlib.contextmanager
def unpacked(packed: Packed) -> Iterator[Path]:
    """`packed` written into a private temporary folder, as `<folder>/<its name>`; removed
    afterwards (permissions and all). The caller handles `packed.problem` first."""
    with tempfile.TemporaryDirectory(prefix="grader-packed-") as scratch:
        (Path(scratch) / "submission").mkdir()
        yield unpack(packed, Path(scratch) / "submission" / packed.name, Path(scratch) / "links")


def unpack(packed: Packed, target: Path, links: Path) -> Path:
    """Write `packed` at `target` (which must not exist); extra hard links go under `links`."""
    if packed.zipped is not None:
        target.write_bytes(packed.zipped)
        return target
    target.mkdir()
    for entry in packed.entries:
        _write(entry, target / entry.name, links)
    for entry in packed.entries:  # modes last: a folder without write permission is filled first
        if entry.kind in ("file", "folder"):
            os.chmod(target / entry.name, entry.mode)
    return target


def _write(entry: Entry, path: Path, links: Path) -> None:
    if entry.kind == "link":
        os.symlink(entry.target, path)
    elif entry.kind == "folder":
        path.mkdir()
    elif entry.kind == "other":
        os.mkfifo(path)
    else:
        with open(path, "wb") as handle:
            handle.write(entry.data)
            handle.truncate(entry.size)  # beyond CUT: the same size, as a hole
        if entry.linked:
            links.mkdir(exist_ok=True)
            os.link(path, links / str(len(os.listdir(links))))
