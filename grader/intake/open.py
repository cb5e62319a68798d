"""The one way to open a submission, for `grader grade`, `grader check` and `grader submit`.

Opening is an ordered list of small steps, the same whoever asks:

    unpack (a zip: every entry checked first)  ->  seal (a zip's manifest verified, before
    anything is written)  ->  place notebook code (beside absent files, over untouched
    stubs; conflicts recorded)  ->  read answers (answers.yaml, then notebook cells)

Two commands that opened submissions their own ways drifted apart (check saw notebook
code that grade did not), so nothing else in grader opens one.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from grader.intake import manifest, notebook
from grader.intake.submission import Submission, UnsafeSubmission, read_folder, student_id_from, unpack_zip


@dataclass(frozen=True)
class _Files:
    """Where a submission's files can be read, or why they cannot."""

    folder: Path
    zipped: bool = False
    problem: str | None = None


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and path.is_file()


@contextlib.contextmanager
def _files(path: Path) -> Iterator[_Files]:
    """The folder itself, or a zip unpacked into a private folder removed afterwards."""
    if not is_zip(path):
        yield _Files(path)
        return
    workdir = Path(tempfile.mkdtemp(prefix="grader-sub-"))
    try:
        try:
            files = _Files(unpack_zip(path, workdir), zipped=True)
        except UnsafeSubmission as exc:
            files = _Files(workdir, zipped=True, problem=f"{exc.label}: {exc}")
        except Exception as exc:  # unpack_zip names every way a zip is malformed; this is the last resort
            files = _Files(workdir, zipped=True, problem=f"damaged zip: it cannot be unpacked ({type(exc).__name__})")
        yield files
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def open_submission(path: Path, student: str | None = None) -> Iterator[Submission]:
    """Open a folder or a zip of one, notebooks included; temporary copies go afterwards.

    `student` defaults to the id in the folder or zip name (`grader submit` may be told
    another). Never raises for a bad submission: the Submission carries the error."""
    student = student or student_id_from(path.resolve())
    with _files(path) as files:
        if files.problem:
            yield Submission(student, files.folder, error=files.problem, origin=path)
            return
        sealed = manifest.seal(files.folder, student, path) if files.zipped else manifest.Seal()
        with notebook.with_modules(files.folder) as (readable, placement):
            opened = read_folder(readable, student, origin=path)
            yield sealed.applied(replace(opened, conflicts=placement.conflicts))
