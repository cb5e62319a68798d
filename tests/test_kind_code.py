"""The `code` kind: options, inputs, comparison, mutation, properties, mistakes and the
hostile submissions as verdicts (every one ends `error`, `incorrect` or `missing`)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import api
from grader.grading import engine
from grader.core import registry
from grader.kinds.code import values as cv
from grader.kinds.code.kind import KIND, CodeOptions
from grader.sandbox import ObjectInfo
from grader.core.model import CodeAnswer, Mistake, Question, Reference, ValueSource
from grader.kinds.tolerance import Tolerance
from grader.core.memo import Memo

ROOT = Path(__file__).resolve().parents[1]

REFERENCES = '''
import numpy as np

def relu_layer(X, W, b):
    return np.maximum(0.0, X @ W + b)

def linear_layer(X, W, b):
    return X @ W + b

def gradient_x(image):
    return np.diff(image, axis=1)

def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

def no_zeros(output, *args):
    return True if np.all(output != 0) else "the output has zeros"

def ones_tensor(n):
    import torch
    return torch.ones(n)

def one_row_per_point(output, X, W, b):
    return output.shape[0] == X.shape[0] or "one row per point, please"

def log_relu(X, W, b):
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(0.0, X @ W + b))
'''


@pytest.fixture(scope="module")
def solutions_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("solutions")
    (root / "course").mkdir()
    (root / "course" / "t.py").write_text(REFERENCES)
    return root


def question(raw: dict[str, Any], solution: str, mistakes: tuple[Mistake, ...] = ()) -> Question:
    return Question(id="q", kind="code", points=1, prompt="Write it.", answer=ValueSource(solution=solution),
                    options=KIND.load_options(raw), mistakes=mistakes)


def answer(tmp_path: Path, source: str) -> CodeAnswer:
    folder = tmp_path / "s1"
    folder.mkdir(exist_ok=True)
    module = folder / "ex.py"
    module.write_text(textwrap.dedent(source))
    return CodeAnswer(folder, module, "s1", "ex")


LAYER = {
    "function": "layer",
    "returns": "numpy",
    "limits": {"wall_s": 5},
    "cases": [
        {"name": "batch", "args": {"X": {"randn": [4, 3]}, "W": {"randn": [3, 5]}, "b": {"randn": [5]}}},
        {"name": "all off", "args": {"X": [[1.0, 2.0]], "W": [[-1.0], [-1.0]], "b": [-1.0]}},
        {"name": "big", "hidden": True, "args": {"X": {"randn": [20, 4]}, "W": {"randn": [4, 6]}, "b": {"randn": [6]}}},
    ],
}


def grade(solutions_root: Path, tmp_path: Path, source: str, raw: dict = LAYER, solution: str = "relu_layer",
          mistakes: tuple[Mistake, ...] = ()) -> Any:
    q = question(raw, solution, mistakes)
    memo = Memo()  # one course: the answer and its mistakes share the student's outcome
    expected = engine.Expected(Reference(solutions_root, "course.t", solution, memo=memo),
                               tuple(Reference(solutions_root, "course.t", m.answer.solution or "", memo=memo)
                                     for m in mistakes))
    return engine.judge(q, KIND.parse(answer(tmp_path, source), q), expected)


# ----------------------------------------------------------------------------- verdict table

CORRECT = "import numpy as np\ndef layer(X, W, b):\n    return np.maximum(0, X @ W + b)\n"


@pytest.mark.parametrize("source, status, fraction, needle", [
    (CORRECT, "correct", 1.0, "All 3 checks pass"),
    ("def layer(X, W, b):\n    Z = X @ W + b\n    Z[Z < 0] = 0\n    return Z\n", "correct", 1.0, "pass"),
    ("import numpy as np\ndef layer(X, W, b):\n    return X @ W + b\n", "incorrect", 0.0, "values differ"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.maximum(0, X @ W + b) if len(X) == 1 else X @ W + b\n",
     "partial", 0.2, "values differ"),  # "all off" expects zeros: a trivial case, weight 1/2 of 2.5
    ("import numpy as np\ndef layer(X, W, b):\n    return np.maximum(0, X @ W + b).tolist()\n", "incorrect", 0.0,
     "expected a numpy array"),
    ("import torch\ndef layer(X, W, b):\n    return torch.relu(torch.from_numpy(X @ W + b))\n", "incorrect", 0.0,
     "expected a numpy array, got a torch tensor"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.maximum(0, X @ W + b).T\n", "partial", 0.2,
     "expected shape (4, 5), got (5, 4) (transposed?)"),
    ("import numpy as np\ndef layer(X, W, b):\n    return (np.maximum(0, X @ W + b) > 0)\n", "incorrect", 0.0,
     "expected float values"),
    ("import numpy as np\ndef layer(X, W, b):\n    X *= 1.5\n    return np.maximum(0, X @ W + b)\n",
     "incorrect", 0.0, "modified its argument X in place"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.full((len(X), W.shape[1]), np.nan)\n", "incorrect", 0.0,
     "contains NaN"),
    ("import numpy as np\ndef layer(X, W, b):\n    return W @ X\n", "incorrect", 0.0, "ValueError"),
    ("def other(X, W, b):\n    pass\n", "missing", 0.0, "does not define layer()"),
    ("def layer(X, W, b):\n    return (\n", "error", 0.0, "SyntaxError"),
], ids=["correct", "in-place-relu", "no-relu", "partial", "list", "torch", "transposed", "bool", "mutates", "nan",
        "raises", "missing", "syntax"])
def test_verdicts(solutions_root: Path, tmp_path: Path, source: str, status: str, fraction: float, needle: str) -> None:
    verdict = grade(solutions_root, tmp_path, source)
    assert (verdict.status, round(verdict.fraction, 4)) == (status, round(fraction, 4)), verdict.feedback
    assert needle in verdict.feedback


HOSTILE = [
    ("def layer(X, W, b):\n    while True:\n        pass\n", "error", "ran out of time"),
    ("import os\ndef layer(X, W, b):\n    while True:\n        os.fork()\n", "incorrect", "PermissionError"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.ones(50 * 10**9 // 8)\n", "incorrect", "out of memory"),
    ("def layer(X, W, b):\n    while True:\n        print('x' * 10**6)\n", "error", "printed more than"),
    ("import os\ndef layer(X, W, b):\n    os.kill(os.getppid(), 9)\n", "incorrect", "PermissionError"),
    ("import sys\ndef layer(X, W, b):\n    sys.exit(0)\n", "incorrect", "sys.exit"),
    ("import os\ndef layer(X, W, b):\n    os._exit(0)\n", "error", "ended the process"),
    ("class Cheat:\n    def __eq__(self, o): return True\n    def __array__(self, *a): return None\n"
     "def layer(X, W, b):\n    return Cheat()\n", "incorrect", "returned an object of type"),
    ("import numpy as np\nclass S(np.ndarray):\n    def __eq__(self, o): return True\n"
     "def layer(X, W, b):\n    return np.maximum(0, X @ W + b).view(S)\n", "incorrect", "numpy.ndarray subclass"),
    ("import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: np.ones_like(a, bool)\n"
     "def layer(X, W, b):\n    return X @ W\n", "incorrect", "values differ"),
    ("import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n"
     "def layer(X, W, b):\n    return X @ W\n", "incorrect", "values differ"),
    ("import grader.core.model\ndef layer(X, W, b):\n    return grader.core.model.Verdict('correct', 1.0)\n", "error",
     "importing ex.py failed"),
    (f"def layer(X, W, b):\n    return open({str(ROOT / 'solutions' / 'inf5860' / 'ex03.py')!r}).read()\n",
     "incorrect", "PermissionError"),
    ("def layer(X, W, b):\n    raise KeyboardInterrupt\n", "incorrect", "KeyboardInterrupt"),
]


@pytest.mark.parametrize("source, status, needle", HOSTILE,
                         ids=["loop", "fork-bomb", "50GB", "print-1GB", "kill-parent", "sys-exit", "os-exit",
                              "eq-true", "ndarray-subclass", "patch-numpy", "patch-builtins", "import-grader",
                              "read-solutions", "keyboard-interrupt"])
def test_hostile_submissions_never_pass(solutions_root: Path, tmp_path: Path, source: str, status: str,
                                        needle: str) -> None:
    raw = {**LAYER, "limits": {"wall_s": 3, "memory_mb": 1536}}
    verdict = grade(solutions_root, tmp_path, source, raw)
    assert verdict.status == status and verdict.fraction == 0.0, verdict.feedback
    assert needle in verdict.feedback
    assert "import numpy" not in verdict.feedback or "ex03.py" not in needle


def test_hidden_cases_reveal_no_values(solutions_root: Path, tmp_path: Path) -> None:
    source = "import numpy as np\ndef layer(X, W, b):\n    return np.maximum(0, X @ W + b) + (len(X) == 20)\n"
    verdict = grade(solutions_root, tmp_path, source)
    assert verdict.status == "partial" and "A hidden check failed (big): the values are not right" in verdict.feedback
    hidden = verdict.cases[2]
    assert hidden.hidden and not hidden.passed and hidden.message == "the values are not right"
    assert (hidden.inputs, hidden.expected, hidden.got, hidden.largest_difference) == ("", "", "", None)
    assert json.loads(json.dumps(hidden.to_dict()))["inputs"] == ""


def test_feedback_shows_inputs_expected_got_and_largest_difference(solutions_root: Path, tmp_path: Path) -> None:
    verdict = grade(solutions_root, tmp_path, "def layer(X, W, b):\n    return X @ W + b\n")
    assert "layer(X=array(shape (4, 3), float64)" in verdict.feedback
    assert "expected: array(shape (4, 5)" in verdict.feedback and "got:" in verdict.feedback
    assert "the largest difference is" in verdict.feedback
    first = verdict.cases[0]
    assert first.largest_difference > 0 and not first.passed
    assert first.inputs.startswith("X=array(shape (4, 3)") and first.expected and first.got
    json.dumps([case.to_dict() for case in verdict.cases], allow_nan=False)  # results JSON is strict


def test_a_trace_in_the_feedback_ends_with_the_students_line_not_a_full_stop(solutions_root: Path,
                                                                               tmp_path: Path) -> None:
    """A stop after the quoted line would read as part of the student's code."""
    verdict = grade(solutions_root, tmp_path, "def layer(X, W, b):\n    return W @ X\n")
    first = verdict.feedback.split("\n  layer(")[0]
    assert "line 2, in layer" in first and first.rstrip().endswith("return W @ X")


