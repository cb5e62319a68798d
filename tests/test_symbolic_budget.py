"""Hostile formulas: each gets its verdict within the answer's budget, and nothing else is touched.

The attacks of the review (ex01.a: `diff(w^w^w^w^w^w^w^w, w, 6)` ran for 68 s, ten nested
`diff(..., w, 6)` for 104 s, `1e308*1e308*w` was a grader fault) and variations on them,
graded through the engine as `grader grade` does. Time bounds are generous (five times the
budget): they tell a bounded answer from a hang, not a fast machine from a slow one.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.authoring import variants
from grader.authoring.spec import load_course
from grader.core import budget, registry
from grader.core.model import Course, Question
from grader.core.results import QuestionResult
from grader.grading import engine
from grader.intake.submission import Submission
from grader.kinds.equation import kind as equation_kind
from grader.kinds.symbolic import kind as symbolic_kind
from tests.conftest import EXERCISES, run_grader

DEFAULT = symbolic_kind.DEFAULT_BUDGET
TOO_COSTLY = "too costly to check automatically; a teacher will look at it"
UNDECIDED = "could not decide in time"
LOSS = "7/3 w^2 + 2wb + b^2/2 - 13/3 w - 2b + 25/12"
TEN_NESTED = "diff(" * 10 + "w^3" + ", w, 6)" * 10
THREE_TOWERS = "diff(w^w^w^w, w, 6) + diff(b^b^b^b, b, 6) + diff(w^b^w^b, w, 3, b, 3)"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course([EXERCISES])


def grade(course: Course, qid: str, answer: Any, student: str = "s900001") -> tuple[QuestionResult, float]:
    """One answer graded as the engine grades it, and the seconds it took."""
    exercise_id, question_id = qid.split(".")
    exercise = course.exercise(exercise_id)
    assert exercise is not None
    question = exercise.question(question_id)
    assert question is not None
    params = variants.resolve(exercise.params, student, exercise_id)
    submission = Submission(student, Path("."), {exercise_id: {question_id: answer}})
    start = time.monotonic()
    result = engine.grade_question(course, exercise, question, submission, params)
    return result, time.monotonic() - start


def assert_nothing_left_open() -> None:
    """An overrun leaves no budget open and no timer running for the next question."""
    assert budget.current() is None
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# question, answer, status, a phrase of the feedback
ATTACKS = [
    # the review's attacks
    ("ex01.a", "diff(w^w^w^w^w^w^w^w, w, 6)", "invalid", "tower of powers"),
    ("ex01.a", TEN_NESTED, "invalid", "nested in each other may have at most order 6"),
    ("ex01.a", "1e308*1e308*w", "invalid", "too large (beyond 1.8e308)"),
    # exponent towers
    ("ex01.a", "w^w^w^w^w", "invalid", "tower of powers"),
    ("ex01.a", "exp(exp(exp(exp(w))))", "invalid", "tower of powers"),
    ("ex01.dJdw", "b^(w^(b^(w^b)))", "invalid", "tower of powers"),
    ("ex01.a", "diff(w^w^w^w, w, 6)", "incorrect", "Not equivalent"),  # the highest allowed: numerically
    # nested and repeated derivatives
    ("ex01.dJdw", "diff(diff(w^3, w, 4), w, 4)", "invalid", "nested in each other"),
    ("ex01.dJdw", "diff(sin(diff(w^3 b, w, 3)), w, 4)", "invalid", "nested in each other"),
    ("ex01.dJdw", "diff(w^2 b^2, w, w, b, b) + " * 5 + "w", "invalid", "at most order 18 added up"),
    ("ex01.dJdw", "diff(" + LOSS + ", w)", "correct", "Correct"),
    # sums
    ("ex01.a", "sum(sum(w^i b^j, i, 1, 1000), j, 1, 1000)", "invalid", "at most 10000 terms"),
    ("ex01.a", "sum(w^i, i, 1, 10^9)", "invalid", "at most 10000"),
    ("ex01.a", "sum(w^i, i, 1, 10000)", "review", UNDECIDED),
    # big numbers
    ("ex01.a", "factorial(1000) w", "invalid", "more than 2000 digits"),
    ("ex01.a", "factorial(factorial(7)) w", "invalid", "factorial of a number larger than 1000"),
    ("ex01.a", "(((3!)!)!)! w", "invalid", "factorial of a number larger than 1000"),
    ("ex01.a", "((3!)!)! w", "incorrect", "Not equivalent"),  # 720! has 1747 digits: allowed
    ("ex01.a", "2^10^5 w", "invalid", "exponent is too large"),
    ("ex01.a", "(10^1000)^3 w", "invalid", "more than 2000 digits"),
    ("ex01.a", "1e300 w^2 * 1e300", "invalid", "too large (beyond 1.8e308)"),
    ("ex01.a", "exp(800.0) w", "invalid", "too large (beyond 1.8e308)"),
    ("ex01.a", "10^1999 w", "incorrect", "Not equivalent"),
    ("ex01.a", "1e-300*1e-300*w", "incorrect", "Not equivalent"),
    ("ex01.a", "(w + b)^10000 - (w + b)^10000 + " + LOSS, "correct", "Correct"),
    ("ex01.a", "(w + b)^10000", "incorrect", "Not equivalent"),
    # deep parentheses, long inputs
    ("ex01.a", "(" * 100 + "w" + ")" * 100, "invalid", "nested too deeply"),
    ("ex01.a", "-" * 100 + "w", "invalid", "nested too deeply"),
    ("ex01.a", "sqrt(" * 70 + "w" + ")" * 70, "invalid", "nested too deeply"),
    ("ex01.a", "w+" * 1000 + "w", "invalid", "too long"),
    ("ex01.a", "w" * 3000, "invalid", "too long"),
    # what only the CAS could decide, in a child given what is left of the budget
    ("ex01.a", "Integral(exp(w^2) sin(w)^7 b, w)", "review", UNDECIDED),
    # the other formula kinds
    ("ex03.sigmoid_grad", "diff(x^x^x^x^x, x, 6)", "invalid", "tower of powers"),
    ("ex03.sigmoid_grad", "1e308*1e308*x", "invalid", "too large (beyond 1.8e308)"),
    ("ex02.a", "x^x^x^x^x = 1", "invalid", "tower of powers"),
    ("ex02.a", "1e308*1e308*x = 0", "invalid", "too large (beyond 1.8e308)"),
    ("ex02.a", TEN_NESTED.replace("w", "x") + " = 0", "invalid", "nested in each other"),
]


@pytest.mark.slow
@pytest.mark.parametrize("qid, answer, status, phrase", ATTACKS)
def test_each_attack_gets_its_verdict_within_the_budget(course: Course, qid: str, answer: str, status: str,
                                                         phrase: str) -> None:
    result, seconds = grade(course, qid, answer)
    assert (result.status, phrase in result.feedback) == (status, True), result.feedback
    assert seconds < 5 * DEFAULT
    assert_nothing_left_open()


SOUND = {"ex01.a": LOSS, "ex01.dJdw": "(14w + 6b - 13)/3", "ex01.dJdb": "b + 2w - 2", "ex01.e": "2.083",
         "ex02.a": "x = -1/2", "ex03.sigmoid_grad": "σ(x)(1 - σ(x))"}


def test_the_other_answers_of_the_student_are_graded_as_usual(course: Course) -> None:
    hostile = {"ex01.a": THREE_TOWERS, "ex01.dJdw": TEN_NESTED, "ex01.dJdb": "1e308*1e308*w",
               "ex02.a": "Integral(exp(x^2) sin(x)^7, x) = x"}
    for qid, answer in hostile.items():
        grade(course, qid, answer)
        for other, sound in SOUND.items():
            if other != qid:
                result, _ = grade(course, other, sound)
                assert result.status == "correct", (qid, other, result.feedback)
    assert_nothing_left_open()


TIGHT_SPEC = """\
id: tight
title: Formulas with a tight budget
questions:
  - id: loss
    kind: symbolic
    points: 1
    prompt: Write the loss.
    symbols: {w: real, b: real}
    answer: "7/3 w^2 + 2wb + b^2/2 - 13/3 w - 2b + 25/12"
    budget: 0.3
    mistakes:
      - answer: "7/3 w^2 + 2wb + b^2/2 - 13/3 w - 2b"
        feedback: The constant is missing.
  - id: boundary
    kind: equation
    points: 1
    prompt: Write the decision boundary.
    symbols: {x: real}
    answer: "2x + 1 = 0"
    budget: 0.3
