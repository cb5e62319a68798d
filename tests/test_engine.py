"""The engine: one submission in, one result out; faults stay on their question."""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader import api
from grader.grading import engine
from grader.authoring import variants
from grader.authoring.spec import load_course
from grader.intake.submission import read_folder
from tests.conftest import EXAMPLES, EXERCISES

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def course():
    return load_course([EXERCISES])


def grade(course, student: str):
    return engine.grade_submission(course, read_folder(EXAMPLES / student, student), NOW)


def by_id(result) -> dict:
    return {q.id: q for q in result.questions}


def test_all_correct(course) -> None:
    result = by_id(grade(course, "s100001"))
    for qid in ("ex01.e", "ex01.f", "ex02.a", "ex03.sigmoid_grad_max", "ex06.1"):
        assert result[qid].status == "correct", (qid, result[qid].feedback)


def test_the_seed_hints_sign_error_gets_targeted_feedback(course) -> None:
    f = by_id(grade(course, "s100003"))["ex01.f"]
    assert f.status == "incorrect" and f.score == 0 and f.mistake == 0
    assert f.feedback.startswith("Gradient descent steps against the gradient")
    assert f.expected == "[4.333, 2]"


def test_known_mistakes(course) -> None:
    result = by_id(grade(course, "s100002"))
    assert result["ex01.e"].mistake == 0 and "did not divide by 2m" in result["ex01.e"].feedback
    assert result["ex06.1"].mistake == 0 and "depth is 1" in result["ex06.1"].feedback


def test_unusual_notation_is_accepted(course) -> None:
    result = by_id(grade(course, "s100005"))
    for qid in ("ex01.e", "ex01.f", "ex02.a", "ex03.sigmoid_grad_max", "ex06.1"):
        assert result[qid].status == "correct", (qid, result[qid].answer, result[qid].feedback)


def test_missing_answers(course) -> None:
    result = by_id(grade(course, "s100004"))
    assert result["ex01.e"].status == "correct"
    assert result["ex01.f"].status == "missing" and result["ex01.f"].feedback == "No answer was given."


def test_broken_answers_file_fails_only_that_student(course) -> None:
    result = grade(course, "s100006")
    assert result.error and "line 5" in result.error
    assert {q.status for q in result.questions} == {"error"}
    assert result.score == 0


def write_submission(tmp_path: Path, student: str, text: str) -> Path:
    folder = tmp_path / student
    folder.mkdir()
    (folder / "answers.yaml").write_text(textwrap.dedent(text))
    return folder


def test_invalid_answer_is_kept_apart_from_wrong(course, tmp_path: Path) -> None:
    folder = write_submission(tmp_path, "s1", "ex01:\n  e: 2.08 +\n  f: '[4.33'\nex02:\n  a: 3\n")
    result = by_id(engine.grade_submission(course, read_folder(folder, "s1"), NOW))
    assert result["ex01.e"].status == "invalid" and "ends too early" in result["ex01.e"].feedback
    assert result["ex01.e"].answer == "2.08 +"
    assert result["ex01.f"].status == "invalid" and "not closed" in result["ex01.f"].feedback
    assert result["ex02.a"].status == "incorrect"


def test_unknown_ids_are_warned(course, tmp_path: Path) -> None:
    folder = write_submission(tmp_path, "s2", "ex01:\n  zz: 1\nex99:\n  a: 1\n")
    result = engine.grade_submission(course, read_folder(folder, "s2"), NOW)
    assert "answers.yaml: unknown question ex01.zz was ignored" in result.warnings
    assert "answers.yaml: unknown exercise 'ex99' was ignored" in result.warnings


def test_a_flood_of_unknown_ids_gives_a_bounded_list_of_warnings(course, tmp_path: Path) -> None:
    text = "ex01:\n  e: 2.083\n" + "".join(f"  q{i}: 1\n" for i in range(30_000)) \
        + "".join(f"x{i}: {{}}\n" for i in range(30_000))
    folder = write_submission(tmp_path, "s3", text)
    result = engine.grade_submission(course, read_folder(folder, "s3"), NOW)
    assert len(result.warnings) == engine.MAX_UNKNOWN_WARNINGS + 1
    assert result.warnings[-1] == "answers.yaml: 59,980 more unknown ids were ignored"
    assert by_id(result)["ex01.e"].status == "correct"
    long_key = write_submission(tmp_path, "s4", f"? {'k' * 5000}\n: {{a: 1}}\n")  # an explicit key has no length limit
    shown = engine.grade_submission(course, read_folder(long_key, "s4"), NOW).warnings
    assert len(shown) == 1 and len(shown[0]) < 200


