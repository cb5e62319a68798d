"""The choice kind: single and multiple answers, partial credit, unknown options."""

from __future__ import annotations

import pytest

from grader.core.model import Invalid, Question
from grader.core.registry import OptionError, get

KIND = get("choice")
CHOICES = {"a": "θ ← θ − ε ∂J/∂θ", "b": "θ ← θ + ε ∂J/∂θ", "c": "θ ← ε ∂J/∂θ", "d": "none"}


def question(multiple: bool = False) -> Question:
    return Question("c", "choice", 1, "", None, KIND.load_options({"choices": CHOICES, "multiple": multiple}))


@pytest.mark.parametrize("raw", ["a", "A", "a)", "(a)", " a. "])
def test_single_forms(raw: str) -> None:
    q = question()
    assert KIND.check(q, KIND.parse(raw, q), frozenset("a")).status == "correct"


@pytest.mark.parametrize("raw, expected, status, fraction", [
    (["a", "c"], "ac", "correct", 1.0),
    ("c, a", "ac", "correct", 1.0),
    ("a and c", "ac", "correct", 1.0),
    ("a", "ac", "partial", 0.5),
    ("a, b", "ac", "incorrect", 0.0),
    ("a, b, c", "ac", "partial", 0.5),
    ("b, d", "ac", "incorrect", 0.0),
])
def test_multiple(raw: object, expected: str, status: str, fraction: float) -> None:
    q = question(multiple=True)
    verdict = KIND.check(q, KIND.parse(raw, q), frozenset(expected))
    assert (verdict.status, verdict.fraction) == (status, pytest.approx(fraction))


@pytest.mark.parametrize("raw, message", [
    ("e", "unknown option 'e'"), ("a, b", "exactly one"), ({"a": 1}, "expected an option id"),
    ("x" * 2000, "too long"), ([["a"]], "expected option ids"),
])
def test_refuses(raw: object, message: str) -> None:
    parsed = KIND.parse(raw, question())
    assert isinstance(parsed, Invalid) and message in parsed.message


@pytest.mark.parametrize("options, message", [
    ({"choices": {"a": "only"}}, "at least two"),
    ({"choices": ["a", "b"]}, "at least two"),
    ({"choices": {"a": "x", "A": "y"}}, "unique"),
    ({"choices": {"a": "x", "b": "y"}, "multiple": "yes"}, "true or false"),
])
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        KIND.load_options(options)
