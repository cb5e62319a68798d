"""The question-kind contract, in one place, checked when a kind registers.

A kind is one folder: `grader/kinds/<name>/kind.py` registers an object that has every
required attribute and hook below and may have the optional ones; its options, driver,
comparisons and helpers sit beside it. Third-party kinds are packages named by an entry
point in the group `grader.kinds` (`upper = "my_course.upper_kind"`): the same contract,
found the same way. Nothing outside `grader/kinds/` names a kind.

As pluggy does for hook implementations, the contract is checked at registration: a kind
that lacks a required member, has a public member the contract does not know (a
misspelt hook would otherwise be silently never called), or takes a name twice is refused
at import time, by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

from grader.core.budget import Budget
from grader.core.model import Invalid, Question, Verdict
from grader.core.suggest import did_you_mean

#: The package whose sub-folders are the built-in kinds, one folder per kind.
BUILTIN_PACKAGE = "grader.kinds"
#: The module inside a kind's folder that registers the kind.
KIND_MODULE = "kind"
#: The entry-point group through which installed packages add kinds.
ENTRY_POINT_GROUP = "grader.kinds"
ANSWER_SOURCES = ("answers", "code")


class OptionError(ValueError):
    """Raised by `load_options` for a bad kind-specific setting; `key` is the offending key."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


class ContractError(TypeError):
    """A kind that does not keep the contract; raised when it registers."""


@runtime_checkable
class QuestionKind(Protocol):
    """The required members. Optional ones are listed in `OPTIONAL` and reached with `hook`."""

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


@dataclass(frozen=True)
class Requirement:
    """Something a question needs from the Python environment that runs grader, declared by
    its kind (`requires`); grader.grading.preflight checks all of them before any work, so
    a missing library stops the run with the command that installs it instead of costing
    students points."""

    module: str
    """The top-level module to import, e.g. "torch"."""
    package: str
    """The distribution pip installs it from (its pin comes from grader's own extras)."""
    why: str
    """What it is needed for, finishing "needed for …", e.g. "training the model"."""
    gpu: bool = False
    """Also a CUDA device that `module` (torch) can use."""


@dataclass(frozen=True)
class Member:
    """One member of the contract: what it is, who uses it and what for."""

    name: str
    callable: bool
    used_by: str
    does: str
    types: tuple[type, ...] = ()
    """For attributes: the types a value must have."""


REQUIRED: tuple[Member, ...] = (
    Member("name", False, "everything", "the kind's name in specs (`kind: numeric`)", (str,)),
    Member("option_keys", False, "spec loading, `grader schema`", "kind-specific keys with their JSON Schema",
           (Mapping,)),
    Member("answer_source", False, "engine, release", "'answers' (answers.yaml) or 'code' (<exercise>.py)", (str,)),
    Member("calls_reference", False, "engine", "the engine calls the solution (True) or hands a Reference", (bool,)),
    Member("supports_mistakes", False, "spec loading", "whether `mistakes:` may be given", (bool,)),
    Member("load_options", True, "spec loading", "validates the kind's keys; raises OptionError"),
    Member("parse", True, "engine, `grader check`", "what the student wrote -> value or Invalid"),
    Member("parse_reference", True, "engine", "a literal or a solution's value -> value"),
    Member("check", True, "engine", "value vs expected -> Verdict; pure"),
    Member("show", True, "engine, reports", "a value as text that `parse` reads back"),
)

OPTIONAL: tuple[Member, ...] = (
    Member("prove", True, "`grader validate`", "prove(question, expected) -> list of problems, for kinds that "
           "run code (instead of the parse/check round trip)"),
    Member("show_latex", True, "engine, reports", "show_latex(value, question) -> the value as LaTeX, for "
           "kinds whose answers are formulas: the report typesets the expected answer like the student's"),
    Member("describe_expected", True, "engine", "describe_expected(question) -> what a revealed expected "
           "answer says, for kinds that run code"),
    Member("answer_format", True, "`grader release`, `grader check`", "answer_format(question) -> how to write "
           "the answer"),
    Member("public_facts", True, "`grader release`", "public_facts(question, expected) -> facts about the answer "
           "that are part of the question (a vector's shape), shipped to students"),
    Member("visible_cases", True, "`grader release`", "visible_cases(question, reference) -> visible code checks "
           "with precomputed outputs"),
    Member("stub", True, "`grader release`", "stub(question) -> the code stub for the student's module"),
    Member("check_visible", True, "`grader check`", "check_visible(question, answer, cases) -> Verdict on the "
           "bundle's visible checks"),
    Member("public_keys", False, "`grader release`", "option keys safe to ship to students", (tuple,)),
    Member("sandbox_modules", False, "the sandbox", "driver modules the sandbox preloads for this kind", (tuple,)),
    Member("budget", True, "engine, `grader check`", "budget(question) -> grader.core.budget.Budget: the time "
           "and memory that parsing, checking and showing one answer may take in this process, all together; "
           "past it the answer goes to a human"),
    Member("requires", True, "`grader validate`, `grade`, `check`, `release`, `submit`", "requires(question) -> "
           "list of Requirement: the libraries (and GPU) grading the question needs, checked before any work "
           "(question.options is None when a bundle's public keys did not suffice to load them)"),
    Member("graded_later", False, "`grader check`", "what happens to an answer the self-check cannot check "
           "(e.g. 'read against a rubric')", (str,)),
)