def test_hostile_answers_stay_on_their_question(course, tmp_path: Path) -> None:
    folder = write_submission(tmp_path, "s3", """\
        ex01:
          e: "__import__('os').system('touch /tmp/grader-engine-pwned')"
          f: "[9**9**9**9, 1]"
        ex02:
          a: "<script>alert(1)</script>"
        ex06:
          "1": "1e999x1"
    """)
    result = by_id(engine.grade_submission(course, read_folder(folder, "s3"), NOW))
    assert {result[q].status for q in ("ex01.e", "ex01.f", "ex02.a", "ex06.1")} == {"invalid"}
    assert result["ex03.sigmoid_grad_max"].status == "missing"
    assert not Path("/tmp/grader-engine-pwned").exists()


VARIANT_SPEC = """\
id: var
title: Variants
solutions: var.sol
params:
  a: {randint: [1, 1000]}
  xs: {uniform: [0, 1], size: 3, round: 3}
questions:
  - id: double
    kind: numeric
    prompt: "Double {{ a }}"
    answer: {solution: double}
    tolerance: {abs: 0}
  - id: broken
    kind: numeric
    answer: {solution: broken}
"""


@pytest.fixture
def variant_course(tmp_path: Path):
    (tmp_path / "solutions" / "var").mkdir(parents=True)
    (tmp_path / "solutions" / "var" / "sol.py").write_text(
        "def double(a):\n    return 2 * a\n\ndef broken(a):\n    return 1 / 0\n")
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "var.yaml").write_text(VARIANT_SPEC)
    return load_course([tmp_path / "exercises"])


def test_variants_are_seeded_per_student(variant_course) -> None:
    exercise = variant_course.exercises[0]
    first = variants.resolve(exercise.params, "alice", "var")
    assert first == variants.resolve(exercise.params, "alice", "var")
    assert first != variants.resolve(exercise.params, "bob", "var")
    assert len(first["xs"]) == 3 and all(0 <= x <= 1 for x in first["xs"])


def test_reference_is_computed_for_the_students_variant(variant_course, tmp_path: Path) -> None:
    a = variants.resolve(variant_course.exercises[0].params, "alice", "var")["a"]
    folder = write_submission(tmp_path, "alice", f"var:\n  double: {2 * a}\n")
    result = by_id(engine.grade_submission(variant_course, read_folder(folder, "alice"), NOW))
    assert result["var.double"].status == "correct"
    assert result["var.double"].prompt == f"Double {a}"
    assert result["var.broken"].status == "error" and "ZeroDivisionError" in result["var.broken"].feedback


def test_validate_reports_a_broken_reference(variant_course, tmp_path: Path) -> None:
    from grader.core.errors import SpecError

    with pytest.raises(SpecError) as caught:
        api.validate([tmp_path / "exercises"])
    assert any("var.broken: reference does not compute" in str(p) for p in caught.value.problems)


def test_formula_questions_carry_the_expected_answer_as_latex(course) -> None:
    """The report typesets the expected answer of a formula like the student's: the
    symbolic and equation kinds give it as LaTeX; the other kinds give none."""
    questions = by_id(grade(course, "s100001"))
    assert questions["ex02.a"].expected_latex == "2 x + 1 = 0"
    assert questions["ex03.sigmoid_grad"].expected_latex == r"\frac{e^{- x}}{\left(1 + e^{- x}\right)^{2}}"
    assert questions["ex01.e"].expected_latex is None and questions["ex01.e"].expected is not None
    restored = type(questions["ex02.a"]).from_dict(questions["ex02.a"].to_dict())
    assert restored.expected_latex == "2 x + 1 = 0"
