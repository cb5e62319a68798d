"""One class, one `grade_paths` batch: every hostile submission of tests/hostile_inputs.py
(malformed zips and notebooks, hostile answers.yaml values, numpy values that are no
numbers, NaN and infinity, a forged `.npy` header) beside a correct student.

Each hostile student gets their own `error`, `invalid` or wrong result with a message in
their terms; no message is a grader fault or shows a path of the grader's; and the correct
student, graded in the same batch, is graded as usual.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader import api
from grader.core.results import StudentResult
from tests import hostile_inputs as hostile

CORRECT = "correct-student"
BAD_NAME = os.fsdecode(b"s\xff\x1b")
"""A zip whose name is not UTF-8 and holds an escape: no student id, but a result."""


@dataclass(frozen=True)
class Graded:
    results: dict[str, StudentResult]
    files: dict[str, str]
    """student -> the text of their results file."""
    exit_code: int


def _write_class(folder: Path) -> None:
    folder.mkdir()
    for student, data, _ in hostile.MALFORMED_ZIPS:
        (folder / f"{student}.zip").write_bytes(data)
    for student, data in hostile.ODD_BUT_FINE_ZIPS:
        (folder / f"{student}.zip").write_bytes(data)
    for student, text, _ in hostile.MALFORMED_NOTEBOOKS:
        (folder / student).mkdir()
        raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        (folder / student / "answers.ipynb").write_bytes(raw)
    for student, text in hostile.ODD_BUT_FINE_NOTEBOOKS:
        (folder / student).mkdir()
        (folder / student / "answers.ipynb").write_text(text, encoding="utf-8")
    for student, data, _, _, _ in hostile.HOSTILE_ANSWERS:
        (folder / student).mkdir()
        (folder / student / "answers.yaml").write_bytes(data)
    for row in hostile.NUMPY_KINDS + hostile.NONFINITE:
        (folder / row.student).mkdir()
        (folder / row.student / "ex03.py").write_text(row.source)
    (folder / "forged-header").mkdir()
    (folder / "forged-header" / "ex03.py").write_text(hostile.FORGED_HEADER)
    (folder / "surrogate-error").mkdir()
    (folder / "surrogate-error" / "ex03.py").write_text(
        "def hidden_layer(X, W1, b1):\n    raise ValueError('no \\ud800 here')\n")
    (folder / "undecodable-notebook-name").mkdir()
    (folder / "undecodable-notebook-name" / os.fsdecode(b"\xff.ipynb")).write_text("{")
    (folder / f"{BAD_NAME}.zip").write_bytes(hostile.written_zip([("answers.yaml", hostile.ANSWERS)]))
    (folder / CORRECT).mkdir()
    (folder / CORRECT / "answers.yaml").write_bytes(hostile.ANSWERS)
    (folder / CORRECT / "ex03.py").write_text(hostile.correct_module())


#: Every test here reads one batch graded for the module: seconds of grading, run by CI too.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    root = tmp_path_factory.mktemp("hostile")
    _write_class(root / "class")
    run = api.grade_paths([hostile.EX03], [root / "class"], root / "out", jobs=2)
    files = {}
    for path in run.written:
        if path.parent.name == "results":
            data = json.loads(path.read_text(encoding="utf-8"))
            files[data["student"]] = path.read_text(encoding="utf-8")
    return Graded({r.student: r for r in run.results}, files, run.exit_code)


def _messages(result: StudentResult) -> list[str]:
    """Every message of a result: the submission's error, each question's feedback and
    each check's message."""
    found = [result.error or ""] + list(result.warnings)
    for question in result.questions:
        found.append(question.feedback)
        found.extend(case.message for case in question.cases)
    return found


def _question(result: StudentResult, qid: str) -> Any:
    return next(q for q in result.questions if q.id == qid)


def _assert_clean(graded: Graded, student: str) -> StudentResult:
    """The student has a result whose messages name no grader path and no grader fault."""
    assert student in graded.results, sorted(graded.results)
    result = graded.results[student]
    paths = hostile.grader_paths()
    for message in _messages(result):
        assert not paths.search(message), (student, message)
        assert "grader fault" not in message.lower(), (student, message)
    assert not paths.search(graded.files[student]), student
    return result


def _assert_unreadable(graded: Graded, student: str, needle: str) -> None:
    result = _assert_clean(graded, student)
    assert result.error is not None and needle in result.error, (student, result.error)
    assert result.score == 0 and {q.status for q in result.questions} == {"error"}
    assert all(needle in q.feedback for q in result.questions)


