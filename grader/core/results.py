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
from typing import Literal, Mapping, Union

Status = Literal["correct", "partial", "incorrect", "missing", "invalid", "error", "review"]

#: Every status a question result can have, in the order reports list them.
#: `invalid` is a malformed answer (it did not parse); `incorrect` parsed but is wrong;
#: `error` is a fault while grading (code crashed, grader fault); `review` needs a human.
STATUSES: tuple[Status, ...] = (
    "correct", "partial", "incorrect", "missing", "invalid", "error", "review",
)

#: JSON data: what `details` may hold, so a results file is plain JSON and nothing else.
JSON = Union[None, bool, int, float, str, list["JSON"], dict[str, "JSON"]]

#: Whose doing an `error` is: `student` (their code crashed, looped, ran out of time or
#: memory, broke the sandbox protocol; their submission cannot be read) or `grader` (a
#: grader or reference fault: not the student's to fix). "" for every other status, and
#: for results written before this field, whose errors say nothing of their cause.
Fault = Literal["", "student", "grader"]

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
    where: str = ""
    """Where the returned value is off the most: the index of the largest difference in an
    array (`[2, 0]`, with the part of a tuple or dict it lies in); empty when hidden or not known."""
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
    def from_dict(raw: object) -> "CaseResult":
        data = _Fields(raw, "a case")
        return CaseResult(name=data.text("name"), passed=data.flag("passed"), hidden=data.flag("hidden", False),
                          weight=data.number("weight", 1.0), inputs=data.text("inputs", ""),
                          expected=data.text("expected", ""), got=data.text("got", ""),
                          largest_difference=data.optional_number("largest_difference"),
                          where=data.text("where", ""),
                          message=data.text("message", ""), note=data.text("note", ""))


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
    def from_dict(raw: object) -> "RunRecord":
        data = _Fields(raw, "a run")
        limit = data.text("limits_hit", "")
        if limit not in _LIMITS_HIT:
            raise ValueError(f"a run's limits_hit is {limit!r}, not one of {', '.join(map(repr, _LIMITS_HIT))}")
        return RunRecord(source=data.text("source", ""), stdout=data.text("stdout", ""),
                         traceback=data.text("traceback", ""), layers=data.texts("layers"),
                         warnings=data.texts("warnings"), device=data.text("device", ""),
                         limits_hit=_LIMITS_HIT[limit])


