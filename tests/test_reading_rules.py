"""How formulas typed by people are read (README, "Formulas and equations"): one table per rule.

Expected readings are sympy expressions built here directly, never parsed from text. Where
a form has two sensible readings, the answer is refused with a message naming both.
"""

from __future__ import annotations

import pytest
import sympy

from grader.core.model import Invalid
from grader.symbolic.domain import parse_domain
from grader.symbolic.parse import ParseConfig, parse_expression

REAL = parse_domain("real")
CONFIG = ParseConfig(symbols={name: REAL for name in ("x", "y", "w", "b", "n", "m", "a", "c", "theta")},
                     functions=frozenset({"f"}))
x, y, w, b, n, m, a, c, theta = (sympy.Symbol(name, real=True)
                                 for name in ("x", "y", "w", "b", "n", "m", "a", "c", "theta"))
f = sympy.Function("f")
sin, cos, tan, log, exp = sympy.sin, sympy.cos, sympy.tan, sympy.log, sympy.exp


def read(text: str, config: ParseConfig = CONFIG) -> sympy.Expr:
    value = parse_expression(text, config)
    assert not isinstance(value, Invalid), value.pointed()
    return value


def refused(text: str, config: ParseConfig = CONFIG) -> Invalid:
    value = parse_expression(text, config)
    assert isinstance(value, Invalid), f"{text!r} was read as {value}"
    return value


# A function name without parentheses applies to the product that follows, up to + or −.
@pytest.mark.parametrize("text, expected", [
    ("sin 2x + 1", sin(2 * x) + 1),
    ("tan 3x", tan(3 * x)),
    ("log 2n", log(2 * n)),
    ("ln 2n - 1", log(2 * n) - 1),
    ("sin x", sin(x)),
    ("sin x y", sin(x * y)),
    ("sin 2(x + 1)", sin(2 * (x + 1))),
    ("sin x^2", sin(x**2)),
    ("sin 2x^2 + x", sin(2 * x**2) + x),
    ("sin x²", sin(x**2)),
    ("exp -x", exp(-x)),
    ("exp -x^2", exp(-x**2)),
    ("sin -2x + 1", sin(-2 * x) + 1),
    ("exp x - 1", exp(x) - 1),
    ("sin x cos x", sin(x) * cos(x)),
    ("2 sin x cos x", 2 * sin(x) * cos(x)),
    ("sin 2x cos 3x", sin(2 * x) * cos(3 * x)),
    ("sin x f(x)", sin(x) * f(x)),
    ("sin cos x", sin(cos(x))),
    ("x sin x", x * sin(x)),
    ("sin |x| + 1", sin(sympy.Abs(x)) + 1),
    ("|sin x|", sympy.Abs(sin(x))),
    ("(sin x)/2", sin(x) / 2),
    ("sin(x) y", y * sin(x)),          # parentheses right after the name are its argument
    ("sin (x + 1)^2", sin(x + 1) ** 2),
    ("sin theta", sin(theta)),
    ("sin θ", sin(theta)),
    # written tight: the run of letters is cut into the function and what follows
    ("sinx", sin(x)),
    ("sin2x", sin(2 * x)),
    ("tan3x + 1", tan(3 * x) + 1),
    ("xsin(x)", x * sin(x)),
    ("wsinx", w * sin(x)),
    ("expx", exp(x)),
    ("ln2x", log(2 * x)),
    ("af(x)", a * f(x)),
])
def test_function_without_parentheses_takes_the_product(text: str, expected: sympy.Expr) -> None:
    assert read(text) == expected


# A power (or superscript, or factorial) binds the one letter, number or group it touches.
@pytest.mark.parametrize("text, expected", [
    ("wx^2", w * x**2),
    ("wx²", w * x**2),
    ("nm^(-1)", n / m),
    ("nm^-1", n / m),
    ("2x^2", 2 * x**2),
    ("2wx^2 + b", 2 * w * x**2 + b),
    ("(wx)^2", w**2 * x**2),
    ("abc^2", a * b * c**2),
    ("x^2y", x**2 * y),
    ("e^2x", sympy.E**2 * x),
    ("e^(2x)", exp(2 * x)),
    ("theta^2", theta**2),
    ("nm!", n * sympy.factorial(m)),
    ("wx", w * x),
])
def test_a_power_binds_what_it_touches(text: str, expected: sympy.Expr) -> None:
    assert read(text) == expected


# A power written on a function name is a power of its value: sin^2 x = (sin x)^2.
@pytest.mark.parametrize("text, expected", [
    ("sin^2(x)", sin(x) ** 2),
    ("sin**2(x)", sin(x) ** 2),
    ("sin^2 x", sin(x) ** 2),
    ("sin^2x", sin(x) ** 2),
    ("sin²x", sin(x) ** 2),
    ("sin² x + cos² x", sin(x) ** 2 + cos(x) ** 2),
    ("sin^(2)(x)", sin(x) ** 2),
    ("sin^{2} x", sin(x) ** 2),
    ("log^2 2n", log(2 * n) ** 2),
    ("ln^3(x + 1)", log(x + 1) ** 3),
    ("cos^2 2x", cos(2 * x) ** 2),
])
def test_a_power_on_a_function_name(text: str, expected: sympy.Expr) -> None:
    assert read(text) == expected


# A number after a factor is a factor; after another number it is refused (below).
@pytest.mark.parametrize("text, expected", [
    ("2^x 3", 3 * 2**x),
    ("exp(x) 2^y", exp(x) * 2**y),
    ("(x + 1) 2", 2 * (x + 1)),
    ("(x + 1)2", 2 * (x + 1)),
    ("x 2", 2 * x),
    ("x² 3", 3 * x**2),
    ("sin(x) 2", 2 * sin(x)),
])
def test_a_number_after_a_factor(text: str, expected: sympy.Expr) -> None:
    assert read(text) == expected


