"""The architecture as tests: the layer contracts in pyproject.toml hold, no module of
grader is part of an import cycle (imports inside functions included), and the types check.

A failure here names the import that breaks a rule; fix the code (move the function to
the layer that owns it, pass a value in), not the rule, unless the rule is wrong.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def _run(tool: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """A tool of this interpreter's environment, run from the repository root."""
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_layer_contracts_hold() -> None:
    done = _run("lint-imports", "--no-cache", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " broken" in done.stdout and "0 broken" in done.stdout


def _cycles(graph: grimp.ImportGraph) -> list[str]:
    """Each import a -> b for which b also leads back to a, as the whole loop."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                found.append(" -> ".join((importer, *back)))
    return found


def test_no_import_cycles_between_graders_modules() -> None:
    # grimp reads every import statement, also those inside functions and under
    # TYPE_CHECKING: a lazy import hides a cycle from Python, not from the design.
    graph = grimp.build_graph("grader", cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_sees_lazy_imports() -> None:
    graph = grimp.build_graph("grader", cache_dir=None)
    graph.add_import(importer="grader.core.model", imported="grader.api")  # as a lazy import would
    assert any(c.startswith("grader.api -> ") for c in _cycles(graph))


@pytest.mark.slow
def test_types_check() -> None:
    done = _run("mypy", "--config-file", str(ROOT / "pyproject.toml"), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
