"""benchmarks/peers.py builds one assignment for grader, nbgrader and otter: the same answers,
and checks that agree on them. Tested without nbgrader or otter installed: grader grades the
generated submissions for real, the peers' checks run as nbgrader (a cell) and otter (an
OK-format doctest) would run them, and the notebooks are valid nbformat."""

from __future__ import annotations

import doctest
import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "peers.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_peers", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


peers = _load()
QUESTIONS = peers.load_questions()
FAST = [q for q in QUESTIONS if q.qid != "model"]


def _as_cell(question, right: bool) -> bool:
    """nbgrader: the answer cell, then the test cell, in one namespace; passed = no exception."""
    namespace: dict = {}
    exec(question.answer(right), namespace)
    try:
        exec(question.check, namespace)
    except AssertionError:
        return False
    return True


def _as_ok_test(question, right: bool) -> bool:
    """otter: the OK-format file's doctest case run against the answer's namespace."""
    namespace: dict = {}
    exec(question.answer(right), namespace)
    test_file: dict = {}
    exec(peers.ok_test(question), test_file)
    assert test_file["OK_FORMAT"] is True
    (case,) = test_file["test"]["suites"][0]["cases"]
    test = doctest.DocTestParser().get_doctest(case["code"], namespace, question.qid, None, 0)
    runner = doctest.DocTestRunner(verbose=False)
    runner.run(test, out=lambda _text: None)
    return runner.summarize(verbose=False).failed == 0


def test_questions_follow_the_grader_spec():
    assert [q.qid for q in QUESTIONS] == ["g", "sigmoid_grad_max", "n_params", "e", "f", "h", "model"]
    assert {q.qid: q.points for q in QUESTIONS} == {"g": 1, "sigmoid_grad_max": 1, "n_params": 1, "e": 2, "f": 2,
                                                    "h": 2, "model": 3}
    assert QUESTIONS[0].answer(True) == "g = 0.8\n" and QUESTIONS[0].answer(False) == "g = 1.25\n"


def test_a_spec_with_other_questions_is_refused(tmp_path):
    folder = tmp_path / "peers"
    shutil.copytree(peers.ASSIGNMENT, folder)
    spec = folder / "ex03.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("  - id: n_params", "  - id: renamed"), encoding="utf-8")
    with pytest.raises(peers.BenchmarkError, match="renamed"):
        peers.load_questions(folder)


def test_students_mix_right_and_wrong_answers_on_every_question():
    students = peers.make_students(QUESTIONS, 10)
    assert [s.sid for s in students[:2]] == ["s000", "s001"]
    assert students[0].right == {q.qid for q in QUESTIONS} and students[1].right == set()
    assert students == peers.make_students(QUESTIONS, 10)  # the same class every run


@pytest.mark.parametrize("question", FAST, ids=lambda q: q.qid)
def test_peer_checks_pass_the_right_answer_and_fail_the_wrong_one(question):
    assert _as_cell(question, True) and _as_ok_test(question, True)
    assert not _as_cell(question, False) and not _as_ok_test(question, False)


@pytest.mark.slow  # trains the spiral model as the peers would
def test_the_model_check_trains_the_right_model_to_pass_and_fails_the_linear_one():
    model = next(q for q in QUESTIONS if q.qid == "model")
    assert _as_cell(model, True)
    assert not _as_ok_test(model, False)


@pytest.mark.slow  # grader trains the one right model of the three submissions
def test_grader_grades_the_generated_submissions_as_intended(tmp_path):
    """The real CLI on the benchmark's spec: full marks exactly where the answer is right."""
    everything, nothing = peers.make_students(QUESTIONS, 2)
    mixed = peers.Student("s002", frozenset({"g", "f"}))
    for student in (everything, nothing, mixed):
        peers.write_grader_submission(tmp_path / "class", QUESTIONS, student)
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(peers.SPEC), str(tmp_path / "class"),
                           "--out", str(tmp_path / "out"), "--jobs", "1", "--no-reports", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    verdicts = peers.grader_verdicts(tmp_path / "out")
    for student in (everything, nothing, mixed):
        assert verdicts[student.sid] == {q.qid: q.qid in student.right for q in QUESTIONS}


def test_the_nbgrader_notebook_is_valid_and_the_submission_holds_the_answers():
    source = peers.nbgrader_source(QUESTIONS)
    nbformat.validate(source)
    meta = [cell.metadata["nbgrader"] for cell in source.cells if "nbgrader" in cell.metadata]
    assert len({m["grade_id"] for m in meta}) == len(meta) == 2 * len(QUESTIONS)
    assert {m["grade_id"]: m["points"] for m in meta if m["grade"]} == {f"test_{q.qid}": q.points for q in QUESTIONS}
    solutions = [cell.source for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")]
    assert all(s.startswith("### BEGIN SOLUTION\n") and s.endswith("### END SOLUTION\n") for s in solutions)
    student = peers.Student("s009", frozenset({"e"}))
    submitted = peers.nbgrader_submission(source, QUESTIONS, student)
    nbformat.validate(submitted)
    answers = [cell.source for cell in submitted.cells if cell.metadata.get("nbgrader", {}).get("solution")]
    assert answers == [q.answer(q.qid == "e") for q in QUESTIONS]
    assert [cell.source for cell in source.cells  # the instructor's notebook is left as it was
            if cell.metadata.get("nbgrader", {}).get("solution")] == solutions


def test_the_otter_autograder_and_notebook(tmp_path):
    zipped = peers.write_otter_autograder(tmp_path / "autograder.zip", QUESTIONS)
    with zipfile.ZipFile(zipped) as archive:
        assert sorted(archive.namelist()) == sorted(["otter_config.json", *(f"tests/q_{q.qid}.py" for q in QUESTIONS)])
        assert json.loads(archive.read("otter_config.json")) == {"pdf": False}
    notebook = peers.otter_submission(QUESTIONS, peers.Student("s003", frozenset()))
    nbformat.validate(notebook)
    assert [cell.source for cell in notebook.cells] == [q.wrong for q in QUESTIONS]


def test_otter_results_are_read_and_a_failed_autograder_is_an_error(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"tests": [{"name": "Public Tests", "status": "passed"},
                                             {"name": "q_e", "score": 2.0, "max_score": 2.0},
                                             {"name": "q_g", "score": 0.0, "max_score": 1.0}]}), encoding="utf-8")
    assert peers.otter_verdicts(results) == {"e": True, "g": False}
    results.write_text(json.dumps({"tests": [{"name": "Autograder Failed", "status": "failed"}]}), encoding="utf-8")
    with pytest.raises(peers.BenchmarkError, match="graded nothing"):
        peers.otter_verdicts(results)


def test_disagreements_name_the_student_question_and_each_system():
    students = (peers.Student("s000", frozenset({"g"})),)
    questions = QUESTIONS[:1]
    agree = {"grader": {"s000": {"g": True}}, "nbgrader": {"s000": {"g": True}}, "otter": {"s000": {"g": True}}}
    assert peers.disagreements(questions, students, agree) == []
    differ = {**agree, "otter": {"s000": {"g": False}}, "nbgrader": {}}
    assert peers.disagreements(questions, students, differ) == [
        "warning: s000 g (right answer): grader=right nbgrader=missing otter=wrong"]


def test_too_few_submissions_is_a_usage_error():
    done = subprocess.run([sys.executable, str(SCRIPT), "--n", "1"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "--n must be at least 2" in done.stderr and "Traceback" not in done.stderr
