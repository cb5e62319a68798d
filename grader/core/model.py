"""Plain data types shared by every part of grader.

Data flows one way: spec (Course/Exercise/Question) + submission -> checkers (Verdict)
-> results (QuestionResult/StudentResult) -> renderers. This module imports nothing from
the package, so any layer may depend on it and it depends on none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping

from grader.core.memo import Memo

Status = Literal["correct", "partial", "incorrect", "missing", "invalid", "error", "review"]

#: Every status a question result can have, in the order reports list them.
#: `invalid` is a malformed answer (it did not parse); `incorrect` parsed but is wrong;
#: `error` is a fault while grading (code crashed, grader fault); `review` needs a human.
STATUSES: tuple[Status, ...] = (
    "correct", "partial", "incorrect", "missing", "invalid", "error", "review",
)


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
    details: Mapping[str, Any] = field(default_factory=dict)
    """JSON-serialisable, kind-specific data for renderers (test cases, figures, hits)."""
    mistake: int | None = None
    """Index of the known mistake this answer matched, if any."""


@dataclass(frozen=True)
class Review:
    """A human's decision on a question, applied over the automatic verdict."""

    score: float
    comment: str
    by: str
    at: str
    stale: bool = False
    """True when the spec changed since the review: the override was not applied."""


@dataclass(frozen=True)
class QuestionResult:
    id: str
    """`<exercise id>.<question id>`."""
    kind: str
    score: float
    max_score: float
    status: Status
    feedback: str = ""
    expected: str | None = None
    """The expected answer in readable form; None where the spec does not reveal it."""
    answer: str | None = None
    """The student's answer as the grader understood it (or the raw text if it did not parse)."""
    prompt: str = ""
    """The prompt as this student saw it (their variant)."""
    mistake: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    review: Review | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _QUESTION_FIELDS}
        data["details"] = dict(self.details)
        data["review"] = asdict(self.review) if self.review else None
        return data


_QUESTION_FIELDS = tuple(f.name for f in fields(QuestionResult))


@dataclass(frozen=True)
class Lateness:
    """How late a submission was for one exercise, and the share of its points lost."""

    exercise: str
    submitted_at: str
    deadline: str
    seconds_late: int
    penalty: float
    """Share (0..1) of the exercise's points taken off; its question scores are scaled."""


@dataclass(frozen=True)
class StudentResult:
    student: str
    score: float
    max_score: float
    questions: tuple[QuestionResult, ...]
    graded_at: str = ""
    grader_version: str = ""
    spec_digest: str = ""
    warnings: tuple[str, ...] = ()
    error: str | None = None
    """A submission-level problem (unreadable answers.yaml, unsafe zip)."""
    lateness: tuple[Lateness, ...] = ()
    """Exercises handed in after their deadline (see grader.authoring.lateness)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data. Shallow where it can be (asdict deep-copies every value,
        which dominated the cost of writing results)."""
        data = {name: getattr(self, name) for name in _STUDENT_FIELDS}
        data["questions"] = [question.to_dict() for question in self.questions]
        data["warnings"] = list(self.warnings)
        data["lateness"] = [asdict(item) for item in self.lateness]
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "StudentResult":
        questions = tuple(
            QuestionResult(**{**q, "review": Review(**q["review"]) if q.get("review") else None})
            for q in data["questions"]
        )
        lateness = tuple(Lateness(**item) for item in data.get("lateness", ()))
        return StudentResult(**{**data, "questions": questions, "warnings": tuple(data.get("warnings", ())),
                                "lateness": lateness})


_STUDENT_FIELDS = tuple(f.name for f in fields(StudentResult))