@dataclass(frozen=True)
class RubricTick:
    """One rubric item of a reviewed answer: whether the reviewer judged it present, beside
    what the rubric's automatic reading found."""

    concept: str
    """The item, as the rubric names it."""
    ticked: bool
    """The reviewer judged the item present in the answer."""
    found: bool | None = None
    """The rubric's automatic reading found it; None where the result reports no reading."""


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
    rubric: tuple[RubricTick, ...] = ()
    """The answer's rubric items as the reviewer ticked them, in the rubric's order; empty
    when the decision says nothing of the rubric (no rubric, or no items ticked)."""

    def to_dict(self) -> dict[str, JSON]:
        return {"score": self.score, "comment": self.comment, "by": self.by, "at": self.at, "stale": self.stale,
                "rubric": [{"concept": t.concept, "ticked": t.ticked, "found": t.found} for t in self.rubric]}


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
    expected_latex: str | None = None
    """The expected answer as LaTeX, for kinds whose answers are formulas (the report typesets
    it like the student's); None where the kind has no such form or `expected` is None."""
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
    fault: Fault = ""
    """For an `error`: whose doing it is (see Fault); "" for every other status."""
    cases: tuple[CaseResult, ...] = ()
    """The checks of code the student wrote, in order (code, model and plot kinds)."""
    run: RunRecord | None = None
    """The run of the student's code, for kinds that run it; None for the others."""

    def to_dict(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {name: getattr(self, name) for name in _QUESTION_FIELDS}
        data["details"] = dict(self.details)
        data["review"] = self.review.to_dict() if self.review else None
        data["cases"] = [case.to_dict() for case in self.cases]
        data["run"] = self.run.to_dict() if self.run else None
        return data

    @staticmethod
    def from_dict(raw: object) -> "QuestionResult":
        data = _Fields(raw, "a question")
        status = data.text("status")
        if status not in _STATUS:
            raise ValueError(f"a question's status is {status!r}, not one of {', '.join(STATUSES)}")
        review, run = data.get("review"), data.get("run")
        return QuestionResult(
            id=data.text("id"), kind=data.text("kind"), score=data.number("score"), max_score=data.number("max_score"),
            status=_STATUS[status], feedback=data.text("feedback", ""), expected=data.optional_text("expected"),
            expected_latex=data.optional_text("expected_latex"),
            answer=data.optional_text("answer"), prompt=data.text("prompt", ""), mistake=data.optional_whole("mistake"),
            details=data.json_object("details"), review=_review(review) if review else None,
            fault=_fault(data.text("fault", "")),
            cases=tuple(CaseResult.from_dict(case) for case in data.items("cases")),
            run=RunRecord.from_dict(run) if run else None)


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
    extended_from: str | None = None
    """The exercise's own deadline when a per-student extension replaced it (`deadline` is
    then the extended one); None without an extension."""


#: Where a submission time came from: `times file` (`grade --times`, as an LMS recorded the
#: upload: trusted), `manifest` (the `grader submit` manifest in the student's own zip) or
#: `zip name` (its stamp), both self-reported; "" when no time is known.
TimeSource = Literal["", "times file", "manifest", "zip name"]

#: Why a submission time is doubtful: `times_disagree` (the manifest and the times file
#: differ by more than the tolerance), `before_zip_entries` (the manifest, or the times
#: file, says the zip was made before the newest file in it was written), `not_in_times`
#: (a times file was given but has no row for this student).
TimeFlagKind = Literal["times_disagree", "before_zip_entries", "not_in_times"]


@dataclass(frozen=True)
class TimeFlag:
    """One reason to doubt a submission time; the report and the gradebook show it."""

    kind: TimeFlagKind
    """What disagrees (see TimeFlagKind)."""
    message: str
    """The disagreement in words, with both times."""


@dataclass(frozen=True)
class Timing:
    """When a submission was handed in, by whose word, and what casts doubt on it."""

    submitted_at: str | None
    """The time lateness was assessed with (ISO time), None when none is known."""
    source: TimeSource
    """Where that time came from (see TimeSource)."""
    trusted: bool
    """True for a time from the times file; a manifest or zip name is the student's own word."""
    flags: tuple[TimeFlag, ...] = ()
    """Disagreements between the times file, the manifest and the zip's entries."""
    extension: str = ""
    """The student's deadline extension in words (`--extensions`), "" when none."""

    def to_dict(self) -> dict[str, JSON]:
        return {"submitted_at": self.submitted_at, "source": self.source, "trusted": self.trusted,
                "flags": [{"kind": flag.kind, "message": flag.message} for flag in self.flags],
                "extension": self.extension}


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
    timing: Timing | None = None
    """When it was handed in and by whose word; None for results written before this field."""
    format: ResultsFormat = RESULTS_FORMAT
    """The results file format, so a reader knows which fields to expect."""

    def to_dict(self) -> dict[str, JSON]:
        """Plain JSON-ready data. Shallow where it can be (asdict deep-copies every value,
        which dominated the cost of writing results)."""
        data: dict[str, JSON] = {name: getattr(self, name) for name in _STUDENT_FIELDS}
        data["questions"] = [question.to_dict() for question in self.questions]
        data["warnings"] = list(self.warnings)
        data["lateness"] = [asdict(item) for item in self.lateness]
        data["timing"] = self.timing.to_dict() if self.timing is not None else None
        return data

    @staticmethod
    def from_dict(raw: object) -> "StudentResult":
        """Read a results file's data, checking every field's type (ValueError if one is
        wrong): this format, or the first one (without `format`, typed cases and runs),
        whose code questions are upgraded on the way."""
        data = _Fields(raw, "a results file")
        version = data.text("format", READABLE_FORMATS[0])
        if version not in READABLE_FORMATS:
            raise ValueError(f"results format {version!r} is not one this grader reads "
                             f"({', '.join(READABLE_FORMATS)}); grade again or update grader")
        first = version == READABLE_FORMATS[0]
        questions = tuple(QuestionResult.from_dict(_upgrade_first_format(q) if first else q)
                          for q in data.items("questions", required=True))
        return StudentResult(
            student=data.text("student"), score=data.number("score"), max_score=data.number("max_score"),
            questions=questions, graded_at=data.text("graded_at", ""), grader_version=data.text("grader_version", ""),
            spec_digest=data.text("spec_digest", ""), warnings=data.texts("warnings"),
            error=data.optional_text("error"), lateness=tuple(_lateness(item) for item in data.items("lateness")),
            timing=_timing(data.get("timing")))


_STUDENT_FIELDS = tuple(f.name for f in fields(StudentResult))

_STATUS: dict[str, Status] = {status: status for status in STATUSES}
_FAULTS: dict[str, Fault] = {"": "", "student": "student", "grader": "grader"}
_LIMITS_HIT: dict[str, LimitHit] = {"": "", "timeout": "timeout", "memory": "memory", "output": "output"}


def _fault(fault: str) -> Fault:
    if fault not in _FAULTS:
        raise ValueError(f"a question's fault is {fault!r}, not one of {', '.join(map(repr, _FAULTS))}")
    return _FAULTS[fault]


def _review(raw: object) -> Review:
    data = _Fields(raw, "a review")
    return Review(score=data.number("score"), comment=data.text("comment"), by=data.text("by"), at=data.text("at"),
                  stale=data.flag("stale", False), rubric=tuple(_tick(t) for t in data.items("rubric")))


def _tick(raw: object) -> RubricTick:
    data = _Fields(raw, "a rubric tick")
    return RubricTick(concept=data.text("concept"), ticked=data.flag("ticked"), found=data.optional_flag("found"))


def _lateness(raw: object) -> Lateness:
    data = _Fields(raw, "a lateness")
    return Lateness(exercise=data.text("exercise"), submitted_at=data.text("submitted_at"),
                    deadline=data.text("deadline"), seconds_late=data.whole("seconds_late"),
                    penalty=data.number("penalty"), extended_from=data.optional_text("extended_from"))


_TIME_SOURCES: dict[str, TimeSource] = {"": "", "times file": "times file", "manifest": "manifest",
                                        "zip name": "zip name"}
_FLAG_KINDS: dict[str, TimeFlagKind] = {"times_disagree": "times_disagree",
                                        "before_zip_entries": "before_zip_entries", "not_in_times": "not_in_times"}


def _timing(raw: object) -> Timing | None:
    if raw is None:
        return None
    data = _Fields(raw, "a timing")
    source = data.text("source", "")
    if source not in _TIME_SOURCES:
        raise ValueError(f"a timing's source is {source!r}, not one of {', '.join(map(repr, _TIME_SOURCES))}")
    return Timing(submitted_at=data.optional_text("submitted_at"), source=_TIME_SOURCES[source],
                  trusted=data.flag("trusted", False), flags=tuple(_flag(item) for item in data.items("flags")),
                  extension=data.text("extension", ""))


def _flag(raw: object) -> TimeFlag:
    data = _Fields(raw, "a time flag")
    kind = data.text("kind")
    if kind not in _FLAG_KINDS:
        raise ValueError(f"a time flag's kind is {kind!r}, not one of {', '.join(map(repr, _FLAG_KINDS))}")
    return TimeFlag(kind=_FLAG_KINDS[kind], message=data.text("message"))


class _Fields:
    """Typed reads of one JSON object of a results file: a missing required key or a
    value of the wrong type is a ValueError naming both, never a half-typed record."""

    def __init__(self, raw: object, what: str) -> None:
        if not isinstance(raw, Mapping):
            raise ValueError(f"{what} is not a JSON object")
        self.raw: Mapping[object, object] = raw
        self.what = what

    def get(self, key: str) -> object:
        return self.raw.get(key)

    def _value(self, key: str, default: object) -> object:
        if key in self.raw:
            return self.raw[key]
        if default is _REQUIRED:
            raise ValueError(f"{self.what} has no {key!r}")
        return default

    def _wrong(self, key: str, wanted: str) -> ValueError:
        return ValueError(f"{self.what}'s {key!r} is not {wanted}")

    def text(self, key: str, default: object = None) -> str:
        value = self._value(key, _REQUIRED if default is None else default)
        if not isinstance(value, str):
            raise self._wrong(key, "text")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.raw.get(key)
        return None if value is None else self.text(key)

    def flag(self, key: str, default: object = None) -> bool:
        value = self._value(key, _REQUIRED if default is None else default)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def optional_flag(self, key: str) -> bool | None:
        return None if self.raw.get(key) is None else self.flag(key)

    def number(self, key: str, default: object = None) -> float:
        value = self._value(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._wrong(key, "a number")
        return value

    def optional_number(self, key: str) -> float | None:
        return None if self.raw.get(key) is None else self.number(key)

    def whole(self, key: str) -> int:
        value = self._value(key, _REQUIRED)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "a whole number")
        return value

    def optional_whole(self, key: str) -> int | None:
        return None if self.raw.get(key) is None else self.whole(key)

    def items(self, key: str, required: bool = False) -> list[object]:
        value = self._value(key, _REQUIRED if required else [])
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.items(key)
        if not all(isinstance(value, str) for value in values):
            raise self._wrong(key, "a list of text")
        return tuple(str(value) for value in values)

    def json_object(self, key: str) -> dict[str, JSON]:
        value = self._value(key, {})
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise self._wrong(key, "a JSON object")
        return {str(k): _json(v, key) for k, v in value.items()}


_REQUIRED = object()


def _json(value: object, where: str) -> JSON:
    """`value` as JSON data, or a ValueError: details hold nothing else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_json(item, where) for item in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {str(k): _json(v, where) for k, v in value.items()}
    raise ValueError(f"{where} holds a {type(value).__name__}, which is not JSON data")


#: Keys the first format kept in `details` that are typed records now.
_FIRST_FORMAT_RUN_KEYS = ("sandbox", "isolation", "stdout", "trace", "checks", "passed", "total", "error_kind")


def _upgrade_first_format(raw: object) -> object:
    """A question of the first format with its code checks and sandbox data as typed
    records: `details["checks"]` (code) or `details["cases"]` (model, plot) become
    cases, the sandbox keys a run. Other questions pass unchanged."""
    if not isinstance(raw, Mapping):
        return raw
    details = raw.get("details") or {}
    if raw.get("kind") not in ("code", "model", "plot") or not isinstance(details, Mapping):
        return raw
    checks = details.get("checks", details.get("cases"))
    cases = [c for c in checks if isinstance(c, Mapping) and isinstance(c.get("name"), str)
             and isinstance(c.get("passed"), bool)] if isinstance(checks, list) else []
    kept = {k: v for k, v in details.items() if k not in (*_FIRST_FORMAT_RUN_KEYS, "cases", "device")}
    if raw.get("kind") == "model" and "layers" in kept:
        kept["architecture"] = kept.pop("layers")
    run = _first_format_run(details) if raw.get("status") != "missing" else None
    return {**raw, "details": kept, "cases": cases, "run": run}


def _first_format_run(details: Mapping[object, object]) -> dict[str, JSON]:
    """The run of a first-format question: the code kind kept it under `sandbox`, the
    model and plot kinds at the top of details (isolation layers under `isolation`)."""
    nested = details.get("sandbox")
    sandbox = nested if isinstance(nested, Mapping) else details
    layers = sandbox.get("layers" if isinstance(nested, Mapping) else "isolation")
    warnings = sandbox.get("warnings")
    device = str(details.get("device") or "")
    return {"stdout": str(sandbox.get("stdout") or ""), "traceback": str(details.get("trace") or ""),
            "layers": [str(x) for x in layers] if isinstance(layers, list) else [],
            "warnings": [str(x) for x in warnings] if isinstance(warnings, list) else [],
            "device": "cuda" if device.startswith("cuda") else "cpu" if device == "cpu" else ""}
