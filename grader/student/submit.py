"""`grader submit`: validate a submission and package it as `<student>-<UTC time>.zip`
with a manifest (its format, and its verification when grading: grader.intake.manifest).

The submission is read, and self-checked, through grader.intake.open_submission, as
`grader grade` will read it.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from grader.authoring import lateness
from grader.core.errors import GraderError
from grader.intake import notebook, open_submission, submission
from grader.intake.manifest import MANIFEST, manifest_for
from grader.intake.notebook import MAX_NOTEBOOK_BYTES
from grader.intake.submission import ANSWERS_FILE, MAX_ANSWERS_BYTES, MAX_ZIP_BYTES
from grader.student import check
from grader.student.check import CheckReport, CheckRow, PublicCourse

MAX_MODULE_BYTES = 1_000_000
#: Files a released bundle holds that are not part of the student's answer: left out quietly.
BUNDLE_FILES = ("sheet.html", "specs", "checks", "README.txt", MANIFEST)
#: Editor and tool droppings: left out quietly.
IGNORED = ("__pycache__", ".ipynb_checkpoints")


@dataclass(frozen=True)
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


def select_files(folder: Path, exercise_ids: tuple[str, ...], skip: Path | None = None
                 ) -> tuple[list[Path], list[str]]:
    """The files to package, and a problem for every file outside the allowed set
    (`skip`: the folder the zips go to, when it lies inside the submission). Released
    stubs that a notebook's code replaces are left out, so the zip is unambiguous."""
    allowed_py = {f"{e}.py" for e in exercise_ids}
    replaced = set(notebook.place(folder).replaced)
    chosen, problems, total = [], [], 0
    for item in sorted(folder.iterdir()):
        name = item.name
        if (name.startswith(".") or name in IGNORED or name in BUNDLE_FILES or name in replaced
                or (skip and item.resolve() == skip)):
            continue
        problem = _file_problem(item, allowed_py)
        if problem:
            problems.append(problem)
            continue
        total += item.stat().st_size
        chosen.append(item)
    if total > MAX_ZIP_BYTES:
        problems.append(f"the files add up to {total:,} bytes; the limit is {MAX_ZIP_BYTES:,}")
    if not chosen:
        problems.append("nothing to hand in: no answers.yaml, code module or notebook")
    return chosen, problems


def _file_problem(item: Path, allowed_py: set[str]) -> str | None:
    """Why `item` cannot be handed in (a link, not part of a submission, too large), if it cannot."""
    name = item.name
    if item.is_symlink():
        return f"{name} is a link: hand in the file itself"
    if name == ANSWERS_FILE or name in allowed_py:
        limit = MAX_ANSWERS_BYTES if name == ANSWERS_FILE else MAX_MODULE_BYTES
    elif name.endswith(".ipynb"):
        limit = MAX_NOTEBOOK_BYTES
    else:
        allowed = ", ".join([ANSWERS_FILE, *sorted(allowed_py), "*.ipynb"])
        return f"{name} is not part of a submission (allowed: {allowed})"
    if not item.is_file():
        return f"{name} is not a file"
    size = item.stat().st_size
    return f"{name} is too large ({size:,} bytes; the limit is {limit:,})" if size > limit else None


def submit(folder: Path, to: Path, specs: Path | None = None, student: str | None = None,
           force: bool = False, now: datetime | None = None) -> Packaged:
    """Check and package `folder`; refuses (path None) on any problem unless `force`."""
    folder = folder.resolve()
    specs = specs or find_specs(folder)
    if specs is None:
        raise GraderError(f"no specs found beside {folder}: give them with --specs")
    public = check.load_public(specs, student or submission.student_id_from(folder))
    if not force:  # --force packages what is there; checking it needs the libraries
        check.ensure_environment(public, "check the submission before packaging it (--force packages it unchecked)")
    student = _student(folder, student, public)
    files, problems = select_files(folder, public.exercise_ids, skip=to.resolve())
    report = _check_as(folder, student, public)
    problems += [_problem_text(row) for row in report.problems]
    warnings = list(report.warnings)
    missing = [row.id for row in report.rows if row.status == "missing"]
    if missing:
        warnings.append(f"no answer yet for {len(missing)} question{'s' if len(missing) > 1 else ''}: "
                        + ", ".join(missing))
    warnings += failing_checks(report)
    if (problems and not force) or not files:
        return Packaged(None, student, [f.name for f in files], problems, warnings)
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    path = write_zip(to / f"{student}-{lateness.utc_stamp(moment)}.zip",
                     {f.name: f.read_bytes() for f in files}, student, moment, public.digest)
    return Packaged(path, student, [f.name for f in files], problems, warnings)


def failing_checks(report: CheckReport) -> list[str]:
    """A warning naming each question whose code fails a visible check, with the first line
    of why. Failing is not a problem (partial work may be handed in): the zip is still
    written, but the student should know before the deadline, not from the grade."""
    failing = [row for row in report.rows if row.status == "failed"]
    if not failing:
        return []
    count = len(failing)
    head = (f"{count} question{'s' if count > 1 else ''} fail{'' if count > 1 else 's'} "
            f"visible checks: {', '.join(row.id for row in failing)} (packaged anyway; "
            "`grader check` shows the details)")
    return [head] + [f"{row.id}: {(row.message.splitlines() or [row.status])[0]}" for row in failing]


def _student(folder: Path, given: str | None, public: PublicCourse) -> str:
    """The id to package for: given, the bundle's, or the folder's name; GraderError if none fits."""
    if given is None and public.student is None and (folder / "specs").is_dir():
        raise GraderError(f"{folder.name} is the released bundle, not a folder named after you: "
                          "give your student id with --student ID")
    student = given or public.student or submission.student_id_from(folder)
    if not submission.STUDENT_ID.fullmatch(student):
        raise GraderError(f"{student!r} is not a valid student id: give yours with --student")
    return student


def _problem_text(row: CheckRow) -> str:
    """A check row as a submit problem (a row whose message names its file already stands alone)."""
    return row.message if row.message.startswith(f"{row.id} ") else f"{row.id}: {row.message}"


def _check_as(folder: Path, student: str, public: PublicCourse) -> CheckReport:
    """The self-check, reading the folder exactly as `grader grade` will (open_submission)."""
    with open_submission(folder, student) as opened:
        return check.check_submission(public, opened)


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