def test_the_run_is_recorded_with_the_code_and_its_output(solutions_root: Path, tmp_path: Path) -> None:
    source = "import numpy as np\ndef layer(X, W, b):\n    print('shape', X.shape)\n    return np.maximum(0, X @ W + b)\n"
    verdict = grade(solutions_root, tmp_path, source)
    assert verdict.status == "correct" and verdict.run is not None
    assert verdict.run.source == source and "shape (4, 3)" in verdict.run.stdout
    assert "rlimits" in verdict.run.layers and verdict.run.device == "cpu"
    assert (verdict.run.traceback, verdict.run.limits_hit) == ("", "")
    assert verdict.details == {}  # cases and the run are typed fields, not details


@pytest.mark.parametrize("source, status, trace, limit", [
    ("def layer(X, W, b):\n    return (X @ W +\n", "error", "SyntaxError", ""),
    ("import numpy\nraise ValueError('at import')\n", "error", "ValueError: at import", ""),
    ("def layer(X, W, b):\n    while True:\n        pass\n", "error", "", "timeout"),
    ("print('x' * 2_000_000)\n", "error", "", "output"),
    ("def other():\n    pass\n", "missing", "", ""),
], ids=["syntax", "import-error", "timeout", "output", "no-function"])
def test_failed_runs_keep_what_is_known(solutions_root: Path, tmp_path: Path, source: str, status: str,
                                        trace: str, limit: str) -> None:
    raw = {**LAYER, "limits": {"wall_s": 2}}
    verdict = grade(solutions_root, tmp_path, source, raw)
    assert verdict.status == status and verdict.cases == (), verdict.feedback
    run = verdict.run
    assert run is not None and run.source == source and run.limits_hit == limit
    assert trace in run.traceback and (trace or run.traceback == "")
    assert "grader-job-" not in run.traceback + verdict.feedback and "/tmp/" not in run.traceback + verdict.feedback


