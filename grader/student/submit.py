"""`grader submit`: validate a submission and package it as `<student>-<UTC time>.zip`
with a manifest (its format: `grader.intake.manifest`, which also verifies it when the
zip is opened for grading); and, after grading, record lateness.

A zip whose files do not match its manifest (changed, added or removed after packaging,
or renamed to another student) is not graded: its result carries the error. The times in
the manifest and the zip name come from the student's machine; they are as trustworthy
as the channel that collected the zips (an LMS upload time is the stronger evidence).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from grader import __version__
from grader.authoring import lateness
from grader.core.model import Course
from grader.core.results import StudentResult
from grader.intake.manifest import FORMAT, MANIFEST, read_manifest, sha256

MAX_MODULE_BYTES = 1_000_000
#: Files a released bundle holds that are not part of the student's answer: left out quietly.
BUNDLE_FILES = ("sheet.html", "specs", "checks", "README.txt", MANIFEST)
#: Editor and tool droppings: left out quietly.
IGNORED = ("__pycache__", ".ipynb_checkpoints")


@dataclass
class Packaged:
    """What `submit` did: the zip (None when refused) and every problem found."""

    path: Path | None
    student: str
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- submit ----------------------------------------------------------------------------------


def find_specs(folder: Path) -> Path | None:
    """The bundle's specs beside or above the submission (students work inside the bundle)."""
    for candidate in (folder / "specs", folder.parent / "specs"):
        if candidate.is_dir():
            return candidate
    return None


def select_files(folder: Path, exercise_ids: tuple[str, ...], skip: Path | None = None,
                 stubs: Mapping[str, str] | None = None) -> tuple[list[Path], list[str]]:
    """The files to package, and a problem for every file outside the allowed set
    (`skip`: the folder the zips go to, when it lies inside the submission). Released
    stubs that a notebook's code replaces are left out, so the zip is unambiguous."""
    from grader.intake import notebook
    from grader.intake.notebook import MAX_NOTEBOOK_BYTES
    from grader.intake.submission import ANSWERS_FILE, MAX_ANSWERS_BYTES, MAX_ZIP_BYTES

    allowed_py = {f"{e}.py" for e in exercise_ids}
    chosen, problems, total = [], _code_clashes(folder, stubs or {}), 0
    replaced = set(notebook.untouched_stubs(folder, stubs or {}))
    for item in sorted(folder.iterdir()):
        name = item.name
        if (name.startswith(".") or name in IGNORED or name in BUNDLE_FILES or name in replaced
                or (skip and item.resolve() == skip)):
            continue
        if item.is_symlink():
            problems.append(f"{name} is a link: hand in the file itself")
            continue
        if name == ANSWERS_FILE or name in allowed_py:
            limit = MAX_ANSWERS_BYTES if name == ANSWERS_FILE else MAX_MODULE_BYTES
        elif name.endswith(".ipynb"):
            limit = MAX_NOTEBOOK_BYTES
        else:
            allowed = ", ".join([ANSWERS_FILE, *sorted(allowed_py), "*.ipynb"])
            problems.append(f"{name} is not part of a submission (allowed: {allowed})")
            continue
        if not item.is_file():
            problems.append(f"{name} is not a file")
            continue
        size = item.stat().st_size
        if size > limit:
            problems.append(f"{name} is too large ({size:,} bytes; the limit is {limit:,})")
            continue
        total += size
        chosen.append(item)
    if total > MAX_ZIP_BYTES:
        problems.append(f"the files add up to {total:,} bytes; the limit is {MAX_ZIP_BYTES:,}")
    if not chosen:
        problems.append("nothing to hand in: no answers.yaml, code module or notebook")
    return chosen, problems


