"""Shared fixtures. Corpus tests read ../shared/corpora by path and run with --corpus."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

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


def module_from_source(path: Path, source: str, name: str) -> ModuleType:
    """`source` (dedented) written to `path` and imported in this process as `name`: for
    tests that call a trusted driver directly on a student's module."""
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_grader(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([*grader_command(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
