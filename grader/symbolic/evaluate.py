"""Numeric evaluation of a sympy tree at a point, without lambdify (which execs code).

A tree is compiled once into nested closures and then called per point. Two backends:
`FLOAT` (Python floats and complex numbers: fast, used to screen) and `MP` (mpmath at a
chosen precision: decides close calls and survives overflow). Each evaluation also reports

- `left_reals`: a function took real arguments and gave a non-real value (sqrt or log of
  a negative number, a fractional power of a negative base). Over the reals the point is
  outside the expression's domain; the comparison skips such points where it can.
- `scale`: the largest magnitude met while summing, so tolerances are relative to the
  size of the terms and not to a result that cancelled to nearly nothing.

Complex values take the principal branches sympy and mpmath use (arg in (-pi, pi], so
log(-2) = log 2 + i pi, and the inverse trigonometric functions as mpmath has them on
their cuts). Floats know a signed zero that would pick the other side of a cut (cmath's
log(-2 - 0j) is log 2 - i pi); it is dropped before a function with a cut is applied, and
on the cuts of asin, acos, atan, acot, asinh and atanh, where cmath's side is not
mpmath's, the point goes to mpmath. An argument within rounding of a cut but not on it
(-2 + 1e-17j, from a value that is -2 in exact arithmetic) falls on one side or the other
by rounding alone: floats hand it to mpmath, and where mpmath too lands within rounding
of the cut, the point says nothing (`NearCut`).
"""

from __future__ import annotations

import cmath
import math
import random
from dataclasses import dataclass
from typing import Any, Callable

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from grader.symbolic.functions import sigmoid

MAX_SUM_TERMS = 2_000
MAX_WORK = 5_000
"""Sum terms one evaluation may add up, nested sums together (so they cannot hang)."""
_MP_MAX_MAG = 30_000
"""mpmath values beyond 2**30000 count as overflow (a point to skip, never a hang)."""


class Unsupported(Exception):
    """The tree holds something this evaluator cannot compute (an unevaluated integral...)."""


class Undefined(Exception):
    """The expression has no value at this point (a pole, 0**-1, log 0)."""


class NearCut(Undefined):
    """A function's argument lies within rounding of its branch cut, not on it: the side
    it falls on, and so the value, is an accident of rounding."""


class Overflow(Exception):
    """Too large for floats at this point; retry with mpmath."""


# ----------------------------------------------------------------------------- branch cuts

# function -> (axis of the cut, which part of that axis): the cut lies on the real axis
# where the imaginary part is 0, or on the imaginary axis where the real part is 0.
_CUTS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "log": ("real", lambda r: r < 0),
    "power": ("real", lambda r: r < 0),
    "arg": ("real", lambda r: r < 0),
    "asin": ("real", lambda r: abs(r) > 1),
    "acos": ("real", lambda r: abs(r) > 1),
    "atanh": ("real", lambda r: abs(r) > 1),
    "acosh": ("real", lambda r: r < 1),
    "atan": ("imag", lambda i: abs(i) > 1),
    "asinh": ("imag", lambda i: abs(i) > 1),
    "acot": ("imag", lambda i: 0 < abs(i) < 1),
}
CUT_FUNCTIONS = frozenset(_CUTS) - {"power"}
"""Functions whose principal branch has a cut (non-integer powers have one too)."""
_CMATH_OTHER_SIDE = frozenset({"asin", "acos", "atanh", "atan", "asinh", "acot"})
"""Where cmath's value on the cut is not mpmath's (and sympy's)."""
_FLOAT_NEAR = 1e-12
_MP_NEAR_BITS = 24
"""mpmath's arguments within 2**-(precision - 24) of a cut count as on it by rounding only."""


def cut_side(name: str, z: Any, near: Any) -> str:
    """Where `z` lies with respect to the cut of `name`: "on", "near" (within `near`
    relative, but not on it) or "off"."""
    axis, inside = _CUTS[name]
    along, across = (z.real, z.imag) if axis == "real" else (z.imag, z.real)
    if not inside(along):
        return "off"
    if across == 0:
        return "on"
    return "near" if abs(across) <= near * max(abs(along), 1) else "off"


