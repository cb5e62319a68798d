"""Points where the argument of a function with a branch cut lies exactly on the cut, or
just beside it.

Two expressions that agree off the cuts may still differ on them: `log(1/z)` and `-log(z)`
agree everywhere but on the negative real axis, where log(1/z) = -log|z| + i pi and
-log(z) = -log|z| - i pi; `sqrt(1/z)` and `1/sqrt(z)` likewise. Random complex points
never land on a cut, so the comparison asks for points that do. For every argument g of
log, arg, a non-integer power and the inverse trigonometric and hyperbolic functions, and
every complex symbol s in g, Newton's method solves g(s) = t for a few t on the cut (the
other symbols held at a random point), and the root is rounded to a short binary fraction.
A point is kept only when both backends compute g there exactly on the cut, so that no
rounding decides the side: that is so wherever the cut's preimage runs through such
fractions (`z + i` is on its cut at -2 - i, `z**2` at 0.859375i), and for the cuts that
do not (`exp(z)` on its cut at Im z = pi) the complex domain's own values on the axes
remain. Points just beside each cut, on both sides, are added too: the regions where
an identity of principal branches fails are bounded by cuts, and may be too thin for
random points to find.
"""

from __future__ import annotations

import cmath
import random
from typing import Any, Iterator

import mpmath
import sympy

from grader.symbolic import evaluate as ev
from grader.symbolic.domain import PLAIN, Domain

TARGETS: dict[str, tuple[complex, ...]] = {
    "log": (-0.75, -2.5), "power": (-0.75, -2.5), "arg": (-0.75, -2.5),
    "asin": (1.75, -2.5), "acos": (1.75, -2.5), "atanh": (1.75, -2.5),
    "acosh": (-1.5, 0.25),
    "atan": (1.75j, -2.5j), "asinh": (1.75j, -2.5j),
    "acot": (0.5j, -0.75j),
}
"""Values on each function's cut that its argument is made to take."""
STARTS = (-1.1 + 0.1j, 1.1 - 0.1j, 0.1 + 1.1j, -0.1 - 1.1j)
"""Newton starts after the random one, one per quadrant's axis: z**3 = -0.75 has three
roots, and the real one is the one on a grid."""
BESIDE = 1e-2
"""How far beside a cut (relative to the target) the points on either side of it lie: the
regions where principal-branch identities fail are bounded by their arguments' cuts
(sqrt(exp(u)) = exp(u/2) fails beyond Im u = pi, where exp(u) is on sqrt's cut)."""
MAX_POINTS = 48
NEWTON_STEPS = 30
GRIDS = (2**-6, 2**-12, 2**-20, 2**-30)
"""Binary fractions a root is rounded to, the coarsest first."""


def cut_arguments(exprs: tuple[sympy.Expr, ...], symbols: set[sympy.Symbol]) -> list[tuple[str, sympy.Expr]]:
    """(cut function, argument) for every argument with a cut that involves `symbols`."""
    found: dict[tuple[str, sympy.Expr], None] = {}
    for expr in exprs:
        for node in sympy.preorder_traversal(expr):
            name = _cut_name(node)
            if name is None:
                continue
            argument = node.base if name == "power" else node.args[0]
            if argument.free_symbols & symbols and not argument.has(sympy.Indexed, sympy.Sum,
                                                                     sympy.Derivative, sympy.Integral):
                found[(name, argument)] = None
    return list(found)


def _cut_name(node: sympy.Basic) -> str | None:
    if isinstance(node, sympy.Pow):
        return None if node.exp.is_integer else "power"
    name = type(node).__name__
    return name if name in TARGETS and isinstance(node, sympy.Function) else None


def cut_points(exprs: tuple[sympy.Expr, ...], symbols: list[sympy.Symbol], domains: list[Domain],
               rng: random.Random) -> Iterator[dict]:
    """Points (symbol -> value) where an argument with a cut lies exactly on it, and
    points just beside the cut on either side."""
    complex_symbols = {s for s, d in zip(symbols, domains) if d.complex}
    made = 0
    for name, argument in cut_arguments(exprs, complex_symbols):
        try:
            fast = ev.compile_expr(argument, ev.FLOAT)
            exact = ev.compile_expr(argument, ev.MP)
        except ev.Unsupported:
            continue
        for symbol in sorted(argument.free_symbols & complex_symbols, key=lambda s: s.name)[:2]:
            for target in TARGETS[name]:
                base = {s: d.sample(rng, PLAIN, 0) for s, d in zip(symbols, domains)}
                for point in _at_target(name, fast, exact, base, symbol, complex(target)):
                    yield point
                    made += 1
                    if made >= MAX_POINTS:
                        return


def _at_target(name: str, fast: ev.Compiled, exact: ev.Compiled, base: dict, symbol: sympy.Symbol,
               target: complex) -> Iterator[dict]:
    """The point where the argument is `target` on the cut, and where it is just beside it."""
    across = 1j if target.imag == 0 else 1  # a real-axis cut is crossed upwards
    for offset in (0, BESIDE * abs(target) * across, -BESIDE * abs(target) * across):
        for start in (base[symbol], *STARTS):
            root = _solve(fast, {**base, symbol: start}, symbol, target + offset)
            if root is None:
                continue
            point = _on_cut(name, fast, exact, base, symbol, root) if offset == 0 else {**base, symbol: root}
            if point is not None:
                yield point
                break
def _value(fn: ev.Compiled, env: dict, symbol: sympy.Symbol, z: complex) -> complex | None:
    try:
        value, _ = ev.evaluate(fn, {**env, symbol: z}, ev.FLOAT)
    except (ev.Undefined, ev.Overflow, ArithmeticError):
        return None
    return complex(value)


def _solve(fn: ev.Compiled, env: dict, symbol: sympy.Symbol, target: complex) -> complex | None:
    """A root of fn(symbol) = target by Newton's method from the point's value, or None."""
    z = complex(env[symbol])
    for _ in range(NEWTON_STEPS):
        value = _value(fn, env, symbol, z)
        if value is None:
            return None
        residual = value - target
        if abs(residual) <= 1e-13 * max(1.0, abs(target)):
            return z
        h = 1e-7 * max(1.0, abs(z))
        ahead, behind = _value(fn, env, symbol, z + h), _value(fn, env, symbol, z - h)
        if ahead is None or behind is None or ahead == behind:
            return None
        z -= residual * 2 * h / (ahead - behind)
        if not cmath.isfinite(z) or abs(z) > 1e6:
            return None
    return None


def _on_cut(name: str, fast: ev.Compiled, exact: ev.Compiled, base: dict, symbol: sympy.Symbol,
            root: complex) -> dict | None:
    """The point with `symbol` at `root` rounded so that the argument is on the cut exactly
    in both backends, or None."""
    for grid in GRIDS:
        z = complex(round(root.real / grid) * grid + 0.0, round(root.imag / grid) * grid + 0.0)
        env = {**base, symbol: z}
        value = _value(fast, base, symbol, z)
        if value is None or ev.cut_side(name, value, 0) != "on":
            continue
        try:  # at the caller's precision
            menv = {k: mpmath.mpmathify(v) for k, v in env.items()}
            mp_value: Any = ev.evaluate(exact, menv, ev.MP)[0]
        except (ev.Undefined, ev.Overflow):
            continue
        if ev.cut_side(name, mpmath.mpmathify(mp_value), 0) == "on":
            return env
    return None
