"""grader.intake.packed: a submission as bytes reads the same on the far side, with the
original gone (no shared disk), the hostile entries included; what is too large to send
says so."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from grader import api
from grader.intake import manifest, notebook, open_submission, packed, submission
from grader.sandbox import client
from tests.conftest import EXAMPLES, EXERCISES


def opened(path: Path, student: str | None = None) -> tuple[object, ...]:
    """What grading reads of a submission (its folder aside, which is wherever it was opened)."""
    with open_submission(path, student) as found:
        return (found.student, found.answers, found.error, found.warnings, found.submitted_at, found.time_source,
                found.newest_entry, found.conflicts)


def hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "class" / "s1"
    folder.mkdir(parents=True)
    (folder / "answers.yaml").write_text("ex01:\n  e: 2.083\n")
    (folder / "ex01.py").write_text("def f():\n    return 1\n")
    (folder / "data").mkdir()
    (folder / "data" / "big.csv").write_bytes(b"1,2\n" * 1000)
    (folder / "ex12.py").symlink_to("/work/main/solutions/inf5860/ex12.py")
    os.mkfifo(folder / "ex03.py")
    (folder / "huge.ipynb").write_bytes(b"{" + b" " * (packed.CUT + 100))
    (folder / "ex02.py").write_text("x = 1\n")
    os.link(folder / "ex02.py", tmp_path / "elsewhere.py")
    (folder / "secret.py").write_text("y = 2\n")
    os.chmod(folder / "secret.py", 0o000)
    return folder


def test_a_folder_reads_the_same_with_the_original_gone(tmp_path: Path) -> None:
    folder = hostile_folder(tmp_path)
    before = opened(folder)
    shipped = packed.pack(folder)
    shutil.rmtree(tmp_path / "class")
    with packed.unpacked(shipped) as copy:
        assert copy.name == "s1" and not copy.is_relative_to(tmp_path)
        assert opened(copy) == before
        assert os.readlink(copy / "ex12.py") == "/work/main/solutions/inf5860/ex12.py"
        assert stat.S_ISFIFO(os.lstat(copy / "ex03.py").st_mode)
        assert (copy / "data").is_dir() and not any((copy / "data").iterdir())  # nothing reads below the top
        assert (copy / "huge.ipynb").stat().st_size == packed.CUT + 101
        assert (copy / "ex02.py").stat().st_nlink == 2  # the sandbox refuses it here as it did there
        assert stat.S_IMODE((copy / "secret.py").stat().st_mode) == 0
    assert not copy.exists()


def test_a_zip_travels_as_its_bytes_under_its_name(tmp_path: Path) -> None:
    path = tmp_path / "s2-20261201T120000Z.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("s2/answers.yaml", "ex01:\n  e: 1\n")
    shipped = packed.pack(path)
    assert shipped.student == "s2" and shipped.zipped == path.read_bytes()
    before = opened(path)
    path.unlink()
    with packed.unpacked(shipped) as copy:
        assert copy.name == "s2-20261201T120000Z.zip"
        assert opened(copy, shipped.student) == before


def test_a_link_to_a_submission_is_graded_under_its_real_name(tmp_path: Path) -> None:
    (tmp_path / "s3").mkdir()
    (tmp_path / "s3" / "answers.yaml").write_text("ex01:\n  e: 1\n")
    (tmp_path / "latest").symlink_to(tmp_path / "s3")
    shipped = packed.pack(tmp_path / "latest")
    assert shipped.student == api.student_of(tmp_path / "latest") == "s3"
    with packed.unpacked(shipped) as copy:
        assert opened(copy, shipped.student) == opened(tmp_path / "latest")


def test_the_current_folder_keeps_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "s4").mkdir()
    monkeypatch.chdir(tmp_path / "s4")
    assert packed.pack(Path(".")).name == "s4"


def test_too_many_entries_are_not_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packed, "MAX_ENTRIES", 3)
    for name in "abcd":
        (tmp_path / name).write_text("x")
    shipped = packed.pack(tmp_path)
    assert shipped.problem and "more than 3 entries" in shipped.problem and not shipped.entries


def test_too_many_bytes_are_not_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packed, "MAX_BYTES", 1000)
    (tmp_path / "a.py").write_bytes(b"x" * 600)
    (tmp_path / "b.py").write_bytes(b"x" * 600)
    assert "more than 1,000 bytes" in (packed.pack(tmp_path).problem or "")
    (tmp_path / "b.py").unlink()
    zipped = tmp_path / "s5.zip"
    zipped.write_bytes(b"x" * 1001)
    assert "larger than 1,000 bytes" in (packed.pack(zipped).problem or "")


def test_every_limit_of_a_reader_is_below_the_cut() -> None:
    limits = [submission.MAX_ANSWERS_BYTES, notebook.MAX_NOTEBOOK_BYTES, manifest.MAX_MANIFEST_BYTES,
              client.MAX_MODULE_BYTES]
    assert all(limit < packed.CUT for limit in limits)


def test_grading_the_copy_gives_the_same_result(tmp_path: Path) -> None:
    course = api.load([EXERCISES / "ex01-linear-regression.yaml"])
    shutil.copytree(EXAMPLES / "s100003", tmp_path / "s100003")
    here = api.grade_path(tmp_path / "s100003", course)
    shipped = packed.pack(tmp_path / "s100003")
    shutil.rmtree(tmp_path / "s100003")
    with packed.unpacked(shipped) as copy:
        there = api.grade_path(copy, course, now=None, student=shipped.student)
    assert there.to_dict() | {"graded_at": ""} == here.to_dict() | {"graded_at": ""}
