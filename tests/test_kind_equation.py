"""The `equation` kind through the registry contract (Question objects built here)."""

from __future__ import annotations

import pytest
import sympy

from grader.core import registry
from grader.core.model import Invalid, Question

KIND = registry.get("equation")


def question(**options: object) -> Question:
    return Question("a", "equation", 1, "", None, KIND.load_options(options))


BOUNDARY = question(symbols={"x": "real"}, allow_bare_value=True)
STRICT = question(symbols={"x": "real"})
PLANE = question(symbols={"x_1": "real", "x_2": "real"})


def grade(q: Question, raw: object, reference: object) -> str:
    value = KIND.parse(raw, q)
    if isinstance(value, Invalid):
        return "invalid"
    return KIND.check(q, value, KIND.parse_reference(reference, q)).status


@pytest.mark.parametrize("answer, status", [
    ("2x + 1 = 0", "correct"),
    ("x = -1/2", "correct"),
    ("-4x = 2", "correct"),
    ("2x = -1", "correct"),
    ("0 = 2x + 1", "correct"),
    ("x = -0.5", "correct"),
    ("-1/2", "correct"),
    (-0.5, "correct"),
    ("−0.5", "correct"),
    ("(2x + 1)^2 = 0", "correct"),
    ("σ(2x + 1) = 1/2", "correct"),
    ("x = 1/2", "incorrect"),
    ("2x = 1", "incorrect"),
    ("x^2 = 1/4", "incorrect"),
    ("x = x", "incorrect"),
    ("1/2", "incorrect"),
    ("2x + 1", "invalid"),
    ("2x + 1 = ", "invalid"),
    ("x = 1 = 2", "invalid"),
    ("y = 2", "invalid"),
    ("__import__('os') = 1", "invalid"),
])
def test_decision_boundary(answer: object, status: str) -> None:
    assert grade(BOUNDARY, answer, "2*x + 1 = 0") == status


def test_bare_value_needs_the_option() -> None:
    assert grade(STRICT, "-1/2", "2*x + 1 = 0") == "invalid"
    assert grade(STRICT, "x = -1/2", "2*x + 1 = 0") == "correct"


@pytest.mark.parametrize("answer, status", [
    ("2x_1 + x_2 + 1 = 0", "correct"),
    ("x_2 = -2x_1 - 1", "correct"),
    ("-6x_1 - 3x_2 = 3", "correct"),
    ("2x_1 + x_2 - 1 = 0", "incorrect"),
    ("x_2 = 2x_1 + 1", "incorrect"),
])
def test_boundary_in_the_plane(answer: str, status: str) -> None:
    assert grade(PLANE, answer, "2 x_1 + x_2 + 1 = 0") == status


@pytest.mark.parametrize("reference", ["2*x + 1 = 0", sympy.Eq(2 * sympy.Symbol("x") + 1, 0),
                                       (2 * sympy.Symbol("x") + 1, 0), ["2x", "-1"]])
def test_reference_shapes(reference: object) -> None:
    assert grade(BOUNDARY, "x = -1/2", reference) == "correct"


@pytest.mark.parametrize("reference", [3, "2x + 1", sympy.Eq(sympy.Symbol("z"), 1)])
def test_unusable_references(reference: object) -> None:
    with pytest.raises(ValueError):
        KIND.parse_reference(reference, STRICT)


def test_show_parses_back_and_details_hold_latex() -> None:
    value = KIND.parse("-4x = 2", BOUNDARY)
    shown = KIND.show(value, BOUNDARY)
    assert shown == "-4*x = 2"
    verdict = KIND.check(BOUNDARY, KIND.parse(shown, BOUNDARY), KIND.parse_reference("2x+1=0", BOUNDARY))
    assert verdict.status == "correct"
    assert verdict.details["answer_latex"] == "- 4 x = 2"


def test_known_mistake_matches() -> None:
    value = KIND.parse("2x = 1", BOUNDARY)
    mistake = KIND.parse_reference("2*x = 1", BOUNDARY)
    assert KIND.check(BOUNDARY, value, mistake).status == "correct"


@pytest.mark.parametrize("options, key", [
    ({"symbols": ["x", "y"], "allow_bare_value": True}, "variable"),
    ({"symbols": ["x"], "variable": "y"}, "variable"),
    ({"symbols": ["x"], "allow_bare_value": "yes"}, "allow_bare_value"),
    ({"symbols": ["x"], "form": "expanded"}, "form"),
])
def test_bad_options(options: dict, key: str) -> None:
    with pytest.raises(registry.OptionError) as caught:
        KIND.load_options(options)
    assert caught.value.key == key


def feedback(q: Question, raw: object, reference: object) -> str:
    value = KIND.parse(raw, q)
    assert not isinstance(value, Invalid)
    verdict = KIND.check(q, value, KIND.parse_reference(reference, q))
    assert verdict.status == "incorrect"
    return verdict.feedback


@pytest.mark.parametrize("answer, reference, message", [
    # what differs, not "it has other solutions"
    ("x = 1/2", "2*x + 1 = 0", "x = 1/2 solves your equation but not the expected one; "
                               "x = -1/2 solves the expected equation but not yours."),
    ("x^2 = 1/4", "2*x + 1 = 0", "x = 1/2 solves your equation but not the expected one."),
    ("x = -1/2", "x^2 = 1/4", "x = 1/2 solves the expected equation but not yours."),
    ("x^2 = -1", "2*x + 1 = 0", "your equation has no real solution; x = -1/2 solves the expected"),
    ("(x - 1)(x - 2)(x - 3) = 0", "x = 0", "x = 1 and x = 2 and x = 3 solve your equation but not the expected one"),
])
def test_a_different_equation_is_told_which_solutions_differ(answer: str, reference: str, message: str) -> None:
    assert message in feedback(STRICT, answer, reference)


def test_without_reveal_the_expected_solutions_are_not_named() -> None:
    hidden = Question("a", "equation", 1, "", None, KIND.load_options({"symbols": {"x": "real"}}), reveal=False)
    text = feedback(hidden, "x = 1/2", "2*x + 1 = 0")
    assert "x = 1/2 solves your equation but not the expected one" in text
    assert "your equation misses 1 solution of the expected one" in text and "-1/2" not in text


def test_several_unknowns_are_told_the_equations_are_not_equivalent() -> None:
    text = feedback(PLANE, "x_2 = 2x_1 + 1", "2 x_1 + x_2 + 1 = 0")
    assert text.startswith("Not the same equation: no nonzero constant turns yours into the expected one")
    assert "other solutions" not in text
