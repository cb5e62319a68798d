"""What the kinds that run student code share: the answer is the student's module
(`<exercise id>.py`), the reference is a solution function they call themselves, and
the sandbox limits a question may set."""

from __future__ import annotations

from typing import Any, Sequence

from grader.core import registry
from grader.core.model import CodeAnswer, Invalid, Question
from grader.sandbox import Limits, LimitsError, limits_from_spec


def load_limits(raw: Any, default: Limits) -> Limits:
    """A question's `limits:` applied over `default`, as an OptionError if malformed."""
    try:
        return limits_from_spec(raw, default)
    except LimitsError as exc:
        raise registry.OptionError(str(exc), exc.key) from None


class CodeAnswered:
    """Mixin: parse and parse_reference of a kind answered with code, not in answers.yaml."""

    name: str
    answer_source = "code"
    calls_reference = False

    def parse(self, raw: Any, question: Question) -> CodeAnswer | Invalid:
        if not isinstance(raw, CodeAnswer):
            return Invalid(f"a {self.name} question is answered with code in <exercise>.py, not in answers.yaml")
        return raw

    def parse_reference(self, raw: Any, question: Question) -> Any:
        raise ValueError(f"the answer of a {self.name} question must be {{solution: function}} naming the reference")


def function_stub(name: str, params: Sequence[str], title: str, prompt: str) -> str:
    """The stub a student fills in: the signature, the prompt as its docstring, and a body
    that fails loudly until it is written (what `grader release` ships for code answers)."""
    import textwrap

    text = " ".join(prompt.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    docstring = textwrap.fill(text, 80, initial_indent="    ", subsequent_indent="    ")
    return (f"def {name}({', '.join(params)}):\n    \"\"\"{title}:\n{docstring}\n    \"\"\"\n"
            "    raise NotImplementedError  # the student's function is not written yet")