def test_syntax_error_names_line_and_column_with_a_caret(solutions_root: Path, tmp_path: Path) -> None:
    verdict = grade(solutions_root, tmp_path, "import numpy as np\n\ndef layer(X, W, b):\n    return np.maximum(0, X\n")
    assert verdict.status == "error" and verdict.fault == "student"
    assert verdict.run is not None
    trace = verdict.run.traceback
    assert "SyntaxError: '(' was never closed (ex.py, line 4, column 22)" in trace, trace
    assert "\n    return np.maximum(0, X\n                     ^" in trace  # the caret under the "("
    assert "', ('" not in trace and "grader-job-" not in trace + verdict.feedback  # not Python's args tuple


def test_timeout_is_the_students_fault(solutions_root: Path, tmp_path: Path) -> None:
    verdict = grade(solutions_root, tmp_path, "def layer(X, W, b):\n    while True:\n        pass\n",
                    {**LAYER, "limits": {"wall_s": 1}})
    assert (verdict.status, verdict.fault) == ("error", "student")


def test_known_mistake_gets_its_feedback(solutions_root: Path, tmp_path: Path) -> None:
    mistake = Mistake(ValueSource(solution="linear_layer"), "Apply the ReLU.", 0.0)
    verdict = grade(solutions_root, tmp_path, "def layer(X, W, b):\n    return X @ W + b\n", mistakes=(mistake,))
    assert verdict.mistake == 0 and "Apply the ReLU." in verdict.feedback


def test_student_runs_once_for_answer_and_mistakes(solutions_root: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from grader import sandbox

    calls = []
    original = sandbox.run_prepared
    monkeypatch.setattr(sandbox, "run_prepared", lambda job: calls.append(job) or original(job))
    mistake = Mistake(ValueSource(solution="linear_layer"), "Apply the ReLU.", 0.0)
    grade(solutions_root, tmp_path, "def layer(X, W, b):\n    return X @ W + b + 0.0\n", mistakes=(mistake,))
    assert len(calls) == 1


# ----------------------------------------------------------------------------- the outcome cache

SAME_TEXT = "import numpy as np\ndef layer(X, W, b):\n    return np.maximum(0, X @ W + b)\n"


def linked_answer(tmp_path: Path, name: str, source: str) -> CodeAnswer:
    """A module that is a hard link to another file with `source` (refused when read)."""
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (tmp_path / f"{name}-original.py").write_text(source)
    os.link(tmp_path / f"{name}-original.py", folder / "ex.py")
    return CodeAnswer(folder, folder / "ex.py", name, "ex")


def plain_answer(tmp_path: Path, name: str, source: str) -> CodeAnswer:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "ex.py").write_text(source)
    return CodeAnswer(folder, folder / "ex.py", name, "ex")


def judge(solutions_root: Path, q: Question, value: CodeAnswer, memo: Memo, params: dict | None = None) -> Any:
    expected = engine.Expected(Reference(solutions_root, "course.t", "relu_layer", params=params or {}, memo=memo), ())
    return engine.judge(q, KIND.parse(value, q), expected)


def test_a_hard_link_is_refused_alone_and_after_a_student_with_the_same_text(solutions_root: Path,
                                                                              tmp_path: Path) -> None:
    q = question(LAYER, "relu_layer")
    alone = judge(solutions_root, q, linked_answer(tmp_path / "1", "linked", SAME_TEXT), Memo())
    assert alone.status == "invalid" and "hard link" in alone.feedback
    memo = Memo()  # one course: the plain student's outcome is in it when the linked one comes
    assert judge(solutions_root, q, plain_answer(tmp_path / "2", "plain", SAME_TEXT), memo).status == "correct"
    after = judge(solutions_root, q, linked_answer(tmp_path / "2", "linked", SAME_TEXT), memo)
    assert (after.status, after.fraction, after.feedback) == (alone.status, alone.fraction, alone.feedback)


