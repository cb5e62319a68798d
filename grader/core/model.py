"""Plain data types shared by every part of grader.

Data flows one way: spec (Course/Exercise/Question) + submission -> checkers (Verdict)
-> results (grader.core.results: QuestionResult/StudentResult) -> renderers. This module
imports nothing from the package but the result records, so any layer may depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from grader.core.memo import Memo

from grader.core.results import JSON, CaseResult, Fault, RunRecord, Status

@dataclass(frozen=True)
class Location:
    """Where something stands in a spec file, for `file:line: message` errors."""

    file: str
    line: int | None = None
    key_path: str = ""
    """Dotted path of the key inside the document, e.g. `questions[2].tolerance.rel`."""

    def __str__(self) -> str:
        line = self.line if self.line is not None else "?"
        where = f" ({self.key_path})" if self.key_path else ""
        return f"{self.file}:{line}:{where}"


@dataclass(frozen=True)
class ValueSource:
    """Where a reference value comes from: a literal in the spec, or a solution function."""

    literal: Any = None
    solution: str | None = None
    """Name of a function in the exercise's solutions module; called with the params."""

    @property
    def is_solution(self) -> bool:
        return self.solution is not None


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer with targeted feedback and optional partial credit."""

    answer: ValueSource
    feedback: str
    credit: float = 0.0
    """Fraction of the question's points (0..1) that this mistake still earns."""
    location: Location | None = None


#: Gradescope's visibilities of a test (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
#: shown at once, never, after the assignment's due date, after its grades are published.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class AutograderTests:
    """How an autograder (Gradescope's) reports one question: the spec's `gradescope:` key,
    on the exercise (for all its questions) or on one question."""

    visibility: str = "visible"
    """When students see the question's test (one of VISIBILITIES)."""
    hidden_cases: str = "after_due_date"
    """When they see what the question's hidden checks did (never before the due date by default)."""
    per_case: bool = False
    """One test per check of code the student wrote (`tests: case`), instead of one per question."""


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    points: float
    prompt: str
    """A jinja2 template over the exercise's params."""
    answer: ValueSource | None
    options: Any = None
    """Kind-specific settings, parsed and validated by the kind at load time."""
    mistakes: tuple[Mistake, ...] = ()
    reveal: bool = True
    """Whether the expected answer may be shown to the student in feedback and reports."""
    location: Location | None = None
    gradescope: AutograderTests = AutograderTests()
    """How a Gradescope autograder reports it (grader.gradescope)."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    questions: tuple[Question, ...]
    source: str = ""
    solutions: str | None = None
    """Dotted module name under a `solutions/` folder, e.g. `inf5860.ex01`."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Raw params: literal values, or draw recipes resolved per student (see grader.authoring.variants)."""
    deadline: str | None = None
    path: str = ""
    location: Location | None = None
    late_penalty: Mapping[str, Any] | None = None
    """The validated `late_penalty` mapping of the spec (see grader.authoring.lateness)."""
    canvas: str | None = None
    """The Canvas assignment column (`Name (ID)`, grader.core.canvas) grades are exported to."""

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class Course:
    """A set of exercises loaded together (usually one folder of spec files)."""

    exercises: tuple[Exercise, ...]
    solutions_root: Path | None = None
    """The folder that holds the solutions packages (`solutions/`), trusted code only."""
    digest: str = ""
    """sha256 over the spec files, so a result names exactly the specs that graded it."""
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)
    """Work computed from this course (references, prompts, outcomes); dies with it."""

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    @property
    def canvas_assignment(self) -> str | None:
        """The Canvas assignment the specs name (`canvas:`); loading refuses two different ones."""
        return next((e.canvas for e in self.exercises if e.canvas), None)

    @property
    def max_score(self) -> float:
        return sum(q.points for e in self.exercises for q in e.questions)


@dataclass(frozen=True)
class Invalid:
    """A student answer that could not be parsed: a format error, not a wrong answer."""

    message: str
    position: int | None = None
    """Character offset of the offending character in the raw text, when known."""
    text: str | None = None
    """The raw text, so the message can show a caret under the offending character."""

    def pointed(self) -> str:
        if self.position is None or self.text is None or "\n" in self.text or len(self.text) > 200:
            return self.message
        return f"{self.message}\n  {self.text}\n  {' ' * self.position}^"


@dataclass(frozen=True)
class CodeAnswer:
    """What a code-kind checker receives instead of a parsed value: where the code is."""

    submission_dir: Path
    module: Path | None
    """`<exercise id>.py` in the submission, or None when the student did not hand it in."""
    student: str
    exercise_id: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """A handle on a reference solution function for kinds that call it themselves."""

    solutions_root: Path
    module: str
    function: str
    params: Mapping[str, Any] = field(default_factory=dict)
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)
    """The course's memo, so kinds that run code keep their work with the course."""


@dataclass(frozen=True)
class Verdict:
    """What a checker says about one answer. Pure data; the engine turns it into points."""

    status: Status
    fraction: float
    """Share of the question's points earned, 0..1."""
    feedback: str = ""
    details: Mapping[str, JSON] = field(default_factory=dict)
    """Kind-private extras as JSON data (formula LaTeX, figures, metrics): never the checks
    or the run, which have their own typed fields below."""
    mistake: int | None = None
    """Index of the known mistake this answer matched, if any."""
    cases: tuple[CaseResult, ...] = ()
    """The checks of code the student wrote (code, model and plot kinds), in order."""
    run: RunRecord | None = None
    """The sandbox run of the student's code, for kinds that run it."""
    fault: Fault = ""
    """For an `error`: `student` (their code failed: a crash, a timeout, an endless loop) or
    `grader` (the grader's own fault); "" for every other status."""
