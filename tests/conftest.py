"""Shared fixtures. Corpus tests read ../shared/corpora by path and run with --corpus."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises" / "inf5860"
EXAMPLES = ROOT / "examples" / "class"
CORPORA = ROOT.parent / "shared" / "corpora" / "stack"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--corpus", action="store_true", help="run the tests over the STACK corpora in ../shared")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--corpus"):
        return
    skip = pytest.mark.skip(reason="corpus test: run with --corpus")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


def grader_command() -> list[str]:
    """The installed `grader` entry point of this interpreter's environment."""
    script = Path(sys.executable).parent / "grader"
    if script.exists():
        return [str(script)]
    found = shutil.which("grader")
    assert found, "the grader command is not installed (pip install -e .)"
    return [found]


def run_grader(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([*grader_command(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
