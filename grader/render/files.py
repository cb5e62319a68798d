"""File names and atomic writes shared by the HTML reports and the exports."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable

#: Longest file-name stem built from a student id (the hash suffix comes on top).
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


def atomic_write_text(path: Path, text: str, newline: str | None = None) -> Path:
    """Write `text` to `path` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