def _code_clashes(folder: Path, stubs: Mapping[str, str]) -> list[str]:
    """A module written both as a file and in a notebook, differently: which one counts?"""
    from grader.intake import notebook

    if not notebook.notebooks(folder):
        return []
    try:
        modules = notebook.extract(folder).modules
    except notebook.NotebookError as exc:
        return [str(exc)]
    clashes = []
    for name, source in modules.items():
        path = folder / name
        digest = notebook.code_digest(source)
        if path.is_file() and digest != stubs.get(name) and name not in notebook.untouched_stubs(folder, stubs):
            if notebook.code_digest(path.read_text(encoding="utf-8", errors="replace")) != digest:
                clashes.append(f"{name} is both a file and cells of a notebook, and they differ: keep one "
                               f"(delete the file, or the notebook cells tagged {name})")
    return clashes


def submit(folder: Path, to: Path, specs: Path | None = None, student: str | None = None,
           force: bool = False, now: datetime | None = None) -> Packaged:
    """Check and package `folder`; refuses (path None) on any problem unless `force`."""
    from grader.student import check
    from grader.intake import submission
    from grader.core.errors import GraderError

    folder = folder.resolve()
    specs = specs or find_specs(folder)
    if specs is None:
        raise GraderError(f"no specs found beside {folder}: give them with --specs")
    public = check.load_public(specs, student or submission.student_id_from(folder))
    if student is None and public.student is None and (folder / "specs").is_dir():
        raise GraderError(f"{folder.name} is the released bundle, not a folder named after you: "
                          "give your student id with --student ID")
    student = student or public.student or submission.student_id_from(folder)
    if not submission.STUDENT_ID.fullmatch(student):
        raise GraderError(f"{student!r} is not a valid student id: give yours with --student")
    files, problems = select_files(folder, public.exercise_ids, skip=to.resolve(), stubs=public.stubs)
    report = _check_as(folder, student, public)
    problems += [f"{row.id}: {row.message}" for row in report.problems]
    result = Packaged(None, student, [f.name for f in files], problems, report.warnings)
    missing = [row.id for row in report.rows if row.status == "missing"]
    if missing:
        result.warnings.append(f"no answer yet for {len(missing)} question{'s' if len(missing) > 1 else ''}: "
                               + ", ".join(missing))
    if problems and not force:
        return result
    if not files:
        return result
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    result.path = write_zip(to / f"{student}-{lateness.utc_stamp(moment)}.zip",
                            {f.name: f.read_bytes() for f in files}, student, moment, public.digest)
    return result


def _check_as(folder: Path, student: str, public: Any) -> Any:
    """The self-check, reading the folder as the grader will (notebooks included)."""
    from grader.student import check
    from grader.intake import notebook, submission

    with notebook.with_modules(folder, public.stubs) as readable:
        return check.check_submission(public, submission.read_folder(readable, student))


def manifest_for(contents: Mapping[str, bytes], student: str, moment: datetime, digest: str) -> dict[str, Any]:
    return {"format": FORMAT, "student": student, "created_at": moment.isoformat(timespec="seconds"),
            "grader_version": __version__, "spec_digest": digest,
            "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in sorted(contents.items())}}


def write_zip(path: Path, contents: Mapping[str, bytes], student: str, moment: datetime, digest: str) -> Path:
    """Write the zip next to its final name, then rename: a reader never sees half a zip."""
    manifest = json.dumps(manifest_for(contents, student, moment, digest), indent=2) + "\n"
    buffer = io.BytesIO()
    stamp = moment.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*sorted(contents.items()), (MANIFEST, manifest.encode())]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- grading side ----------------------------------------------------------------------------


def finish(result: StudentResult, opened: Any, course: Course, deadline: str | None = None,
           policy: Mapping[str, Any] | None = None) -> StudentResult:
    """After grading: the submission's warnings, a spec-version check, and lateness."""
    warnings = list(result.warnings) + list(opened.warnings)
    if opened.submitted_at and not result.error:
        manifest = read_manifest(opened.folder) or {}
        if manifest.get("spec_digest") and course.digest not in str(manifest["spec_digest"]).split(","):
            warnings.append(f"packaged against specs {manifest['spec_digest']}, graded with {course.digest}")
    records, notes = lateness.assess(course, opened.submitted_at, deadline, lateness.policy_from_mapping(policy))
    result = replace(result, warnings=tuple(warnings + notes))
    return lateness.apply(result, records) if not result.error else result