def _unsigned(z: complex) -> complex:
    """`z` without signed zeros (-0.0 + 0.0 is +0.0), so cmath takes the principal side."""
    return complex(z.real + 0.0, z.imag + 0.0)


def _float_cut(name: str, z: complex) -> complex:
    """A complex argument made ready for cmath's `name`, or Overflow to let mpmath decide."""
    side = cut_side(name, z, _FLOAT_NEAR)
    if side == "near" or (side == "on" and name in _CMATH_OTHER_SIDE):
        raise Overflow
    return _unsigned(z)


def _mp_cut(name: str, z: Any) -> None:
    if isinstance(z, mpmath.mpc):
        near = mpmath.mpf(2) ** (_MP_NEAR_BITS - mpmath.mp.prec)
        if cut_side(name, z, near) == "near":
            raise NearCut


class DataTable:
    """Random values of a data array x_1, x_2, ... at one sample point, drawn on first use."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._values: dict[int, float] = {}

    def __getitem__(self, index: int) -> float:
        if index not in self._values:
            self._values[index] = self._rng.uniform(0.2, 3.0) * self._rng.choice((-1, 1))
        return self._values[index]


class Context:
    __slots__ = ("left_reals", "scale", "work")

    def __init__(self) -> None:
        self.left_reals = False
        self.scale = 0.0
        self.work = 0


Compiled = Callable[[dict, Context], Any]


@dataclass(frozen=True)
class Backend:
    name: str
    real: Callable[[Any], Any]
    """Makes this backend's real number of a table entry (float, mpmath.mpf)."""
    complex_type: type
    pi: Any
    e: Any
    i: Any
    number: Callable[[sympy.Expr], Any]
    functions: dict[str, Callable[[Any, Context], Any]]
    power: Callable[[Any, Any, Context], Any]
    absolute: Callable[[Any], float]
    finite: Callable[[Any], bool]
    check: Callable[[Any], Any]


# ----------------------------------------------------------------------------- floats

def _float_number(value: sympy.Expr) -> Any:
    try:
        if isinstance(value, sympy.Integer):
            return float(int(value))
        if isinstance(value, sympy.Rational):
            return int(value.p) / int(value.q)
        if isinstance(value, sympy.Float):
            return float(value)
        converted = complex(value.evalf(20))
    except OverflowError:
        raise Overflow from None
    except TypeError:
        raise Unsupported(f"cannot evaluate {value}") from None
    return converted.real if converted.imag == 0 else converted


def _real_or_complex(real_fn: Callable[[float], float], complex_fn: Callable[[complex], complex],
                     cut: str | None = None) -> Callable[[Any, Context], Any]:
    """Apply the real function to reals; where it has no real value, go complex and say so."""
    def apply(x: Any, ctx: Context) -> Any:
        if isinstance(x, float):
            try:
                return real_fn(x)
            except ValueError:
                pass
            except OverflowError:
                raise Overflow from None
            if cut in _CMATH_OTHER_SIDE:
                raise Overflow  # a real argument outside the real domain lies on the cut
            try:
                value = complex_fn(complex(x))
            except (ValueError, ZeroDivisionError):
                raise Undefined from None
            if value.imag == 0:
                return value.real
            ctx.left_reals = True
            return value
        if cut is not None:
            x = _float_cut(cut, x)
        try:
            value = complex_fn(x)
        except (ValueError, ZeroDivisionError):
            raise Undefined from None
        except OverflowError:
            raise Overflow from None
        return value.real if value.imag == 0 else value
    return apply


