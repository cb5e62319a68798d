"""Shared helpers for the student-side tests (release, check, submit, notebooks).

A small self-contained course is written into a temporary folder, so the tests do not
depend on the evolving INF 5860 specs. Its reference values are distinctive numbers, so a
leak of any of them into a bundle is visible to a plain text search.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

VENV_BIN = Path(sys.executable).parent
GRADER = str(VENV_BIN / "grader")

SOLUTIONS = '''
"""Reference solutions for the test course (names differ from what students write)."""


def reference_mean(x):
    return sum(x) / len(x)


def reference_mean_unhalved(x):
    return 2 * sum(x) / len(x)


def reference_step(a):
    return [a * 2.825, -0.8125]


def reference_pick():
    return "b"


def reference_double_plus(X, c):
    return X * 2 + c
'''

SPEC = """
id: ex01
title: Test exercise
source: a test
solutions: demo.ex01
{extra}
params:
  x: [1.25, 3.5, 4.125, 7.0]
  a: 2.5
questions:
  - id: mean
    kind: numeric
    points: 1
    prompt: "Compute the mean of x = {{{{ x }}}}. <script>alert(1)</script>"
    answer: {{solution: reference_mean}}
    tolerance: {{rel: 0.001}}
    mistakes:
      - answer: {{solution: reference_mean_unhalved}}
        feedback: You doubled it.
      - answer: 13.875
        feedback: A literal mistake.
  - id: step
    kind: vector
    points: 2
    prompt: "Take the step with $\\\\alpha = {{{{ a }}}}$; give [w, b]."
    answer: {{solution: reference_step}}
    tolerance: {{rel: 0.001}}
  - id: pick
    kind: choice
    points: 1
    prompt: Which one?
    answer: {{solution: reference_pick}}
    choices: {{a: first, b: second, c: third}}
{code}
"""

CODE_QUESTION = """
  - id: dbl
    kind: code
    points: 2
    prompt: Write double_plus(X, c) returning 2X + c.
    function: double_plus
    answer: {solution: reference_double_plus}
    cases:
      - name: small
        args: {X: {array: [[1.5, 2.5]]}, c: {value: 0.75}}
      - name: secret
        args: {X: {array: [[9.125, 6.375]]}, c: {value: 11.0625}}
        hidden: true
"""

#: Reference answers typed back (what a student who got everything right writes).
RIGHT = {"mean": "3.96875", "step": "[7.0625, -0.8125]", "pick": "b"}
STUDENT_CODE = "def double_plus(X, c):\n    return X * 2 + c\n"
#: Values that must never appear in a bundle: references (as students might type them),
#: known mistakes, hidden check data, and the solutions' names.
SECRETS = ["3.96875", "3.969", "3.97", "7.0625", "7.063", "7.06", "-0.8125", "0.8125", "-0.813",
           "7.9375", "13.875", "9.125", "6.375", "11.0625", "29.3125", "23.8125",
           "demo.ex01", "demo/ex01", "reference_mean", "reference_step", "reference_pick",
           "reference_double_plus", "You doubled it", "A literal mistake"]


def has_code_kind() -> bool:
    from grader.core import registry

    try:
        registry.get("code")
    except (KeyError, ImportError):
        return False
    return True


def write_course(root: Path, extra: str = "", code: bool = True) -> Path:
    """The test course under `root`; returns its specs folder."""
    (root / "solutions" / "demo").mkdir(parents=True, exist_ok=True)
    (root / "solutions" / "__init__.py").write_text("")
    (root / "solutions" / "demo" / "__init__.py").write_text("")
    (root / "solutions" / "demo" / "ex01.py").write_text(SOLUTIONS)
    specs = root / "specs"
    specs.mkdir(exist_ok=True)
    body = SPEC.format(extra=textwrap.dedent(extra).strip(),
                       code=CODE_QUESTION if code and has_code_kind() else "")
    (specs / "ex01.yaml").write_text(body, encoding="utf-8")
    return specs


def grader(*args: Any, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """Run the installed `grader` command (a real subprocess, as a user would)."""
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run([GRADER, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            env=env, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"grader {' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def fill(folder: Path, answers: dict[str, Any], code: str | None = STUDENT_CODE) -> None:
    """Write answers.yaml (and ex01.py) into a bundle folder, replacing the template."""
    (folder / "answers.yaml").write_text(yaml.safe_dump({"ex01": answers}), encoding="utf-8")
    if code is not None and (folder / "ex01.py").exists():
        (folder / "ex01.py").write_text(code, encoding="utf-8")


def bundle_text(folder: Path) -> str:
    """Every file of a bundle as text (binary .npy data decoded loosely)."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            parts.append(path.name)
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def npy_values(folder: Path) -> list[float]:
    import numpy as np

    values: list[float] = []
    for path in folder.rglob("*.npy"):
        values.extend(np.load(path, allow_pickle=False).ravel().tolist())
    return values
