"""Small pure comparison predicates, one per tolerance mode (as PrairieLearn's grading_utils).

Every function here answers one question with a bool or a small value; the kinds compose
them into verdicts and feedback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

# Slack for binary floating point: 1.05 vs 1 at 5% must pass although 1.05 - 1 > 0.05 in floats.
_FLOAT_SLACK = 1e-12


@dataclass(frozen=True)
class Tolerance:
    """How close a number must be. `rel` and `abs` pass when either holds (as numpy.isclose).

    `sigfigs` asks for an answer written to that many significant figures and accurate to
    `accuracy` of them (default: all of them; 0: digits only; -1: more digits condoned).
    """

    rel: float | None = None
    abs: float | None = None
    sigfigs: int | None = None
    accuracy: int | None = None

    def describe(self) -> str:
        if self.sigfigs is not None:
            return f"{self.sigfigs} significant figures"
        parts = []
        if self.rel is not None:
            parts.append(f"within {self.rel:g} relative")
        if self.abs is not None:
            parts.append(f"within {self.abs:g} absolute")
        return " or ".join(parts) or "exactly"


DEFAULT = Tolerance(rel=1e-2)


def within_relative(student: float, expected: float, rel: float) -> bool:
    return abs(student - expected) <= rel * abs(expected) * (1 + _FLOAT_SLACK)


def within_absolute(student: float, expected: float, tol: float) -> bool:
    return abs(student - expected) <= tol * (1 + _FLOAT_SLACK) + _FLOAT_SLACK * abs(expected)


def within(student: float, expected: float, tolerance: Tolerance) -> bool:
    """True if `student` is close to `expected` by the relative or the absolute tolerance."""
    if not (math.isfinite(student) and math.isfinite(expected)):
        return False
    if tolerance.rel is None and tolerance.abs is None:
        return student == expected
    return (tolerance.rel is not None and within_relative(student, expected, tolerance.rel)) or (
        tolerance.abs is not None and within_absolute(student, expected, tolerance.abs)
    )


def round_significant(value: float | Decimal, figures: int) -> Decimal:
    """`value` rounded half-up to `figures` significant figures, exactly in decimal."""
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if number == 0:
        return Decimal(0)
    exponent = number.adjusted() - figures + 1
    with localcontext() as ctx:
        ctx.prec = 100
        return number.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def accurate_to(student: float, expected: float, figures: int) -> bool:
    """True if `student` lies less than half a unit in the last place from `expected`
    rounded to `figures` significant figures."""
    if expected == 0:
        return student == 0
    rounded = round_significant(expected, figures)
    if rounded == 0:
        return student == 0
    half_unit = Decimal(1).scaleb(rounded.adjusted() - figures + 1) / 2
    return abs(Decimal(repr(student)) - rounded) < half_unit


@dataclass(frozen=True)
class SigfigOutcome:
    passed: bool
    right_digits: bool
    accurate: bool
    wrong_sign: bool


def check_sigfigs(
    student: float, written: tuple[int, int], expected: float, figures: int, accuracy: int | None
) -> SigfigOutcome:
    """STACK-style significant-figure test (NumSigFigs). `written` is (fewest, most) figures
    the student's text shows; `accuracy` None means `figures`, 0 no accuracy check, -1
    condones extra figures and checks accuracy to `figures`."""
    fewest, most = written
    right_digits = most >= figures if accuracy == -1 else fewest <= figures <= most
    digits_checked = figures if accuracy in (None, -1) else accuracy
    accurate = digits_checked == 0 or accurate_to(student, expected, digits_checked)
    wrong_sign = student * expected < 0
    return SigfigOutcome(right_digits and accurate and not wrong_sign, right_digits, accurate, wrong_sign)


TOLERANCE_KEYS = ("rel", "abs", "sigfigs", "accuracy")


def tolerance_from_spec(raw: object) -> Tolerance:
    """Build a Tolerance from a spec's `tolerance:` mapping; ValueError names the bad key."""
    if raw is None:
        return DEFAULT
    if not isinstance(raw, dict):
        raise ValueError("tolerance must be a mapping such as {rel: 0.01} or {sigfigs: 3}")
    from grader.core.suggest import did_you_mean

    for key in raw:
        if key not in TOLERANCE_KEYS:
            raise ValueError(f"unknown tolerance key {key!r}{did_you_mean(key, TOLERANCE_KEYS)}; "
                             f"use {', '.join(TOLERANCE_KEYS)}")
    for key in ("rel", "abs"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0):
            raise ValueError(f"tolerance {key} must be a number >= 0, got {value!r}")
    sigfigs, accuracy = raw.get("sigfigs"), raw.get("accuracy")
    if isinstance(sigfigs, list) and len(sigfigs) == 2 and accuracy is None:
        sigfigs, accuracy = sigfigs
    if sigfigs is not None and (isinstance(sigfigs, bool) or not isinstance(sigfigs, int) or sigfigs < 1):
        raise ValueError(f"tolerance sigfigs must be a whole number >= 1, got {sigfigs!r}")
    if accuracy is not None and (isinstance(accuracy, bool) or not isinstance(accuracy, int) or accuracy < -1):
        raise ValueError(f"tolerance accuracy must be a whole number >= -1, got {accuracy!r}")
    if sigfigs is not None and (raw.get("rel") is not None or raw.get("abs") is not None):
        raise ValueError("tolerance: use either sigfigs or rel/abs, not both")
    if sigfigs is None and accuracy is not None:
        raise ValueError("tolerance accuracy needs sigfigs")
    return Tolerance(rel=raw.get("rel"), abs=raw.get("abs"), sigfigs=sigfigs, accuracy=accuracy)