def test_an_outcome_is_shared_only_by_jobs_the_code_cannot_tell_apart(solutions_root: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from grader import sandbox

    runs: list[Any] = []
    original = sandbox.run_prepared
    monkeypatch.setattr(sandbox, "run_prepared", lambda job: runs.append(job) or original(job))
    memo = Memo()
    q = question(LAYER, "relu_layer")
    a, b = plain_answer(tmp_path, "a", SAME_TEXT), plain_answer(tmp_path, "b", SAME_TEXT)
    # params the code never sees (the cases do not use them) do not make another run
    assert judge(solutions_root, q, a, memo, {"unused": 1}).status == "correct"
    assert judge(solutions_root, q, b, memo, {"unused": 2}).status == "correct"
    assert len(runs) == 1
    # other bytes, other inputs or other limits: the code could tell, so it runs again
    c = plain_answer(tmp_path, "c", SAME_TEXT + "# another file\n")
    judge(solutions_root, q, c, memo)
    other_inputs = question({**LAYER, "cases": LAYER["cases"][:2]}, "relu_layer")
    judge(solutions_root, other_inputs, a, memo)
    other_limits = question({**LAYER, "limits": {"wall_s": 6}}, "relu_layer")
    judge(solutions_root, other_limits, a, memo)
    assert len(runs) == 4 and len({job.key for job in runs}) == 4


def test_mutation_warn_and_allow(solutions_root: Path, tmp_path: Path) -> None:
    source = "import numpy as np\ndef layer(X, W, b):\n    Z = np.maximum(0, X @ W + b)\n    X[:] = 0\n    return Z\n"
    warned = grade(solutions_root, tmp_path, source, {**LAYER, "mutation": "warn"})
    assert warned.status == "correct" and "modified its argument X" in warned.feedback
    (tmp_path / "b").mkdir()
    allowed = grade(solutions_root, tmp_path / "b", source, {**LAYER, "mutation": "allow"})
    assert allowed.status == "correct" and "modified" not in allowed.feedback


def test_torch_questions_check_device_and_type(solutions_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    raw = {"function": "ones", "returns": "torch", "cases": [{"args": {"n": 3}}]}
    cases = [
        ("import torch\ndef ones(n):\n    return torch.ones(n)\n", "correct", ""),
        ("import torch\ndef ones(n):\n    return torch.ones(n, dtype=torch.float64)\n", "correct", ""),
        ("import torch\ndef ones(n):\n    return torch.ones(n, device='meta')\n", "incorrect", "meta device"),
        ("import numpy as np\ndef ones(n):\n    return np.ones(n)\n", "incorrect", "expected a torch tensor"),
        ("import torch\ndef ones(n):\n    return torch.ones(n, dtype=torch.int64)\n", "incorrect", "expected float"),
    ]
    for index, (source, status, needle) in enumerate(cases):
        folder = tmp_path / str(index)
        folder.mkdir()
        verdict = grade(solutions_root, folder, source, raw, "ones_tensor")
        assert verdict.status == status and needle in verdict.feedback, (source, verdict.feedback)
    exact = {**raw, "dtype": "exact"}
    verdict = grade(solutions_root, tmp_path, cases[1][0], exact, "ones_tensor")
    assert verdict.status == "incorrect" and "expected dtype torch.float32, got torch.float64" in verdict.feedback


# ----------------------------------------------------------------------------- properties

GRADIENT = {
    "function": "gradient_x",
    "returns": "any",
    "cases": [{"name": "image", "args": {"image": {"rand": [6, 7]}}, "compare": False}],
    "properties": [
        {"name": "brightness_invariant", "description": "adding a constant leaves the gradients unchanged",
         "case": "image", "transform": {"image": {"add": 10.0}}, "expect": "same"},
        {"name": "contrast_linear", "case": 0, "transform": {"image": {"scale": 3.0}}, "expect": {"scale": 3.0}},
        {"name": "finite", "case": 0, "output": {"finite": True}},
    ],
}


@pytest.mark.parametrize("source, status, needle", [
    ("import numpy as np\ndef gradient_x(image):\n    return np.diff(image, axis=1)\n", "correct", ""),
    ("import numpy as np\ndef gradient_x(image):\n    return np.gradient(image, axis=1)\n", "correct", ""),
    ("def gradient_x(image):\n    return image[:, 1:] - image[:, :-1]\n", "correct", ""),
    ("def gradient_x(image):\n    return image * 1.0\n", "partial", "after changing image add 10.0"),
    ("import numpy as np\ndef gradient_x(image):\n    return np.diff(image, axis=1) ** 2\n", "partial",
     "contrast_linear"),
], ids=["diff", "central", "slices", "identity", "squared"])
def test_properties_accept_any_valid_answer(solutions_root: Path, tmp_path: Path, source: str, status: str,
                                             needle: str) -> None:
    verdict = grade(solutions_root, tmp_path, source, GRADIENT, "gradient_x")
    assert verdict.status == status, verdict.feedback
    assert needle in verdict.feedback


def test_output_predicates_and_trusted_check(solutions_root: Path, tmp_path: Path) -> None:
    raw = {"function": "softmax", "cases": [{"args": {"z": {"randn": [3, 4]}}, "compare": False}],
           "properties": [{"name": "rows_sum_to_one", "output": {"sum": {"value": 1.0, "axis": 1}, "range": [0, 1]}},
                          {"name": "no_zeros", "check": {"solution": "no_zeros"}}]}
    good = "import numpy as np\ndef softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=1, keepdims=True)\n"
    assert grade(solutions_root, tmp_path, good, raw, "softmax").status == "correct"
    bad = "import numpy as np\ndef softmax(z):\n    return np.exp(z) / np.exp(z).sum()\n"
    verdict = grade(solutions_root, tmp_path, bad, raw, "softmax")
    assert verdict.status == "partial" and "sums over axis 1 to" in verdict.feedback
    zeros = "import numpy as np\ndef softmax(z):\n    return np.eye(3, 4)\n"
    verdict = grade(solutions_root, tmp_path, zeros, raw, "softmax")
    assert verdict.status == "partial" and "the output has zeros" in verdict.feedback


def test_reference_failing_its_property_is_a_spec_error(solutions_root: Path, tmp_path: Path) -> None:
    raw = {**GRADIENT, "properties": [{"name": "wrong", "case": 0, "transform": {"image": {"scale": 2}},
                                       "expect": "same"}]}
    with pytest.raises(ValueError, match="spec error: the reference fails property 'wrong'"):
        grade(solutions_root, tmp_path, "import numpy as np\ndef gradient_x(image):\n    return np.diff(image, axis=1)\n",
              raw, "gradient_x")


# ----------------------------------------------------------------------------- options


@pytest.mark.parametrize("raw, key", [
    ({}, "function"),
    ({"function": "f"}, "cases"),
    ({"function": "f", "cases": [{"args": {"x": {"randn": [2], "rand": [2]}}}]}, "cases[0].args.x"),
    ({"function": "f", "cases": [{"args": {"x": {"randn": [-1]}}}]}, "cases[0].args.x"),
    ({"function": "f", "cases": [{"args": {"x": {"randn": [10**5, 10**5]}}}]}, "cases[0].args.x"),
    ({"function": "f", "cases": [{"args": {"x": {"bogus": 1}}}]}, "cases[0].args.x"),
    ({"function": "f", "cases": [{"args": {"x": {"randn": 2, "dtype": "object"}}}]}, "cases[0].args.x"),
    ({"function": "f", "cases": [{"args": {"x": 1}, "wieght": 2}]}, "cases[0]"),
    ({"function": "f", "cases": [{"args": {"x": 1}}], "returns": "jax"}, "returns"),
    ({"function": "f", "cases": [{"args": {"x": 1}}], "limits": {"wall": 1}}, "limits.wall"),
    ({"function": "f", "cases": [{"args": {"x": 1}}], "limits": {"wall_s": -1}}, "limits.wall_s"),
    ({"function": "f", "cases": [{"args": {"x": 1}}], "tolerance": {"sigfigs": 3}}, "tolerance"),
    ({"function": "f", "cases": [{"args": {"x": 1}}], "properties": [{"name": "p", "transform": {"y": {"add": 1}}}]},
     "properties[0]"),
    ({"function": "f", "cases": [{"args": {"x": 1}}], "properties": [{"name": "p", "case": 3, "output": {"finite": True}}]},
     "properties[0].case"),
    ({"function": "f", "cases": [{"args": {"x": 1}}], "properties": [{"name": "p", "output": {"pretty": True}}]},
     "properties[0]"),
    ({"function": "f", "cases": [{"args": {"x": 1}, "compare": False}]}, "cases"),
], ids=["no-function", "no-cases", "two-generators", "negative-shape", "huge", "unknown-recipe", "object-dtype",
        "unknown-case-key", "returns", "limits-key", "limits-value", "sigfigs", "property-arg", "property-case",
        "predicate", "nothing-compared"])
def test_bad_options_name_the_key(raw: dict, key: str) -> None:
    with pytest.raises(registry.OptionError) as error:
        KIND.load_options(raw)
    assert error.value.key == key, str(error.value)


def test_inputs_are_seeded_and_reproducible() -> None:
    options: CodeOptions = KIND.load_options({**LAYER})
    from grader.kinds.code import run as code_run

    first, second = code_run.build_inputs(options, {}), code_run.build_inputs(options, {})
    assert all(np.array_equal(a, b) for case_a, case_b in zip(first, second) for a, b in zip(case_a, case_b))
    assert not np.array_equal(first[0][0][:1], first[2][0][:1])


@pytest.mark.parametrize("recipe, check", [
    ({"randint": [0, 5, [3, 3]]}, lambda a: a.dtype.kind == "i" and a.max() < 5),
    ({"uniform": [2, 3, 4]}, lambda a: a.shape == (4,) and a.min() >= 2),
    ({"zeros": [2, 0]}, lambda a: a.shape == (2, 0)),
    ({"full": [[2], 7]}, lambda a: list(a) == [7, 7]),
    ({"eye": 3, "dtype": "float32"}, lambda a: a.dtype == np.float32 and a.trace() == 3),
    ({"arange": [1, 4]}, lambda a: list(a) == [1, 2, 3]),
    ({"linspace": [0, 1, 3], "scale": 2, "shift": 1}, lambda a: list(a) == [1, 2, 3]),
    ({"value": [1, 2]}, lambda a: a == [1, 2]),
    ({"param": "p"}, lambda a: list(a) == [4.0, 5.0]),
    ([[1, 2]], lambda a: a.dtype == np.float64 and a.shape == (1, 2)),
    (3, lambda a: a == 3),
])
def test_recipes(recipe: Any, check: Any) -> None:
    cv.check_recipe(recipe)
    assert check(cv.make_input(recipe, np.random.default_rng(0), {"p": [4, 5]}, False))


def test_torch_recipe_gives_float32_tensors() -> None:
    torch = pytest.importorskip("torch")
    value = cv.make_input({"randn": [2, 2]}, np.random.default_rng(0), {}, True)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float32


def test_compare_nested_and_scalars() -> None:
    policy = cv.Policy(Tolerance(rel=1e-6, abs=1e-9))
    assert cv.compare((np.ones(2), 0.5), (np.ones(2), 0.5), policy) is None
    assert "expected a tuple of 2 values" in cv.compare([np.ones(2)], (np.ones(2), 0.5), policy).message
    assert "expected 0.5" in cv.compare((np.ones(2), 0.7), (np.ones(2), 0.5), policy).message
    assert "NaN" in cv.compare(float("nan"), 0.5, policy).message
    assert "NaN" in cv.compare(float("nan"), 1 + 2j, policy).message  # was a TypeError (math.isnan)
    assert cv.compare(np.float32(0.5), 0.5, policy) is None
    assert "wrong sign" in cv.compare(-np.arange(1.0, 4), np.arange(1.0, 4), policy).message


NAN = float("nan")
INF = float("inf")


@pytest.mark.parametrize("got, reference, needle", [
    (np.zeros(0), np.ones(3), "the output is empty (shape (0,))"),
    (np.zeros((4, 0)), np.ones((4, 5)), "shape (4, 0)"),
    ((np.ones(2), np.zeros(0)), (np.ones(2), np.ones(2)), "the output in value 2 is empty"),
    (np.zeros(0), np.zeros(0), None),  # the reference has no values either
    (np.ones(3), np.ones(3), None),
    (np.zeros(0), None, None),
    ([], [1.0], None),  # not an array: compare says what it is
])
def test_empty_outputs_pass_no_property_unless_the_reference_is_empty(got: Any, reference: Any,
                                                                      needle: str | None) -> None:
    found = cv.empty_failure(got, reference)
    assert (found is None) if needle is None else (found is not None and needle in found), found


@pytest.mark.parametrize("got, reference, needle", [
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), None),
    (np.array([NAN, 2.0]), np.array([1.0, 2.0]), "contains NaN, first at [0]"),
    (np.array([1.0, INF]), np.array([1.0, 2.0]), "contains inf, first at [1]"),
    (np.array([[1.0, -INF]]), np.array([[1.0, 2.0]]), "contains -inf, first at [0, 1]"),
    (np.array([NAN, 2.0]), np.array([NAN, 2.0]), None),  # the reference has NaN there too
    (np.array([-INF, 2.0]), np.array([-INF, 2.0]), None),
    (np.array([INF, 2.0]), np.array([-INF, 2.0]), "contains inf"),  # the other sign
    (np.array([NAN, 2.0]), np.array([2.0, NAN]), "contains NaN, first at [0]"),  # other places
    (np.array([NAN, 2.0]), np.array([NAN, 2.0, 3.0]), "contains NaN"),  # other shape
    (np.array([NAN]), None, "contains NaN"),
    (NAN, 1.0, "the output contains NaN"),
    (NAN, NAN, None),
    (np.complex128(complex(1, NAN)), 1.0, "contains NaN"),
    ((np.ones(2), np.array([1.0, INF])), (np.ones(2), np.ones(2)), "contains inf in value 2, first at [1]"),
    ({"a": np.array([NAN])}, {"a": np.array([1.0])}, "contains NaN in ['a']"),
    (np.array([1, 2]), None, None),  # integers are always finite
    (np.str_("nan"), None, None),  # no number at all: compare says so, not this
])
def test_nonfinite_values_pass_only_where_the_reference_has_them(got: Any, reference: Any, needle: str | None) -> None:
    found = cv.nonfinite_failure(got, reference)
    assert (found is None) if needle is None else (found is not None and needle in found), found


