"""The demo class in examples/class, graded once as `grader grade` does: every student gets
the statuses the demo is meant to show, across every question kind."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from grader import api
from grader.core import output, registry
from grader.core.results_schema import results_schema
from grader.render import render_student
from grader.render.exports import gradescope_results
from tests.render_samples import shown_text
from tests.conftest import EXAMPLES, EXERCISES

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


#: Every test here reads one batch graded for the module: seconds of grading, run by CI too.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    api.grade_paths([EXERCISES], [EXAMPLES], out, jobs=1, now=NOW, reports=False)
    return out


@pytest.fixture(scope="module")
def graded(demo_out: Path) -> dict[str, Any]:
    """The results as `grader report` and `grader export` read them: from the files written."""
    return {result.student: result for result in output.read_results(demo_out)}


def questions(graded: dict[str, Any], student: str) -> dict[str, Any]:
    return {q.id: q for q in graded[student].questions}


def test_the_batch_grades_every_student(graded: dict[str, Any]) -> None:
    assert sorted(graded) == [f"s10000{i}" for i in range(1, 8)]


def test_all_correct_student_gets_every_auto_graded_question(graded: dict[str, Any]) -> None:
    result = graded["s100001"]
    kinds = {q.kind for q in result.questions}
    assert kinds == {"numeric", "vector", "choice", "symbolic", "equation", "text", "code", "model", "plot"}
    for q in result.questions:
        if q.kind == "text":  # free text always waits for a human; the rubric suggests full marks
            assert q.status == "review" and q.details["suggested"] == 1.0, (q.id, q.feedback)
        else:
            assert q.status == "correct" and q.score == q.max_score, (q.id, q.feedback)
    auto = sum(q.max_score for q in result.questions if q.kind != "text")
    assert result.score == auto


# (question, status, mistake index or None, a phrase of the feedback)
PARTLY_CORRECT = [
    ("ex01.e", "incorrect", 0, "did not divide by 2m"),
    ("ex02.predict", "partial", 0, "belongs to class 1"),
    ("ex03.e", "partial", 0, "apply the ReLU"),
    ("ex03.f", "correct", None, "All 6 checks pass"),
    ("ex03.h", "incorrect", None, "modified its arguments x, v in place"),
    ("ex03.model", "incorrect", None, "the model underfits"),
    ("ex05.image_gradients", "partial", None, "follows_the_ramp"),
    ("ex05.normalised_gradients", "missing", None, "does not define normalised_gradients()"),
    ("ex06.4", "partial", 0, "the colours mix"),
    ("ex06.conv_output_shape", "partial", 0, "The dilation was left out"),
    ("ex06.cnn", "incorrect", None, "no 2-D convolution kernel larger than 1×1"),  # an MLP on the pixels
    ("ex08.iou", "partial", 0, "Clamp both at 0"),
    ("ex09.occlusion_map", "partial", None, "modified its argument image in place"),
    ("ex09.saliency", "partial", 0, "You differentiated the softmax probability"),
    ("ex12.pca", "incorrect", None, "matches_up_to_sign"),  # its compare: false cases weigh 0: running is no credit
    ("ex12.autoencoder", "incorrect", None, "Test reconstruction error"),
]


@pytest.mark.parametrize("qid, status, mistake, says", PARTLY_CORRECT, ids=[row[0] for row in PARTLY_CORRECT])
def test_typical_mistakes_get_their_feedback(graded: dict[str, Any], qid: str, status: str, mistake: int | None,
                                              says: str) -> None:
    q = questions(graded, "s100002")[qid]
    assert (q.status, q.mistake) == (status, mistake), q.feedback
    assert says in q.feedback


def test_the_hints_sign_error(graded: dict[str, Any]) -> None:
    result = questions(graded, "s100003")
    assert (result["ex01.f"].status, result["ex01.f"].mistake) == ("incorrect", 0)
    assert result["ex01.c"].status == "incorrect" and result["ex03.sigmoid_grad_max"].status == "correct"
    assert all(q.status == "missing" for q in result.values() if q.kind in ("code", "model", "plot"))


def test_missing_answers(graded: dict[str, Any]) -> None:
    result = questions(graded, "s100004")
    assert result["ex01.e"].status == "correct"
    assert {q.status for qid, q in result.items() if qid != "ex01.e"} == {"missing"}


UNUSUAL = ["ex01.e", "ex01.f", "ex01.c", "ex01.a", "ex01.dJdw", "ex01.dJdb", "ex02.a", "ex02.boundary_x", "ex02.b",
           "ex03.sigmoid_grad", "ex03.sigmoid_grad_max", "ex03.g", "ex03b.a", "ex03b.b", "ex04.vc_dim", "ex06.1",
           "ex06.receptive_field"]


def test_unusual_notation_is_read(graded: dict[str, Any]) -> None:
    result = questions(graded, "s100005")
    for qid in UNUSUAL:
        assert result[qid].status == "correct", (qid, result[qid].answer, result[qid].feedback)
    answered = {qid for qid, q in result.items()
                if q.status != "missing" and registry.get(q.kind).answer_source == "answers" and q.kind != "text"}
    assert answered == set(UNUSUAL)


def test_broken_answers_file(graded: dict[str, Any]) -> None:
    result = graded["s100006"]
    assert result.error and "line 5" in result.error and result.score == 0
    assert {q.status for q in result.questions} == {"error"}


# (question, status, a phrase of the feedback): each attack stays on its own question
HOSTILE = [
    ("ex02.predict", "incorrect", "PermissionError"),          # fork bomb: fork is refused
    ("ex05.image_gradients", "error", "produced too much output"),
    ("ex08.iou", "error", "ran out of time"),                  # an endless loop
    ("ex09.occlusion_map", "incorrect", "PermissionError"),    # kill the grader: signals are refused
    ("ex12.pca", "incorrect", "could not find the solutions"),  # reading ../../solutions finds nothing
    ("ex12.autoencoder", "error", "does not define make_autoencoder"),
]


@pytest.mark.parametrize("qid, status, says", HOSTILE, ids=[row[0] for row in HOSTILE])
def test_hostile_code_is_contained(graded: dict[str, Any], qid: str, status: str, says: str) -> None:
    q = questions(graded, "s100007")[qid]
    assert q.status == status and q.score == 0, q.feedback
    assert says in q.feedback


def test_hostile_student_keeps_the_rest_of_the_grades(graded: dict[str, Any]) -> None:
    result = questions(graded, "s100007")
    assert [result[qid].status for qid in ("ex01.e", "ex01.f", "ex02.a")] == ["correct"] * 3
    assert graded["s100007"].error is None


# --- the results as renderers and exports see them ------------------------------------------

RUNS_CODE = ("code", "model", "plot")


def test_results_files_validate_against_the_results_schema(demo_out: Path) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(results_schema())
    files = sorted((demo_out / "results").glob("*.json"))
    assert len(files) == 7
    for path in files:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(json.loads(path.read_text(encoding="utf-8")))]
        assert errors == [], (path.name, errors[:5])


def _article(page: str, question_id: str) -> str:
    start = page.index('id="q-' + re.sub(r"[^A-Za-z0-9_-]", "_", question_id) + '"')
    return page[start:page.index("</article>", start)]


def _answered_code(graded: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(student, q) for student, result in sorted(graded.items()) for q in result.questions
            if q.kind in RUNS_CODE and q.status != "missing" and not result.error]


def test_every_answered_code_question_has_its_records(graded: dict[str, Any]) -> None:
    answered = _answered_code(graded)
    assert len(answered) >= 30 and all(q.run is not None and q.run.source for _, q in answered)
    with_cases = [q for _, q in answered if q.cases]
    assert {q.kind for q in with_cases} == set(RUNS_CODE) and len(with_cases) >= 25
    assert all(not q.details.get("checks") and "sandbox" not in q.details for _, q in answered)


def test_student_reports_show_each_code_questions_tests_and_code(graded: dict[str, Any]) -> None:
    for student, result in sorted(graded.items()):
        page = render_student(result, "INF 5860")
        for _, q in _answered_code({student: result}):
            section = _article(page, q.id)
            assert "(no answer given)" not in section and "Your answer" not in section, (student, q.id)
            shown = section[section.index('<pre class="source code">'):].split("</pre>", 1)[0]
            assert html.unescape(re.sub(r"<[^>]+>", "", shown)) == q.run.source, (student, q.id)  # highlighted
            if q.cases:
                passed = sum(c.passed for c in q.cases)
                assert f"Tests: {passed} of {len(q.cases)} passed" in section, (student, q.id)
                assert all(f"<strong>{escape(c.name)}</strong>" in section for c in q.cases), (student, q.id)
            if q.run.stdout:
                assert "What your code printed" in section
            if q.run.traceback:
                assert "Error trace (your code)" in section


def test_gradescope_export_carries_each_code_questions_tests_and_output(graded: dict[str, Any]) -> None:
    for student, result in sorted(graded.items()):
        tests = {t["number"]: shown_text(t["output"]) for t in gradescope_results(result)["tests"]}
        for _, q in _answered_code({student: result}):
            text = tests[q.id]
            shown = [c for c in q.cases if not c.hidden]
            if shown:
                assert f"Tests: {sum(c.passed for c in shown)} of {len(shown)} passed" in text
                assert all(f"{'passed' if c.passed else 'failed'}: {c.name}" in text for c in shown), (student, q.id)
            if len(shown) < len(q.cases):
                hidden = tests[f"{q.id}.hidden"]
                assert all(f"{'passed' if c.passed else 'failed'}: {c.name} (hidden)" in hidden
                           for c in q.cases if c.hidden), (student, q.id)
            if q.run.stdout:
                assert "Printed output:" in text and q.run.stdout[:200] in text
            if q.run.traceback:
                assert "Error trace:" in text


def test_hostile_code_leaves_no_grader_paths_in_the_results(demo_out: Path) -> None:
    text = (demo_out / "results" / "s100007.json").read_text(encoding="utf-8")
    assert "grader-job-" not in text and "/tmp/" not in text