"""


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Course:
    folder = tmp_path_factory.mktemp("tight")
    (folder / "tight.yaml").write_text(TIGHT_SPEC)
    return load_course([folder])


@pytest.mark.parametrize("qid, answer", [
    ("tight.loss", THREE_TOWERS),
    ("tight.boundary", "diff(x^x^x^x, x, 6) + diff(x^(2x)^x^x, x, 6) + diff(x^x^(3x)^x, x, 6) = 0"),
])
def test_past_the_budget_a_teacher_looks_at_it(tight: Course, qid: str, answer: str) -> None:
    result, seconds = grade(tight, qid, answer)
    assert result.status == "review" and result.score == 0
    assert TOO_COSTLY in result.feedback and "more than 0.3 s" in result.feedback
    assert result.answer == answer
    assert seconds < 5 * 0.3 + 2
    assert_nothing_left_open()


def test_the_budget_is_a_spec_option() -> None:
    kind = registry.get("symbolic")
    raw = {"symbols": ["w"]}
    assert kind.load_options(raw).budget == DEFAULT
    assert kind.load_options({**raw, "budget": 2}).budget == 2
    for bad in (0, -1, 1000, "5", True):
        with pytest.raises(registry.OptionError, match="budget"):
            kind.load_options({**raw, "budget": bad})
    assert "budget" in kind.public_keys and "budget" in registry.get("equation").public_keys


def test_a_check_called_on_its_own_keeps_to_the_budget() -> None:
    """`grader validate` and tests call check without the engine: the kind opens the budget."""
    kind = registry.get("symbolic")
    question = _question(kind, {"symbols": ["w", "b"], "budget": 0.3})
    value = kind.parse(THREE_TOWERS, question)
    start = time.monotonic()
    verdict = kind.check(question, value, kind.parse_reference(LOSS, question))
    assert verdict.status == "review" and TOO_COSTLY in verdict.feedback
    assert time.monotonic() - start < 5 * 0.3 + 2
    assert_nothing_left_open()


@pytest.mark.parametrize("fault, status, phrase", [
    (OverflowError("int too large to convert to float"), "invalid", "grows too large to compute with"),
    (RecursionError("maximum recursion depth exceeded"), "invalid", "nested too deeply"),
    (MemoryError(), "review", "too much memory"),
])
@pytest.mark.parametrize("kind_name", ["symbolic", "equation"])
def test_faults_of_arithmetic_are_told_not_raised(monkeypatch: pytest.MonkeyPatch, kind_name: str,
                                                   fault: BaseException, status: str, phrase: str) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise fault
    monkeypatch.setattr(symbolic_kind if kind_name == "symbolic" else equation_kind, "equivalent", failing)
    kind = registry.get(kind_name)
    question = _question(kind, {"symbols": ["x"]})
    reference = kind.parse_reference("2x + 1 = 0" if kind_name == "equation" else "x^2", question)
    verdict = kind.check(question, kind.parse("3x + 1 = 0" if kind_name == "equation" else "x^3", question),
                         reference)
    assert verdict.status == status and phrase in verdict.feedback


def _question(kind: Any, options: dict[str, Any]) -> Question:
    return Question("q", kind.name, 1, "", None, kind.load_options(options))


@pytest.mark.slow
def test_grading_a_class_with_four_hostile_formulas_ends(tmp_path: Path) -> None:
    student = tmp_path / "class" / "s900001"
    student.mkdir(parents=True)
    (student / "answers.yaml").write_text(yaml.safe_dump({"ex01": {
        "a": "diff(w^w^w^w^w^w^w^w, w, 6)",
        "dJdw": TEN_NESTED,
        "dJdb": "1e308*1e308*w",
        "e": "1e308*1e308",
    }, "ex03": {"sigmoid_grad": "Integral(exp(x^2) sin(x)^7, x)"}}))
    start = time.monotonic()
    done = run_grader("grade", str(EXERCISES), str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                      "--no-reports", "-q", timeout=180)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 180
    result = yaml.safe_load((tmp_path / "out" / "results" / "s900001.json").read_text())
    statuses = {q["id"]: q["status"] for q in result["questions"]}
    assert [statuses[q] for q in ("ex01.a", "ex01.dJdw", "ex01.dJdb", "ex01.e")] == ["invalid"] * 4
    assert statuses["ex03.sigmoid_grad"] == "review"
    assert "error" not in statuses.values()
