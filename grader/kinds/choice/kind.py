"""`choice`: pick one option, or several (`multiple: true`, with partial credit).

The spec lists `choices` as a mapping of id -> text. Students answer with ids (`b`, `B`,
`b)`, `[a, c]`, `a, c`); the comparison ignores case and order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from grader.core import registry
from grader.core.model import Invalid, Question, Verdict
from grader.core.suggest import one_of

MAX_TEXT = 1_000


@dataclass(frozen=True)
class ChoiceOptions:
    choices: Mapping[str, str]
    multiple: bool = False


def _normalise_id(text: str) -> str:
    return re.sub(r"^[(\s]*|[).\s]*$", "", text).lower()


class ChoiceKind:
    name = "choice"
    option_keys = {
        "choices": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "option id -> text shown to the student"},
        "multiple": {"type": "boolean", "description": "several options may be right"},
    }
    public_keys = ("choices", "multiple")
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = True

    def load_options(self, raw: Mapping[str, Any]) -> ChoiceOptions:
        choices = raw.get("choices")
        if not isinstance(choices, dict) or len(choices) < 2:
            raise registry.OptionError("choices must map at least two option ids to their text", "choices")
        normalised: dict[str, str] = {}
        for key, text in choices.items():
            ident = _normalise_id(str(key))
            if not re.fullmatch(r"[a-z0-9_]+", ident) or ident in normalised:
                raise registry.OptionError(f"choice id {key!r} must be a unique short name such as a, b, c", "choices")
            normalised[ident] = str(text)
        multiple = raw.get("multiple", False)
        if not isinstance(multiple, bool):
            raise registry.OptionError("multiple must be true or false", "multiple")
        return ChoiceOptions(normalised, multiple)

    def answer_format(self, question: Question) -> str:
        options: ChoiceOptions = question.options
        several = " (several allowed, such as [a, c])" if options.multiple else ""
        return "an option id: " + ", ".join(options.choices) + several

    def parse(self, raw: Any, question: Question) -> frozenset[str] | Invalid:
        options: ChoiceOptions = question.options
        if isinstance(raw, str) and len(raw) > MAX_TEXT:
            return Invalid("answer is too long: give the option id(s), such as b")
        if isinstance(raw, list):
            items = [str(item) for item in raw if not isinstance(item, (list, dict))]
            if len(items) != len(raw):
                return Invalid("expected option ids such as [a, c]")
        elif isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            items = [part for part in re.split(r"[,;\s]+|\band\b", str(raw).strip("[] ")) if part]
        else:
            return Invalid(f"expected an option id: one of {one_of(options.choices)}")
        picked = [_normalise_id(item) for item in items]
        unknown = [item for item, ident in zip(items, picked) if ident not in options.choices]
        if unknown:
            return Invalid(f"unknown option {unknown[0]!r}: choose from {one_of(options.choices)}")
        if not picked:
            return Invalid(f"expected an option id: one of {one_of(options.choices)}")
        if not options.multiple and len(set(picked)) > 1:
            return Invalid("choose exactly one option")
        return frozenset(picked)

    def parse_reference(self, raw: Any, question: Question) -> frozenset[str]:
        parsed = self.parse(raw, question)
        if isinstance(parsed, Invalid):
            raise ValueError(f"reference is not a valid choice: {parsed.message}")
        return parsed

    def check(self, question: Question, value: frozenset[str], expected: frozenset[str]) -> Verdict:
        if value == expected:
            return Verdict("correct", 1.0, "Correct.")
        if not question.options.multiple:
            return Verdict("incorrect", 0.0, "Not the right option.")
        hits, false_picks = len(value & expected), len(value - expected)
        fraction = max(0.0, (hits - false_picks) / len(expected))
        missed = len(expected - value)
        feedback = f"{hits} right, {false_picks} wrong, {missed} missed."
        return Verdict("partial" if fraction > 0 else "incorrect", fraction, feedback)

    def show(self, value: frozenset[str], question: Question) -> str:
        return ", ".join(sorted(value))


registry.register(ChoiceKind())