def test_the_batch_finished_with_every_student(graded: Graded) -> None:
    expected = (len(hostile.MALFORMED_ZIPS) + len(hostile.ODD_BUT_FINE_ZIPS) + len(hostile.MALFORMED_NOTEBOOKS)
                + len(hostile.ODD_BUT_FINE_NOTEBOOKS) + len(hostile.HOSTILE_ANSWERS) + len(hostile.NUMPY_KINDS)
                + len(hostile.NONFINITE) + 5)
    assert len(graded.results) == expected
    assert graded.exit_code == 1  # some submissions could not be graded: --strict would fail the run


def test_the_correct_student_beside_them_is_graded_as_usual(graded: Graded) -> None:
    result = _assert_clean(graded, CORRECT)
    assert result.error is None
    for qid in ("ex03.e", "ex03.f", "ex03.h", hostile.RIGHT[0]):
        question = _question(result, qid)
        assert question.status == "correct", (qid, question.feedback)
        assert question.score == question.max_score


@pytest.mark.parametrize("student, needle", [(s, n) for s, _, n in hostile.MALFORMED_ZIPS],
                         ids=[row[0] for row in hostile.MALFORMED_ZIPS])
def test_malformed_zips(graded: Graded, student: str, needle: str) -> None:
    _assert_unreadable(graded, student, needle)


@pytest.mark.parametrize("student", [row[0] for row in hostile.ODD_BUT_FINE_ZIPS + hostile.ODD_BUT_FINE_NOTEBOOKS])
def test_odd_but_fine_submissions_are_graded(graded: Graded, student: str) -> None:
    result = _assert_clean(graded, student)
    assert result.error is None
    assert _question(result, hostile.RIGHT[0]).status == hostile.RIGHT[1]


@pytest.mark.parametrize("student, needle", [(s, n) for s, _, n in hostile.MALFORMED_NOTEBOOKS],
                         ids=[row[0] for row in hostile.MALFORMED_NOTEBOOKS])
def test_malformed_notebooks(graded: Graded, student: str, needle: str) -> None:
    _assert_unreadable(graded, student, needle)


@pytest.mark.parametrize("student, qid, status, needle", [(s, q, st, n) for s, _, q, st, n in hostile.HOSTILE_ANSWERS],
                         ids=[row[0] for row in hostile.HOSTILE_ANSWERS])
def test_hostile_answers(graded: Graded, student: str, qid: str, status: str, needle: str) -> None:
    if not qid:
        _assert_unreadable(graded, student, needle)
        return
    result = _assert_clean(graded, student)
    assert result.error is None
    question = _question(result, qid)
    assert (question.status, question.score) == (status, 0), question.feedback
    assert needle in question.feedback


@pytest.mark.parametrize("row", hostile.NUMPY_KINDS + hostile.NONFINITE,
                         ids=[row.student for row in hostile.NUMPY_KINDS + hostile.NONFINITE])
def test_code_returns(graded: Graded, row: hostile.CodeRow) -> None:
    result = _assert_clean(graded, row.student)
    assert result.error is None
    for qid, (status, needle, passed) in row.expect.items():
        question = _question(result, qid)
        assert question.status == status, (qid, question.feedback)
        assert needle in question.feedback, (qid, question.feedback)
        assert sum(case.passed for case in question.cases) == passed, (qid, question.feedback)


def test_a_forged_npy_header_is_the_students_protocol_error(graded: Graded) -> None:
    result = _assert_clean(graded, "forged-header")
    question = _question(result, "ex03.e")
    assert (question.status, question.score) == ("error", 0)
    assert "broke the sandbox protocol" in question.feedback
    assert "claims shape (1099511627776,)" in question.feedback


def test_text_that_is_not_unicode_is_written_all_the_same(graded: Graded) -> None:
    result = _assert_clean(graded, "surrogate-error")
    assert "no \ufffd here" in _question(result, "ex03.e").feedback
    result = _assert_clean(graded, "undecodable-notebook-name")
    assert result.error == "\ufffd.ipynb is not a readable notebook: it is not valid JSON (line 1, column 2: " \
                           "Expecting property name enclosed in double quotes)"
    result = _assert_clean(graded, BAD_NAME)  # the id as it is: its results file escapes it
    assert result.error is not None and "not a valid student id" in result.error
