"""Complex domains are checked over C, with principal branches (arg in (-pi, pi]).

Each row is a pair of formulas and whether they are the same function of the declared
domain. The complex rows follow from the principal branches: Log z = ln|z| + i Arg z,
z^w = exp(w Log z), and the inverse trigonometric functions as sympy and mpmath define
them (asin z = -i Log(iz + sqrt(1 - z^2)), ...). A real-only identity must fail for
complex symbols, on an open set (log(zw) = log z + log w fails where the arguments add
past pi) or only on a cut (log(1/z) = -log z fails only on the negative real axis). The
real rows are the same pairs over the real domains, whose verdicts must not change.
"""

from __future__ import annotations

import random

import pytest
import sympy

from grader.core import registry
from grader.core.model import Invalid, Question
from grader.symbolic import evaluate as ev
from grader.symbolic.cuts import cut_arguments, cut_points
from grader.symbolic.domain import DOMAINS, parse_domain
from grader.symbolic.equivalence import domain_of, equivalent
from grader.symbolic.parse import ParseConfig, parse_expression

C = DOMAINS["complex"]
COMPLEX = ParseConfig(symbols={"z": C, "w": C, "x": C, "y": C, "t": DOMAINS["real"]}, imaginary=True)


def config(domain: str) -> ParseConfig:
    d = parse_domain(domain)
    return ParseConfig(symbols={"z": d, "w": d, "x": d, "y": d})


def same(a: str, b: str, parse_config: ParseConfig) -> bool | None:
    ea, eb = parse_expression(a, parse_config), parse_expression(b, parse_config)
    assert not isinstance(ea, Invalid), ea.pointed()
    assert not isinstance(eb, Invalid), eb.pointed()
    return equivalent(ea, eb).equivalent


# ----------------------------------------------------------------------------- over C

# Identities of the reals (or of the positive reals) that are false over C.
REAL_ONLY = [
    ("log(x) + log(y)", "log(x y)"),                 # Arg x + Arg y may leave (-pi, pi]
    ("log(x/y)", "log(x) - log(y)"),
    ("log(z^2)", "2 log(z)"),
    ("log(z^3)", "3 log(z)"),
    ("log(z^w)", "w log(z)"),
    ("log(exp(z))", "z"),                            # only for |Im z| < pi
    ("sqrt(z^2)", "abs(z)"),
    ("sqrt(z^2)", "z"),                              # only for Re z > 0
    ("sqrt(z^2)", "-z"),
    ("sqrt(x y)", "sqrt(x) sqrt(y)"),
    ("sqrt(x/y)", "sqrt(x)/sqrt(y)"),
    ("sqrt(z - 1) sqrt(z + 1)", "sqrt(z^2 - 1)"),
    ("(z^2)^(1/3)", "z^(2/3)"),
    ("(z^3)^(1/3)", "z"),
    ("(z^w)^x", "z^(w x)"),
    ("(x y)^w", "x^w y^w"),
    ("(-1)^x", "(-1)^(-x)"),                         # e^(i pi x) and e^(-i pi x)
    ("abs(z)^2", "z^2"),
    ("abs(z)", "sqrt(z^2)"),
    ("log(abs(z))", "log(z)"),
    ("sqrt(-z)", "I sqrt(z)"),
    ("log(-z)", "log(z) + I pi"),
    ("log(I z)", "log(z) + I pi/2"),
    ("asin(sin(z))", "z"),
    ("atan(tan(z))", "z"),
    ("acos(cos(z))", "z"),
    ("atan(1/z)", "pi/2 - atan(z)"),                 # only for Re z > 0
    ("atan(z) + atan(1/z)", "pi/2"),
    ("asin(z)", "atan(z/sqrt(1 - z^2))"),
    ("acosh(z)", "log(z + sqrt(z^2 - 1))"),
    ("sin(z)^2", "abs(sin(z))^2"),
    ("exp(z)", "abs(exp(z))"),
    ("t log(z)", "log(z^t)"),                        # t real, z complex
    ("1/sqrt(sqrt(z) (w - z))", "1/(z^(1/4) sqrt(w - z))"),   # on an eighth of the pairs
    ("sqrt(exp((1/2)^w))", "exp((1/2)^w/2)"),       # only where Im 2^-w > pi: beside sqrt's cut
]

