"""Every example in every `--help` runs as written, on the bundled INF 5860 specs.

The examples are read from the click commands themselves (the lines under `Example:`,
`Examples:` and `Typical use:`), so a new or changed example is tested without touching
this file. Each runs through bash, as typed, in a workspace that holds what the examples
assume: the course (exercises/, solutions/, examples/) for the instructor's commands, the
`out/` folder that grading writes for review and export, a roster, the LMS files of
examples/lms (upload times, extensions, a Canvas gradebook export), and for the student's
commands (`grader check . .`, `grader submit . --to ~/handin`) a released bundle that the
all-correct demo student has filled in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import click
import pytest

from grader.cli import main
from tests.conftest import EXAMPLES, EXERCISES, ROOT, grader_command

HEADINGS = ("Example:", "Examples:", "Typical use:")
#: The order the examples run in: grading writes the out/ that review and export read.
ORDER = ("validate", "grade", "review", "export", "release", "check", "submit", "schema", "gradescope",
         "autograde")


def examples(command: click.Command) -> list[str]:
    lines = (command.help or "").splitlines()
    found, inside = [], False
    for line in lines:
        text = line.strip()
        if text in HEADINGS:
            inside = True
        elif inside and text.startswith("grader "):
            found.append(text)
        elif inside and text and text != "\b":
            inside = False
    return found


def all_examples() -> list[tuple[str, str]]:
    """(command name, example line) for the group and every command, in ORDER, each once."""
    assert isinstance(main, click.Group)
    pairs = [(line.split()[1], line) for line in examples(main)]
    for name, command in main.commands.items():
        pairs += [(name, line) for line in examples(command)]
    unknown = {name for name, _ in pairs} - set(ORDER)
    assert not unknown, f"add {unknown} to ORDER (and what they need to the workspace)"
    unique = list(dict.fromkeys(pairs))
    return sorted(unique, key=lambda pair: ORDER.index(pair[0]))


def test_every_command_has_an_example() -> None:
    assert isinstance(main, click.Group)
    assert {name for name, _ in all_examples()} == set(main.commands)


@pytest.mark.slow
def test_every_help_example_runs_as_written(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(EXERCISES, course / "exercises" / "inf5860")
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(EXAMPLES, course / "examples" / "class")
    shutil.copytree(ROOT / "examples" / "lms", course / "examples" / "lms")  # times, extensions, a Canvas export
    (course / "roster.csv").write_text("student,name\ns100001,Ada\ns100002,Bo\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "COLUMNS": "120",
           "PATH": f"{Path(grader_command()[0]).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    failures = []
    for name, line in all_examples():
        cwd = course
        if name in ("check", "submit"):  # run by a student in their filled-in bundle
            cwd = course / "handout" / "s100001"
            if not cwd.exists():
                done = subprocess.run([*grader_command(), "release", "exercises/inf5860", "--to", "handout",
                                       "--student", "s100001"], cwd=course, env=env, capture_output=True,
                                      text=True, timeout=600)
                assert done.returncode == 0, done.stderr
                for answer in (EXAMPLES / "s100001").iterdir():
                    shutil.copy2(answer, cwd / answer.name)
        if name == "autograde" and not (course / "autograder-trial").exists():
            # an instructor trying the zip that the gradescope example built on the demo student
            with zipfile.ZipFile(course / "autograder.zip") as archive:
                archive.extractall(course / "autograder-trial" / "source")
            shutil.copytree(EXAMPLES / "s100001", course / "autograder-trial" / "submission" / "s100001")
        done = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, input="q\n", capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            failures.append(f"{line}  (exit {done.returncode})\n{done.stdout[-800:]}{done.stderr[-1500:]}")
    assert not failures, "\n\n".join(failures)
    assert (course / "out" / "reports" / "index.html").is_file()
    assert list((home / "handin").glob("s100001-*.zip"))
    assert (course / "spec.schema.json").stat().st_size > 1000
    graded = json.loads((course / "autograder-trial" / "results" / "results.json").read_text(encoding="utf-8"))
    graded_here = json.loads((course / "out" / "results" / "s100001.json").read_text(encoding="utf-8"))
    assert graded["tests"] and graded["score"] == round(graded_here["score"], 6)  # the same engine, the same student