POLICY = cv.Policy(Tolerance(rel=1e-6, abs=1e-9), returns="any")


@pytest.mark.parametrize("got, expected, needle", [
    (np.array([NAN, 1.0]), np.array([NAN, 1.0]), None),
    (np.array([NAN, 1.0]), np.array([0.0, 1.0]), "contains NaN"),
    (np.array([INF, 1.0]), np.array([INF, 1.0]), None),
    (np.array([INF, 1.0]), np.array([-INF, 1.0]), "values differ"),
    (np.array([INF, 1.0]), np.array([1e308, 1.0]), "values differ"),
    (NAN, NAN, None),
    (NAN, 0.5, "the result is NaN"),
    (INF, 0.5, "expected 0.5"),
    (-INF, -INF, None),
    (np.float64(NAN), 1.0, "the result is NaN"),
    (10 ** 400, 1.0, "expected 1.0, got inf"),
    (np.str_("0.5"), 0.5, "expected one number, got a numpy string (numpy.str_)"),
    (np.array(["0.5"]), np.array([0.5]), "got a numpy array of strings (dtype <U3)"),
    (np.datetime64("2024"), 0.5, "got a numpy datetime"),
    (ObjectInfo("numpy.str_", "x", "a numpy string (numpy.str_)"), np.ones(2),
     "returned a numpy string (numpy.str_), not numbers; expected a numpy array (float64)"),
])
def test_compare_nan_inf_and_values_that_are_no_numbers(got: Any, expected: Any, needle: str | None) -> None:
    diff = cv.compare(got, expected, POLICY)
    assert (diff is None) if needle is None else (diff is not None and needle in diff.message), diff


