"""The result records: what grading produces and what renderers, exports and the results
file read. Every record that crosses from a kind to a renderer is typed here, so producer
and reader cannot drift apart (they once did: the code kind wrote `details["checks"]`
while the report read `details["cases"]`, and every code question showed no answer).

Pure data: this module imports nothing from the package. `to_dict`/`from_dict` are the
results file's format (`RESULTS_FORMAT`); `grader schema --results` prints its JSON Schema,
generated from these dataclasses (grader.core.results_schema).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Mapping, Union

Status = Literal["correct", "partial", "incorrect", "missing", "invalid", "error", "review"]

#: Every status a question result can have, in the order reports list them.
#: `invalid` is a malformed answer (it did not parse); `incorrect` parsed but is wrong;
#: `error` is a fault while grading (code crashed, grader fault); `review` needs a human.
STATUSES: tuple[Status, ...] = (
    "correct", "partial", "incorrect", "missing", "invalid", "error", "review",
)

#: JSON data: what `details` may hold, so a results file is plain JSON and nothing else.
JSON = Union[None, bool, int, float, str, list["JSON"], dict[str, "JSON"]]

#: A sandbox limit the student's code ran into; "" when it ran into none.
LimitHit = Literal["", "timeout", "memory", "output"]

#: The results file format this grader writes; `from_dict` reads these.
ResultsFormat = Literal["grader-results/2"]
RESULTS_FORMAT: ResultsFormat = "grader-results/2"
READABLE_FORMATS = ("grader-results/1", RESULTS_FORMAT)
"""Files without a `format` key are the first format (before typed cases and runs)."""

#: Bounds of what a RunRecord keeps; the producer cuts longer text (grader.kinds.common).
MAX_SOURCE_CHARS = 20_000
MAX_STDOUT_CHARS = 4_000
MAX_TRACE_CHARS = 4_000


@dataclass(frozen=True)
class CaseResult:
    """One test case or property check of code the student wrote, as feedback shows it.

    A hidden case carries its name, weight and whether it passed, never its inputs,
    expected or returned values: the producer leaves them empty."""

    name: str
    """What the report calls the check, e.g. `case 2` or `property rows_sum_to_one`."""
    passed: bool
    """Whether this check passed."""
    hidden: bool = False
    """A hidden check: the student learns that it failed, not on what."""
    weight: float = 1.0
    """Its share of the question's points, relative to the other checks' weights."""
    inputs: str = ""
    """The arguments, summarised (`X=array(shape (4, 3), float64, …)`); empty when hidden."""
    expected: str = ""
    """The reference's result or the threshold, summarised; empty when hidden or not revealed."""
    got: str = ""
    """What the student's code returned or reached, summarised; empty when hidden."""
    largest_difference: float | None = None
    """Largest absolute difference from the expected values, when they are numbers (finite)."""
    message: str = ""
    """Why it failed, in the student's terms; empty for a pass."""
    note: str = ""
    """A remark that does not fail the check (an argument changed in place under `warn`)."""

    def to_dict(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {name: getattr(self, name) for name in _CASE_FIELDS}
        largest = self.largest_difference
        data["largest_difference"] = largest if largest is not None and math.isfinite(largest) else None
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "CaseResult":
        return CaseResult(**{name: data[name] for name in _CASE_FIELDS if name in data})


_CASE_FIELDS = tuple(f.name for f in fields(CaseResult))


@dataclass(frozen=True)
class RunRecord:
    """One run of the student's code in the sandbox: what ran and what it left behind,
    also when it failed (timeout, syntax error, crash), so the report can show it."""

    source: str = ""
    """The student's module text as it ran (at most MAX_SOURCE_CHARS, then cut with a note)."""
    stdout: str = ""
    """What the code printed, stdout and stderr interleaved (at most MAX_STDOUT_CHARS)."""
    traceback: str = ""
    """The error and the frames in the student's own files; no grader paths (MAX_TRACE_CHARS)."""
    layers: tuple[str, ...] = ()
    """Isolation layers that held in the sandbox child, e.g. `rlimits`, `landlock`, `seccomp`."""
    warnings: tuple[str, ...] = ()
    """Sandbox notes, e.g. a layer this machine lacks."""
    device: str = ""
    """Where the code ran: `cpu` or `cuda`; empty when not known."""
    limits_hit: LimitHit = ""
    """The sandbox limit the code ran into (`timeout`, `memory`, `output`), or empty."""

    def to_dict(self) -> dict[str, JSON]:
        return {"source": self.source, "stdout": self.stdout, "traceback": self.traceback,
                "layers": list(self.layers), "warnings": list(self.warnings), "device": self.device,
                "limits_hit": self.limits_hit}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "RunRecord":
        values = {name: data[name] for name in _RUN_FIELDS if name in data}
        for name in ("layers", "warnings"):
            if name in values:
                values[name] = tuple(values[name])
        return RunRecord(**values)


_RUN_FIELDS = tuple(f.name for f in fields(RunRecord))


@dataclass(frozen=True)
class Review:
    """A human's decision on a question, applied over the automatic verdict."""

    score: float
    """The points the reviewer gave (before any late penalty)."""
    comment: str
    """What the reviewer wrote to the student."""
    by: str
    """Who reviewed."""
    at: str
    """When (ISO time)."""
    stale: bool = False
    """True when the spec changed since the review: the override was not applied."""


@dataclass(frozen=True)
class QuestionResult:
    """The graded result of one question for one student."""

    id: str
    """`<exercise id>.<question id>`."""
    kind: str
    """The question kind, e.g. `numeric` or `code`."""
    score: float
    """Points earned (after reviews and late penalties)."""
    max_score: float
    """The question's points."""
    status: Status
    """What the grader concluded (see STATUSES)."""
    feedback: str = ""
    """What the student reads about the answer."""
    expected: str | None = None
    """The expected answer in readable form; None where the spec does not reveal it."""
    answer: str | None = None
    """The student's answer as the grader understood it (or the raw text if it did not parse)."""
    prompt: str = ""
    """The prompt as this student saw it (their variant)."""
    mistake: int | None = None
    """Index of the known mistake the answer matched, if any."""
    details: Mapping[str, JSON] = field(default_factory=dict)
    """Kind-private extras as JSON data (formula LaTeX, figures, metrics); not cases or runs."""
    review: Review | None = None
    """A human's review of this question, if any."""
    cases: tuple[CaseResult, ...] = ()
    """The checks of code the student wrote, in order (code, model and plot kinds)."""
    run: RunRecord | None = None
    """The run of the student's code, for kinds that run it; None for the others."""

    def to_dict(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {name: getattr(self, name) for name in _QUESTION_FIELDS}
        data["details"] = dict(self.details)
        data["review"] = asdict(self.review) if self.review else None
        data["cases"] = [case.to_dict() for case in self.cases]
        data["run"] = self.run.to_dict() if self.run else None
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "QuestionResult":
        values = {name: data[name] for name in _QUESTION_FIELDS if name in data}
        values["review"] = Review(**data["review"]) if data.get("review") else None
        values["cases"] = tuple(CaseResult.from_dict(case) for case in data.get("cases") or ())
        values["run"] = RunRecord.from_dict(data["run"]) if data.get("run") else None
        return QuestionResult(**values)


_QUESTION_FIELDS = tuple(f.name for f in fields(QuestionResult))


@dataclass(frozen=True)
class Lateness:
    """How late a submission was for one exercise, and the share of its points lost."""

    exercise: str
    """The exercise id."""
    submitted_at: str
    """When it was handed in (ISO time)."""
    deadline: str
    """The exercise's deadline (ISO time)."""
    seconds_late: int
    """How long after the deadline."""
    penalty: float
    """Share (0..1) of the exercise's points taken off; its question scores are scaled."""


@dataclass(frozen=True)
class StudentResult:
    """Everything graded for one student: what a results/<student>.json file holds."""

    student: str
    """The student id."""
    score: float
    """Total points earned."""
    max_score: float
    """Total points possible."""
    questions: tuple[QuestionResult, ...]
    """One result per question of every exercise, in spec order."""
    graded_at: str = ""
    """When it was graded (ISO time)."""
    grader_version: str = ""
    """The grader version that graded it."""
    spec_digest: str = ""
    """sha256 over the spec files that graded it."""
    warnings: tuple[str, ...] = ()
    """Problems that did not stop grading (unknown question ids in answers.yaml, …)."""
    error: str | None = None
    """A submission-level problem (unreadable answers.yaml, unsafe zip)."""
    lateness: tuple[Lateness, ...] = ()
    """Exercises handed in after their deadline (see grader.authoring.lateness)."""
    format: ResultsFormat = RESULTS_FORMAT
    """The results file format, so a reader knows which fields to expect."""

    def to_dict(self) -> dict[str, JSON]:
        """Plain JSON-ready data. Shallow where it can be (asdict deep-copies every value,
        which dominated the cost of writing results)."""
        data: dict[str, JSON] = {name: getattr(self, name) for name in _STUDENT_FIELDS}
        data["questions"] = [question.to_dict() for question in self.questions]
        data["warnings"] = list(self.warnings)
        data["lateness"] = [asdict(item) for item in self.lateness]
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "StudentResult":
        """Read a results file's data: this format, or the first one (without `format`,
        typed cases and runs), whose code questions are upgraded on the way."""
        version = data.get("format", READABLE_FORMATS[0])
        if version not in READABLE_FORMATS:
            raise ValueError(f"results format {version!r} is not one this grader reads "
                             f"({', '.join(READABLE_FORMATS)}); grade again or update grader")
        upgrade = _upgrade_first_format if version == READABLE_FORMATS[0] else (lambda q: q)
        questions = tuple(QuestionResult.from_dict(upgrade(q)) for q in data["questions"])
        lateness = tuple(Lateness(**item) for item in data.get("lateness", ()))
        values = {name: data[name] for name in _STUDENT_FIELDS if name in data}
        return StudentResult(**{**values, "questions": questions, "warnings": tuple(data.get("warnings", ())),
                                "lateness": lateness, "format": RESULTS_FORMAT})


_STUDENT_FIELDS = tuple(f.name for f in fields(StudentResult))

#: Keys the first format kept in `details` that are typed records now.
_FIRST_FORMAT_RUN_KEYS = ("sandbox", "isolation", "stdout", "trace", "checks", "passed", "total", "error_kind")


def _upgrade_first_format(question: Mapping[str, Any]) -> Mapping[str, Any]:
    """A question of the first format with its code checks and sandbox data as typed
    records: `details["checks"]` (code) or `details["cases"]` (model, plot) become
    cases, the sandbox keys a run. Other questions pass unchanged."""
    details = question.get("details") or {}
    if question.get("kind") not in ("code", "model", "plot") or not isinstance(details, Mapping):
        return question
    raw_cases = details.get("checks", details.get("cases", []))
    cases = [c for c in raw_cases if isinstance(c, Mapping) and isinstance(c.get("name"), str)
             and isinstance(c.get("passed"), bool)]
    sandbox = details.get("sandbox") if isinstance(details.get("sandbox"), Mapping) else details
    run = {"stdout": str(sandbox.get("stdout") or ""), "traceback": str(details.get("trace") or ""),
           "layers": [str(x) for x in sandbox.get("layers" if "sandbox" in details else "isolation") or ()],
           "warnings": [str(x) for x in sandbox.get("warnings") or ()],
           "device": "cuda" if str(details.get("device", "")).startswith("cuda") else
           "cpu" if details.get("device") == "cpu" else ""}
    kept = {k: v for k, v in details.items() if k not in (*_FIRST_FORMAT_RUN_KEYS, "cases", "device")}
    if question.get("kind") == "model" and "layers" in kept:
        kept["architecture"] = kept.pop("layers")
    return {**question, "details": kept, "cases": cases,
            "run": run if question.get("status") != "missing" else None}