# Identities that hold off a cut and fail on it: random points never see the difference.
CUT_ONLY = [
    ("log(1/z)", "-log(z)"),                         # on z < 0: -ln|z| + i pi vs -ln|z| - i pi
    ("sqrt(1/z)", "1/sqrt(z)"),                      # on z < 0: i/sqrt|z| vs -i/sqrt|z|
    ("log(1/(z + I))", "-log(z + I)"),               # on Im z = -1, Re z < 0
    ("sqrt(1/(2z - 1 + I))", "1/sqrt(2z - 1 + I)"),
    ("log(1/(z^2 + 1))", "-log(z^2 + 1)"),           # on the imaginary axis, |Im z| > 1
    ("(1/z)^(1/3)", "1/z^(1/3)"),
    ("log(1/(z w))", "-log(z w)"),
    ("(1/z)^w", "1/z^w"),
]

# True over C (principal branches everywhere, the cuts included).
COMPLEX_TRUE = [
    ("exp(x + y)", "exp(x) exp(y)"),
    ("(x + y)^2", "x^2 + 2 x y + y^2"),
    ("(x + y)(x - y)", "x^2 - y^2"),
    ("exp(log(z))", "z"),
    ("sqrt(z)^2", "z"),
    ("z^(1/2) z^(1/2)", "z"),
    ("sqrt(z)", "exp(log(z)/2)"),
    ("z^w", "exp(w log(z))"),
    ("z^x z^y", "z^(x + y)"),
    ("(z^w)^2", "z^(2 w)"),                          # integer outer powers are safe
    ("exp(z/2)^2", "exp(z)"),
    ("exp(2 log(z))", "z^2"),
    ("exp(I z)", "cos(z) + I sin(z)"),
    ("cos(z)", "(exp(I z) + exp(-I z))/2"),
    ("sin(z)^2 + cos(z)^2", "1"),
    ("cosh(z)^2 - sinh(z)^2", "1"),
    ("sin(2z)", "2 sin(z) cos(z)"),
    ("tan(z)", "sin(z)/cos(z)"),
    ("abs(x y)", "abs(x) abs(y)"),
    ("abs(exp(z))", "abs(exp(z + 2 pi I))"),
    ("1/(z - 1) - 1/(z + 1)", "2/(z^2 - 1)"),
    ("(z^2 - 1)/(z - 1)", "z + 1"),
    ("sqrt(1 - z) sqrt(1 + z)", "sqrt(1 - z^2)"),    # both cut on |Re z| > 1 alike
    ("log(exp(z)) + 0", "log(exp(z))"),
    ("acot(z)", "atan(1/z)"),
    ("asinh(z)", "log(z + sqrt(z^2 + 1))"),
    ("acosh(z)", "log(z + sqrt(z + 1) sqrt(z - 1))"),
    ("atan(z)", "I/2 (log(1 - I z) - log(1 + I z))"),
    ("asin(z)", "-I log(I z + sqrt(1 - z^2))"),
    ("acos(z)", "pi/2 - asin(z)"),
    ("atanh(z)", "(log(1 + z) - log(1 - z))/2"),
    ("sigmoid(z)", "1/(1 + exp(-z))"),
    ("t^2 z", "z t t"),
    ("acos(z^2)", "acos(exp(2 log(z)))"),            # at z = -1 rounding meets acos' branch point
]


@pytest.mark.parametrize("a, b", REAL_ONLY, ids=[f"{a} vs {b}" for a, b in REAL_ONLY])
def test_real_only_identities_fail_over_c(a: str, b: str) -> None:
    assert same(a, b, COMPLEX) is False


@pytest.mark.parametrize("a, b", CUT_ONLY, ids=[f"{a} vs {b}" for a, b in CUT_ONLY])
def test_identities_that_fail_only_on_a_cut_fail(a: str, b: str) -> None:
    assert same(a, b, COMPLEX) is False


@pytest.mark.parametrize("a, b", COMPLEX_TRUE, ids=[f"{a} vs {b}" for a, b in COMPLEX_TRUE])
def test_complex_identities_hold(a: str, b: str) -> None:
    assert same(a, b, COMPLEX) is True
    assert same(b, a, COMPLEX) is True


z, w = sympy.symbols("z w", complex=True)

# Reference solutions are sympy expressions and may use what students cannot type.
SYMPY_ROWS = [
    (sympy.Abs(z) ** 2, z * sympy.conjugate(z), True),
    (sympy.re(z), (z + sympy.conjugate(z)) / 2, True),
    (sympy.im(z), (z - sympy.conjugate(z)) / (2 * sympy.I), True),
    (sympy.log(z), sympy.log(sympy.Abs(z)) + sympy.I * sympy.arg(z), True),
    (sympy.conjugate(sympy.exp(z)), sympy.exp(sympy.conjugate(z)), True),
    (sympy.sqrt(sympy.conjugate(z)), sympy.conjugate(sympy.sqrt(z)), False),   # on z < 0
    (sympy.log(sympy.conjugate(z)), sympy.conjugate(sympy.log(z)), False),     # on z < 0
    (sympy.arg(1 / z), -sympy.arg(z), False),                                  # on z < 0
    (sympy.sqrt(z ** 2), z * sympy.sign(sympy.re(z)), False),                  # on Re z = 0
    (sympy.conjugate(z), z, False),
    (sympy.Abs(z), z, False),
]


