"""The registry of question kinds: a new kind is one module under grader/kinds/.

A kind is an object with the attributes and methods of `QuestionKind`. The contract is
checked when the kind registers, so a kind that lacks a method, or a name registered
twice, is refused at import time with its name (as pluggy does for hook implementations).

Optional hooks a kind may define (looked up with getattr where they are used):

| hook | used by | does |
|---|---|---|
| `prove(question, expected) -> list[str]` | `grader validate` | proves a reference that runs code (instead of parse/check round trips) |
| `describe_expected(question) -> str` | engine | what a revealed expected answer says for kinds that run code |
| `answer_format(question) -> str` | `grader release` | the answer template's hint on how to write the answer |
| `public_keys` | `grader release` | option keys safe to ship to students (needed to parse answers) |
| `visible_cases(question, reference) -> ...` | `grader release` | visible code checks as inputs with precomputed outputs |
| `stub(question) -> str` | `grader release` | the code stub for the student's module |
| `check_visible(question, answer, cases) -> Verdict` | `grader check` | runs the visible checks of a released bundle |
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping, Protocol, runtime_checkable

from grader.core.model import Invalid, Question, Verdict

# Modules under grader.kinds that define the built-in kinds; imported on first lookup so
# that `grader --help` never pays for numpy, sympy or torch.
BUILTIN_KIND_MODULES: dict[str, str] = {
    "numeric": "grader.kinds.numeric.kind",
    "vector": "grader.kinds.vector.kind",
    "choice": "grader.kinds.choice.kind",
    "symbolic": "grader.kinds.symbolic.kind",
    "equation": "grader.kinds.equation.kind",
    "code": "grader.kinds.code.kind",
    "model": "grader.kinds.model.kind",
    "plot": "grader.kinds.plot.kind",
    "text": "grader.kinds.text.kind",
}


class OptionError(ValueError):
    """Raised by `load_options` for a bad kind-specific setting; `key` is the offending key."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@runtime_checkable
class QuestionKind(Protocol):
    name: str

    @property
    def option_keys(self) -> Mapping[str, Any]:
        """Extra keys a question of this kind may have, each with its JSON Schema fragment.
        (Read-only here, so that a kind's plain dict class attribute satisfies it.)"""
    answer_source: str
    """"answers" (the value comes from answers.yaml) or "code" (from `<exercise>.py`)."""
    calls_reference: bool
    """True: the engine calls the solution function and hands its value to `check`.
    False: the engine hands a `Reference` handle (code kinds run it on their own inputs)."""
    supports_mistakes: bool

    def load_options(self, raw: Mapping[str, Any]) -> Any:
        """Validate the kind-specific keys of a question; raise OptionError on a bad one."""

    def parse(self, raw: Any, question: Question) -> Any | Invalid:
        """Turn what a student wrote into a value, or an Invalid saying what was expected."""

    def parse_reference(self, raw: Any, question: Question) -> Any:
        """Turn a literal or a solution's return value into a value; raise ValueError if bad."""

    def check(self, question: Question, value: Any, expected: Any) -> Verdict:
        """Compare a parsed answer with the expected value. Pure; never prints."""

    def show(self, value: Any, question: Question) -> str:
        """The value in a readable form that `parse` accepts back."""


REQUIRED = ("name", "option_keys", "answer_source", "calls_reference", "supports_mistakes",
            "load_options", "parse", "parse_reference", "check", "show")

_kinds: dict[str, QuestionKind] = {}


def register(kind: QuestionKind) -> QuestionKind:
    missing = [attr for attr in REQUIRED if not hasattr(kind, attr)]
    if missing:
        raise TypeError(f"question kind {getattr(kind, 'name', kind)!r} lacks {', '.join(missing)}")
    if kind.name in _kinds and _kinds[kind.name] is not kind:
        raise ValueError(f"question kind {kind.name!r} is registered twice")
    if kind.answer_source not in ("answers", "code"):
        raise ValueError(f"question kind {kind.name!r}: answer_source must be 'answers' or 'code'")
    _kinds[kind.name] = kind
    return kind


def kind_names() -> list[str]:
    return sorted(set(BUILTIN_KIND_MODULES) | set(_kinds))


def get(name: str) -> QuestionKind:
    """The kind registered under `name`; imports its module on first use. KeyError if none."""
    if name not in _kinds and name in BUILTIN_KIND_MODULES:
        importlib.import_module(BUILTIN_KIND_MODULES[name])
    return _kinds[name]


def load_all() -> dict[str, QuestionKind]:
    for name in BUILTIN_KIND_MODULES:
        get(name)
    return dict(_kinds)

