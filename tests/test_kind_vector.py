"""The vector kind: lists, matrices and shapes in every common notation."""

from __future__ import annotations

import pytest

from grader.core.model import Invalid, Question
from grader.core.registry import get

KIND = get("vector")


def question(partial: bool = False, **tolerance: object) -> Question:
    return Question("f", "vector", 1, "", None,
                    KIND.load_options({"tolerance": tolerance or {"rel": 0.01}, "partial": partial}))


@pytest.mark.parametrize("raw, shape, values", [
    (["4.33", "2"], (2,), (4.33, 2.0)),
    ("[4.33, 2]", (2,), (4.33, 2.0)),
    ("(13/3, 2.0e0)", (2,), (13 / 3, 2.0)),
    ("28x28x1", (3,), (28.0, 28.0, 1.0)),
    ("28 × 28 × 1", (3,), (28.0, 28.0, 1.0)),
    ("(28, 28, 1)", (3,), (28.0, 28.0, 1.0)),
    ("[[1, 2], [3, 4]]", (2, 2), (1.0, 2.0, 3.0, 4.0)),
    ("1 2; 3 4", (2, 2), (1.0, 2.0, 3.0, 4.0)),
    ([["1", "2"], ["3", "4"]], (2, 2), (1.0, 2.0, 3.0, 4.0)),
    ("[−1, 1/2]", (2,), (-1.0, 0.5)),
    ("7", (1,), (7.0,)),
])
def test_parse(raw: object, shape: tuple, values: tuple) -> None:
    parsed = KIND.parse(raw, question())
    assert not isinstance(parsed, Invalid), parsed
    assert parsed.shape == shape and parsed.values == pytest.approx(values)


@pytest.mark.parametrize("raw, message", [
    ("[1, 2", "not closed"),
    ("[1, 2]]", "unbalanced"),
    ("[[1, 2], [3]]", "different lengths"),
    ("[1, x]", "entry 2"),
    ("[1, nan]", "finite"),
    ("[]", "empty list"),
    ("[" * 10 + "1" + "]" * 10, "nested more than"),
    (["1"] * 10_001, "too many entries"),
    ("[1]" * 10_000, "too long"),
    ([{"a": 1}], "only numbers"),
])
def test_parse_refuses(raw: object, message: str) -> None:
    parsed = KIND.parse(raw, question())
    assert isinstance(parsed, Invalid) and message in parsed.message


def _check(answer: object, expected: object, q: Question | None = None):
    q = q or question()
    return KIND.check(q, KIND.parse(answer, q), KIND.parse_reference(expected, q))


def test_correct_and_sign_flip() -> None:
    assert _check("[4.33, 2]", [13 / 3, 2]).status == "correct"
    flipped = _check("[-4.33, -2]", [13 / 3, 2])
    assert flipped.status == "incorrect" and "wrong sign" in flipped.feedback


def test_shape_must_match() -> None:
    verdict = _check("28x28", [28, 28, 1])
    assert verdict.status == "incorrect" and "Expected shape 3, got 2" in verdict.feedback


def test_partial_credit_is_the_share_of_right_entries() -> None:
    verdict = _check("[1, 2, 3, 5]", [1, 2, 3, 4], question(partial=True))
    assert verdict.status == "partial" and verdict.fraction == pytest.approx(0.75)
    assert "first is entry 4" in verdict.feedback


def test_reference_from_numpy() -> None:
    import numpy as np

    q = question()
    assert KIND.parse_reference(np.array([[1.0, 2.0]]), q).shape == (1, 2)


def test_show_round_trips() -> None:
    q = question()
    expected = KIND.parse_reference([13 / 3, 2], q)
    assert KIND.check(q, KIND.parse(KIND.show(expected, q), q), expected).status == "correct"


def named_question() -> Question:
    return Question("f", "vector", 1, "", None,
                    KIND.load_options({"tolerance": {"rel": 0.01}, "names": ["w", "b"]}))


@pytest.mark.parametrize("raw", ["w = 4.33, b = 2", "b = 2; w = 13/3", "w=4.33 and b=2", {"w": "4.33", "b": "2"}])
def test_named_entries(raw: object) -> None:
    q = named_question()
    verdict = KIND.check(q, KIND.parse(raw, q), KIND.parse_reference([13 / 3, 2], q))
    assert verdict.status == "correct"


@pytest.mark.parametrize("raw, message", [
    ("w = 4.33", "no value for b"), ("w = 4.33, c = 2", "unknown name 'c'"), ("w = 1, w = 2, b = 3", "twice"),
    ("w 4.33, b = 2", "name = value"), ({"w": "x", "b": "2"}, "w ('x'): "), ("[4.33, x]", "b ('x'): "),
])
def test_named_entries_refused(raw: object, message: str) -> None:
    parsed = KIND.parse(raw, named_question())
    assert isinstance(parsed, Invalid) and message in parsed.message


def three_named(partial: bool = False) -> Question:
    return Question("h", "vector", 1, "", None, KIND.load_options(
        {"tolerance": {"rel": 0.01}, "partial": partial, "names": ["W", "b", "H"]}))


@pytest.mark.parametrize("raw, partial, status, message", [
    ("[1, 2, 4]", False, "incorrect", "1 of 3 entries are wrong: H is not within the tolerance"),
    ("[1, 5, 4]", True, "partial", "2 of 3 entries are wrong: b and H are not within the tolerance"),
    ("[1, 2]", False, "incorrect", "Expected 3 entries (W, b, H), got 2."),
])
def test_messages_name_the_declared_entries(raw: str, partial: bool, status: str, message: str) -> None:
    q = three_named(partial)
    verdict = KIND.check(q, KIND.parse(raw, q), KIND.parse_reference([1, 2, 3], q))
    assert verdict.status == status and message in verdict.feedback
    assert "entry 3" not in verdict.feedback


def test_names_are_needed_for_named_entries() -> None:
    parsed = KIND.parse("w = 4.33, b = 2", question())
    assert isinstance(parsed, Invalid) and "as a list" in parsed.message
