"""Feedback that teaches: recognise a wrong answer that is off by a sign, a constant factor
(such as a missing 1/(2m)) or an additive constant, and say so.

The relation is found on sampled values (cheap) and then proved with the equivalence
check, so a hint is never given for a coincidence.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from grader.symbolic import display
from grader.symbolic.equivalence import Outcome, equivalent, sample_values

_CLOSE = 1e-9


def _constant(values: list[complex]) -> complex | None:
    if len(values) < 3:
        return None
    first = values[0]
    scale = max(abs(v) for v in values) or 1.0
    if all(abs(v - first) <= _CLOSE * scale for v in values):
        return first
    return None


def _exact(value: complex) -> sympy.Expr | None:
    """A short rational near `value`, if there is one."""
    if isinstance(value, complex) and value.imag != 0 or not math.isfinite(abs(value)):
        return None
    fraction = Fraction(float(value.real)).limit_denominator(1000)
    return sympy.Rational(fraction.numerator, fraction.denominator)


def near_miss(student: sympy.Expr, expected: sympy.Expr, time_limit: float = 1.0) -> str:
    """A sentence on how a wrong answer relates to the right one, or ''."""
    pairs = sample_values(student, expected)
    if len(pairs) < 3:
        return ""
    constant_pair = not (student.free_symbols or expected.free_symbols)

    def proved(candidate: sympy.Expr) -> bool:
        outcome: Outcome = equivalent(student, candidate, time_limit=time_limit)
        return outcome.equivalent is True

    if all(abs(s + e) <= _CLOSE * max(abs(s), abs(e), 1e-300) for s, e in pairs) and proved(-expected):
        return "It is off by the sign: check the signs (a minus dropped or a step taken the wrong way?)."
    if constant_pair:
        return ""
    ratio = _constant([s / e for s, e in pairs if e != 0])
    if ratio is not None and ratio != 0:
        factor = _exact(ratio)
        if factor is not None and factor not in (0, 1, -1) and proved(factor * expected):
            return (f"It is off by a constant factor: your answer is {display.text(factor)} times the "
                    "expected one. Check the constant in front (such as 1/m or 1/(2m)).")
    shift = _constant([s - e for s, e in pairs])
    if shift is not None and shift != 0:
        offset = _exact(shift)
        if offset is not None and offset != 0 and proved(expected + offset):
            return (f"It is off by an additive constant ({display.text(offset)}): "
                    "the part that depends on the variables is right.")
    return ""
