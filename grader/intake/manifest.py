"""The manifest a `grader submit` zip carries, as the grading side reads and verifies it.

manifest.json (at the top of the zip):

    {"format": "grader-submission/1", "student": "s123", "created_at": "2026-11-27T10:15:00+00:00",
     "grader_version": "0.1.0", "spec_digest": "…",
     "files": {"answers.yaml": {"sha256": "…", "bytes": 312}, …}}

`grader.student.submit` writes it; opening a submission (`grader.intake.submission`)
checks it. Both sides share this module, so a submission is read without importing the
student tools (which import the grading engine, which reads submissions).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from grader.core.times import TimeError, parse_time

MANIFEST = "manifest.json"
FORMAT = "grader-submission/1"
MAX_MANIFEST_BYTES = 200_000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, None when it has none; ValueError when it is not one of ours."""
    path = folder / MANIFEST
    if not path.is_file() or path.is_symlink():
        return None
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ValueError("manifest.json is too large")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise ValueError(f"manifest.json is not a {FORMAT} manifest")
    return data


def verify(folder: Path, student: str, manifest: Mapping[str, Any]) -> list[str]:
    """Every way the folder differs from its manifest; empty when it matches."""
    problems = []
    if manifest.get("student") != student:
        problems.append(f"it was packaged for student {manifest.get('student')!r}, not {student!r}")
    try:
        parse_time(manifest.get("created_at"))
    except TimeError as exc:
        problems.append(f"created_at: {exc}")
    listed: Mapping[str, Any] = manifest["files"]
    present = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*")
               if p.is_file() and p.name != MANIFEST}
    for name in sorted(set(listed) - set(present)):
        problems.append(f"{name} is listed but missing")
    for name in sorted(set(present) - set(listed)):
        problems.append(f"{name} was added after packaging")
    for name in sorted(set(listed) & set(present)):
        entry = listed[name]
        if not isinstance(entry, dict) or entry.get("sha256") != sha256(present[name].read_bytes()):
            problems.append(f"{name} was changed after packaging (sha256 differs)")
    return problems
