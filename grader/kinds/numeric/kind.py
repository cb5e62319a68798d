"""`numeric`: one real number, checked with a relative/absolute tolerance or significant figures."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

from grader.core import registry
from grader.kinds import reading, tolerance
from grader.core.model import Invalid, Question, Verdict
from grader.parsing.numbers import DEFAULT_FORMAT, Number, NumberFormat, Reading, figures_of, parse_number
from grader.kinds.tolerance import Tolerance


@dataclass(frozen=True)
class NumericOptions:
    tolerance: Tolerance
    reading: Reading = Reading()
    """The course's number format and what this question allows (percent, units)."""


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


def show_number(value: float, tol: Tolerance, number_format: NumberFormat = DEFAULT_FORMAT) -> str:
    """The shortest readable form of `value` that still passes `tol` when typed back,
    with the course's decimal mark."""
    if tol.sigfigs is not None:
        rounded = tolerance.round_significant(value, tol.sigfigs)
        return number_format.show(format(rounded, "f") if -6 < rounded.adjusted() < 15 else format(rounded, "E"))
    for fmt in (".4g", ".6g", ".10g"):
        text = format(value, fmt)
        if tolerance.within(float(text), value, tol):
            return number_format.show(text)
    return number_format.show(repr(value))


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
    option_keys = {"tolerance": TOLERANCE_SCHEMA, "number_format": reading.NUMBER_FORMAT_SCHEMA,
                   "percent": reading.PERCENT_SCHEMA, "units": reading.UNITS_SCHEMA}
    public_keys = ("tolerance", "number_format", "percent", "units")
    """What `grader check` needs to parse an answer; none of it gives the answer away."""
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = True

    def load_options(self, raw: Mapping[str, Any]) -> NumericOptions:
        return NumericOptions(load_tolerance(raw), reading.load_reading(raw))

    def answer_format(self, question: Question) -> str:
        options: NumericOptions = question.options
        figures = options.tolerance.sigfigs
        mark = options.reading.format.show
        if figures is not None:
            text = f"a decimal number with {figures} significant figures, such as {mark('0.0123')}"
        else:
            text = f"a number such as {mark('2.5')} (7/4 and {mark('4.1e-2')} work too)"
        more = reading.describe(options.reading)
        return f"{text}; {more}" if more else text

    def parse(self, raw: Any, question: Question) -> Number | Invalid:
        if isinstance(raw, (list, dict)):
            return Invalid("expected one number, got a list" if isinstance(raw, list) else "expected one number")
        options: NumericOptions = question.options
        if isinstance(raw, float) and options.reading.format.decimal == ",":
            return Invalid("write the number as text with a decimal comma, in quotes (\"2,5\"): here a dot is "
                           "not the decimal mark")
        parsed = parse_number(raw, options.reading)
        if isinstance(parsed, Invalid):
            return parsed
        if options.tolerance.sigfigs is not None and figures_of(parsed.plain) is None:
            return Invalid("write the answer as a decimal number (such as 0.0123 or 1.23e-2) "
                           "so its significant figures can be counted")
        return parsed

    def parse_reference(self, raw: Any, question: Question) -> float:
        # A literal in the spec (a known mistake, say) is written as the course writes numbers.
        as_written = replace(question.options.reading, one_number=False)
        parsed = parse_number(raw.item() if hasattr(raw, "item") else raw, as_written)
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
        plain = value.plain if isinstance(value, Number) else show_number(value, tol)
        written = figures_of(plain)
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
        options: NumericOptions = question.options
        return show_number(float(value), options.tolerance, options.reading.format)


registry.register(NumericKind())
