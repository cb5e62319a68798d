"""grader.parsing.numbers: numbers as people write them, and hostile input refused fast."""

from __future__ import annotations

import time

import pytest

from grader.core.model import Invalid
from grader.parsing.numbers import Number, parse_number, significant_figures


@pytest.mark.parametrize("text, value", [
    ("2.083", 2.083), ("13/3", 13 / 3), ("-4.33e0", -4.33), ("−4.33", -4.33), ("4.33E0", 4.33),
    ("1.41×10^-3", 0.00141), ("1.41*10**-3", 0.00141), ("4.33·10²", 433.0), ("12.5/6", 12.5 / 6),
    ("(1.5 + 2 + 2.5)/3", 2.0), ("-(0.05)", -0.05), (".5", 0.5), ("4.", 4.0), ("2^-2", 0.25),
    ("-2^2", -4.0), ("sqrt(4)", 2.0), ("pi", 3.141592653589793), ("J = 2.08", 2.08), ("≈ 2.08", 2.08),
    (" 7 ", 7.0), (3, 3.0), (2.5, 2.5), ("1 / 4", 0.25), ("10^400 / 10^399", 10.0),
    ("J(0, 0) = 25/12 ≈ 2.083", 2.083), ("x = -1/2", -0.5), ("12.5/6 = 2.08", 2.08),
])
def test_accepts_common_notation(text: object, value: float) -> None:
    parsed = parse_number(text)
    assert isinstance(parsed, Number), parsed
    assert parsed.value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("text, message", [
    ("", "empty answer"),
    ("J =", "empty answer"),
    ("abc", "unknown name 'abc'"),
    ("2x", "unexpected 'x'"),
    ("2,083", "use a dot as the decimal separator"),
    ("(1", "ends too early"),
    ("1/0", "division by zero"),
    ("nan", "finite number"),
    ("inf", "finite number"),
    (".NaN", "expected a finite number, got .NaN"),  # YAML's spellings, kept as text in answers.yaml
    ("-.inf", "expected a finite number, got -.inf"),
    (float("nan"), "finite number"),
    (float("inf"), "finite number"),
    ("1e999", "out of range"),
    ("1e99999999999", "out of range"),
    ("9^9^9^9", "too large"),
    ("9**9**9**9", "too large"),
    ("10^400*10^400", "too large"),
    ("sqrt(-1)", "negative"),
    ("1" * 201, "too long"),
    ("(" * 100 + "1" + ")" * 100, "too long"),
    ("((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))", "nested too deeply"),
    ("__import__('os')", "unexpected character"),
    (True, "expected a number"),
    (None, "expected a number, got nothing"),
    ([1, 2], "expected a number, got a list"),
])
def test_refuses_with_a_clear_message(text: object, message: str) -> None:
    parsed = parse_number(text)
    assert isinstance(parsed, Invalid)
    assert message in parsed.message


def test_parse_error_points_at_the_character() -> None:
    parsed = parse_number("2 + $")
    assert isinstance(parsed, Invalid) and parsed.position == 4
    assert parsed.pointed().splitlines()[-1] == "      ^"


def test_hostile_input_is_refused_fast() -> None:
    start = time.process_time()  # CPU time: a busy machine stretches wall time, not this
    for text in ("9^9^9^9", "10**10**10", "1e" + "9" * 150, "2" * 200, "-" * 199 + "1"):
        assert isinstance(parse_number(text), (Invalid, Number))
    assert time.process_time() - start < 0.5  # about 0.002 s


@pytest.mark.parametrize("text, figures", [
    ("0", (1, 1)), ("0.0", (1, 1)), ("0.00", (2, 2)), ("100", (1, 3)), ("1000", (1, 4)),
    ("10.0", (3, 3)), ("0.0010", (2, 2)), ("1.23e-3", (3, 3)), ("138*10**-3", (3, 3)),
    ("-(0.05)", (1, 1)), ("1E3", (1, 1)), ("61300", (3, 5)), ("J = 2.080", (4, 4)),
])
def test_significant_figures(text: str, figures: tuple[int, int]) -> None:
    assert significant_figures(text) == figures


@pytest.mark.parametrize("text", ["pi", "1/7", "x", "2 + 3"])
def test_significant_figures_of_non_decimals(text: str) -> None:
    assert significant_figures(text) is None
