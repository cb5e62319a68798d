"""The manifest of a `grader submit` zip: its format, and, when grading, its verification
and the time it says the zip was packaged. `grader submit` (grader.student.submit) writes it.

manifest.json (at the top of the zip):

    {"format": "grader-submission/1", "student": "s123", "created_at": "2026-11-27T10:15:00+00:00",
     "grader_version": "0.1.0", "spec_digest": "…",
     "files": {"answers.yaml": {"sha256": "…", "bytes": 312}, …}}

A zip whose files do not match its manifest (changed, added or removed after packaging,
or renamed to another student) is not graded: its result carries the error. The times in
the manifest and the zip name come from the student's machine; they are as trustworthy
as the channel that collected the zips (an LMS upload time is the stronger evidence).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from grader.core.version import __version__
from grader.core.times import TimeError, parse_stamp, parse_time
from grader.intake.submission import Submission, packaged_time_from

MANIFEST = "manifest.json"
FORMAT = "grader-submission/1"
MAX_MANIFEST_BYTES = 200_000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_for(contents: Mapping[str, bytes], student: str, moment: datetime, digest: str) -> dict[str, Any]:
    """The manifest `grader submit` writes for `contents` (file name -> bytes)."""
    return {"format": FORMAT, "student": student, "created_at": moment.isoformat(timespec="seconds"),
            "grader_version": __version__, "spec_digest": digest,
            "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in sorted(contents.items())}}


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest in `folder`, None when there is none; ValueError when it is malformed."""
    path = folder / MANIFEST
    if not path.is_file() or path.is_symlink():
        return None
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ValueError("manifest.json is too large")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("manifest.json is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"manifest.json is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg})") from None
    except (ValueError, RecursionError):  # nested too deeply, or a number too long to read
        raise ValueError("manifest.json is not a manifest grader can read") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise ValueError(f"manifest.json is not a {FORMAT} manifest")
    return data


def verify(folder: Path, student: str, manifest: Mapping[str, Any]) -> list[str]:
    """Every way the folder differs from its manifest; empty when it matches."""
    problems = []
    if manifest.get("student") != student:
        problems.append(f"it was packaged for student {_shown(manifest.get('student'))}, not {student!r}")
    try:
        parse_time(manifest.get("created_at")).astimezone(timezone.utc)  # a year 1 or 9999 time overflows
    except (TimeError, TypeError, ValueError, OverflowError) as exc:
        problems.append(f"created_at: {str(exc)[:200]}")
    listed: Mapping[str, Any] = manifest["files"]
    present = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*")
               if p.is_file() and p.name != MANIFEST}
    for name in sorted(set(listed) - set(present)):
        problems.append(f"{name if name.isprintable() and len(name) <= 120 else _shown(name)} is listed but missing")
    for name in sorted(set(present) - set(listed)):
        problems.append(f"{name} was added after packaging")
    for name in sorted(set(listed) & set(present)):
        entry = listed[name]
        if not isinstance(entry, dict) or entry.get("sha256") != sha256(present[name].read_bytes()):
            problems.append(f"{name} was changed after packaging (sha256 differs)")
    return problems


def _shown(value: Any) -> str:
    """A value from the manifest for a message: quoted and short (the manifest is the student's)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


@dataclass(frozen=True)
class Seal:
    """What an unpacked zip's manifest (or, lacking one, its name) says, once checked."""

    problems: tuple[str, ...] = ()
    """Ways the files differ from the manifest: the submission is then not graded."""
    submitted_at: str | None = None
    packaged_specs: str | None = None
    warnings: tuple[str, ...] = ()
    time_source: str = ""
    """`manifest` or `zip name`: where submitted_at came from ("" when there is none)."""
    newest_entry: tuple[str, str] | None = None
    """The zip's newest file entry (name, local time without a zone), see newest_entry()."""

    def applied(self, opened: Submission) -> Submission:
        """`opened` with the seal's verdict: an error when the files were tampered with."""
        if self.problems:
            return replace(opened, error="the submission does not match its manifest, so it was not graded: "
                                         + "; ".join(self.problems[:10]))
        return replace(opened, submitted_at=self.submitted_at, packaged_specs=self.packaged_specs,
                       warnings=opened.warnings + self.warnings, time_source=self.time_source,
                       newest_entry=self.newest_entry)


def newest_entry(origin: Path) -> tuple[str, str] | None:
    """The newest file entry of a zip, as (name, time): a zip stores each entry's time as
    the packing machine's local wall-clock time (DOS date and time, 2-second steps, no
    zone), so the time is returned as ISO text without a zone. None when the zip has no
    dated file entry or cannot be read (unpacking has said why already)."""
    try:
        with zipfile.ZipFile(origin) as archive:
            dated = []
            for info in archive.infolist():
                if info.is_dir():
                    continue
                try:
                    dated.append((datetime(*info.date_time), info.filename))
                except ValueError:  # a month or day of 0: an entry written without a time
                    continue
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    if not dated:
        return None
    moment, name = max(dated)
    return name, moment.isoformat()


def seal(folder: Path, student: str, origin: Path) -> Seal:
    """Check an unpacked zip (before anything is written into it) against its manifest."""
    try:
        manifest = read_manifest(folder)
        problems = verify(folder, student, manifest) if manifest else []
    except OSError as exc:  # the message would hold the grader's private folder
        return Seal(problems=(f"manifest.json or a file it lists cannot be read ({exc.strerror})",))
    except ValueError as exc:
        return Seal(problems=(str(exc),))
    if problems:
        return Seal(problems=tuple(problems))
    stamp = packaged_time_from(origin)
    newest = newest_entry(origin)
    if manifest is None:
        if not stamp:
            return Seal(newest_entry=newest)
        # a hand-made zip named like a submit zip: its name is the only time there is
        return Seal(submitted_at=parse_stamp(stamp).isoformat(), time_source="zip name", newest_entry=newest,
                    warnings=("no manifest: the submission time comes from the zip name",))
    warnings = []
    created = parse_time(manifest["created_at"])
    if stamp and parse_stamp(stamp) != created.astimezone(timezone.utc).replace(microsecond=0):
        warnings.append(f"the zip name says {stamp} but its manifest says {manifest['created_at']}")
    specs = manifest.get("spec_digest")
    return Seal(submitted_at=manifest["created_at"], packaged_specs=str(specs) if specs else None,
                warnings=tuple(warnings), time_source="manifest", newest_entry=newest)