def _inv(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(x: Any) -> Any:
        value = fn(x)
        if value == 0:
            raise Undefined
        return 1 / value
    return apply


def _real_only(fn: Callable[..., float]) -> Callable[..., float]:
    def apply(*args: Any) -> float:
        if any(isinstance(a, complex) for a in args):
            raise Undefined
        return fn(*args)
    return apply


def _sigmoid_float(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)


def _gamma_float(x: Any, ctx: Context) -> Any:
    if isinstance(x, complex):
        raise Overflow  # no complex gamma in floats: mpmath takes the point
    try:
        return math.gamma(x)
    except ValueError:
        raise Undefined from None
    except OverflowError:
        raise Overflow from None


def _binomial_float(n: Any, k: Any) -> Any:
    if isinstance(n, complex) or isinstance(k, complex):
        raise Overflow
    if n == int(n) and k == int(k) and n >= 0:
        return float(math.comb(int(n), int(k))) if 0 <= k <= n else 0.0
    try:
        return math.gamma(n + 1) / (math.gamma(k + 1) * math.gamma(n - k + 1))
    except ValueError:
        raise Undefined from None
    except (OverflowError, ZeroDivisionError):
        raise Overflow from None


def _float_power(base: Any, exponent: Any, ctx: Context) -> Any:
    try:
        if isinstance(base, float) and isinstance(exponent, float):
            if base > 0 or exponent == int(exponent):
                if base == 0 and exponent < 0:
                    raise Undefined
                return base ** int(exponent) if exponent == int(exponent) and abs(exponent) < 2**31 \
                    else base ** exponent
            if base == 0:
                if exponent > 0:
                    return 0.0
                raise Undefined
            ctx.left_reals = True
            return cmath.sqrt(base) if exponent == 0.5 else cmath.exp(exponent * cmath.log(base))
        if base == 0:
            raise Undefined
        if isinstance(exponent, float) and exponent == int(exponent) and abs(exponent) < 1024:
            value = complex(base) ** int(exponent)
        else:
            if isinstance(base, complex):
                base = _float_cut("power", base)
            # sqrt exactly where it can be: sqrt(-4) is 2i, not 1.2e-16 + 2i
            value = cmath.sqrt(base) if exponent == 0.5 else cmath.exp(exponent * cmath.log(base))
    except ZeroDivisionError:
        raise Undefined from None
    except OverflowError:
        raise Overflow from None
    return value.real if isinstance(value, complex) and value.imag == 0 else value


def _float_arg(x: Any, ctx: Context) -> float:
    """The principal argument, in (-pi, pi]: arg(-2) is pi, whatever the sign of a zero."""
    if x == 0:
        raise Undefined  # sympy: arg(0) is nan
    if isinstance(x, complex):
        x = _float_cut("arg", x)
    return cmath.phase(x)


def _float_check(value: Any) -> Any:
    if isinstance(value, complex):
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            raise Overflow
        return value.real if value.imag == 0 else value
    if not math.isfinite(value):
        raise Overflow
    return value


_FLOAT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": _real_or_complex(math.exp, cmath.exp),
    "log": _real_or_complex(math.log, cmath.log, "log"),
    "sin": _real_or_complex(math.sin, cmath.sin),
    "cos": _real_or_complex(math.cos, cmath.cos),
    "tan": _real_or_complex(math.tan, cmath.tan),
    "cot": _real_or_complex(_inv(math.tan), _inv(cmath.tan)),
    "sec": _real_or_complex(_inv(math.cos), _inv(cmath.cos)),
    "csc": _real_or_complex(_inv(math.sin), _inv(cmath.sin)),
    "asin": _real_or_complex(math.asin, cmath.asin, "asin"),
    "acos": _real_or_complex(math.acos, cmath.acos, "acos"),
    "atan": _real_or_complex(math.atan, cmath.atan, "atan"),
    "acot": _real_or_complex(lambda x: math.atan(1 / x), lambda x: cmath.atan(1 / x), "acot"),
    "sinh": _real_or_complex(math.sinh, cmath.sinh),
    "cosh": _real_or_complex(math.cosh, cmath.cosh),
    "tanh": _real_or_complex(math.tanh, cmath.tanh),
    "asinh": _real_or_complex(math.asinh, cmath.asinh, "asinh"),
    "acosh": _real_or_complex(math.acosh, cmath.acosh, "acosh"),
    "atanh": _real_or_complex(math.atanh, cmath.atanh, "atanh"),
    "sigmoid": _real_or_complex(_sigmoid_float, lambda z: 1 / (1 + cmath.exp(-z))),
    "Abs": lambda x, ctx: abs(x),
    "sign": lambda x, ctx: (math.copysign(1.0, x) if x else 0.0) if isinstance(x, float)
    else (x / abs(x) if x else 0.0),
    "conjugate": lambda x, ctx: x.conjugate(),
    "re": lambda x, ctx: float(x.real),
    "im": lambda x, ctx: float(x.imag),
    "arg": _float_arg,
    "gamma": _gamma_float,
    "factorial": lambda x, ctx: _gamma_float(x + 1, ctx),
    "binomial": _real_only(_binomial_float),
    "Max": _real_only(max),
    "Min": _real_only(min),
}