# Division and products written without *: a space or a numeric fraction separates.
@pytest.mark.parametrize("text, expected", [
    ("1/2x", x / 2),
    ("1/2 x", x / 2),
    ("13/3 w", sympy.Rational(13, 3) * w),
    ("1/6 (w + b)", (w + b) / 6),
    ("-1/2x", -x / 2),
    ("1/m f(x)", f(x) / m),
    ("x/2 y", x * y / 2),
    ("1/(2m)x", x / (2 * m)),
    ("1/(2m) x", x / (2 * m)),
    ("a/b*c", a * c / b),
    ("a/(bc)", a / (b * c)),
    ("(a/b)c", a * c / b),
])
def test_division_and_implicit_products(text: str, expected: sympy.Expr) -> None:
    assert read(text) == expected


# Characters that look like the ones meant, and floor/ceiling.
@pytest.mark.parametrize("text, expected", [
    ("（x＋1）²", (x + 1) ** 2),
    ("２ｘ − １", 2 * x - 1),
    ("ｘ＾２", x**2),
    ("∣x∣", sympy.Abs(x)),
    ("｜x − y｜", sympy.Abs(x - y)),
    ("x ⋅ y ∗ w", x * y * w),
    ("x ∙ y", x * y),
    ("x−1", x - 1),
    ("1⁄2 x", x / 2),
    ("𝑥^2 + 𝑦", x**2 + y),
    ("［x + 1］ｙ", (x + 1) * y),
    ("floor(x) + ceil(y)", sympy.floor(x) + sympy.ceiling(y)),
    ("ceiling(x/2)", sympy.ceiling(x / 2)),
    ("⌊x/2⌋ + ⌈y⌉", sympy.floor(x / 2) + sympy.ceiling(y)),
    ("2⌊x⌋", 2 * sympy.floor(x)),
    ("floor x", sympy.floor(x)),
])
def test_lookalike_characters_and_floor(text: str, expected: sympy.Expr) -> None:
    assert read(text) == expected


# Truly ambiguous forms: refused, with a message that shows both readings.
@pytest.mark.parametrize("text, readings, position", [
    ("sin x/2", ("sin(x/2)", "sin(x)/2"), 5),
    ("sin x*y", ("sin(x*y)", "sin(x)*y"), 5),
    ("ln x/y + 1", ("ln(x/y)", "ln(x)/y"), 4),
    ("sin 2x/3", ("sin(2x/3)", "sin(2x)/3"), 6),
    ("sin^-1 x", ("asin(x)", "1/sin(x)"), 3),
    ("sin^-1(x)", ("asin(x)", "1/sin(x)"), 3),
    ("sin⁻¹(x)", ("asin(x)", "1/sin(x)"), 3),
    ("tan^{-1} x", ("atan(x)", "1/tan(x)"), 3),
    ("f^2(x)", ("(f(x))^n", "f(f(x))"), 1),
    ("a/bc", ("(a/b)*c", "a/(b*c)"), 1),
    ("1/wx", ("(1/w)*x", "1/(w*x)"), 1),
    ("x/2y", ("(x/2)*y", "x/(2*y)"), 1),
    ("2 3", ("2*3", "23"), 2),
    ("x^2 3", ("2*3", "23"), 4),
    ("log2x", ("log(2x)", "base 2"), 0),
])
def test_ambiguous_forms_are_refused_with_both_readings(text: str, readings: tuple[str, str],
                                                       position: int) -> None:
    value = refused(text)
    for reading in readings:
        assert reading in value.message, value.message
    assert value.position == position


@pytest.mark.parametrize("symbols, text, readings", [
    ("sinx", "sinx", ("s*i*n*x", "sin(x)")),
    ("axh", "asinx", ("asin(x)", "a sin(x)")),
    ("xh", "sinhx", ("sinh(x)", "sin(hx)")),
])
def test_a_run_that_splits_two_ways_is_refused(symbols: str, text: str, readings: tuple[str, str]) -> None:
    value = refused(text, ParseConfig(symbols={name: REAL for name in symbols}))
    for reading in readings:
        assert reading in value.message, value.message


def test_a_run_that_splits_one_way_is_read() -> None:
    config = ParseConfig(symbols={name: REAL for name in "xht"})
    h, t = sympy.Symbol("h", real=True), sympy.Symbol("t", real=True)
    assert read("asinx", config) == sympy.asin(x)
    assert read("cost", config) == cos(t)
    assert read("hsinx", config) == h * sin(x)
    assert read("sinhx", ParseConfig(symbols={"x": REAL})) == sympy.sinh(x)


@pytest.mark.parametrize("text, message", [
    ("sin^(1/2) x", "whole number from 1 up"),
    ("sin^0 x", "whole number from 1 up"),
    ("sin^x y", "whole number from 1 up"),
    ("⌊x⌉", "expected '⌋'"),
    ("(x⌋", "expected ')'"),
    ("sum x", "needs its arguments in parentheses"),
    ("sin", "ends too early"),
    ("sin + ", "ends too early"),
])
def test_other_refusals(text: str, message: str) -> None:
    assert message in refused(text).message


def test_corpus_mode_keeps_letter_runs_as_names() -> None:
    """With any name allowed (the STACK corpora) a run of letters is one symbol, as in Maxima."""
    config = ParseConfig(auto_symbols=True, auto_functions=True)
    value = read("wx^2 + sinx", config)
    wx, sinx = sympy.Symbol("wx", real=True), sympy.Symbol("sinx", real=True)
    assert value == wx**2 + sinx
    assert read("sin 2x", config) == sin(2 * x)
