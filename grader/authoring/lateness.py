"""Deadlines and late penalties: when a submission counts as late, and what that costs.

An exercise may set `deadline` (an ISO 8601 time *with* a time zone) and a `late_penalty`
policy, a mapping of:

    per_day: 0.1        # share of the exercise's points lost per started day late
    flat: 0.2           # share lost as soon as the submission is late at all
    max: 0.5            # cap on the share lost (default 1: everything)
    grace_minutes: 10   # lateness up to this is forgiven (clock skew, slow uploads)
    cutoff: 2026-12-08T23:59:00+01:00   # after this the exercise scores 0

The share lost is `min(max, flat + per_day * started_days)` (1 after the cutoff), and the
exercise's question scores are multiplied by `1 - share`, so every total, column and
report stays consistent. A deadline without a policy records lateness and costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Mapping

from grader.authoring.extensions import Extension
from grader.core.model import Course
from grader.core.results import Lateness, QuestionResult, StudentResult
# The time helpers live in core (submissions read times too); kept importable from here.
from grader.core.times import TIME_EXAMPLE, TimeError, parse_stamp, parse_time, utc_stamp

__all__ = [
    "POLICY_KEYS", "TIME_EXAMPLE", "LatePolicy", "TimeError", "apply", "assess", "describe", "load_policy",
    "parse_stamp", "parse_time", "policy_from_mapping", "policy_from_text", "policy_problems", "utc_stamp",
]

POLICY_KEYS = ("per_day", "flat", "max", "grace_minutes", "cutoff")


@dataclass(frozen=True)
class LatePolicy:
    per_day: float = 0.0
    flat: float = 0.0
    max: float = 1.0
    grace_minutes: float = 0.0
    cutoff: str | None = None

    def share_lost(self, late_by: timedelta, submitted: datetime) -> float:
        """Share of the points lost for a submission `late_by` after the deadline."""
        if late_by <= timedelta(minutes=self.grace_minutes):
            return 0.0
        if self.cutoff is not None and submitted > parse_time(self.cutoff):
            return 1.0
        days = math.ceil(late_by / timedelta(days=1))
        return min(self.max, self.flat + self.per_day * days)


def policy_problems(raw: Any) -> list[tuple[str, str]]:
    """(key, message) for every problem in a raw late_penalty mapping; empty when fine."""
    if not isinstance(raw, dict):
        return [("", "late_penalty must be a mapping such as {per_day: 0.1, max: 0.5}")]
    problems = []
    for key, value in raw.items():
        if key not in POLICY_KEYS:
            problems.append((str(key), f"unknown key {key!r}: late_penalty takes " + ", ".join(POLICY_KEYS)))
        elif key == "cutoff":
            try:
                parse_time(value)
            except TimeError as exc:
                problems.append((key, f"cutoff: {exc}"))
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append((key, f"{key} must be a number, got {value!r}"))
        elif key == "grace_minutes" and value < 0:
            problems.append((key, "grace_minutes must not be negative"))
        elif key != "grace_minutes" and not 0 <= value <= 1:
            problems.append((key, f"{key} is a share of the points, from 0 to 1, got {value!r}"))
    return problems


def load_policy(raw: Any) -> LatePolicy:
    """A LatePolicy from a raw mapping; raises ValueError listing the problems."""
    problems = policy_problems(raw)
    if problems:
        raise ValueError("; ".join(message for _, message in problems))
    shares = {key: float(value) for key, value in raw.items() if key != "cutoff"}
    return LatePolicy(cutoff=raw.get("cutoff"), **shares)


def assess(course: Course, submitted_at: str | None, deadline: str | None = None,
           policy: LatePolicy | None = None, extension: Extension | None = None) -> tuple[list[Lateness], list[str]]:
    """Lateness of one submission for every exercise with a deadline.

    `deadline` and `policy` (from the command line) override the specs'; the student's
    `extension` (grader.authoring.extensions) then moves each deadline, and the policy's
    cutoff by as much. Returns the late exercises and warnings (a deadline that cannot be
    checked)."""
    records: list[Lateness] = []
    unknown: list[str] = []
    for exercise in course.exercises:
        due_text = deadline or exercise.deadline
        if due_text is None:
            continue
        if submitted_at is None:
            unknown.append(exercise.id)
            continue
        own_due = due_text
        if extension is not None:
            due_text = extension.due(own_due)
        submitted, due = parse_time(submitted_at), parse_time(due_text)
        if submitted <= due:
            continue
        rule = policy or (load_policy(exercise.late_penalty) if exercise.late_penalty else LatePolicy(max=0.0))
        moved = due - parse_time(own_due)
        if rule.cutoff is not None and moved > timedelta(0):
            rule = replace(rule, cutoff=(parse_time(rule.cutoff) + moved).isoformat())
        late_by = submitted - due
        records.append(Lateness(exercise.id, submitted_at, due_text, round(late_by.total_seconds()),
                                round(rule.share_lost(late_by, submitted), 6),
                                extended_from=own_due if extension is not None else None))
    warnings = [f"the submission time is unknown (no `grader submit` manifest), so lateness was not "
                f"assessed for {', '.join(unknown)}"] if unknown else []
    return records, warnings


def apply(result: StudentResult, records: list[Lateness]) -> StudentResult:
    """Scale the late exercises' question scores by what the policy keeps."""
    if not records:
        return result
    kept = {record.exercise: 1 - record.penalty for record in records}
    questions = tuple(_scaled(q, kept.get(q.id.split(".", 1)[0], 1.0)) for q in result.questions)
    return replace(result, questions=questions, score=round(sum(q.score for q in questions), 6),
                   lateness=tuple(records))


def _scaled(question: QuestionResult, keep: float) -> QuestionResult:
    if keep >= 1.0:
        return question
    note = f"Late penalty: {1 - keep:.0%} of this exercise's points."
    return replace(question, score=round(question.score * keep, 6),
                   feedback=f"{question.feedback} {note}".strip())


def describe(record: Lateness) -> str:
    late = timedelta(seconds=record.seconds_late)
    hours = late.total_seconds() / 3600
    span = f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"
    extended = f" (extended deadline; due {record.extended_from} without it)" if record.extended_from else ""
    return f"{record.exercise}: {span} late{extended}, penalty {record.penalty:.0%}"


def policy_from_text(text: str) -> dict[str, Any]:
    """A late_penalty mapping written as YAML text (as `--late-penalty` takes it), read with
    the safe loader; ValueError when it is not a mapping. `load_policy` checks the keys."""
    from grader.core import yamlsafe

    data = yamlsafe.loads(text).data  # YamlError is a ValueError
    if not isinstance(data, dict):
        raise ValueError("expected a mapping such as '{per_day: 0.1, max: 0.5}'")
    return data


def policy_from_mapping(raw: Mapping[str, Any] | None) -> LatePolicy | None:
    return load_policy(dict(raw)) if raw is not None else None