FLOAT = Backend(
    name="float", real=float, complex_type=complex, pi=math.pi, e=math.e, i=1j,
    number=_float_number, functions=_FLOAT_FUNCTIONS, power=_float_power,
    absolute=abs, finite=lambda v: cmath.isfinite(v), check=_float_check,
)


# ----------------------------------------------------------------------------- mpmath

def _mp_number(value: sympy.Expr) -> Any:
    if isinstance(value, sympy.Integer):
        return mpmath.mpf(int(value))
    if isinstance(value, sympy.Rational):
        return mpmath.mpf(int(value.p)) / int(value.q)
    if isinstance(value, sympy.Float):
        return mpmath.mpf(value._mpf_)
    try:
        converted = value.evalf(mpmath.mp.dps + 5)
        return mpmath.mpmathify(complex(converted)) if not converted.is_real else mpmath.mpf(converted)
    except (TypeError, ValueError):
        raise Unsupported(f"cannot evaluate {value}") from None


def _mp_check(value: Any) -> Any:
    if isinstance(value, mpmath.mpc):
        if value.imag == 0:
            value = value.real
    if not mpmath.isfinite(value):
        raise Undefined
    if value and mpmath.mag(value) > _MP_MAX_MAG:
        raise Undefined
    return value


def _mp_fn(fn: Callable[[Any], Any], cut: str | None = None) -> Callable[[Any, Context], Any]:
    def apply(x: Any, ctx: Context) -> Any:
        if cut is not None:
            _mp_cut(cut, x)
        try:
            value = fn(x)
        except (ValueError, ZeroDivisionError):
            raise Undefined from None
        if isinstance(value, mpmath.mpc):
            if value.imag == 0:
                value = value.real
            elif isinstance(x, mpmath.mpf):
                ctx.left_reals = True
        return _mp_check(value)
    return apply


def _mp_real_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if any(isinstance(a, mpmath.mpc) for a in args):
            raise Undefined
        return fn(*args)
    return apply


def _mp_power(base: Any, exponent: Any, ctx: Context) -> Any:
    if base == 0:
        if isinstance(exponent, mpmath.mpf) and exponent > 0:
            return mpmath.mpf(0)
        raise Undefined
    if not (isinstance(exponent, mpmath.mpf) and mpmath.isint(exponent)):
        _mp_cut("power", base)
    value = mpmath.power(base, exponent)
    if isinstance(value, mpmath.mpc):
        if value.imag == 0:
            value = value.real
        elif isinstance(base, mpmath.mpf) and isinstance(exponent, mpmath.mpf):
            ctx.left_reals = True
    return _mp_check(value)


def _mp_sign(x: Any, ctx: Context) -> Any:
    return mpmath.sign(x)


def _mp_arg(x: Any, ctx: Context) -> Any:
    if x == 0:
        raise Undefined
    _mp_cut("arg", x)
    return mpmath.arg(x)


_MP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _mp_fn(fn, name if name in CUT_FUNCTIONS else None) for name, fn in {
        "exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos,
        "tan": mpmath.tan, "cot": mpmath.cot, "sec": mpmath.sec, "csc": mpmath.csc,
        "asin": mpmath.asin, "acos": mpmath.acos, "atan": mpmath.atan, "acot": mpmath.acot,
        "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh, "asinh": mpmath.asinh,
        "acosh": mpmath.acosh, "atanh": mpmath.atanh, "gamma": mpmath.gamma,
        "factorial": lambda x: mpmath.gamma(x + 1),
        "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    }.items()
}
_MP_FUNCTIONS.update({
    "Abs": lambda x, ctx: abs(x),
    "sign": _mp_sign,
    "conjugate": lambda x, ctx: mpmath.conj(x),
    "re": lambda x, ctx: mpmath.re(x),
    "im": lambda x, ctx: mpmath.im(x),
    "arg": _mp_arg,
    "binomial": _mp_real_only(lambda n, k: _mp_check(mpmath.binomial(n, k))),
    "Max": _mp_real_only(max),
    "Min": _mp_real_only(min),
})

