"""The `symbolic` kind through the registry contract (Question objects built here)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sympy

from grader.core import registry
from grader.core.model import Invalid, Question
from tests.conftest import ROOT

KIND = registry.get("symbolic")
LOSS = "1/6 ((w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2)"


def question(**options: object) -> Question:
    raw = {"id": "a", "kind": "symbolic", "points": 1, "prompt": "", **options}
    return Question("a", "symbolic", 1, "", None, KIND.load_options(raw))


LOSS_Q = question(symbols={"w": "real", "b": "real"})
SIGMOID_Q = question(symbols=["x"])


def grade(q: Question, raw: object, reference: object) -> tuple[str, float, str]:
    value = KIND.parse(raw, q)
    if isinstance(value, Invalid):
        return "invalid", 0.0, value.message
    verdict = KIND.check(q, value, KIND.parse_reference(reference, q))
    return verdict.status, verdict.fraction, verdict.feedback


def test_registered_with_the_contract() -> None:
    assert KIND.name == "symbolic" and KIND.answer_source == "answers"
    assert KIND.calls_reference and KIND.supports_mistakes
    assert set(KIND.option_keys) >= {"symbols", "functions", "form", "tolerance"}


@pytest.mark.parametrize("answer, status", [
    (LOSS, "correct"),
    ("(1/6)((w+b-3/2)² + (2w+b-2)² + (3w+b-5/2)²)", "correct"),
    ("7/3 w^2 + 2wb + b^2/2 - 13/3 w - 2b + 25/12", "correct"),
    ("1/(2*3) * ((1w + b - 1.5)**2 + (2*w + b - 2)**2 + (3*w + b - 2.5)**2)", "correct"),
    ("(w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2", "incorrect"),
    ("1/6 ((w + b - 1.5)^2 + (2w + b - 2)^2)", "incorrect"),
    ("1/6 ((w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2", "invalid"),
    ("1/6 ((w + c - 1.5)^2)", "invalid"),
    ("__import__('os').system('true')", "invalid"),
    ("9**9**9**9", "invalid"),
    ("x" * 100_000, "invalid"),
    (["w", "b"], "invalid"),
])
def test_loss_answers(answer: object, status: str) -> None:
    assert grade(LOSS_Q, answer, LOSS)[0] == status


@pytest.mark.parametrize("answer, status", [
    ("σ(x)(1 − σ(x))", "correct"),
    ("sigmoid(x) * (1 - sigmoid(x))", "correct"),
    ("exp(−x)/(1 + exp(−x))²", "correct"),
    ("e^(-x) / (1 + e^(-x))^2", "correct"),
    ("exp(x)/(1 + exp(x))^2", "correct"),
    ("1/(4 cosh(x/2)^2)", "correct"),
    ("σ(x)", "incorrect"),
    ("-σ(x)(1 - σ(x))", "incorrect"),
])
def test_sigmoid_gradient(answer: str, status: str) -> None:
    assert grade(SIGMOID_Q, answer, "exp(-x)/(1 + exp(-x))^2")[0] == status


def test_reference_from_solution_code_gets_the_declared_domains() -> None:
    w, b = sympy.symbols("w b")  # plain symbols, as solution code writes them
    reference = KIND.parse_reference((w + b - sympy.Rational(3, 2)) ** 2, LOSS_Q)
    assert all(s.is_real for s in reference.free_symbols)
    assert grade(LOSS_Q, "(w + b - 1.5)^2", (w + b - sympy.Rational(3, 2)) ** 2)[0] == "correct"


@pytest.mark.parametrize("reference", [sympy.Symbol("z") + 1, "z + 1", [1, 2], sympy.Eq(sympy.Symbol("w"), 1)])
def test_unusable_references_are_refused(reference: object) -> None:
    with pytest.raises(ValueError):
        KIND.parse_reference(reference, LOSS_Q)


def test_wrong_answers_get_teaching_feedback() -> None:
    status, _, feedback = grade(LOSS_Q, "(w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2", LOSS)
    assert status == "incorrect" and "6 times" in feedback and "1/(2m)" in feedback
    _, _, feedback = grade(LOSS_Q, "-(14/3 w + 2b - 13/3)", "14/3 w + 2b - 13/3")
    assert "sign" in feedback
    _, _, feedback = grade(LOSS_Q, "w^2 + 5", "w^2 + 2")
    assert "additive constant (3)" in feedback
    assert "Your answer, as read: w^2 + 5" in feedback


def test_known_mistake_matches_through_the_contract() -> None:
    # The engine tries check(question, value, parse_reference(mistake)) == correct.
    value = KIND.parse("(w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2", LOSS_Q)
    mistake = KIND.parse_reference("(w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2", LOSS_Q)
    assert KIND.check(LOSS_Q, value, mistake).status == "correct"


def test_verdict_details_show_the_answer_as_read() -> None:
    value = KIND.parse("σ(x)(1 − σ(x))", SIGMOID_Q)
    verdict = KIND.check(SIGMOID_Q, value, KIND.parse_reference("exp(-x)/(1+exp(-x))^2", SIGMOID_Q))
    assert verdict.details["answer_text"] == "(-σ(x) + 1)*σ(x)"
    assert r"\sigma\left(x\right)" in verdict.details["answer_latex"]
    assert verdict.details["method"] == "numeric"


@pytest.mark.parametrize("form, answer, status, fraction", [
    ("expanded", "x^2 + 2x + 1", "correct", 1.0),
    ("expanded", "(x + 1)^2", "partial", 0.5),
    ("factored", "(x + 1)^2", "correct", 1.0),
    ("factored", "x^2 + 2x + 1", "partial", 0.5),
    ("no_derivatives", "diff(x^3/3 + x^2 + x, x)", "partial", 0.5),
    ("no_derivatives", "x^2 + 2x + 1", "correct", 1.0),
])
def test_forms_give_partial_credit(form: str, answer: str, status: str, fraction: float) -> None:
    q = question(symbols=["x"], form=form)
    got_status, got_fraction, feedback = grade(q, answer, "x^2 + 2x + 1")
    assert (got_status, got_fraction) == (status, fraction)
    if status == "partial":
        assert "value is right" in feedback


def test_form_credit_zero_makes_wrong_form_incorrect() -> None:
    q = question(symbols=["x"], form=["expanded"], form_credit=0)
    assert grade(q, "(x + 1)^2", "x^2 + 2x + 1")[:2] == ("incorrect", 0.0)


def test_tolerance_option() -> None:
    q = question(symbols=["w"], tolerance={"rel": 1e-3})
    assert grade(q, "0.3333 w", "w/3")[0] == "correct"
    assert grade(LOSS_Q, "0.3333 w", "w/3")[0] == "incorrect"


def test_functions_option() -> None:
    q = question(symbols=["x"], functions=["f"])
    assert grade(q, "diff(f(x)^2, x)", "2 f(x) diff(f(x), x)")[0] == "correct"
    assert grade(SIGMOID_Q, "f(x)", "x")[0] == "invalid"


def test_undecided_goes_to_review() -> None:
    q = question(symbols=["x"], time_limit=0.001)
    assert grade(q, "Integral(exp(-x^2) x, x)", "-exp(-x^2)/2")[0] == "review"


@pytest.mark.parametrize("options, key", [
    ({"symbols": {"w": "imaginary"}}, "symbols.w"),
    ({"symbols": {"w w": "real"}}, "symbols.w w"),
    ({"symbols": "w"}, "symbols"),
    ({"form": "pretty"}, "form"),
    ({"form_credit": 2}, "form_credit"),
    ({"tolerance": {"rel": -1}}, "tolerance.rel"),
    ({"tolerance": {"sigfigs": 3}}, "tolerance"),
    ({"functions": "f"}, "functions"),
    ({"time_limit": 100}, "time_limit"),
])
def test_bad_options_name_their_key(options: dict, key: str) -> None:
    with pytest.raises(registry.OptionError) as caught:
        KIND.load_options(options)
    assert caught.value.key == key


def test_show_parses_back() -> None:
    value = KIND.parse(LOSS, LOSS_Q)
    shown = KIND.show(value, LOSS_Q)
    assert KIND.check(LOSS_Q, KIND.parse(shown, LOSS_Q), value).status == "correct"


@pytest.mark.parametrize("first, second", [
    (sympy.Add(sympy.Symbol("x"), 1, evaluate=False), sympy.Add(1, sympy.Symbol("x"), evaluate=False)),
    (sympy.Float(0.1, 15), sympy.Float(0.1, 30)),
    (sympy.Symbol("x") + 1, sympy.Symbol("x", positive=True) + 1),
])
def test_display_cache_keeps_apart_what_prints_differently(first: sympy.Expr, second: sympy.Expr) -> None:
    """display keeps printed text by expression: structurally different ones must not share it."""
    from grader.symbolic import display

    for expr in (first, second, first):
        assert display.text(expr) == sympy.sstr(expr, order="grlex", full_prec=False).replace("**", "^")
        assert display.latex(expr) == sympy.latex(expr)


def test_hostile_answers_are_refused_quickly(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for text in (f"__import__('os').system('touch {marker}')", "().__class__.__mro__", "lambda: 0",
                 "9**9**9**9", "factorial(10**10)", "x" * 100_000, "(" * 10_000 + ")" * 10_000,
                 "(" * 200 + "x" + ")" * 200):
        start = time.process_time()  # CPU time: a busy machine stretches wall time, not this
        assert isinstance(KIND.parse(text, SIGMOID_Q), Invalid)
        assert time.process_time() - start < 0.5  # each well under 0.01 s
    assert not marker.exists()


def test_importing_the_kind_stays_light() -> None:
    import subprocess
    import sys

    # CPU time of the import, which a busy machine does not stretch as it does wall time
    code = ("import time, sympy; t = time.process_time(); import grader.kinds.symbolic.kind, "
            "grader.kinds.equation.kind; print(time.process_time() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert float(out.stdout) < 1.0


@pytest.mark.parametrize("answer, status", [
    ("J(w, b) = " + LOSS, "correct"),
    ("J = " + LOSS, "correct"),
    ("w = " + LOSS, "invalid"),
    ("J = (w + ", "invalid"),
    ("J = K = " + LOSS, "invalid"),
])
def test_a_label_before_the_formula_is_skipped(answer: str, status: str) -> None:
    assert grade(LOSS_Q, answer, LOSS)[0] == status


def test_errors_after_a_label_point_into_the_whole_answer() -> None:
    value = KIND.parse("J = w + $", LOSS_Q)
    assert isinstance(value, Invalid) and value.position == 8 and value.text == "J = w + $"


GENERAL_LOSS_Q = question(symbols={"w": "real", "b": "real", "m": "positive integer"}, indexed=["x", "y"])
GENERAL_LOSS = "1/(2m) sum((w x_i + b - y_i)^2, i, 1, m)"


@pytest.mark.parametrize("answer, status", [
    (GENERAL_LOSS, "correct"),
    ("1/(2m) Sum((y_j - w x_j - b)^2, (j, 1, m))", "correct"),
    ("sum((w x_i + b - y_i)^2 / (2m), i, 1, m)", "correct"),
    ("1/m sum((w x_i + b - y_i)^2, i, 1, m)", "incorrect"),
    ("1/(2m) sum((w x_i + b - y_i)^2, i, 1, m - 1)", "incorrect"),
    ("1/(2m) sum((w x_i + b - y_i), i, 1, m)^2", "incorrect"),
    ("1/(2m) (w x + b - y)^2", "invalid"),
    ("1/(2m) sum((w x_k + b - y_i)^2, i, 1, m)", "invalid"),
])
def test_sums_over_data_arrays(answer: str, status: str) -> None:
    assert grade(GENERAL_LOSS_Q, answer, GENERAL_LOSS)[0] == status


def test_references_with_data_arrays_from_solution_code() -> None:
    x, y = sympy.IndexedBase("x"), sympy.IndexedBase("y")
    w, b, m, i = sympy.symbols("w b m i")
    loss = sympy.Sum((w * x[i] + b - y[i]) ** 2, (i, 1, m)) / (2 * m)
    gradient = sympy.diff(loss, w)
    assert grade(GENERAL_LOSS_Q, "1/m sum((w x_i + b - y_i) x_i, i, 1, m)", gradient)[0] == "correct"
    assert grade(GENERAL_LOSS_Q, "1/m sum(w x_i + b - y_i, i, 1, m)", gradient)[0] == "incorrect"
    with pytest.raises(ValueError, match="data array"):
        KIND.parse_reference(sympy.Sum(sympy.IndexedBase("z")[i], (i, 1, m)), GENERAL_LOSS_Q)


def test_inf5860_references_match_the_numeric_answers() -> None:
    """The symbolic references of ex01 agree with the errata: J(0,0) = 12.5/6, ∇J(0,0) = (-13/3, -2)."""
    from grader.authoring import solutions
    from grader.authoring.spec import load_course

    course = load_course([ROOT / "exercises" / "inf5860"])
    exercise = course.exercise("ex01")
    values = {}
    for qid in ("a", "dJdw", "dJdb"):
        q = exercise.question(qid)
        fn = solutions.function(course.solutions_root, exercise.solutions, q.answer.solution)
        expr = KIND.parse_reference(solutions.call(fn, exercise.params), q)
        values[qid] = expr.subs({s: 0 for s in expr.free_symbols})
    assert values == {"a": sympy.Rational(25, 12), "dJdw": sympy.Rational(-13, 3), "dJdb": -2}
