"""Decoys: `grader validate` grades standard wrong versions of each code question's
reference in the sandbox, as a student's code, and fails a question one of them earns half
the points of. Tiny courses in tmp_path, the real CLI in a subprocess, and the sheet."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader import api
from grader.authoring import variants
from grader.core.errors import SpecError
from grader.core.model import CodeAnswer
from grader.grading import engine
from grader.kinds.code import decoys
from grader.kinds.code import run as code_run
from grader.kinds.code.options import Case
from tests.conftest import EXERCISES, run_grader

SOLUTIONS = '''
import math

import numpy as np


def relu(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def out_size(n, k, s):
    return (n - k) // s + 1


def unused(n):
    return math.floor(n / 2) + sum(range(n))
'''


def course(tmp_path: Path, relu_cases: str, extra: str = "", size_cases: str | None = None) -> Path:
    """A one-exercise course: relu(x) with the given cases (and out_size(n, k, s) if asked)."""
    (tmp_path / "solutions" / "tiny").mkdir(parents=True, exist_ok=True)
    (tmp_path / "solutions" / "tiny" / "ex01.py").write_text(SOLUTIONS)
    spec = tmp_path / "exercises" / "ex01.yaml"
    spec.parent.mkdir(exist_ok=True)
    text = ("id: ex01\ntitle: Tiny\nsolutions: tiny.ex01\nquestions:\n"
            "  - id: relu\n    kind: code\n    points: 2\n    function: relu\n    answer: {solution: relu}\n"
            "    returns: numpy\n" + textwrap.indent(extra, "    ") + "    cases:\n" + textwrap.indent(relu_cases, "      "))
    if size_cases is not None:
        text += ("  - id: size\n    kind: code\n    points: 1\n    function: out_size\n"
                 "    answer: {solution: out_size}\n    returns: any\n    tolerance: {abs: 0}\n    cases:\n"
                 + textwrap.indent(size_cases, "      "))
    spec.write_text(text)
    return spec


WEAK = "- name: positive values\n  args: {x: {array: [1.0, 2.0]}}\n"
FIXED = WEAK + "- name: negative values become 0\n  args: {x: {array: [-1.0, 2.0, 3.0]}}\n  weight: 2\n"


def test_a_weak_case_lets_a_decoy_through_and_validate_names_it(tmp_path: Path) -> None:
    spec = course(tmp_path, WEAK)
    done = run_grader("validate", str(spec))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{spec}:5: (questions[0]) ex01.relu: decoy first_argument (the first argument handed back) earns 100%" \
        in done.stdout + done.stderr
    assert "the checks that let it through: positive values" in done.stdout + done.stderr
    assert "negated" not in done.stdout + done.stderr  # decoys the case tells apart are not listed


def test_the_fixed_course_validates(tmp_path: Path) -> None:
    done = run_grader("validate", str(course(tmp_path, FIXED)))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_marked_equivalent_is_accepted(tmp_path: Path) -> None:
    extra = "equivalent_decoys:\n  first_argument: every input is positive, where relu is the identity\n"
    api.validate([course(tmp_path, WEAK, extra)])


@pytest.mark.parametrize("extra, says, line", [
    ("equivalent_decoys:\n  first_argumnet: why\n", "no decoy is named 'first_argumnet' (did you mean 'first_argument'?)", 12),
    ("equivalent_decoys:\n  negated: ''\n", "say why negated is right for this question", 12),
    ("equivalent_decoys: [negated]\n", "equivalent_decoys maps decoy names to the reason", 11),
])
def test_a_malformed_equivalent_is_a_spec_error_with_file_and_line(tmp_path: Path, extra: str, says: str,
                                                                   line: int) -> None:
    spec = course(tmp_path, FIXED, extra)
    with pytest.raises(SpecError) as caught:
        api.load([spec])
    shown = str(caught.value)
    assert says in shown and f"{spec}:{line}:" in shown, shown


def test_a_source_decoy_ceil_division_gets_through_cases_that_divide_exactly(tmp_path: Path) -> None:
    exact = "- {name: exact, args: {n: 7, k: 3, s: 2}}\n- {name: exact again, args: {n: 9, k: 3, s: 3}}\n"
    with pytest.raises(SpecError) as caught:
        api.validate([course(tmp_path, FIXED, size_cases=exact)])
    shown = str(caught.value)
    assert "ex01.size: decoy ceil_division" in shown and "exact; exact again" in shown
    assert "floor_ceil" not in shown and "range_short" not in shown  # only in a function size never reaches
    rounding = exact + "- {name: rounds down, args: {n: 8, k: 3, s: 2}, weight: 2}\n"
    api.validate([course(tmp_path, FIXED, size_cases=rounding)])


def test_a_known_mistake_that_keeps_half_the_points_fails_unless_its_credit_says_so(tmp_path: Path) -> None:
    extra = ("equivalent_decoys: {first_argument: positive inputs}\n"
             "mistakes:\n  - {answer: {solution: relu_abs}, feedback: not abs}\n")
    positives = ("- {name: more positives, args: {x: {array: [4.0, 5.0, 0.5]}}, weight: 1}\n"
                 "- {args: {x: {array: [7.0, 8.0]}}, weight: 1}\n")
    spec = course(tmp_path, FIXED + positives, extra)
    module = spec.parents[1] / "solutions" / "tiny" / "ex01.py"
    module.write_text(SOLUTIONS + "\n\ndef relu_abs(x):\n    return np.abs(np.asarray(x, dtype=float))\n")
    with pytest.raises(SpecError) as caught:
        api.validate([spec])
    assert "the known mistake mistakes[0] (relu_abs) earns 56%" in str(caught.value)
    spec.write_text(spec.read_text().replace("feedback: not abs}", "feedback: not abs, credit: 0.6}"))
    api.validate([spec])


# --- the decoys themselves ----------------------------------------------------------------------

SPOILED = [
    ("negated", np.array([1.0, -2.0]), np.array([-1.0, 2.0])),
    ("transposed", np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3).T),
    ("transposed", np.arange(3.0), None),  # a vector has no second axis
    ("axes_swapped", np.zeros((2, 3)), None),
    ("axes_swapped", np.zeros((2, 3, 4)), np.zeros((3, 2, 4))),
    ("reversed", np.array([[1.0], [2.0]]), np.array([[2.0], [1.0]])),
    ("reversed", (3, 4, 5), (5, 4, 3)),
    ("plus_one", (3, 4), (4, 5)),
    ("zeros", 0.5, 0.0),
    ("constant", np.array([True, False]), np.array([True, True])),
    ("negated", np.array([True, False]), np.array([False, True])),
    ("float32", np.array([1 / 3]), np.array([1 / 3], dtype=np.float32)),
    ("float32", np.array([1, 2]), None),  # integers have nothing to round
    ("nan", np.array([1, 2]), None),
    ("nan", 1.5, float("nan")),
    ("plus_one", "text", None),
]


@pytest.mark.parametrize("name, out, expected", SPOILED)
def test_spoil_applies_each_output_decoy_or_says_it_does_not_apply(name: str, out: object, expected: object) -> None:
    got = decoys.spoil(name, out)
    if expected is None:
        assert got is None
    else:
        assert np.shape(got) == np.shape(expected)
        assert np.asarray(got).dtype == np.asarray(expected).dtype or not isinstance(expected, np.ndarray)
        np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(expected, dtype=float))


def test_spoil_handles_torch_tensors() -> None:
    import torch

    out = torch.arange(6, dtype=torch.float64).reshape(1, 2, 3)
    assert decoys.spoil("transposed", out).shape == (1, 3, 2)
    assert decoys.spoil("axes_swapped", out).shape == (2, 1, 3)
    assert decoys.spoil("float32", out).dtype == torch.float32
    assert decoys.spoil("plus_one", torch.tensor([True])) is None


MUTATED = [
    ("floor_ceil", "import math\ndef f(x):\n    return math.floor(x)\n", "math.ceil(x)"),
    ("floor_ceil", "import numpy as np\ndef f(x):\n    return np.ceil(x)\n", "np.floor(x)"),
    ("ceil_division", "def f(a, b):\n    return (a + 1) // b\n", "-(-(a + 1) // b)"),
    ("ceil_division", "def f(a, b):\n    a //= b\n    return a\n", "a = -(-a // b)"),
    ("range_short", "def f(n):\n    return list(range(n))\n", "range(n - 1)"),
    ("range_short", "def f(n):\n    return list(range(2, n, 3))\n", "range(2, n - 1, 3)"),
    ("range_short", "def g(n):\n    return range(n)\ndef f(n):\n    return list(g(n))\n", "range(n - 1)"),
]


@pytest.mark.parametrize("name, source, changed", MUTATED)
def test_a_source_decoy_changes_what_the_reference_reaches(name: str, source: str, changed: str) -> None:
    tree = ast.parse(source)
    assert decoys.mutate(tree, "f", name) == 1
    assert changed in ast.unparse(tree)


def test_a_source_decoy_leaves_functions_the_reference_never_reaches() -> None:
    tree = ast.parse("import math\ndef other(x):\n    return math.floor(x)\ndef f(x):\n    return x\n")
    assert decoys.mutate(tree, "f", "floor_ceil") == 0


def test_the_decoy_module_keeps_the_references_own_function_of_the_students_name() -> None:
    """ex02's reference predict_labels calls a module function named predict, the name the
    student's function has: the decoy must not replace the function the reference calls."""
    source = "def predict(x):\n    return x + 1\n\ndef predict_labels(x):\n    return predict(x) * 2\n"
    namespace: dict = {}
    exec(decoys._module(source, "predict_labels", "predict") or "", namespace)
    assert namespace["predict"](1) == 4


