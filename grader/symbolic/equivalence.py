"""Are two expressions the same function over the declared domains?

Numbers first, the CAS last:

1. identical trees are equal;
2. pure numbers: exact ones are compared at 50 digits; where a decimal (a float) is in
   play they are compared as doubles, as Python, Maxima and STACK do (so `0.1 + 0.2` is
   not `0.3`, and `0.99999999` is `99999998/99999999`);
3. otherwise both sides are evaluated at about 40 to 120 points drawn from each symbol's
   domain (floats screen, mpmath at 40 digits confirms; see `points`). Decimals inside
   formulas are read as the simplest fractions their doubles stand for (0.1 is 1/10,
   1/3·13.0 is 13/3). Points where a side leaves the real numbers (sqrt or log of a
   negative, a fractional power of a negative base) lie outside its real domain and are
   skipped when enough real points remain: over the reals `1/sqrt(x)` is `sqrt(1/x)`,
   and `sqrt(x**2)` is `x` only for positive x. Where a symbol is complex both sides are
   functions on C with principal branches: no point is skipped for leaving the reals,
   the points cover the plane, its axes and the branch points (domain.py), and points
   are added where an argument lies exactly on its branch cut (cuts.py), since
   `log(1/z)` and `-log(z)` differ only there. Over C a difference the floats see is
   confirmed by mpmath before it counts. The symbols carry sympy's `complex=True` and
   nothing real, so no step before or after (sympy's own evaluation, the CAS) applies a
   rule that holds only over the reals;
4. only when no point can decide (every point is a pole, an unevaluated integral...) is
   the CAS asked, in a child process killed at the time limit. A time-out is "undecided".

Undefined functions (`f(x)`) are replaced on both sides by the same random smooth
function, so derivatives of them compare too.

Everything here runs within the answer's budget (grader.core.budget), or, called on its
own, within a budget of `time_limit` seconds. Carrying out a derivative in-process gets a
small share of it (`DOIT_SECONDS`); one that takes longer (the derivatives of w^w^w^w grow
as fast as a tower) is left as it is and differentiated numerically.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from grader.core import budget
from grader.symbolic import evaluate as ev
from grader.symbolic.cuts import cut_points
from grader.symbolic.domain import DOMAINS, FLAVOURS, REAL, Domain
from grader.symbolic.functions import rewrite_special
from grader.symbolic.timelimit import TimedOut, run_limited

POINTS = 36
LATTICE = (2.0, -2.0, 0.5, -0.5)
WIDE_POINTS = 16
COMPLEX_SHARE = 3
"""Over C, three times the points: log(sqrt(z) w) = log(sqrt(z)) + log(w) fails on an
eighth of the plane pairs only, where the arguments add up past pi."""
AXIS_STEP = 5
DOIT_LIMIT = 120
DOIT_SECONDS = 0.25
"""In-process time for carrying out one derivative before it is differentiated numerically."""
PIECEWISE = (sympy.Max, sympy.Min, sympy.Abs, sympy.sign)
MIN_POINTS = 3
"""Agreeing points needed before numbers may say "equivalent"."""
CONFIRM = 3
"""Agreeing points re-checked with mpmath before "equivalent"."""
SCREEN_SAME = 1e-9
SCREEN_DIFFER = 1e-3
MP_DPS = 40
MP_SAME = 1e-28
SHRINKS = 1e-3
"""A difference that falls below this share of itself at twice the precision is rounding."""
SEED = 5860


@dataclass(frozen=True)
class Tolerance:
    """Numeric slack a question may allow (e.g. for answers with rounded decimals)."""

    rel: float = 0.0
    abs: float = 0.0


@dataclass(frozen=True)
class Outcome:
    equivalent: bool | None
    """None when nothing could decide in time: a human should look."""
    method: str
    """identical, number, float-number, numeric, complex, cas, undecided."""
    detail: str = ""
    points: int = 0


def domain_of(symbol: sympy.Symbol) -> Domain:
    """The domain a symbol's assumptions describe (symbols are built with their domain's)."""
    if symbol.is_integer:
        if symbol.is_positive:
            return DOMAINS["positive integer"]
        if symbol.is_nonnegative:
            return DOMAINS["nonnegative integer"]
        if symbol.is_negative:
            return DOMAINS["negative integer"]
        return DOMAINS["integer"]
    if symbol.is_positive:
        return DOMAINS["positive"]
    if symbol.is_nonnegative:
        return DOMAINS["nonnegative"]
    if symbol.is_negative:
        return DOMAINS["negative"]
    if symbol.is_real is None and symbol.is_complex:
        return DOMAINS["complex"]
    return REAL


def points(symbols: list[sympy.Symbol], count: int = POINTS, seed: int = SEED,
           wide: bool = False) -> Iterator[dict]:
    """Sample points, in three parts:

    - `count` points where the first three symbols go through every mix of value flavours
      (plain, whole, half), the others drawing flavours at random;
    - a lattice where the first three real symbols take every combination of 2, -2, 1/2
      and -1/2: identities such as (a**b)**c = a**(b*c) fail over the reals only at such
      points (a < 0, b even, c = 1/2);
    - with `wide`, points further out (|v| up to 50), for piecewise answers whose kinks
      may lie beyond the moderate values: max(x, 5) is not 5.
    """
    rng = random.Random(seed)
    domains = [domain_of(s) for s in symbols]
    used: dict[tuple[int, int], int] = {}
    for k in range(count):
        env: dict = {}
        for j, (symbol, domain) in enumerate(zip(symbols, domains)):
            structured = j < 3 and k < FLAVOURS**3
            flavour = (k // FLAVOURS**j) % FLAVOURS if structured else rng.randrange(FLAVOURS)
            n = used.get((j, flavour), 0)
            used[(j, flavour)] = n + 1
            # complex symbols go through the axis values out of step: z = w = 2i says little
            env[symbol] = domain.sample(rng, flavour, n + (AXIS_STEP * j if domain.complex else 0))
        yield env
    lattice = [j for j, d in enumerate(domains) if not d.integer and not d.complex and not d.sign][:3]
    for combo in itertools.product(LATTICE, repeat=len(lattice)) if lattice else ():
        env = {}
        for j, (symbol, domain) in enumerate(zip(symbols, domains)):
            env[symbol] = combo[lattice.index(j)] if j in lattice else domain.sample(rng, 0, 0)
        yield env
    for _ in range(WIDE_POINTS if wide else 0):
        yield {symbol: domain.sample_wide(rng) for symbol, domain in zip(symbols, domains)}


# ----------------------------------------------------------------------------- preparation

def _undefined_functions(exprs: tuple[sympy.Expr, ...], rng: random.Random) -> dict:
    """A random smooth stand-in for every undefined function, the same on both sides."""
    found = sorted({(e.func.__name__, len(e.args)) for x in exprs for e in x.atoms(AppliedUndef)})
    stand_ins = {}
    for name, arity in found:
        args = sympy.symbols(f"u0:{arity}", cls=sympy.Dummy)

        def r() -> sympy.Rational:
            return sympy.Rational(rng.randint(-9, 9) or 1, rng.randint(2, 7))
        # Each argument occurs once, so nesting f(f(f(x))) stays linear in size.
        inner = sum((r() * u for u in args), r())
        stand_ins[(name, arity)] = sympy.Lambda(args, r() + r() * sympy.sin(inner))
    return stand_ins


def prepare(expr: sympy.Expr, stand_ins: dict) -> sympy.Expr:
    """Undefined functions replaced by their stand-ins and derivatives carried out."""
    if stand_ins:
        expr = expr.replace(lambda e: isinstance(e, AppliedUndef),
                            lambda e: stand_ins[(e.func.__name__, len(e.args))](*e.args))
    if expr.has(sympy.Derivative):
        expr = expr.replace(lambda e: isinstance(e, sympy.Derivative) and _small(e), _carry_out)
    return expr


def _carry_out(derivative: sympy.Derivative) -> sympy.Expr:
    """The derivative carried out, or left as it is when that takes too long; tried once per
    answer (the answer's budget remembers), not again for every known mistake."""
    done = budget.remembered(("carried out", derivative),
                             lambda: budget.attempt(DOIT_SECONDS, derivative.doit))
    return derivative if done is None else done


def _small(derivative: sympy.Derivative) -> bool:
    """Whether sympy may carry out this derivative in-process: repeated derivatives of big
    expressions grow combinatorially, so those are differentiated numerically instead."""
    order = sum(int(n) for _, n in derivative.variable_count)
    return sympy.count_ops(derivative.expr) * order <= DOIT_LIMIT


def simplest_rational(value: float) -> sympy.Rational:
    """The simplest fraction within a couple of units in the last place of a double.

    Decimals are doubles, and sympy folds them with exact numbers in double arithmetic:
    1/3·(-13.0) becomes -4.333333333333333. Read back as the first continued-fraction
    convergent within 2**-51 relative, that is -13/3 again (as Maxima's rat does), while
    a truncated 0.333333333333333 stays apart from 1/3 and 0.1 is 1/10.
    """
    exact = Fraction(value)
    tolerance = abs(exact) / 2**51
    h_prev, h, k_prev, k = 0, 1, 1, 0
    rest = exact
    while True:
        whole = math.floor(rest)
        h_prev, h = h, whole * h + h_prev
        k_prev, k = k, whole * k + k_prev
        if abs(Fraction(h, k) - exact) <= tolerance or rest == whole:
            return sympy.Rational(h, k)
        rest = 1 / (rest - whole)


def _arrays(a: sympy.Expr, b: sympy.Expr) -> list[sympy.IndexedBase]:
    return sorted(a.atoms(sympy.IndexedBase) | b.atoms(sympy.IndexedBase), key=str)


def _symbols(a: sympy.Expr, b: sympy.Expr, arrays: list[sympy.IndexedBase]) -> list[sympy.Symbol]:
    """The plain symbols to sample (not the labels of data arrays, which get tables)."""
    labels = {base.label for base in arrays}
    found = {s for s in a.free_symbols | b.free_symbols if isinstance(s, sympy.Symbol)}
    return sorted(found - labels, key=lambda s: s.name)


def _with_data(envs: Iterator[dict], arrays: list[sympy.IndexedBase]) -> Iterator[dict]:
    """Each point with a fresh table of values for every data array."""
    for k, env in enumerate(envs):
        for n, base in enumerate(arrays):
            env[base] = ev.DataTable(SEED + 1000 * k + n)
        yield env


def rationalize(expr: sympy.Expr) -> sympy.Expr:
    """Decimals read as the simplest fractions their doubles stand for (see simplest_rational)."""
    floats = [f for f in expr.atoms(sympy.Float) if math.isfinite(float(f))]
    if not floats:
        return expr
    return expr.xreplace({f: simplest_rational(float(f)) for f in floats})


# ----------------------------------------------------------------------------- comparison

def equivalent(a: sympy.Expr, b: sympy.Expr, tolerance: Tolerance | None = None,
               time_limit: float = 2.0, count: int = POINTS) -> Outcome:
    """Whether `a` and `b` agree over the domains their symbols carry, in at most
    `time_limit` seconds (and no more than the open budget has left)."""
    if a == b:
        return Outcome(True, "identical")
    return budget.bounded(time_limit, lambda: _equivalent(a, b, tolerance, time_limit, count), _too_costly)


def _too_costly(exc: budget.OverBudget) -> Outcome:
    return Outcome(None, "undecided", f"the comparison took {exc.why}")


def _equivalent(a: sympy.Expr, b: sympy.Expr, tolerance: Tolerance | None, time_limit: float,
                count: int) -> Outcome:
    deadline = time.monotonic() + budget.remaining(time_limit)
    rng = random.Random(SEED)
    stand_ins = _undefined_functions((a, b), rng)
    try:
        pa, pb = prepare(a, stand_ins), prepare(b, stand_ins)
    except (ValueError, TypeError, ArithmeticError):
        return _cas(a, b, deadline, "these expressions cannot be differentiated here")
    if pa == pb:
        return Outcome(True, "identical")
    # each traversal of both trees is a noticeable part of a millisecond check: once only
    arrays = _arrays(pa, pb)
    symbols = _symbols(pa, pb, arrays)
    if not symbols and not arrays:
        return _numbers(pa, pb, tolerance, deadline)
    if tolerance is None:
        pa, pb = rationalize(pa), rationalize(pb)
        if pa == pb:
            return Outcome(True, "identical")
    try:
        return _sampled(pa, pb, symbols, arrays, tolerance, deadline, count)
    except ev.Unsupported as exc:
        return _cas(pa, pb, deadline, str(exc))


def _numbers(a: sympy.Expr, b: sympy.Expr, tolerance: Tolerance | None, deadline: float) -> Outcome:
    try:
        if tolerance is not None or a.has(sympy.Float) or b.has(sympy.Float):
            va, _ = ev.evaluate(ev.compile_expr(a, ev.FLOAT), {}, ev.FLOAT)
            vb, _ = ev.evaluate(ev.compile_expr(b, ev.FLOAT), {}, ev.FLOAT)
            if tolerance is not None:
                same = _within(abs(va - vb), max(abs(va), abs(vb)), tolerance)
            else:
                same = complex(va) == complex(vb)
            return Outcome(same, "float-number")
        with mpmath.workdps(50):
            va, ca = ev.evaluate(ev.compile_expr(a, ev.MP), {}, ev.MP)
            vb, cb = ev.evaluate(ev.compile_expr(b, ev.MP), {}, ev.MP)
            scale = max(ca.scale, cb.scale, abs(va), abs(vb))
            same = abs(va - vb) <= mpmath.mpf(10) ** -40 * scale
        return Outcome(bool(same), "number")
    except ev.NearCut:
        return _cas(a, b, deadline, "a value lies within rounding of a branch cut")
    except (ev.Undefined, ev.Overflow):
        return Outcome(False, "number", "one side has no finite value") \
            if _finite(a) != _finite(b) else _cas(a, b, deadline, "no finite value")
    except ev.Unsupported as exc:
        return _cas(a, b, deadline, str(exc))


def _finite(expr: sympy.Expr) -> bool:
    try:
        with mpmath.workdps(30):
            ev.evaluate(ev.compile_expr(expr, ev.MP), {}, ev.MP)
        return True
    except ev.NearCut:
        return True  # a value, on one side of a cut or the other
    except (ev.Undefined, ev.Overflow, ev.Unsupported):
        return False


class _Side:
    """One expression compiled for both backends (mpmath lazily)."""

    def __init__(self, expr: sympy.Expr) -> None:
        self.expr = expr
        self.fast = ev.compile_expr(expr, ev.FLOAT)
        self._mp: ev.Compiled | None = None

    def mp(self) -> ev.Compiled:
        if self._mp is None:
            self._mp = ev.compile_expr(self.expr, ev.MP)
        return self._mp


def _mp_env(env: dict) -> dict:
    return {k: v if isinstance(v, ev.DataTable) else mpmath.mpmathify(v) for k, v in env.items()}


def _mp_pair(a: _Side, b: _Side, env: dict) -> tuple[Any, Any, float, bool]:
    """Both values at mpmath precision: (va, vb, scale, real-valid)."""
    menv = _mp_env(env)
    va, ca = ev.evaluate(a.mp(), menv, ev.MP)
    vb, cb = ev.evaluate(b.mp(), menv, ev.MP)
    return va, vb, max(ca.scale, cb.scale), not (ca.left_reals or cb.left_reals)


def _within(diff: Any, size: Any, tolerance: Tolerance) -> bool:
    """The question's slack, relative to the size of the terms (not of a cancelled result)."""
    return diff <= max(tolerance.abs, tolerance.rel * size) * (1 + 1e-12)


def _verdict_mp(va: Any, vb: Any, scale: float, tolerance: Tolerance | None) -> bool:
    size = max(scale, abs(va), abs(vb))
    if tolerance is not None:
        return _within(abs(va - vb), size, tolerance)
    return abs(va - vb) <= MP_SAME * size


@dataclass
class _Tally:
    agree: list
    differ: int = 0


def _sampled(a_expr: sympy.Expr, b_expr: sympy.Expr, symbols: list, arrays: list[sympy.IndexedBase],
             tolerance: Tolerance | None, deadline: float, count: int) -> Outcome:
    a, b = _Side(a_expr), _Side(b_expr)
    real, loose = _Tally([]), _Tally([])
    wide = a_expr.has(*PIECEWISE) or b_expr.has(*PIECEWISE)
    over_c = _over_c(symbols)
    with mpmath.workdps(MP_DPS):
        envs: Iterator[dict] = points(symbols, count * COMPLEX_SHARE if over_c else count, wide=wide)
        if over_c:
            domains = [domain_of(s) for s in symbols]
            envs = itertools.chain(envs, cut_points((a_expr, b_expr), symbols, domains, random.Random(SEED + 1)))
        for env in _with_data(envs, arrays):
            if time.monotonic() > deadline:
                # A verdict from the few points seen so far could be a coincidence.
                return Outcome(None, "undecided", "ran out of time while comparing values")
            judged = _judge(a, b, env, tolerance, over_c)
            if judged is None or judged[0] is None:
                continue
            same, real_valid = judged
            tally = real if real_valid else loose
            if same:
                tally.agree.append(env)
            else:
                tally.differ += 1
                if real_valid:
                    return Outcome(False, "numeric", "the values differ at a point", len(real.agree) + 1)
        for tally, method in ((real, "numeric"), (loose, "complex")):
            if len(tally.agree) >= MIN_POINTS and tally.differ == 0:
                if _confirm(a, b, tally.agree, tolerance):
                    return Outcome(True, method, points=len(tally.agree))
                return Outcome(False, method, "the values differ in the 15th digit or beyond")
            if tally.differ and len(real.agree) < MIN_POINTS:
                return Outcome(False, method, "the values differ where they leave the reals")
    return _cas(a_expr, b_expr, deadline, "too few points where both sides have a value")


def _over_c(symbols: list[sympy.Symbol]) -> bool:
    """Whether a symbol is complex: then both sides are functions on C, with principal
    branches, and no point lies outside their domain for leaving the reals."""
    return any(domain_of(s).complex for s in symbols)


def _judge(a: _Side, b: _Side, env: dict, tolerance: Tolerance | None,
           over_c: bool = False) -> tuple[bool | None, bool] | None:
    """(same, real-valid) at one point, or None when the point says nothing.

    Over C a difference the floats see is confirmed by mpmath: on a cut, floats may
    round a value onto the other side of another cut."""
    try:
        va, ca = ev.evaluate(a.fast, env, ev.FLOAT)
        vb, cb = ev.evaluate(b.fast, env, ev.FLOAT)
    except ev.Undefined:
        return None
    except ev.Overflow:
        try:
            mva, mvb, scale, real_valid = _mp_pair(a, b, env)
        except (ev.Undefined, ev.Overflow):
            return None
        return _settled(a, b, env, mva, mvb, scale, tolerance), over_c or real_valid
    real_valid = over_c or not (ca.left_reals or cb.left_reals)
    diff = abs(va - vb)
    scale = max(ca.scale, cb.scale, abs(va), abs(vb), 1e-300)
    if tolerance is not None:
        same = _within(diff, scale, tolerance)
        if same or not over_c:
            return same, real_valid
    elif diff <= SCREEN_SAME * scale:
        return True, real_valid
    elif diff > SCREEN_DIFFER * scale and not over_c:
        return False, real_valid
    try:  # a close call (or a difference over C): mpmath decides
        mva, mvb, mscale, real_valid = _mp_pair(a, b, env)
    except (ev.Undefined, ev.Overflow):
        return None
    return _settled(a, b, env, mva, mvb, mscale, tolerance), over_c or real_valid


def _settled(a: _Side, b: _Side, env: dict, va: Any, vb: Any, scale: float,
             tolerance: Tolerance | None) -> bool | None:
    """mpmath's verdict at a point; a difference that shrinks when the precision doubles
    is rounding made large by a branch point (acos(1 + 1e-40 i) is 1.4e-20, not 0), and
    then the point says nothing."""
    if _verdict_mp(va, vb, scale, tolerance):
        return True
    try:
        with mpmath.workdps(2 * MP_DPS):
            sharp_a, sharp_b, _, _ = _mp_pair(a, b, env)
    except (ev.Undefined, ev.Overflow):
        return None
    return False if abs(sharp_a - sharp_b) >= SHRINKS * abs(va - vb) else None


def _confirm(a: _Side, b: _Side, agreeing: list[dict], tolerance: Tolerance | None) -> bool:
    if tolerance is not None:
        return True
    checked = 0
    for env in agreeing:
        try:
            va, vb, scale, _ = _mp_pair(a, b, env)
        except (ev.Undefined, ev.Overflow):
            continue
        if not _verdict_mp(va, vb, scale, None):
            return False
        checked += 1
        if checked >= CONFIRM:
            break
    return True


# ----------------------------------------------------------------------------- the CAS

def _cas(a: sympy.Expr, b: sympy.Expr, deadline: float, why: str) -> Outcome:
    def decide() -> bool:
        difference = rewrite_special(a - b).doit()
        return bool(sympy.simplify(difference) == 0)
    try:
        same = run_limited(decide, deadline - time.monotonic())
    except TimedOut as exc:
        return Outcome(None, "undecided", f"{why}; the CAS gave no answer ({exc})")
    # simplify proves equality; failing to reach zero proves nothing for sure.
    return Outcome(True, "cas", why) if same else Outcome(False, "cas", f"{why}; the CAS found no proof")


def sample_values(a: sympy.Expr, b: sympy.Expr, count: int = 12) -> list[tuple[complex, complex]]:
    """Values of both sides at real-valid points (floats), for feedback on near misses."""
    stand_ins = _undefined_functions((a, b), random.Random(SEED))
    try:
        pa, pb = rationalize(prepare(a, stand_ins)), rationalize(prepare(b, stand_ins))
        sa, sb = ev.compile_expr(pa, ev.FLOAT), ev.compile_expr(pb, ev.FLOAT)
    except (ev.Unsupported, ValueError, TypeError, ArithmeticError):
        return []
    pairs = []
    arrays = _arrays(pa, pb)
    symbols = _symbols(pa, pb, arrays)
    over_c = _over_c(symbols)
    for env in _with_data(points(symbols, count), arrays):
        try:
            va, ca = ev.evaluate(sa, env, ev.FLOAT)
            vb, cb = ev.evaluate(sb, env, ev.FLOAT)
        except (ev.Undefined, ev.Overflow):
            continue
        if over_c or not (ca.left_reals or cb.left_reals):
            pairs.append((va, vb))
    return pairs