MP = Backend(
    name="mpmath", real=mpmath.mpf, complex_type=mpmath.mpc, pi=None, e=None, i=mpmath.mpc(0, 1),
    number=_mp_number, functions=_MP_FUNCTIONS, power=_mp_power,
    absolute=lambda v: abs(v), finite=mpmath.isfinite, check=_mp_check,
)


# ----------------------------------------------------------------------------- compiler

def _overflowing(env: dict, ctx: Context) -> Any:
    """A constant too large for a float: every point goes to mpmath."""
    raise Overflow


def compile_expr(expr: sympy.Expr, backend: Backend) -> Compiled:
    """Closures computing `expr` at a point `env` (Symbol -> value). Raises Unsupported."""
    return _Compiler(backend).compile(expr)


class _Compiler:
    def __init__(self, backend: Backend) -> None:
        self.b = backend

    def compile(self, expr: sympy.Expr) -> Compiled:
        b = self.b
        if isinstance(expr, sympy.Symbol):
            return lambda env, ctx: env[expr]
        if expr is sympy.pi:
            return (lambda env, ctx: +mpmath.mp.pi) if b.pi is None else (lambda env, ctx: b.pi)
        if expr is sympy.E:
            return (lambda env, ctx: mpmath.mp.e + 0) if b.e is None else (lambda env, ctx: b.e)
        if expr is sympy.I:
            return lambda env, ctx: b.i
        if expr in (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
            def undefined(env: dict, ctx: Context) -> Any:
                raise Undefined
            return undefined
        if isinstance(expr, sympy.Number):
            if b.name == "mpmath":
                return lambda env, ctx: b.number(expr)  # at the precision of the call
            try:
                constant = b.number(expr)
            except Overflow:
                return _overflowing
            return lambda env, ctx: constant
        if isinstance(expr, sympy.Add):
            return self.add([self.compile(a) for a in expr.args])
        if isinstance(expr, sympy.Mul):
            return self.mul([self.compile(a) for a in expr.args])
        if isinstance(expr, sympy.Pow):
            return self.power(expr)
        if isinstance(expr, sympy.Sum):
            return self.sum(expr)
        if isinstance(expr, (sympy.Max, sympy.Min)):
            return self.function(expr)
        if isinstance(expr, sympy.Derivative):
            return self.derivative(expr)
        if isinstance(expr, sympy.Indexed):
            return self.element(expr)
        if isinstance(expr, (AppliedUndef, sympy.Integral)):
            raise Unsupported(f"cannot evaluate {type(expr).__name__} numerically")
        if isinstance(expr, sympy.Function):
            return self.function(expr)
        if isinstance(expr, sympy.NumberSymbol):
            constant = b.number(expr)
            return lambda env, ctx: constant
        raise Unsupported(f"cannot evaluate {type(expr).__name__} numerically")

    def add(self, parts: list[Compiled]) -> Compiled:
        absolute = self.b.absolute

        def add(env: dict, ctx: Context) -> Any:
            values = [p(env, ctx) for p in parts]
            biggest = max(absolute(v) for v in values)
            if biggest > ctx.scale:
                ctx.scale = biggest
            return sum(values[1:], values[0])
        return add

    def mul(self, parts: list[Compiled]) -> Compiled:
        check = self.b.check

        def mul(env: dict, ctx: Context) -> Any:
            value = parts[0](env, ctx)
            for p in parts[1:]:
                value = value * p(env, ctx)
            return check(value) if self.b.name == "mpmath" else value
        return mul

    def power(self, expr: sympy.Pow) -> Compiled:
        base = self.compile(expr.base)
        exponent = self.compile(expr.exp)
        power = self.b.power
        return lambda env, ctx: power(base(env, ctx), exponent(env, ctx), ctx)

    def function(self, expr: sympy.Basic) -> Compiled:
        name = "sigmoid" if isinstance(expr, sigmoid) else type(expr).__name__
        fn = self.b.functions.get(name)
        if fn is None:
            raise Unsupported(f"cannot evaluate {name} numerically")
        args = [self.compile(a) for a in expr.args]
        if name in ("Max", "Min"):
            return lambda env, ctx: fn(*[a(env, ctx) for a in args])
        if name == "binomial":
            return lambda env, ctx: fn(args[0](env, ctx), args[1](env, ctx))
        if len(args) != 1:
            raise Unsupported(f"{name} with {len(args)} arguments")
        arg = args[0]
        return lambda env, ctx: fn(arg(env, ctx), ctx)

    def derivative(self, expr: sympy.Derivative) -> Compiled:
        """A derivative left unevaluated (too big to expand): mpmath differentiates numerically.

        Floats cannot difference accurately, so that backend hands the point to mpmath.
        """
        inner = self.compile(expr.expr)
        symbols = [symbol for symbol, _ in expr.variable_count]
        orders = [int(order) for _, order in expr.variable_count]
        if self.b.name != "mpmath":
            def hand_over(env: dict, ctx: Context) -> Any:
                raise Overflow
            return hand_over

        def derivative(env: dict, ctx: Context) -> Any:
            start = [env[s] for s in symbols]
            if any(isinstance(v, mpmath.mpc) for v in start):
                raise Undefined

            def at(*values: Any) -> Any:
                local = dict(env)
                local.update(zip(symbols, values))
                return inner(local, ctx)
            try:
                if len(symbols) == 1:
                    return _mp_check(mpmath.diff(at, start[0], orders[0]))
                return _mp_check(mpmath.diff(at, tuple(start), tuple(orders)))
            except (ValueError, ZeroDivisionError):
                raise Undefined from None
        return derivative

    def element(self, expr: sympy.Indexed) -> Compiled:
        """x[i] of a data array: the point holds a table per array (see DataTable)."""
        if len(expr.indices) != 1:
            raise Unsupported("only one index per data array")
        base, index = expr.base, self.compile(expr.indices[0])
        convert = self.b.real

        def element(env: dict, ctx: Context) -> Any:
            position = index(env, ctx)
            if isinstance(position, (complex, mpmath.mpc)) or position != int(position):
                raise Undefined
            table = env.get(base)
            if table is None:
                raise Unsupported(f"no values for the data array {base}")
            return convert(table[int(position)])
        return element

    def sum(self, expr: sympy.Sum) -> Compiled:
        if len(expr.limits) != 1:
            raise Unsupported("only single sums are evaluated")
        index, low, high = expr.limits[0]
        body = self.compile(expr.function)
        low_fn, high_fn = self.compile(low), self.compile(high)

        def total(env: dict, ctx: Context) -> Any:
            a, b = low_fn(env, ctx), high_fn(env, ctx)
            if isinstance(a, (complex, mpmath.mpc)) or isinstance(b, (complex, mpmath.mpc)):
                raise Undefined
            if a != int(a) or b != int(b) or b - a > MAX_SUM_TERMS:
                raise Undefined
            value: Any = 0
            inner = dict(env)
            ctx.work += max(0, int(b) - int(a) + 1)
            if ctx.work > MAX_WORK:
                raise Unsupported("the sums are too long to evaluate")
            for k in range(int(a), int(b) + 1):
                inner[index] = type(a)(k)
                value = value + body(inner, ctx)
            return value
        return total


def evaluate(fn: Compiled, env: dict, backend: Backend) -> tuple[Any, Context]:
    """(value, context) of a compiled tree at `env`; raises Undefined, Overflow."""
    ctx = Context()
    try:
        value = backend.check(fn(env, ctx))
    except ZeroDivisionError:
        raise Undefined from None
    except OverflowError:
        raise Overflow from None
    except (ValueError, TypeError) as exc:  # comparisons of complex numbers in Max and the like
        raise Undefined from exc
    size = backend.absolute(value)
    if size > ctx.scale:
        ctx.scale = size
    return value, ctx