@pytest.mark.parametrize("a, b, expected", SYMPY_ROWS, ids=[f"{a} vs {b}" for a, b, _ in SYMPY_ROWS])
def test_sympy_references_over_c(a: sympy.Expr, b: sympy.Expr, expected: bool) -> None:
    assert equivalent(a, b).equivalent is expected


# ----------------------------------------------------------------------------- real domains unchanged

REAL_ROWS = [
    ("real", "sqrt(z^2)", "z", False),               # z < 0
    ("real", "sqrt(z^2)", "abs(z)", True),
    ("real", "abs(z)^2", "z^2", True),
    ("real", "(-1)^z", "(-1)^(-z)", True),           # real only at whole z, where they agree
    ("real", "log(1/z)", "-log(z)", True),           # over the reals z > 0 only
    ("real", "sqrt(1/z)", "1/sqrt(z)", True),
    ("real", "log(exp(z))", "z", True),
    ("real", "exp(x + y)", "exp(x) exp(y)", True),
    ("positive", "log(x) + log(y)", "log(x y)", True),
    ("positive", "sqrt(z^2)", "z", True),
    ("positive", "(x y)^w", "x^w y^w", True),
    ("negative", "sqrt(z^2)", "-z", True),
    ("negative", "sqrt(z^2)", "z", False),
    ("integer", "(-1)^(2 z)", "1", True),
    ("integer", "(-1)^z", "(-1)^(-z)", True),
    ("real", "asin(sin(z))", "z", False),
]


@pytest.mark.parametrize("domain, a, b, expected", REAL_ROWS, ids=[f"{d}: {a} vs {b}" for d, a, b, _ in REAL_ROWS])
def test_real_domains_keep_their_verdicts(domain: str, a: str, b: str, expected: bool) -> None:
    assert same(a, b, config(domain)) is expected


# ----------------------------------------------------------------------------- the parts

def test_complex_symbols_carry_no_real_assumption() -> None:
    symbol = parse_expression("z", COMPLEX)
    assert isinstance(symbol, sympy.Symbol)
    assert symbol.is_complex and symbol.is_real is None and domain_of(symbol) is C
    # so sympy itself applies no real-only rule before any comparison
    for text in ("sqrt(z^2)", "log(z w)", "abs(z)^2", "log(exp(z))", "(z^2)^(1/2)"):
        expr = parse_expression(text, COMPLEX)
        assert not isinstance(expr, Invalid)
        assert sympy.simplify(expr) != sympy.simplify(parse_expression(
            {"sqrt(z^2)": "z", "log(z w)": "log(z) + log(w)", "abs(z)^2": "z^2",
             "log(exp(z))": "z", "(z^2)^(1/2)": "z"}[text], COMPLEX))


def test_samples_cover_the_plane_the_axes_and_the_branch_points() -> None:
    rng = random.Random(1)
    plain = [C.sample(rng, 0, k) for k in range(200)]
    assert all(isinstance(v, complex) for v in plain)
    assert {(v.real > 0, v.imag > 0) for v in plain} == {(a, b) for a in (True, False) for b in (True, False)}
    axes = [C.sample(rng, 1, k) for k in range(15)]
    assert any(v.imag == 0 and v.real < 0 for v in axes) and any(v.real == 0 for v in axes)
    assert all(str(v.real) != "-0.0" and str(v.imag) != "-0.0" for v in axes)  # no signed zeros
    far = [C.sample(rng, 2, k) for k in range(20)]
    assert any(abs(v.imag) > 3.5 for v in far)
    assert any(min(abs(v - p) for p in (0, 1, -1, 1j, -1j)) < 0.2 for v in far)


@pytest.mark.parametrize("text, name, argument_on_cut", [
    ("log(1/(z + I))", "log", lambda v: v.imag == 0 and v.real < 0),
    ("sqrt(z^2 + 1)", "power", lambda v: v.imag == 0 and v.real < 0),
    ("asin(2z - 1)", "asin", lambda v: v.imag == 0 and abs(v.real) > 1),
    ("atan(z + 1)", "atan", lambda v: v.real == 0 and abs(v.imag) > 1),
])
def test_cut_points_put_the_argument_exactly_on_the_cut(text: str, name: str, argument_on_cut) -> None:
    expr = parse_expression(text, COMPLEX)
    assert not isinstance(expr, Invalid)
    symbols = sorted(expr.free_symbols, key=str)
    arguments = [g for n, g in cut_arguments((expr,), set(symbols)) if n == name]
    assert arguments
    found = list(cut_points((expr,), symbols, [C] * len(symbols), random.Random(3)))
    assert found
    fast = ev.compile_expr(arguments[-1], ev.FLOAT)
    values = [complex(ev.evaluate(fast, env, ev.FLOAT)[0]) for env in found]
    assert any(argument_on_cut(v) for v in values)