# --- case weights ---------------------------------------------------------------------------------

WEIGHTS = [
    (Case("c", (), (), weight=3.0), [], np.zeros(3), 3.0),
    (Case("c", (), ()), [], np.zeros(3), 0.5),          # all zeros: trivial
    (Case("c", (), ()), [], np.ones((2, 2)), 0.5),      # all ones: trivial
    (Case("c", (), ()), [np.array([1.0, 2.0])], np.array([1.0, 2.0]), 0.5),  # an argument handed back
    (Case("c", (), ()), [np.array([1.0, 2.0])], np.array([0.0, 2.0]), 1.0),
    (Case("c", (), ()), [3, 2], (1, 5), 1.0),
    (Case("c", (), (), compare=False), [], np.array([0.3]), 0.0),  # only feeds the properties
]


@pytest.mark.parametrize("case, args, expected, weight", WEIGHTS)
def test_a_case_weighs_by_what_it_checks_unless_the_spec_says(case: Case, args: list, expected: object,
                                                              weight: float) -> None:
    assert code_run.case_weight(case, args, expected) == weight


# --- the sheet --------------------------------------------------------------------------------------

PER_PIXEL = '''
import numpy as np


def normalised_gradients(image):
    g = np.stack(np.gradient(np.asarray(image, dtype=float)))
    return g / (np.sqrt(np.sum(g**2, axis=0)) + 1e-8)
'''


def test_the_sheet_tells_per_pixel_normalisation_from_the_right_answer(tmp_path: Path) -> None:
    loaded = api.load([EXERCISES])
    exercise = next(e for e in loaded.exercises if e.id == "ex05")
    question = next(q for q in exercise.questions if q.id == "normalised_gradients")
    params = variants.resolve(exercise.params, "s1", exercise.id)
    reference = engine.expected_for(loaded, exercise, question, params).value
    (tmp_path / "ex05.py").write_text(PER_PIXEL)
    answer = CodeAnswer(tmp_path, tmp_path / "ex05.py", "s1", "ex05")
    verdict = code_run.check(question, answer, reference)
    assert verdict.fraction < decoys.PASS_MARK, verdict.feedback
    assert "one magnitude for the whole image" in verdict.feedback
