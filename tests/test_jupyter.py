"""`grader.check()` inside a notebook: a released notebook, answered, run by a real kernel
(nbclient), shows the same rows as `grader check` on the saved file, as an HTML table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.student import jupyter
from tests.student_side import STUDENT_CODE, grader, has_code_kind, write_course
from tests.test_check_agrees import check_rows

ANSWERS = {"ex01.mean": "3.96875", "ex01.step": "[7.0625, -0.8125]", "ex01.pick": '"<b>d</b>"'}  # d: no choice


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_course(tmp_path_factory.mktemp("jupyter") / "course")


def _answered(bundle: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    book = nbformat.read(bundle / "answers.ipynb", as_version=4)
    for cell in book.cells:
        tags = cell.metadata.get("tags", [])
        if tags and tags[0] in answers:
            cell.source = cell.source.replace("= ...", f"= {answers[tags[0]]}")
        elif tags == ["ex01.py"]:
            cell.source = f"# file: ex01.py\n{STUDENT_CODE}"
    return book


def _execute(book: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    NotebookClient(book, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return book


def _html_rows(html: str) -> dict[str, str]:
    return dict(re.findall(r"<tr><td><code>([^<]+)</code></td>\s*<td[^>]*>(\w+)</td>", html))


@pytest.mark.slow
def test_grader_check_in_a_running_notebook_shows_the_cli_rows(specs: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    grader("release", specs, "--to", bundle, "--notebook", check=True)
    saved = _answered(bundle, ANSWERS)
    nbformat.write(saved, bundle / "answers.ipynb")
    # In the kernel the student also filled in ex01.step's cell again, but did not save:
    running = _answered(bundle, {})
    running.cells[-1].source += '\ngrader.check("ex01.pick")'
    outputs = [output for output in _execute(running, bundle).cells[-1].outputs if output.output_type == "display_data"]
    assert len(outputs) == 2
    html = outputs[0].data["text/html"]
    rows = _html_rows(html)
    cli = check_rows(grader("check", bundle, bundle).stdout)
    assert rows == {qid: row["status"] for qid, row in cli.items()}  # the same rows as `grader check`
    assert rows["ex01.mean"] == "ok" and rows["ex01.pick"] == "invalid"
    if has_code_kind():
        assert rows["ex01.dbl"] == "passed"
    assert "as saved at" in html and "save" in html.lower()
    assert "<b>d</b>" not in html and "&lt;b&gt;d&lt;/b&gt;" in html  # the student's text is escaped
    assert "ex01.pick" in outputs[0].data["text/plain"]  # plain text beside the HTML
    assert _html_rows(outputs[1].data["text/html"]) == {"ex01.pick": "invalid"}  # one question
    assert not any(output.output_type == "error" for cell in running.cells for output in cell.get("outputs", []))


def test_the_notebook_check_reads_the_saved_file_not_the_kernel(specs: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "bundle"
    grader("release", specs, "--to", bundle, "--notebook", check=True)
    nbformat.write(_answered(bundle, {"ex01.mean": "3.96875"}), bundle / "answers.ipynb")
    monkeypatch.chdir(bundle)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    checked = jupyter.notebook_check(["ex01.mean", "ex01.step"])
    assert [(row.id, row.status) for row in checked.rows] == [("ex01.mean", "ok"), ("ex01.step", "missing")]
    assert checked.problem is None and checked.notebook == "answers.ipynb"
    assert "1 ok, 1 missing" in checked.text()


def test_grader_check_outside_ipython_prints_text(specs: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    grader("release", specs, "--to", bundle, "--notebook", check=True)
    nbformat.write(_answered(bundle, {"ex01.mean": "13/4"}), bundle / "answers.ipynb")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("JPY_SESSION_NAME", None)
    ran = subprocess.run([sys.executable, "-c", 'import grader; grader.check("ex01.mean")'], cwd=bundle,
                         capture_output=True, text=True, env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"^ex01\.mean\s+ok\s+reads as 13/4", ran.stdout, re.M), ran.stdout
    assert "as saved at" in ran.stdout


@pytest.mark.parametrize("setup, call, needle", [
    ("none", {}, "cannot tell which notebook this is (0 notebooks"),
    ("two", {}, "cannot tell which notebook this is (2 notebooks"),
    ("none", {"notebook": "gone.ipynb"}, "there is no notebook gone.ipynb"),
    ("no-specs", {}, "no specs/ folder beside work.ipynb"),
    ("bundle", {"questions": "ex01.zz"}, "no question 'ex01.zz' in these specs; the questions are ex01.mean"),
])
def test_what_cannot_be_checked_is_said_not_raised(specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   setup: str, call: dict, needle: str) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    folder = tmp_path / "here"
    if setup == "bundle":
        grader("release", specs, "--to", folder, "--notebook", check=True)
    else:
        folder.mkdir()
        for name in {"two": ["a.ipynb", "b.ipynb"], "no-specs": ["work.ipynb"]}.get(setup, []):
            (folder / name).write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}))
    monkeypatch.chdir(folder)
    checked = jupyter.notebook_check(**call)
    assert checked.problem is not None and needle in checked.problem, checked.problem
    assert needle.split(" (")[0].split(" '")[0] in checked.html() and "Not checked" in checked.html()


def test_import_grader_stays_cheap() -> None:
    ran = subprocess.run([sys.executable, "-c", "import grader, sys; print(sorted(m for m in sys.modules "
                          "if m.startswith(('grader', 'numpy', 'IPython', 'jinja2'))))"],
                         capture_output=True, text=True, timeout=60)
    assert ran.stdout.strip() == "['grader', 'grader.core', 'grader.core.version']", ran.stdout + ran.stderr
    assert callable(__import__("grader").check)