@pytest.mark.parametrize("name, real_fn, z", [
    ("log", sympy.log, -2), ("sqrt", sympy.sqrt, -4), ("asin", sympy.asin, 2), ("asin", sympy.asin, -3),
    ("acos", sympy.acos, 2), ("atan", sympy.atan, 2 * sympy.I), ("atan", sympy.atan, -2 * sympy.I),
    ("acot", sympy.acot, sympy.I / 2), ("asinh", sympy.asinh, -2 * sympy.I), ("acosh", sympy.acosh, -2),
    ("atanh", sympy.atanh, 2), ("atanh", sympy.atanh, -2),
])
def test_floats_take_sympys_side_of_every_cut(name: str, real_fn, z: sympy.Expr) -> None:
    """cmath follows the sign of a zero and its own side on some cuts; the comparison
    must see the value sympy means, or true identities would fail on the cuts."""
    symbol = sympy.Symbol("z", complex=True)
    expr = real_fn(symbol)
    point = complex(z) + 0.0
    for value in (point, complex(point.real, -0.0) if point.imag == 0 else complex(-0.0, point.imag)):
        try:
            got = complex(ev.evaluate(ev.compile_expr(expr, ev.FLOAT), {symbol: value}, ev.FLOAT)[0])
        except ev.Overflow:  # handed to mpmath
            continue
        assert abs(got - complex(real_fn(z).evalf(20))) < 1e-12, (name, value, got)
    import mpmath
    with mpmath.workdps(30):
        got = complex(ev.evaluate(ev.compile_expr(expr, ev.MP), {symbol: mpmath.mpmathify(complex(z))}, ev.MP)[0])
    assert abs(got - complex(real_fn(z).evalf(20))) < 1e-12


def test_a_value_within_rounding_of_a_cut_says_nothing() -> None:
    """-2 + 1e-45 i is -2 by rounding: which side of log's cut it takes is no evidence."""
    import mpmath
    symbol = sympy.Symbol("z", complex=True)
    with mpmath.workdps(40):
        compiled = ev.compile_expr(sympy.log(symbol), ev.MP)
        with pytest.raises(ev.NearCut):
            ev.evaluate(compiled, {symbol: mpmath.mpc(-2, mpmath.mpf(10) ** -45)}, ev.MP)
        value, _ = ev.evaluate(compiled, {symbol: mpmath.mpc(-2, 1e-3)}, ev.MP)
    assert value.imag > 3
    with pytest.raises(ev.Overflow):  # floats hand it to mpmath
        ev.evaluate(ev.compile_expr(sympy.log(symbol), ev.FLOAT), {symbol: complex(-2, 1e-17)}, ev.FLOAT)


# ----------------------------------------------------------------------------- through the kind

KIND = registry.get("symbolic")


def question(**options: object) -> Question:
    raw = {"id": "a", "kind": "symbolic", "points": 1, "prompt": "", **options}
    return Question("a", "symbolic", 1, "", None, KIND.load_options(raw))


@pytest.mark.parametrize("answer, status", [
    ("log(z) + log(w)", "incorrect"),
    ("log(z w)", "correct"),
    ("log(w z)", "correct"),
    ("log(z) + log(w) + 2 pi I", "incorrect"),
    ("log(abs(z w)) + I arg", "invalid"),
])
def test_a_complex_question_grades_over_c(answer: str, status: str) -> None:
    q = question(symbols={"z": "complex", "w": "complex"})
    value = KIND.parse(answer, q)
    if isinstance(value, Invalid):
        assert status == "invalid"
        return
    verdict = KIND.check(q, value, KIND.parse_reference("log(z w)", q))
    assert verdict.status == status


def test_i_is_the_imaginary_unit_only_where_a_symbol_is_complex() -> None:
    complex_q = question(symbols={"z": "complex"})
    value = KIND.parse("exp(I z)", complex_q)
    assert not isinstance(value, Invalid) and value.has(sympy.I)
    real_q = question(symbols={"x": "real"})
    assert isinstance(KIND.parse("exp(I x)", real_q), Invalid)
