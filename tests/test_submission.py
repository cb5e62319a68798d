"""Submissions are hostile until proven otherwise: unsafe zips and broken YAML are refused
with a clear message, and nothing is written outside the private folder."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from grader.intake import open_submission, submission
from grader.intake.submission import Submission
from tests import hostile_inputs as hostile


def make_zip(path: Path, entries: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def open_one(path: Path) -> Submission:
    with open_submission(path) as opened:
        return opened


def test_folder_submission(tmp_path: Path) -> None:
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / "answers.yaml").write_text("ex01:\n  e: 2.080\n  f: [4.33, 2]\n")
    opened = open_one(folder)
    assert opened.student == "s1" and opened.error is None
    assert opened.answers == {"ex01": {"e": "2.080", "f": ["4.33", "2"]}}


def test_zip_with_a_top_folder(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "s2.zip", {"s2/answers.yaml": b"ex01:\n  e: 1\n", "s2/ex03.py": b"x = 1\n"})
    with open_submission(path) as opened:
        assert opened.student == "s2" and opened.answers == {"ex01": {"e": "1"}}
        assert (opened.folder / "ex03.py").read_text() == "x = 1\n"
        private = opened.folder
    assert not private.exists(), "the unpacked copy must be removed after grading"


@pytest.mark.parametrize("entries, links, message", [
    ({"/etc/evil": b"x"}, None, "absolute path"),
    ({"../evil.txt": b"x"}, None, "outside the submission"),
    ({"s/../../evil.txt": b"x"}, None, "outside the submission"),
    ({"C:/evil.txt": b"x"}, None, "absolute path"),
    ({}, {"answers.yaml": "/work/main/solutions/inf5860/ex01.py"}, "symbolic link"),
    ({"big.bin": b"\0" * 60_000_000}, None, "too large"),
])
def test_unsafe_zips_are_refused(tmp_path: Path, entries: dict, links: dict | None, message: str) -> None:
    path = make_zip(tmp_path / "s3.zip", entries, links)
    opened = open_one(path)
    assert opened.error is not None and "unsafe zip" in opened.error and message in opened.error
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "s4.zip", {"bomb.txt": b"0" * 20_000_000})
    opened = open_one(path)
    assert opened.error and "compressed suspiciously well" in opened.error


def test_lying_zip_sizes_are_caught_while_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submission, "MAX_ZIP_BYTES", 1_000)
    monkeypatch.setattr(submission, "MAX_ZIP_RATIO", 10**9)
    path = make_zip(tmp_path / "s5.zip", {"a.txt": b"x" * 600, "b.txt": b"y" * 600})
    opened = open_one(path)
    assert opened.error and "unpacks to more than 1,000 bytes" in opened.error


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "s6.zip"
    path.write_bytes(b"this is not a zip")
    assert "not a readable zip file" in (open_one(path).error or "")


@pytest.mark.parametrize("text, message", [
    ("ex01:\n  e: [1, 2\n", "answers.yaml (line 2): invalid YAML: the [ at column 6 of this line is not closed"),
    ("ex01:\n  e: !!python/object/apply:os.system ['touch /tmp/grader-pwned']\n", "is not allowed"),
    ("- just\n- a list\n", "expected a mapping of exercise id"),
    ("ex01: 5\n", "ex01: expected question id -> answer pairs"),
    ("ex01:\n  e: 1\n  e: 2\n", "duplicate key 'e'"),
    # a character YAML refuses anywhere: at its line and column (the reader gave a byte offset)
    ("ex01:\n  b: ééé\n  e: 2.0\x0083\n", "answers.yaml (line 3): invalid YAML: character U+0000 at column 9"),
    ("ex01:\r\n  e: 2.083\x1b[2J\r\n", "answers.yaml (line 2): invalid YAML: character U+001B at column 11: "
                                        "control characters are not allowed"),
    ("a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
     "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
     "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", "too many aliases"),
])
def test_broken_answers_give_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    folder = tmp_path / "s7"
    folder.mkdir()
    (folder / "answers.yaml").write_text(text)
    opened = open_one(folder)
    assert opened.error is not None and message in opened.error, opened.error
    assert not Path("/tmp/grader-pwned").exists()


def test_answers_file_as_a_symlink_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "s8"
    folder.mkdir()
    (folder / "answers.yaml").symlink_to("/etc/passwd")
    assert "is a link" in (open_one(folder).error or "")


def test_huge_answers_file(tmp_path: Path) -> None:
    folder = tmp_path / "s9"
    folder.mkdir()
    (folder / "answers.yaml").write_text("ex01:\n  e: '" + "1" * 2_000_000 + "'\n")
    assert "too large" in (open_one(folder).error or "")


def test_bad_student_id(tmp_path: Path) -> None:
    folder = tmp_path / "-rf"
    folder.mkdir()
    assert "not a valid student id" in (open_one(folder).error or "")


def test_discover_a_class_folder(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "answers.yaml").write_text("{}\n")
    make_zip(tmp_path / "c.zip", {"answers.yaml": b"{}\n"})
    (tmp_path / ".hidden").mkdir()
    found = [p.name for p in submission.discover([tmp_path])]
    assert found == ["a", "b", "c.zip"]


# ----------------------------------------------------------------------------- malformed zips, class by class


@pytest.mark.parametrize("student, data, needle", hostile.MALFORMED_ZIPS, ids=[r[0] for r in hostile.MALFORMED_ZIPS])
def test_malformed_zips_are_the_students_error_in_their_terms(tmp_path: Path, student: str, data: bytes,
                                                              needle: str) -> None:
    path = tmp_path / f"{student}.zip"
    path.write_bytes(data)
    opened = open_one(path)
    assert opened.error is not None and needle in opened.error, opened.error
    assert opened.error.startswith(("unsafe zip: ", "damaged zip: ", "unsupported zip: "))
    assert not hostile.grader_paths().search(opened.error), opened.error
    assert opened.answers == {}


@pytest.mark.parametrize("student, data", hostile.ODD_BUT_FINE_ZIPS, ids=[r[0] for r in hostile.ODD_BUT_FINE_ZIPS])
def test_odd_but_readable_zips_are_read(tmp_path: Path, student: str, data: bytes) -> None:
    path = tmp_path / f"{student}.zip"
    path.write_bytes(data)
    opened = open_one(path)
    assert opened.error is None and opened.answers == {"ex03": {"sigmoid_grad_max": "0.25"}}


def test_a_write_that_fails_does_not_show_the_private_folder(tmp_path: Path) -> None:
    destination = tmp_path / "private"
    destination.mkdir()
    (destination / "d").write_text("in the way")
    path = tmp_path / "s.zip"
    path.write_bytes(hostile.written_zip([("d/answers.yaml", b"{}\n")]))
    with pytest.raises(submission.UnsafeSubmission) as caught:
        submission.unpack_zip(path, destination)
    assert "entry 'd/answers.yaml' cannot be unpacked (File exists)" == str(caught.value)


def test_answers_file_that_is_a_folder_or_fifo(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "s10"
    folder.mkdir()
    os.mkfifo(folder / "answers.yaml")  # reading it would block forever
    assert "not a file" in (open_one(folder).error or "")
