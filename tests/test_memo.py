"""grader.core.memo: work computed from a course lives and dies with that course.

The bug these tests pin: references, prompts and reference drawings were cached at module
level, keyed without the course, so editing a spec (or its solutions) and validating or
grading again in the same process used the old values.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader import api
from grader.authoring import spec
from grader.core.errors import SpecError
from grader.core.memo import Memo
from grader.grading import engine
from grader.intake.submission import Submission

SPEC = """\
id: ex01
title: Memo
solutions: course.ex01
questions:
  - id: a
    kind: numeric
    points: 1
    prompt: "What is {answer}?"
    answer: {answer}
    mistakes:
      - answer: 2
        feedback: You halved it.
  - id: b
    kind: numeric
    points: 1
    prompt: What does the solution say?
    answer: {{solution: value}}
"""


def write_course(root: Path, answer: str, value: str) -> Path:
    (root / "solutions" / "course").mkdir(parents=True, exist_ok=True)
    (root / "solutions" / "course" / "ex01.py").write_text(f"def value():\n    return {value}\n")
    folder = root / "exercises"
    folder.mkdir(exist_ok=True)
    (folder / "ex01.yaml").write_text(SPEC.format(answer=answer))
    return folder


def test_a_table_computes_once_and_keeps_the_value() -> None:
    memo, calls = Memo(), []
    first = memo.get("t", "k", lambda: calls.append(1) or 41)
    second = memo.get("t", "k", lambda: calls.append(1) or 42)
    assert (first, second, len(calls)) == (41, 41, 1)


def test_a_failed_computation_stores_nothing() -> None:
    memo = Memo()
    with pytest.raises(ZeroDivisionError):
        memo.get("t", "k", lambda: 1 / 0)
    assert memo.get("t", "k", lambda: 7) == 7


def test_tables_are_bounded_least_recently_used_first() -> None:
    memo = Memo(size=2)
    for key in "abc":
        memo.get("t", key, lambda key=key: key)
    assert len(memo) == 2 and memo.get("t", "a", lambda: "again") == "again"
    assert memo.get("small", 1, lambda: 1, limit=1) == 1 and memo.get("small", 2, lambda: 2, limit=1) == 2
    assert memo.get("small", 1, lambda: "recomputed", limit=1) == "recomputed"


def test_editing_a_literal_answer_is_seen_by_the_next_validate(tmp_path: Path) -> None:
    folder = write_course(tmp_path, answer="4", value="3")
    api.validate([folder])
    (folder / "ex01.yaml").write_text(SPEC.format(answer="2"))  # now the mistake equals the answer
    with pytest.raises(SpecError, match="mistakes\\[0\\] passes the check"):
        api.validate([folder])


def test_editing_a_solution_is_seen_by_the_next_grade(tmp_path: Path) -> None:
    folder = write_course(tmp_path, answer="4", value="3")
    student = Submission("s1", tmp_path, {"ex01": {"a": "4", "b": "3"}})
    before = engine.grade_submission(spec.load_course([folder]), student)
    write_course(tmp_path, answer="5", value="30")
    after = engine.grade_submission(spec.load_course([folder]), student)
    assert [q.status for q in before.questions] == ["correct", "correct"]
    assert [q.status for q in after.questions] == ["incorrect", "incorrect"]
    assert "What is 5?" in after.questions[0].prompt


def test_every_course_has_its_own_memo(tmp_path: Path) -> None:
    folder = write_course(tmp_path, answer="4", value="3")
    first, second = spec.load_course([folder]), spec.load_course([folder])
    assert first.memo is not second.memo and first == second