@pytest.mark.parametrize("output, predicates, reference, needle", [
    (np.array([NAN, 1.0]), {"nonnegative": True}, None, "contains NaN"),
    (np.array([NAN, NAN]), {"range": [0, 1]}, None, "contains NaN"),
    (np.array([INF, 0.5]), {"range": [0, 1]}, np.array([0.5, 0.5]), "contains inf"),
    (np.array([NAN, 1.0]), {"sum": 1.0}, None, "contains NaN"),
    (np.array([NAN, 1.0]), {"shape": [2]}, None, "contains NaN"),
    (np.array([NAN, 0.5]), {"range": [0, 1], "nonnegative": True}, np.array([NAN, 0.2]), None),
    (np.array([0.5, 2.0]), {"range": [0, 1]}, np.array([NAN, 0.2]), "leaves [0, 1]"),
    (np.ones((2, 2)), {"sum": {"value": 2.0, "axis": 5}}, None, "has no axis 5"),
    (np.array([1j, 2j]), {"nonnegative": True}, None, None),
    (np.str_("x"), {"nonnegative": True}, None, "not an array of numbers"),
    (ObjectInfo("x.Y", "r", ""), {"range": [0, 1]}, None, "not an array of numbers"),
])
def test_predicates_fail_on_nan_and_what_is_no_number(output: Any, predicates: dict, reference: Any,
                                                      needle: str | None) -> None:
    found = cv.predicate_failure(output, predicates, Tolerance(rel=1e-6), reference)
    assert (found is None) if needle is None else (found is not None and needle in found), found


