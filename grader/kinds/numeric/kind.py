"""`numeric`: one real number, checked with a relative/absolute tolerance or significant figures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from grader.core import registry
from grader.kinds import tolerance
from grader.core.model import Invalid, Question, Verdict
from grader.parsing.numbers import Number, parse_number, significant_figures
from grader.kinds.tolerance import Tolerance


@dataclass(frozen=True)
class NumericOptions:
    tolerance: Tolerance


TOLERANCE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rel": {"type": "number", "minimum": 0, "description": "relative tolerance, e.g. 0.01 for 1%"},
        "abs": {"type": "number", "minimum": 0, "description": "absolute tolerance"},
        "sigfigs": {"description": "significant figures required: n or [n, accuracy]",
                    "oneOf": [{"type": "integer", "minimum": 1},
                              {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}]},
        "accuracy": {"type": "integer", "minimum": -1},
    },
}


def load_tolerance(raw: Mapping[str, Any]) -> Tolerance:
    try:
        return tolerance.tolerance_from_spec(raw.get("tolerance"))
    except ValueError as exc:
        raise registry.OptionError(str(exc), "tolerance") from None


def show_number(value: float, tol: Tolerance) -> str:
    """The shortest readable form of `value` that still passes `tol` when typed back."""
    if tol.sigfigs is not None:
        rounded = tolerance.round_significant(value, tol.sigfigs)
        return format(rounded, "f") if -6 < rounded.adjusted() < 15 else format(rounded, "E")
    for fmt in (".4g", ".6g", ".10g"):
        text = format(value, fmt)
        if tolerance.within(float(text), value, tol):
            return text
    return repr(value)


def _hint(student: float, expected: float, tol: Tolerance) -> str:
    """A targeted hint for the two most common slips: a sign and a power of ten."""
    if student != 0 and tolerance.within(-student, expected, tol):
        return " The size is right but the sign is wrong."
    if student != 0 and expected != 0:
        ratio = math.log10(abs(expected / student))
        shift = round(ratio)
        if shift != 0 and abs(ratio - shift) < 1e-6 and tolerance.within(student * 10**shift, expected, tol):
            return f" The digits are right but it is off by a factor of 10^{-shift}: check the decimal point."
    return ""


class NumericKind:
    name = "numeric"
    option_keys = {"tolerance": TOLERANCE_SCHEMA}
    public_keys = ("tolerance",)
    """What `grader check` needs to parse an answer; none of it gives the answer away."""
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = True

    def load_options(self, raw: Mapping[str, Any]) -> NumericOptions:
        return NumericOptions(load_tolerance(raw))

    def answer_format(self, question: Question) -> str:
        figures = question.options.tolerance.sigfigs
        if figures is not None:
            return f"a decimal number with {figures} significant figures, such as 0.0123"
        return "a number such as 2.5 (7/4 and 4.1e-2 work too)"

    def parse(self, raw: Any, question: Question) -> Number | Invalid:
        if isinstance(raw, (list, dict)):
            return Invalid("expected one number, got a list" if isinstance(raw, list) else "expected one number")
        parsed = parse_number(raw)
        if isinstance(parsed, Invalid):
            return parsed
        if question.options.tolerance.sigfigs is not None and significant_figures(str(raw)) is None:
            return Invalid("write the answer as a decimal number (such as 0.0123 or 1.23e-2) "
                           "so its significant figures can be counted")
        return parsed

    def parse_reference(self, raw: Any, question: Question) -> float:
        parsed = parse_number(raw.item() if hasattr(raw, "item") else raw)
        if isinstance(parsed, Invalid):
            raise ValueError(f"reference is not a number: {parsed.message}")
        return parsed.value

    def check(self, question: Question, value: Number | float, expected: float) -> Verdict:
        tol: Tolerance = question.options.tolerance
        number = value.value if isinstance(value, Number) else float(value)
        if tol.sigfigs is not None:
            return self._check_sigfigs(value, expected, tol)
        if tolerance.within(number, expected, tol):
            return Verdict("correct", 1.0, "Correct.")
        feedback = f"Not within the tolerance ({tol.describe()}).{_hint(number, expected, tol)}"
        return Verdict("incorrect", 0.0, feedback)

    def _check_sigfigs(self, value: Number | float, expected: float, tol: Tolerance) -> Verdict:
        text = value.text if isinstance(value, Number) else show_number(value, tol)
        written = significant_figures(text)
        number = value.value if isinstance(value, Number) else float(value)
        if written is None:
            return Verdict("incorrect", 0.0, "Not written as a decimal number.")
        outcome = tolerance.check_sigfigs(number, written, expected, tol.sigfigs or 1, tol.accuracy)
        if outcome.passed:
            return Verdict("correct", 1.0, "Correct.")
        problems = []
        if outcome.wrong_sign:
            problems.append("the sign is wrong")
        if not outcome.right_digits:
            problems.append(f"give it to {tol.sigfigs} significant figures")
        if not outcome.accurate:
            problems.append("the value is not accurate to those figures")
        return Verdict("incorrect", 0.0, "Not correct: " + "; ".join(problems) + ".")

    def show(self, value: Number | float, question: Question) -> str:
        if isinstance(value, Number):
            return value.text.strip()
        return show_number(float(value), question.options.tolerance)


registry.register(NumericKind())