_REQUIRED_NAMES = tuple(m.name for m in REQUIRED)
_OPTIONAL_BY_NAME = {m.name: m for m in OPTIONAL}
_KNOWN = {m.name: m for m in (*REQUIRED, *OPTIONAL)}

_kinds: dict[str, QuestionKind] = {}


def contract_problems(kind: object) -> list[str]:
    """Every way `kind` breaks the contract (empty when it keeps it)."""
    problems = [f"lacks {m.name} ({m.does})" for m in REQUIRED if not hasattr(kind, m.name)]
    for attribute in sorted(a for a in dir(kind) if not a.startswith("_")):
        member = _KNOWN.get(attribute)
        if member is None:
            problems.append(f"has {attribute!r}, which is no member of the contract"
                            f"{did_you_mean(attribute, _KNOWN)}; make it private (_{attribute}) if it is a helper")
            continue
        value = getattr(kind, attribute)
        if member.callable and not callable(value):
            problems.append(f"{attribute} must be callable")
        elif member.types and not isinstance(value, member.types):
            problems.append(f"{attribute} must be a {' or '.join(t.__name__ for t in member.types)}")
    source = getattr(kind, "answer_source", None)
    if isinstance(source, str) and source not in ANSWER_SOURCES:
        problems.append(f"answer_source must be one of {', '.join(ANSWER_SOURCES)}")
    modules = getattr(kind, "sandbox_modules", ())
    if isinstance(modules, tuple) and not all(isinstance(m, str) and m.startswith("grader.") for m in modules):
        problems.append("sandbox_modules must name modules inside the grader package (the sandbox runs no others)")
    return problems


def register(kind: QuestionKind) -> QuestionKind:
    """Add a kind; ContractError if it breaks the contract or its name is taken."""
    label = getattr(kind, "name", type(kind).__name__)
    problems = contract_problems(kind)
    if problems:
        raise ContractError(f"question kind {label!r} " + "; ".join(problems))
    if kind.name in _kinds and _kinds[kind.name] is not kind:
        raise ContractError(f"question kind {kind.name!r} is registered twice")
    _kinds[kind.name] = kind
    return kind


def hook(kind: QuestionKind, name: str) -> Callable[..., Any] | None:
    """The kind's optional hook `name`, or None; only hooks the contract declares."""
    member = _OPTIONAL_BY_NAME.get(name)
    if member is None or not member.callable:
        raise KeyError(f"{name!r} is not an optional hook of the kind contract")
    return getattr(kind, name, None)


def answer_budget(kind: QuestionKind, question: Question) -> Budget | None:
    """The budget `kind` sets for one answer of `question`, started now; None if it sets none."""
    make = hook(kind, "budget")
    return make(question) if make is not None else None


def attribute(kind: QuestionKind, name: str, default: Any) -> Any:
    """The kind's optional attribute `name`, or `default`; only attributes the contract declares."""
    member = _OPTIONAL_BY_NAME.get(name)
    if member is None or member.callable:
        raise KeyError(f"{name!r} is not an optional attribute of the kind contract")
    return getattr(kind, name, default)


def requirements(kind: QuestionKind, question: Question) -> list[Requirement]:
    """What `question` needs from the environment, as its kind declares (none if it declares nothing)."""
    declare = hook(kind, "requires")
    return list(declare(question)) if declare is not None else []


def sandbox_modules() -> list[str]:
    """The driver modules that the registered kinds announce, for the sandbox to preload:
    the sandbox asks the contract, so it never names a kind itself."""
    return sorted({module for kind in _kinds.values() for module in attribute(kind, "sandbox_modules", ())})


# --- finding kinds: folders under grader/kinds, and the entry-point group --------------------


def _builtin_modules() -> dict[str, str]:
    package = importlib.import_module(BUILTIN_PACKAGE)
    return {info.name: f"{BUILTIN_PACKAGE}.{info.name}.{KIND_MODULE}"
            for info in pkgutil.iter_modules(package.__path__) if info.ispkg}


def _entry_point_modules() -> dict[str, str]:
    return {ep.name: ep.value.split(":", 1)[0] for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


_modules: dict[str, str] | None = None


def kind_modules() -> dict[str, str]:
    """Kind name -> the module that registers it. Found without importing any kind, so
    that `grader --help` never pays for numpy, sympy or torch. Built-ins win a clash."""
    global _modules
    if _modules is None:
        _modules = {**_entry_point_modules(), **_builtin_modules()}
    return _modules


def kind_names() -> list[str]:
    return sorted(set(kind_modules()) | set(_kinds))


def get(name: str) -> QuestionKind:
    """The kind registered under `name`; imports its module on first use. KeyError if none."""
    if name not in _kinds and name in kind_modules():
        importlib.import_module(kind_modules()[name])
        if name not in _kinds:
            raise ContractError(f"{kind_modules()[name]} registers no question kind named {name!r}")
    return _kinds[name]


def load_all() -> dict[str, QuestionKind]:
    for name in kind_modules():
        get(name)
    return dict(_kinds)