@pytest.mark.parametrize("ops", ["same", {"scale": 2}])
@pytest.mark.parametrize("value", [np.str_("x"), np.array(["a"]), ObjectInfo("x.Y"), [1, "a"]])
def test_transforms_refuse_values_that_are_no_numbers(ops: Any, value: Any) -> None:
    if ops == "same":
        assert cv.transform(value, ops) is value
        return
    with pytest.raises((TypeError, ValueError)):
        cv.transform(value, ops)


PROPERTIES = {
    **LAYER,
    "properties": [
        {"name": "homogeneous", "case": 0, "transform": {"X": {"scale": 2}, "b": {"scale": 2}}, "expect": {"scale": 2}},
        {"name": "unchanged", "case": 0, "transform": {"X": {"scale": 1}}, "expect": "same"},
        {"name": "nonnegative", "case": 2, "output": {"nonnegative": True, "range": [0, 1000]}},
        {"name": "rows", "case": 0, "check": {"solution": "one_row_per_point"}},
    ],
}


@pytest.mark.parametrize("source, passed, needle", [
    ("import numpy as np\ndef layer(X, W, b):\n    return np.full((len(X), W.shape[1]), np.nan)\n", 0,
     "contains NaN"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.full((len(X), W.shape[1]), np.inf)\n", 0, "inf"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.full((len(X), W.shape[1]), -np.inf)\n", 0, "-inf"),
    ("import numpy as np\ndef layer(X, W, b):\n    out = np.maximum(0, X @ W + b) + 1\n    out.flat[3] = np.nan\n"
     "    return out\n", 0, "contains NaN"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.str_('1')\n", 0, "numpy string"),
    # no values at all: every predicate of none is true, and none scaled is none
    ("import numpy as np\ndef layer(X, W, b):\n    return np.zeros(0)\n", 0, "got (0,)"),
    ("import numpy as np\ndef layer(X, W, b):\n    return np.zeros((len(X), 0))\n", 0, "got (4, 0)"),
], ids=["nan", "inf", "-inf", "one-nan", "np-str", "empty", "no-columns"])
def test_nan_and_infinity_pass_no_property(solutions_root: Path, tmp_path: Path, source: str, passed: int,
                                           needle: str) -> None:
    verdict = grade(solutions_root, tmp_path, source, PROPERTIES)
    assert sum(case.passed for case in verdict.cases) == passed, verdict.feedback
    assert verdict.status == "incorrect" and needle in verdict.feedback
    for case in verdict.cases[len(LAYER["cases"]):]:
        assert not case.passed and case.message, case


LOG_LAYER = {**LAYER, "cases": [*LAYER["cases"], {"name": "only", "args": {"X": {"randn": [5, 3]},
                                                                          "W": {"randn": [3, 2]}, "b": {"randn": [2]}},
                                                 "compare": False}],
             "properties": [{"name": "unchanged", "case": 0, "transform": {"X": {"scale": 1}}, "expect": "same"},
                            {"name": "shaped", "case": 0, "output": {"shape": [4, 5]}}]}


@pytest.mark.parametrize("body, status", [
    ("    with np.errstate(divide='ignore'):\n        return np.log(np.maximum(0.0, X @ W + b))\n", "correct"),
    ("    out = np.log(np.maximum(1e-300, X @ W + b))\n    return out\n", "partial"),
    ("    with np.errstate(divide='ignore', invalid='ignore'):\n        out = np.log(np.maximum(0.0, X @ W + b))\n"
     "    out[np.isinf(out)] = np.nan\n    return out\n", "incorrect"),
], ids=["same-places", "finite-instead", "nan-instead-of-inf"])
def test_nonfinite_outputs_pass_where_the_reference_has_them(solutions_root: Path, tmp_path: Path, body: str,
                                                             status: str) -> None:
    source = "import numpy as np\ndef layer(X, W, b):\n" + body
    verdict = grade(solutions_root, tmp_path, source, LOG_LAYER, "log_relu")
    assert verdict.status == status, verdict.feedback


def test_summaries_are_short() -> None:
    assert cv.summarize(np.arange(4.0)).startswith("array(shape (4,), float64) [0., 1., 2., 3.]")
    big = cv.summarize(np.arange(1000.0))
    assert "min 0, max 999" in big and len(big) < 200


# ----------------------------------------------------------------------------- the real specs


@pytest.fixture(scope="module")
def course() -> Any:
    return api.load([ROOT / "exercises" / "inf5860"])


@pytest.mark.parametrize("exercise_id, question_id", [
    ("ex03", "e"), ("ex03", "f"), ("ex03", "h"), ("ex06", "4"), ("ex02", "predict"), ("ex05", "image_gradients"),
    ("ex05", "normalised_gradients"), ("ex06", "conv_output_shape"), ("ex08", "iou"), ("ex09", "occlusion_map"),
    ("ex09", "saliency"), ("ex12", "pca")])
def test_inf5860_references_prove(course: Any, exercise_id: str, question_id: str) -> None:
    exercise = course.exercise(exercise_id)
    q = exercise.question(question_id)
    assert q is not None and q.kind == "code"
    expected = engine.expected_for(course, exercise, q, {})
    assert KIND.prove(q, expected.value) == []


def test_prove_finds_a_mistake_equal_to_the_answer(solutions_root: Path) -> None:
    q = question(LAYER, "relu_layer", (Mistake(ValueSource(solution="relu_layer"), "same"),))
    problems = KIND.prove(q, Reference(solutions_root, "course.t", "relu_layer"))
    assert problems == ["mistakes[0] passes every case, so it can never be reached"]


INF5860_STUDENTS = {
    ("ex03", "e"): [("import numpy as np\ndef hidden_layer(X, W1, b1):\n    return np.maximum(0, X @ W1 + b1)\n",
                     "correct", None),
                    ("def hidden_layer(X, W1, b1):\n    return X @ W1 + b1\n", "partial", 0)],
    ("ex03", "f"): [("import numpy as np\ndef maxnorm(W, c):\n    n = np.linalg.norm(W, axis=0)\n"
                     "    return W * np.minimum(1, c / np.maximum(n, 1e-12))\n", "correct", None),
                    ("import numpy as np\ndef maxnorm(W, c):\n    n = np.linalg.norm(W, axis=1, keepdims=True)\n"
                     "    return W * np.minimum(1, c / np.maximum(n, 1e-12))\n", "partial", 0)],
    ("ex03", "h"): [("def momentum_step(x, v, dx, lr, mu):\n    v = mu * v - lr * dx\n    return x + v, v\n",
                     "correct", None),
                    ("def momentum_step(x, v, dx, lr, mu):\n    v = mu * v + lr * dx\n    return x + v, v\n",
                     "incorrect", 0)],
    ("ex06", "4"): [("import torch\ndef blur_kernel(channels, size):\n    w = torch.zeros(channels, channels, size, size)\n"
                     "    for c in range(channels):\n        w[c, c] = 1 / size**2\n    return w\n", "correct", None),
                    ("import torch\ndef blur_kernel(channels, size):\n"
                     "    return torch.full((channels, channels, size, size), 1 / size**2)\n", "partial", 0)],
}


@pytest.mark.parametrize("key", list(INF5860_STUDENTS), ids=lambda k: ".".join(k))
def test_inf5860_code_questions(course: Any, tmp_path: Path, key: tuple[str, str]) -> None:
    exercise = course.exercise(key[0])
    q = exercise.question(key[1])
    expected = engine.expected_for(course, exercise, q, {})
    for index, (source, status, mistake) in enumerate(INF5860_STUDENTS[key]):
        folder = tmp_path / f"s{index}"
        folder.mkdir()
        module = folder / f"{key[0]}.py"
        module.write_text(source)
        verdict = engine.judge(q, CodeAnswer(folder, module, f"s{index}", key[0]), expected)
        assert (verdict.status, verdict.mistake) == (status, mistake), verdict.feedback


def test_release_and_self_check_use_the_visible_cases(course: Any, tmp_path: Path) -> None:
    """`grader release` ships the visible cases; `grader check` runs them through check_visible."""
    exercise = course.exercise("ex03")
    q = exercise.question("e")
    reference = engine.expected_for(course, exercise, q, {}).value
    cases = KIND.visible_cases(q, reference)
    assert [c["name"] for c in cases] == [c.name for c in q.options.cases if not c.hidden]
    assert cases[0]["arg_names"] == ["X", "W1", "b1"]
    public = KIND.load_options({"function": "hidden_layer", "returns": "numpy", "file": "ex03.py",
                                "checks": "checks/ex03.e.json"})
    assert public.cases == ()
    visible = Question(id="e", kind="code", points=2, prompt="", answer=None, options=public)
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / "ex03.py").write_text("def hidden_layer(X, W1, b1):\n    return X @ W1 + b1\n")
    verdict = KIND.check_visible(visible, CodeAnswer(folder, folder / "ex03.py", "s1", "ex03"), cases)
    assert verdict.status == "partial" and "hidden_layer(X=array(shape (4, 3)" in verdict.feedback
    assert "def hidden_layer(X, W1, b1):" in KIND.stub(q)


