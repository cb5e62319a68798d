"""The numeric kind: tolerances, significant figures, targeted hints, bad input."""

from __future__ import annotations

import pytest

from grader.kinds.numeric.kind import NumericOptions
from grader.core.model import Invalid, Question
from grader.core.registry import OptionError, get
from grader.kinds.tolerance import Tolerance

KIND = get("numeric")


def question(**tolerance: object) -> Question:
    return Question("e", "numeric", 1, "", None, KIND.load_options({"tolerance": tolerance or None}))


@pytest.mark.parametrize("answer, expected, tolerance, status", [
    ("2.083", 12.5 / 6, {"rel": 0.01}, "correct"),
    ("2.08", 12.5 / 6, {"rel": 0.01}, "correct"),
    ("12.5/6", 12.5 / 6, {"rel": 1e-9}, "correct"),
    ("2.2", 12.5 / 6, {"rel": 0.01}, "incorrect"),
    ("1.05", 1.0, {"rel": 0.05}, "correct"),
    ("0.949", 1.0, {"abs": 0.05}, "incorrect"),
    ("0.1", 0.0, {"abs": 0.1}, "correct"),
    ("0.1", 0.0, {"rel": 0.5}, "incorrect"),
    ("3.14", 3.14159, {"sigfigs": 3}, "correct"),
    ("3.1", 3.14159, {"sigfigs": 3}, "incorrect"),
    ("3.15", 3.14159, {"sigfigs": 3}, "incorrect"),
])
def test_check(answer: str, expected: float, tolerance: dict, status: str) -> None:
    q = question(**tolerance)
    assert KIND.check(q, KIND.parse(answer, q), expected).status == status


def test_sign_error_is_named() -> None:
    q = question(rel=0.01)
    verdict = KIND.check(q, KIND.parse("-4.33", q), 13 / 3)
    assert verdict.status == "incorrect" and "sign is wrong" in verdict.feedback


def test_decimal_point_slip_is_named() -> None:
    q = question(rel=0.01)
    verdict = KIND.check(q, KIND.parse("20.83", q), 2.083)
    assert "factor of 10^1" in verdict.feedback


def test_sigfigs_needs_a_decimal() -> None:
    q = question(sigfigs=3)
    parsed = KIND.parse("13/3", q)
    assert isinstance(parsed, Invalid) and "decimal number" in parsed.message


@pytest.mark.parametrize("raw", [["1", "2"], {"a": "1"}, "one", "1,5"])
def test_parse_refuses(raw: object) -> None:
    assert isinstance(KIND.parse(raw, question(rel=0.01)), Invalid)


@pytest.mark.parametrize("tolerance, message", [
    ({"rel": -1}, "rel must be a number >= 0"),
    ({"rell": 0.1}, "did you mean 'rel'"),
    ({"sigfigs": 0}, "sigfigs must be a whole number >= 1"),
    ({"sigfigs": 3, "rel": 0.1}, "either sigfigs or rel/abs"),
    ({"accuracy": 2}, "accuracy needs sigfigs"),
    ("1%", "tolerance must be a mapping"),
])
def test_bad_tolerance_is_refused_at_load(tolerance: object, message: str) -> None:
    with pytest.raises(OptionError, match=message.replace("(", r"\(")) as caught:
        KIND.load_options({"tolerance": tolerance})
    assert caught.value.key == "tolerance"


@pytest.mark.parametrize("value, tolerance", [(13 / 3, Tolerance(rel=0.01)), (12.5 / 6, Tolerance(rel=1e-9)),
                                              (3.14159, Tolerance(sigfigs=3)), (1e-7, Tolerance(abs=1e-9))])
def test_show_round_trips(value: float, tolerance: Tolerance) -> None:
    q = Question("e", "numeric", 1, "", None, NumericOptions(tolerance))
    typed = KIND.show(value, q)
    assert KIND.check(q, KIND.parse(typed, q), value).status == "correct", typed
