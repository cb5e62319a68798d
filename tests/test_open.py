"""grader.intake.open_submission: one way to open a folder, a zip or a notebook submission,
and the stub rule that lets notebook code replace an untouched released stub (and nothing else)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from grader.intake import notebook, open_submission
from grader.kinds.common import function_stub

STUB = ('"""ex01: Test exercise — your code answers."""\n\n\n'
        + function_stub("double_plus", ["X", "c"], "ex01.dbl", 'Write double_plus(X, c); """quotes""" \\ too.')
        + "\n\n\n" + function_stub("other", ["*args", "**kwargs"], "ex01.other", "") + "\n")
CODE = "def double_plus(X, c):\n    return X * 2 + c\n"


# --- what counts as a stub -------------------------------------------------------------------

STUBS = [
    ("the released stub", STUB, True),
    ("an empty file", "", True),
    ("only a docstring and comments", '"""notes"""\n# def double_plus(X, c): return 2 * X + c\n', True),
    ("pass and ellipsis bodies", "def f(x):\n    pass\n\n\ndef g(x):\n    ...\n", True),
    ("a message in the raise", "def f(x):\n    raise NotImplementedError('write me')\n", True),
    ("real code", CODE, False),
    ("the stub's docstring over real code", 'def f(x):\n    """ex01.dbl: …"""\n    return x\n', False),
    ("code before the raise", "def f(x):\n    x.append(1)\n    raise NotImplementedError\n", False),
    ("a stub plus a helper", STUB + "\nHELPER = 2\n", False),
    ("an import", "import os\n" + STUB, False),
    ("a decorator runs code", "@print\ndef f(x):\n    raise NotImplementedError\n", False),
    ("a default runs code", "def f(x=__import__('os').getcwd()):\n    raise NotImplementedError\n", False),
    ("an annotation runs code", "def f(x: print('hi')):\n    raise NotImplementedError\n", False),
    ("a return annotation", "def f(x) -> print('hi'):\n    raise NotImplementedError\n", False),
    ("NotImplementedError rebound", "NotImplementedError = 1\ndef f(x):\n    raise NotImplementedError\n", False),
    ("another error", "def f(x):\n    raise ValueError\n", False),
    ("a raise with a cause", "def f(x):\n    raise NotImplementedError from print('x')\n", False),
    ("a call in the raise", "def f(x):\n    raise NotImplementedError(print('x'))\n", False),
    ("an async def", "async def f(x):\n    raise NotImplementedError\n", False),
    ("a class", "class F:\n    pass\n", False),
    ("a syntax error", "def f(:\n", False),
    ("a null byte", "def f(x):\n    pass\n\x00", False),
    ("deep nesting", "x = " + "(" * 5000 + ")" * 5000 + "\n", False),
    ("huge", '"""' + "x" * (notebook.MAX_STUB_CHARS + 1) + '"""\n', False),
]


@pytest.mark.parametrize("label, source, expected", STUBS, ids=[row[0] for row in STUBS])
def test_is_stub(label: str, source: str, expected: bool) -> None:
    assert notebook.is_stub(source) is expected


# --- opening ----------------------------------------------------------------------------------


def _notebook(folder: Path, code: str, name: str = "work.ipynb") -> None:
    cell = v4.new_code_cell(f"# file: ex01.py\n{code}")
    answer = v4.new_raw_cell("# answer: ex01.mean\n3.5")
    nbformat.write(v4.new_notebook(cells=[answer, cell]), folder / name)


def _zip(folder: Path, to: Path) -> Path:
    with zipfile.ZipFile(to, "w") as archive:
        for item in folder.iterdir():
            archive.write(item, f"{folder.name}/{item.name}")
    return to


def _module(folder: Path) -> str:
    return (folder / "ex01.py").read_text()


@pytest.fixture
def notebook_over_stub(tmp_path: Path) -> Path:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "ex01.py").write_text(STUB)
    _notebook(folder, CODE)
    return folder


def test_notebook_code_replaces_an_untouched_stub(notebook_over_stub: Path) -> None:
    with open_submission(notebook_over_stub) as opened:
        assert opened.error is None and opened.conflicts == ()
        assert CODE in _module(opened.folder) and "NotImplementedError" not in _module(opened.folder)
        assert opened.answers == {"ex01": {"mean": "3.5"}}
        private = opened.folder
    assert not private.exists()
    assert _module(notebook_over_stub) == STUB  # the student's folder is never written to


def test_a_zip_opens_as_its_folder_does(notebook_over_stub: Path, tmp_path: Path) -> None:
    zipped = _zip(notebook_over_stub, tmp_path / "s123.zip")
    with open_submission(notebook_over_stub) as folder, open_submission(zipped) as archive:
        assert (archive.student, archive.answers, archive.conflicts, archive.error) == \
               (folder.student, folder.answers, folder.conflicts, folder.error)
        assert _module(archive.folder) == _module(folder.folder)


def test_a_file_with_code_is_never_replaced_and_a_difference_is_a_conflict(tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "ex01.py").write_text("def double_plus(X, c):\n    return X\n")
    _notebook(folder, CODE)
    with open_submission(folder) as opened:
        assert _module(opened.folder) == "def double_plus(X, c):\n    return X\n"
        assert [(c.module, c.notebook) for c in opened.conflicts] == [("ex01.py", "work.ipynb")]
        assert opened.conflicts[0].message.startswith("ex01.py is both a file and cells of a notebook")


def test_the_same_code_twice_is_no_conflict(tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "ex01.py").write_text(CODE)
    _notebook(folder, CODE)
    with open_submission(folder) as opened:
        assert opened.conflicts == () and _module(opened.folder) == CODE


def test_a_notebook_still_holding_the_stub_replaces_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "ex01.py").write_text(CODE)
    _notebook(folder, STUB)
    with open_submission(folder) as opened:
        assert opened.conflicts == () and opened.folder == folder


def test_a_linked_module_is_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text(STUB)
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "ex01.py").symlink_to(outside)
    _notebook(folder, CODE)
    with open_submission(folder) as opened:
        assert not (opened.folder / "ex01.py").is_symlink() and CODE in _module(opened.folder)


def test_a_broken_notebook_is_the_submissions_error(tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "ex01.py").write_text(STUB)
    (folder / "work.ipynb").write_text("{")
    with open_submission(folder) as opened:
        assert opened.error and "not a readable notebook" in opened.error


def test_an_unsafe_zip_is_the_submissions_error(tmp_path: Path) -> None:
    zipped = tmp_path / "s123.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("../evil.py", "x = 1\n")
    with open_submission(zipped) as opened:
        assert opened.student == "s123" and opened.error.startswith("unsafe zip:")


def test_the_student_may_be_named(notebook_over_stub: Path) -> None:
    with open_submission(notebook_over_stub, student="s999") as opened:
        assert opened.student == "s999"


# --- layers -----------------------------------------------------------------------------------


def test_intake_imports_nothing_of_the_commands_that_read_it() -> None:
    """intake sits below student, grading and the kinds; and the old import cycle
    (student.check -> release -> grading.engine -> intake -> student.submit) is gone."""
    code = ("import sys, grader.intake, grader.intake.open, grader.intake.manifest\n"
            "print(sorted(m for m in sys.modules if m.startswith(('grader.student', 'grader.grading', "
            "'grader.kinds', 'grader.sandbox'))))\n")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]"
    for module in ("grader.student.submit", "grader.student.check", "grader.grading.engine", "grader.api"):
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