def test_the_reference_runs_once_per_question_and_variant(solutions_root: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every student of a variant is compared with the same reference outputs, computed once
    per course; a caller that changes its copy does not change the next student's."""
    from grader.kinds.code import run as code_run

    computed: list[int] = []
    real = code_run._compute_reference_outputs
    monkeypatch.setattr(code_run, "_compute_reference_outputs",
                        lambda reference, calls: computed.append(len(calls)) or real(reference, calls))
    reference = Reference(solutions_root, "course.t", "relu_layer", memo=Memo())
    q = question(LAYER, "relu_layer")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = KIND.check(q, KIND.parse(answer(tmp_path / "a", CORRECT), q), reference)
    inputs = code_run.all_calls(q.options, code_run.build_inputs(q.options, reference.params))
    code_run.reference_outputs(reference, inputs)[0][:] = 99.0  # a caller scribbling on its copy
    second = KIND.check(q, KIND.parse(answer(tmp_path / "b", CORRECT), q), reference)
    assert first.status == second.status == "correct" and len(computed) == 1
    other = Reference(solutions_root, "course.t", "relu_layer", params={"seed": 7}, memo=reference.memo)
    code_run.reference_outputs(other, [[np.ones((1, 3)), np.ones((3, 2)), np.zeros(2)]])
    assert len(computed) == 2  # other calls: computed afresh
