"""A library missing from the environment stops validate, grade, check and submit before any
work, naming what is missing and the command that installs it: it never costs a student points.

The missing library is made missing for real: a sitecustomize.py first on PYTHONPATH puts an
import hook in front of every other that refuses torch and matplotlib, so `import torch`
fails in the grader's process exactly as it does where torch was never installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core import registry
from grader.core.model import Question
from grader.grading import preflight
from tests.conftest import EXAMPLES, EXERCISES, ROOT, grader_command

HIDE = '''import sys


class _NotInstalled:
    """Refuses these top-level packages, as if they had never been installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {hidden!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''


def without(tmp_path: Path, *modules: str) -> dict[str, str]:
    """The environment of a process in which `modules` cannot be imported."""
    folder = tmp_path / "hide"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(HIDE.format(hidden=set(modules)))
    return {**os.environ, "PYTHONPATH": str(folder), "COLUMNS": "120"}


def run(env: dict[str, str], *args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*grader_command(), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_hook_really_hides_torch(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import torch"], env=without(tmp_path, "torch"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "ModuleNotFoundError: No module named 'torch'" in done.stderr


def test_validate_without_torch_and_matplotlib_says_what_to_install(tmp_path: Path) -> None:
    done = run(without(tmp_path, "torch", "matplotlib"), "validate", EXERCISES)
    assert done.returncode == 2, done.stdout + done.stderr
    text = done.stderr
    assert text.startswith("cannot validate: this Python environment")
    assert "torch is not installed" in text and "ex03.model" in text
    assert "matplotlib is not installed; needed for drawing the plot (ex01.d)" in text
    assert ("torch is not installed; needed for training the model and running the code (ex03.model, "
            "ex06.cnn, ex12.autoencoder, ex06.4, ex09.occlusion_map, ex09.saliency)") in text
    assert f"  {sys.executable} -m pip install 'matplotlib>=3.8' torch==2.13.0\n" in text
    assert done.stdout == ""


def test_grade_without_torch_grades_nobody(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run(without(tmp_path, "torch"), "grade", EXERCISES, EXAMPLES, "--out", out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot grade" in done.stderr and "torch is not installed" in done.stderr
    assert "matplotlib" not in done.stderr
    assert not (out / "results").exists()


@pytest.mark.slow
def test_check_and_submit_without_torch_tell_the_student_what_to_install(tmp_path: Path) -> None:
    released = run(dict(os.environ), "release", EXERCISES, "--to", tmp_path / "bundle", "--student", "s100001")
    assert released.returncode == 0, released.stderr
    bundle = tmp_path / "bundle" / "s100001"
    env = without(tmp_path, "torch")
    checked = run(env, "check", bundle, bundle)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "cannot check your answers" in checked.stderr and "-m pip install torch==2.13.0" in checked.stderr
    submitted = run(env, "submit", bundle, "--to", tmp_path / "handin")
    assert submitted.returncode == 2 and "torch is not installed" in submitted.stderr
    assert not (tmp_path / "handin").exists()


def _question(kind: str, raw: dict) -> Question:
    return Question(id="q", kind=kind, points=1, prompt="", answer=None,
                    options=registry.get(kind).load_options(raw))


@pytest.mark.parametrize("kind, raw, modules", [
    ("code", {"function": "f", "cases": [{"args": [[1, 2]]}]}, []),
    ("code", {"function": "f", "cases": [{"args": [[1, 2]]}], "inputs": "torch"}, ["torch"]),
    ("code", {"function": "f", "cases": [{"args": [[1, 2]]}], "returns": "torch"}, ["torch"]),
    ("code", {"function": "f", "cases": [{"args": {"m": {"model": {"arch": "small_cnn", "seed": 0}}}}]}, ["torch"]),
    ("code", {"function": "f", "cases": [{"args": [[1, 2]]}], "requires": ["scipy"]}, ["scipy"]),
    ("numeric", {}, []),
])
def test_kinds_declare_what_their_questions_need(kind: str, raw: dict, modules: list[str]) -> None:
    question = _question(kind, raw)
    assert [r.module for r in registry.requirements(registry.get(kind), question)] == modules


def test_plot_and_model_questions_need_matplotlib_and_torch() -> None:
    from grader.authoring import spec

    course = spec.load_course([EXERCISES])
    needs: dict[str, set[str]] = {}
    for need in preflight.needs(preflight.course_questions(course)):
        needs.setdefault(need.requirement.module, set()).update(need.questions)
    assert needs == {"matplotlib": {"ex01.d"},
                     "torch": {"ex03.model", "ex06.cnn", "ex12.autoencoder", "ex06.4", "ex09.occlusion_map",
                               "ex09.saliency"}}


def test_a_cuda_question_on_a_machine_without_a_gpu_stops(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    if preflight.cuda_available("torch"):
        pytest.skip("this machine has a GPU")
    need = preflight.Need(registry.Requirement("torch", "torch", "training the model", gpu=True), ("ex07.net",))
    lines, packages = preflight.problems([need])
    assert packages == [] and len(lines) == 1
    assert "no GPU that torch can use: ex07.net ask for one (device: cuda)" in lines[0]
    with pytest.raises(preflight.EnvironmentProblem) as caught:
        preflight.ensure([("ex07.net", _question("model", {"factory": "make", "device": "cuda",
                                                           "data": {"name": "spiral"},
                                                           "thresholds": {"test_accuracy": 0.5}}))], "grade")
    assert caught.value.exit_code == 2 and "device: cuda" in str(caught.value)


def test_install_command_uses_grader_s_own_pins() -> None:
    command = preflight.install_command(["torch", "matplotlib", "statsmodels"], python="/x/python")
    assert command == "/x/python -m pip install torch==2.13.0 'matplotlib>=3.8' statsmodels"
