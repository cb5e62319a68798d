"""Grading one submission: an ordered list of small steps, each a pure function.

resolve the variant -> compute references -> parse each answer -> check it -> match known
mistakes -> build the result. A fault in one question becomes that question's `error`;
the other questions, and the rest of the class, are graded as usual.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Mapping

from grader.core.version import __version__
from grader.core import registry
from grader.core.budget import OverBudget, enforced_if
from grader.core.text import without_paths
from grader.authoring import lateness, solutions, variants
from grader.authoring.extensions import Extensions
from grader.core.model import CodeAnswer, Course, Exercise, Invalid, Question, Reference, ValueSource, Verdict
from grader.core.results import QuestionResult, StudentResult
from grader.intake import times
from grader.intake.submission import Submission, code_module

MAX_SHOWN_ANSWER = 500


@dataclass(frozen=True)
class Expected:
    value: Any
    mistakes: tuple[Any, ...]
    shown: str | None = None
    """The expected answer as the student may see it; None unless the spec reveals it."""
    latex: str | None = None
    """`shown` as LaTeX, where the kind has a `show_latex` hook; None unless the spec reveals it."""


def _params_key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=repr)


def reference_value(course: Course, exercise: Exercise, question: Question, source: ValueSource,
                    params: Mapping[str, Any]) -> Any:
    """The parsed reference value of `source` for this variant."""
    kind = registry.get(question.kind)
    if source.is_solution:
        assert course.solutions_root and exercise.solutions
        if not kind.calls_reference:
            return Reference(course.solutions_root, exercise.solutions, source.solution or "", dict(params),
                             course.memo)
        fn = solutions.function(course.solutions_root, exercise.solutions, source.solution or "")
        return kind.parse_reference(solutions.call(fn, params), question)
    return kind.parse_reference(source.literal, question)


def expected_for(course: Course, exercise: Exercise, question: Question, params: Mapping[str, Any],
                 variant: str | None = None) -> Expected:
    """The reference answer, the known mistakes' values and the shown text for this variant
    (`variant` is `_params_key(params)`, passed in when the caller has it already)."""
    answer = question.answer
    assert answer is not None

    def compute() -> Expected:
        value = reference_value(course, exercise, question, answer, params)
        mistakes = tuple(reference_value(course, exercise, question, m.answer, params) for m in question.mistakes)
        return Expected(value, mistakes, _expected_text(question, value), _expected_latex(question, value))

    # students who share a variant share the work of computing, parsing and showing it
    key = (exercise.id, question.id, variant if variant is not None else _params_key(params))
    return course.memo.get("expected", key, compute)


def judge(question: Question, value: Any, expected: Expected) -> Verdict:
    """The kind's verdict, replaced by a known mistake's targeted feedback when one matches."""
    kind = registry.get(question.kind)
    verdict = kind.check(question, value, expected.value)
    if verdict.status not in ("incorrect", "partial"):
        return verdict
    for index, (mistake, mistake_value) in enumerate(zip(question.mistakes, expected.mistakes)):
        if kind.check(question, value, mistake_value).status == "correct":
            # The checks and the run stay the student's own; only the score and words change.
            if mistake.credit < verdict.fraction:
                return replace(verdict, feedback=f"{mistake.feedback} {verdict.feedback}".strip(), mistake=index)
            return replace(verdict, status="partial" if mistake.credit > 0 else "incorrect",
                           fraction=mistake.credit, feedback=mistake.feedback, mistake=index)
    return verdict


def _expected_text(question: Question, expected: Any) -> str | None:
    """What the student may see of the expected answer: nothing unless the spec reveals it.
    Kinds that run code describe their reference themselves (`describe_expected`)."""
    if not question.reveal:
        return None
    kind = registry.get(question.kind)
    if kind.calls_reference:
        return kind.show(expected, question)
    describe = registry.hook(kind, "describe_expected")
    return describe(question) if describe else None


def _expected_latex(question: Question, expected: Any) -> str | None:
    """The revealed expected answer as LaTeX, for kinds that show their values so."""
    if not question.reveal:
        return None
    kind = registry.get(question.kind)
    show_latex = registry.hook(kind, "show_latex") if kind.calls_reference else None
    return show_latex(expected, question) if show_latex else None


def raw_answer(submission: Submission, exercise: Exercise, question: Question, params: Mapping[str, Any]) -> Any:
    kind = registry.get(question.kind)
    if kind.answer_source == "code":
        module = code_module(submission.folder, f"{exercise.id}.py")
        return CodeAnswer(submission.folder, module, submission.student, exercise.id, dict(params))
    return submission.answers.get(exercise.id, {}).get(question.id)


def _is_missing(raw: Any) -> bool:
    if isinstance(raw, CodeAnswer):
        return raw.module is None
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def _shown(raw: Any) -> str | None:
    if raw is None or isinstance(raw, CodeAnswer):
        return None
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_SHOWN_ANSWER else text[:MAX_SHOWN_ANSWER] + "…"


def prompt_for(course: Course, exercise: Exercise, question: Question, params: Mapping[str, Any],
               variant: str) -> str:
    return course.memo.get("prompt", (exercise.id, question.id, variant),
                           lambda: variants.render_prompt(question.prompt, params))


def grade_question(course: Course, exercise: Exercise, question: Question, submission: Submission,
                   params: Mapping[str, Any], variant: str | None = None) -> QuestionResult:
    kind = registry.get(question.kind)
    qid = f"{exercise.id}.{question.id}"
    variant = variant if variant is not None else _params_key(params)
    base: dict[str, Any] = dict(id=qid, kind=question.kind, max_score=question.points,
                                prompt=prompt_for(course, exercise, question, params, variant))
    try:
        expected = expected_for(course, exercise, question, params, variant)
    except Exception as exc:  # an instructor's bug must not sink the student's other answers
        return QuestionResult(**base, score=0.0, status="error", fault="grader",
                              feedback=f"The reference answer could not be computed (grader fault): {exc}")
    raw = raw_answer(submission, exercise, question, params)
    base["expected"] = expected.shown
    base["expected_latex"] = expected.latex
    if _is_missing(raw):
        return QuestionResult(**base, score=0.0, status="missing", feedback="No answer was given.")
    try:
        return _graded(kind, question, raw, expected, base)
    except OverBudget as exc:  # a BaseException: `except Exception` in between never swallows it
        return QuestionResult(**base, score=0.0, status="review", feedback=exc.message, answer=_shown(raw),
                              details={"over_budget": exc.why})
    except Exception as exc:
        detail = without_paths("".join(traceback.format_exception_only(type(exc), exc)).strip())
        return QuestionResult(**base, score=0.0, status="error", fault="grader",
                              feedback=f"Grader fault on this question: {detail}", answer=_shown(raw))


def _graded(kind: registry.QuestionKind, question: Question, raw: Any, expected: Expected,
            base: dict[str, Any]) -> QuestionResult:
    """Parse, check and show one answer, all of it within one budget where the kind sets one
    (a formula can be costly at any of these steps, and they must not add up)."""
    with enforced_if(registry.answer_budget(kind, question)):
        value = kind.parse(raw, question)
        if isinstance(value, Invalid):
            return QuestionResult(**base, score=0.0, status="invalid", feedback=value.pointed(), answer=_shown(raw))
        verdict = judge(question, value, expected)
        shown_answer = kind.show(value, question) if kind.answer_source == "answers" else None
    return QuestionResult(**base, score=round(verdict.fraction * question.points, 6), status=verdict.status,
                          feedback=verdict.feedback, answer=shown_answer, mistake=verdict.mistake,
                          details=dict(verdict.details), cases=verdict.cases, run=verdict.run,
                          fault=verdict.fault if verdict.status == "error" else "")


MAX_UNKNOWN_WARNINGS = 20
"""Unknown ids named one by one; the rest are counted. answers.yaml may hold 200,000 keys
(yamlsafe's bound), and one warning each made a result file of megabytes."""
MAX_SHOWN_ID = 80


def unknown_answers(course: Course, submission: Submission) -> list[str]:
    warnings = []
    for exercise_id, questions in submission.answers.items():
        exercise = course.exercise(exercise_id)
        if exercise is None:
            warnings.append(f"answers.yaml: unknown exercise {_short_id(exercise_id)!r} was ignored")
            continue
        for question_id in questions:
            if exercise.question(question_id) is None:
                warnings.append(f"answers.yaml: unknown question {_short_id(f'{exercise_id}.{question_id}')} "
                                "was ignored")
    if len(warnings) > MAX_UNKNOWN_WARNINGS:
        more = len(warnings) - MAX_UNKNOWN_WARNINGS
        warnings = warnings[:MAX_UNKNOWN_WARNINGS] + [f"answers.yaml: {more:,} more unknown ids were ignored"]
    return warnings


def _short_id(text: str) -> str:
    """An id as a warning shows it: a key can be as long as the file."""
    return text if len(text) <= MAX_SHOWN_ID else text[:MAX_SHOWN_ID] + "…"


def grade_submission(course: Course, submission: Submission, now: datetime | None = None) -> StudentResult:
    """Grade every question of every exercise for one submission."""
    graded_at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    results: list[QuestionResult] = []
    for exercise in course.exercises:
        params = variants.resolve(exercise.params, submission.student, exercise.id)
        variant = _params_key(params)
        for question in exercise.questions:
            if submission.error:
                results.append(QuestionResult(id=f"{exercise.id}.{question.id}", kind=question.kind, score=0.0,
                                              max_score=question.points, status="error", fault="student",
                                              feedback=f"The submission could not be read: {submission.error}",
                                              prompt=prompt_for(course, exercise, question, params, variant)))
            else:
                results.append(grade_question(course, exercise, question, submission, params, variant))
    return StudentResult(
        student=submission.student,
        score=round(sum(r.score for r in results), 6),
        max_score=sum(r.max_score for r in results),
        questions=tuple(results),
        graded_at=graded_at,
        grader_version=__version__,
        spec_digest=course.digest,
        warnings=tuple(unknown_answers(course, submission)),
        error=submission.error,
    )


def finish(result: StudentResult, opened: Submission, course: Course, deadline: str | None = None,
           policy: Mapping[str, Any] | None = None, trusted: times.TrustedTimes | None = None,
           extensions: Extensions | None = None) -> StudentResult:
    """After grading: the submission's warnings and conflicts, a spec-version check, when it
    was handed in (the times file's word over the manifest's, grader.intake.times) and
    lateness (the late policy is the spec's, or `deadline`/`policy` given for the whole
    run; the student's extension moves the deadline)."""
    warnings = list(result.warnings) + list(opened.warnings) + [c.message for c in opened.conflicts]
    if opened.submitted_at and not result.error and opened.packaged_specs:
        if course.digest not in opened.packaged_specs.split(","):
            warnings.append(f"packaged against specs {opened.packaged_specs}, graded with {course.digest}")
    timing = times.timing(opened, trusted)
    extension = extensions.by_student.get(opened.student) if extensions else None
    if extension is not None:
        timing = replace(timing, extension=extension.describe())
    records, notes = lateness.assess(course, timing.submitted_at, deadline, lateness.policy_from_mapping(policy),
                                     extension)
    result = replace(result, warnings=tuple(warnings + notes), timing=timing)
    return lateness.apply(result, records) if not result.error else result
