"""Before any work: does this Python environment have what the specs need?

Each kind declares what its questions need (`requires(question) -> [Requirement]`, an
optional member of the kind contract); this step collects the declarations of every
question, looks for each module without importing it, asks torch for a CUDA device only
when a question needs one, and stops with `EnvironmentProblem` (exit 2) naming what is
missing, the questions that need it and the exact command that installs it. A library
missing on the grading machine is never the student's fault: without this step every
code, plot and model answer would fail as if the student's code were wrong.

Nothing here names a kind or a library: both come from the kinds' declarations, and the
pins come from grader's own metadata (the `ml` extra pins the CPU build of torch).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata

from grader.core import registry
from grader.core.errors import EXIT_USAGE, GraderError
from grader.core.model import Course, Question
from grader.core.registry import Requirement

DISTRIBUTION = "grader"
#: How many question ids a line names before it says "and N more".
SHOWN_IDS = 6
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class EnvironmentProblem(GraderError):
    """The environment lacks what the specs need: nothing was graded, validated or written."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Need:
    """One requirement and the questions (`<exercise>.<question>`) that declare it."""

    requirement: Requirement
    questions: tuple[str, ...]


def course_questions(course: Course) -> list[tuple[str, Question]]:
    return [(f"{exercise.id}.{question.id}", question) for exercise in course.exercises
            for question in exercise.questions]


def needs(questions: Iterable[tuple[str, Question]]) -> list[Need]:
    """Every requirement the questions' kinds declare, in first-seen order, with who needs it."""
    found: dict[Requirement, list[str]] = {}
    for qid, question in questions:
        for requirement in registry.requirements(registry.get(question.kind), question):
            found.setdefault(requirement, []).append(qid)
    return [Need(requirement, tuple(ids)) for requirement, ids in found.items()]


def installed(module: str) -> bool:
    """Whether `module` can be found, without importing it (an import hook that refuses it
    counts as not installed)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def cuda_available(module: str) -> bool:
    """Whether `module` (torch) sees a CUDA device; imports it, so asked only when needed."""
    try:
        torch = importlib.import_module(module)
        return bool(torch.cuda.is_available())
    except Exception:  # a broken install cannot use a GPU either
        return False


def pins() -> dict[str, str]:
    """Normalised distribution name -> the requirement grader's metadata pins it to
    (`torch==2.13.0` from the `ml` extra); empty when grader is not installed."""
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    found: dict[str, str] = {}
    for line in declared:
        spec = line.split(";", 1)[0].strip()
        name = _NAME.match(spec)
        if name:
            found.setdefault(_normalise(name.group(0)), spec.replace(" ", ""))
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_command(packages: Iterable[str], python: str | None = None) -> str:
    """The command that installs `packages` into the Python that runs grader, pinned as
    grader's own metadata pins them."""
    pinned = pins()
    specs = [pinned.get(_normalise(package), package) for package in dict.fromkeys(packages)]
    return " ".join(shlex.quote(part) for part in (python or sys.executable, "-m", "pip", "install", *specs))


def _ids(questions: tuple[str, ...]) -> str:
    shown = ", ".join(questions[:SHOWN_IDS])
    more = len(questions) - SHOWN_IDS
    return shown + (f" and {more} more" if more > 0 else "")


def problems(found: list[Need]) -> tuple[list[str], list[str]]:
    """(lines saying what is missing, the packages to install)."""
    lines: list[str] = []
    packages: list[str] = []
    by_module: dict[str, list[Need]] = {}
    for need in found:
        by_module.setdefault(need.requirement.module, []).append(need)
    for module, group in by_module.items():
        questions = tuple(dict.fromkeys(q for need in group for q in need.questions))
        whys = " and ".join(dict.fromkeys(need.requirement.why for need in group))
        if not installed(module):
            lines.append(f"  {module} is not installed; needed for {whys} ({_ids(questions)})")
            packages.append(group[0].requirement.package)
            continue
        gpu = tuple(dict.fromkeys(q for need in group if need.requirement.gpu for q in need.questions))
        if gpu and not cuda_available(module):
            lines.append(f"  no GPU that {module} can use: {_ids(gpu)} ask for one (device: cuda); run on a "
                         f"machine with an NVIDIA GPU and a CUDA build of {module}, or set device: auto")
    return lines, packages


def ensure(questions: Iterable[tuple[str, Question]], doing: str) -> None:
    """Raise EnvironmentProblem if the environment lacks what `questions` need; `doing`
    says what was about to happen ("grade", "validate", "check your answers")."""
    lines, packages = problems(needs(questions))
    if not lines:
        return
    text = [f"cannot {doing}: this Python environment ({sys.executable}) lacks what the specs need:", *lines]
    if packages:
        text += ["Install what is missing with:", f"  {install_command(packages)}"]
    text.append("Stopped before any work; nothing was written.")
    raise EnvironmentProblem("\n".join(text))


def ensure_course(course: Course, doing: str) -> None:
    ensure(course_questions(course), doing)
