"""Gradebook exports, each checked against a fixture written from the format's documentation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from dataclasses import replace

import pytest

from grader.core.results import StudentResult
from grader.grading.overrides import status_for
from grader.render import FORMATS, export
from grader.render.exports import gradescope_results, number
from tests.render_samples import all_status_student, hostile_student, q, shown_text, unicode_student

FIXTURES = Path(__file__).parent / "fixtures"


def formula_student() -> StudentResult:
    """A student id a spreadsheet would run as a formula, and float-noise scores."""
    questions = (q("ex01.e", "numeric", 0.1 + 0.2, 1, "partial", answer="0.3"),)
    return StudentResult("=HYPERLINK(\"http://x\")", 0.1 + 0.2, 1, questions)


def settled(result: StudentResult) -> StudentResult:
    """`result` with every answer that awaits review decided at the points it holds, as
    after `grader review`: an export of it is not refused (see the pending tests below)."""
    questions = tuple(replace(x, status=status_for(x.score, x.max_score)) if x.status == "review" else x
                      for x in result.questions)
    return replace(result, questions=questions)


def results() -> list[StudentResult]:
    return [settled(all_status_student()), unicode_student(), formula_student()]


def pending_results() -> list[StudentResult]:
    """The same class before review: s123456's ex02.c awaits review (its decision taken back)."""
    reviewed = all_status_student()
    questions = tuple(replace(q, status="review", score=0.0, review=None) if q.id == "ex02.c" else q
                      for q in reviewed.questions)
    before = replace(reviewed, questions=questions, score=sum(q.score for q in questions))
    return [before, unicode_student(), formula_student()]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("fmt", ["csv", "canvas", "moodle"])
def test_csv_exports_match_golden_files(tmp_path, fmt):
    out = tmp_path / f"{fmt}.csv"
    assert export(results(), fmt, out, title="Exercise set 1") == [out]
    assert out.read_bytes() == (FIXTURES / f"export_{fmt}.csv").read_bytes()


def test_gradebook_columns():
    rows = read_csv(FIXTURES / "export_csv.csv")
    ids = [x.id for x in all_status_student().questions] + [x.id for x in unicode_student().questions]
    assert rows[0] == ["student", *ids, "total", "max"]
    # Rows are sorted by student id (the same file `grader grade` writes as grades.csv).
    assert rows[2][0] == "s123456" and rows[2][-2:] == ["7", "16"]
    # Questions a student does not have are blank, not zero.
    assert rows[3][1:11] == [""] * 10


def test_canvas_matches_documented_header(tmp_path):
    documented = read_csv(FIXTURES / "canvas_gradebook_import.csv")
    ours = read_csv(FIXTURES / "export_canvas.csv")
    assert ours[0][:5] == documented[0][:5]
    assert ours[1][0] == documented[1][0] == "Points Possible"
    assert ours[1][5] == "16"
    assert all(len(row) == len(ours[0]) for row in ours)
    # The student id is in the column Canvas matches on (SIS Login ID).
    assert [row[3] for row in ours[2:]] == [r.student if r.student[0] != "=" else "'" + r.student
                                             for r in results()]


def test_moodle_matches_documented_layout():
    documented = read_csv(FIXTURES / "moodle_grade_import.csv")
    ours = read_csv(FIXTURES / "export_moodle.csv")
    assert ours[0][0] == documented[0][0] == "ID number"
    assert ours[0][1] == documented[0][1]
    assert ours[1] == ["s123456", "7"]


def test_spreadsheet_formulas_are_neutralised():
    rows = read_csv(FIXTURES / "export_csv.csv")
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][-2:] == ["0.3", "1"]  # no 0.30000000000000004


def _check_against_spec(data: dict, spec: dict) -> None:
    allowed = spec["_allowed"]
    test_keys = set(spec["tests"][0])
    assert set(data) <= set(spec) - {"_source", "_allowed"}
    assert data["visibility"] in allowed["visibility"]
    assert data["stdout_visibility"] in allowed["visibility"]
    for test in data["tests"]:
        assert set(test) <= test_keys
        assert test["status"] in allowed["status"]
        assert test["visibility"] in allowed["visibility"]
        for key in ("score", "max_score"):
            assert isinstance(test[key], (int, float)) and not isinstance(test[key], bool)
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
    assert isinstance(data["score"], (int, float))


@pytest.mark.parametrize("make", [all_status_student, hostile_student, unicode_student],
                         ids=["all-statuses", "hostile", "unicode"])
def test_gradescope_follows_the_spec(make):
    spec = json.loads((FIXTURES / "gradescope_results_spec.json").read_text(encoding="utf-8"))
    data = gradescope_results(make())
    _check_against_spec(data, spec)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_gradescope_single_file_matches_golden(tmp_path):
    out = tmp_path / "results.json"
    assert export([settled(all_status_student())], "gradescope", out) == [out]
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(
        (FIXTURES / "export_gradescope_s123456.json").read_text(encoding="utf-8"))


def test_gradescope_statuses_and_hidden_expected():
    data = gradescope_results(all_status_student())
    status = {t["number"]: t["status"] for t in data["tests"]}
    assert status["ex01.e"] == "passed" and status["ex03.model"] == "passed"
    assert status["ex01.a"] == "failed"  # partial credit is not a pass
    assert status["ex02.c"] == "passed"  # a review that gave full points
    model = next(t for t in data["tests"] if t["number"] == "ex03.model")
    assert "Expected" not in model["output"]  # expected is None: never revealed
    grad = next(t for t in data["tests"] if t["number"] == "ex03.grad")
    assert "Tests: 1 of 3 passed" in grad["output"] and "random batch 1" in grad["output"]
    assert {t["output_format"] for t in data["tests"]} == {"html"} and data["output_format"] == "html"


def test_gradescope_carries_each_check_and_what_the_code_printed():
    tests = {t["number"]: shown_text(t["output"]) for t in gradescope_results(all_status_student())["tests"]}
    grad = tests["ex03.grad"].splitlines()
    checks = [line for line in grad[grad.index("Tests: 1 of 3 passed") + 1:] if line.startswith(("passed", "failed"))]
    assert checks[0] == "passed: small batch"
    assert checks[1].startswith("failed: random batch 1: 3 of 3 values differ")
    at = grad.index("failed: random batch 2: raised: ValueError: shapes (3,16) and (5,) not aligned")
    assert grad[at + 1:at + 3] == ['  File "ex03.py", line 7, in grad',
                                   '    raise ValueError("shapes (3,16) and (5,) not aligned")']
    assert "Printed output:" in grad and "grad: X has shape (4, 3)" in grad
    assert "Error trace:" in tests["ex04.loss"] and "(ex04.py, line 4, column 19)" in tests["ex04.loss"]
    assert tests["ex04.loss"].startswith("Result: Your code failed\n")
    assert "passed: test accuracy" in tests["ex03.model"]
    assert "failed: ylabel: the plot has no y-axis label" in tests["ex03.plot"]


def test_gradescope_hidden_checks_are_a_test_of_their_own_shown_after_the_due_date():
    data = gradescope_results(all_status_student())
    by_number = {t["number"]: t for t in data["tests"]}
    grad, hidden = by_number["ex03.grad"], by_number["ex03.grad.hidden"]
    assert "large batch" not in grad["output"] and grad["visibility"] == "visible"
    assert "failed: large batch (hidden): the values are not right" in shown_text(hidden["output"])
    assert hidden["visibility"] == "after_due_date" and hidden["status"] == "failed"
    assert {t["visibility"] for n, t in by_number.items() if not n.endswith(".hidden")} == {"visible"}
    # the two add up to the question, its points split by the checks' weights
    question = next(q for q in all_status_student().questions if q.id == "ex03.grad")
    assert grad["score"] + hidden["score"] == pytest.approx(question.score)
    assert grad["max_score"] + hidden["max_score"] == pytest.approx(question.max_score)


def test_gradescope_spec_settings_choose_visibility_and_one_test_per_case():
    from grader.core.model import AutograderTests

    student = all_status_student()
    settings = {"ex03.grad": AutograderTests(visibility="after_published", hidden_cases="hidden", per_case=True),
                "ex01.e": AutograderTests(visibility="hidden")}
    data = gradescope_results(student, settings)
    grad = [t for t in data["tests"] if t["number"].startswith("ex03.grad")]
    question = next(q for q in student.questions if q.id == "ex03.grad")
    assert [t["number"] for t in grad] == ["ex03.grad", *(f"ex03.grad.{i}" for i in range(1, len(question.cases) + 1))]
    assert [t["visibility"] for t in grad[1:]] == ["hidden" if c.hidden else "after_published" for c in question.cases]
    assert [t["status"] for t in grad[1:]] == ["passed" if c.passed else "failed" for c in question.cases]
    assert sum(t["score"] for t in grad) == pytest.approx(question.score)
    assert sum(t["max_score"] for t in grad) == pytest.approx(question.max_score)
    assert next(t for t in data["tests"] if t["number"] == "ex01.e")["visibility"] == "hidden"
    hidden_case = next(t for t, c in zip(grad[1:], question.cases) if c.hidden)
    assert "Inputs" not in hidden_case["output"] and "Expected" not in hidden_case["output"]
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_gradescope_folder_gets_one_file_per_student(tmp_path):
    paths = export(results(), "gradescope", tmp_path / "gs")
    assert len(paths) == 3 and all(p.name == "results.json" for p in paths)
    assert len({p.parent for p in paths}) == 3
    assert all(p.parent.parent == tmp_path / "gs" for p in paths)  # odd ids cannot escape


def test_gradescope_json_path_takes_one_student(tmp_path):
    with pytest.raises(ValueError, match="one student"):
        export(results(), "gradescope", tmp_path / "results.json")


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="csv, gradescope, canvas, moodle"):
        export(results(), "xlsx", tmp_path / "x")
    assert FORMATS == ("csv", "gradescope", "canvas", "moodle")


def test_export_replaces_atomically(tmp_path):
    out = tmp_path / "grades.csv"
    out.write_text("old")
    export(results(), "csv", out)
    assert out.read_text(encoding="utf-8").startswith("student,")
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


@pytest.mark.parametrize("value, expected", [
    (0.1 + 0.2, 0.3), (2.0, 2), (1.5, 1.5), (1 / 3, 0.333333), (-0.0, 0), (1e-9, 0),
])
def test_number(value, expected):
    assert number(value) == expected and type(number(value)) is type(expected)


def test_empty_class(tmp_path):
    export([], "csv", tmp_path / "e.csv")
    assert read_csv(tmp_path / "e.csv") == [["student", "total", "max"]]
    export([], "canvas", tmp_path / "c.csv")
    assert read_csv(tmp_path / "c.csv")[1] == ["Points Possible", "", "", "", "", "0"]


def test_csv_has_no_bare_newlines_in_cells(tmp_path):
    # Multi-line values are quoted by the csv module, so each record parses back whole.
    student = StudentResult("a\nb", 1, 1, ())
    export([student], "moodle", tmp_path / "m.csv")
    assert read_csv(tmp_path / "m.csv")[1] == ["a\nb", "1"]


# --- the `grader export` command ----------------------------------------------------------

def _write_results(folder: Path) -> None:
    (folder / "results").mkdir(parents=True)
    for index, result in enumerate(results()):
        (folder / "results" / f"r{index}.json").write_text(
            json.dumps(result.to_dict(), ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("fmt, target", [
    ("csv", "grades.csv"), ("canvas", "canvas.csv"), ("moodle", "moodle.csv"),
    ("gradescope", "gradescope"),
])
def test_cli_export(tmp_path, fmt, target):
    from click.testing import CliRunner

    from grader import cli

    assert cli.EXPORT_FORMATS == FORMATS
    _write_results(tmp_path)
    run = CliRunner().invoke(cli.main, ["export", str(tmp_path), "--format", fmt, "--title", "Set 1"])
    assert run.exit_code == 0, run.output
    assert (tmp_path / target).exists() and "wrote" in run.output


@pytest.mark.parametrize("content, message", [
    (None, "no result files"), ("{not json", "not a grader result file"),
    ('{"student": "s1"}', "not a grader result file"), ("[]", "not a grader result file"),
])
def test_cli_export_refuses_bad_results(tmp_path, content, message):
    from click.testing import CliRunner

    from grader import cli

    (tmp_path / "results").mkdir()
    if content is not None:
        (tmp_path / "results" / "bad.json").write_text(content, encoding="utf-8")
    run = CliRunner().invoke(cli.main, ["export", str(tmp_path)])
    assert run.exit_code == 2 and message in run.output


def test_cli_export_gradescope_json_needs_one_student(tmp_path):
    from click.testing import CliRunner

    from grader import cli

    _write_results(tmp_path)
    run = CliRunner().invoke(cli.main, ["export", str(tmp_path), "--format", "gradescope",
                                        "--to", str(tmp_path / "results.json")])
    assert run.exit_code == 2 and "holds one student" in run.output


# --- answers awaiting review ----------------------------------------------------------------

def test_an_export_refuses_while_answers_await_review(tmp_path):
    from grader.render.exports import PendingReviews

    for fmt in FORMATS:
        with pytest.raises(PendingReviews, match=r"1 answer of 1 student awaits review \(s123456 ex02\.c\), "
                                                 r"and each would count as 0 points.*--allow-pending"):
            export(pending_results(), fmt, tmp_path / f"{fmt}.out")
    assert list(tmp_path.iterdir()) == []


def test_allow_pending_leaves_those_cells_blank(tmp_path):
    rows = {}
    for fmt in ("csv", "canvas", "moodle"):
        export(pending_results(), fmt, tmp_path / f"{fmt}.csv", title="Set 1", allow_pending=True)
        rows[fmt] = read_csv(tmp_path / f"{fmt}.csv")
    header, *students = rows["csv"]
    s123456 = next(row for row in students if row[0] == "s123456")
    assert s123456[header.index("ex02.c")] == ""
    assert s123456[header.index("ex01.e")] == "1"
    assert s123456[-2:] == ["", "16"]  # no total while an answer awaits a decision
    assert next(row for row in rows["canvas"] if row[0] == "s123456")[5] == ""
    assert ["s123456", ""] in rows["moodle"]
    assert all(row[-1] != "" for row in rows["moodle"] if row[0] != "s123456")
    paths = export(pending_results(), "gradescope", tmp_path / "gs", allow_pending=True)
    assert len(paths) == 2 and not (tmp_path / "gs" / "s123456").exists()  # no blank score in Gradescope


PENDING_SPEC = """\
id: ex
title: Tiny exercise
questions:
  - id: t
    kind: text
    points: 2
    prompt: Problems of the sigmoid?
    answer: It kills gradients and is not zero-centred.
    rubric:
      - {concept: kills gradients, points: 1, terms: [kill* gradient*]}
  - id: n
    kind: numeric
    points: 1
    prompt: One quarter?
    answer: 0.25
"""


def _pending_class(tmp_path: Path) -> tuple[Path, Path]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ex.yaml").write_text(PENDING_SPEC)
    for student in ("s1", "s2"):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "answers.yaml").write_text('ex:\n  t: "No idea"\n  n: "0.25"\n')
    return specs, tmp_path / "class"


def test_grade_and_export_refuse_pending_reviews_through_the_cli(tmp_path):
    from tests.conftest import run_grader

    specs, submissions = _pending_class(tmp_path)
    out = tmp_path / "out"
    done = run_grader("grade", str(specs), str(submissions), "--out", str(out), "--no-reports",
                      "--format", "canvas")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error: not exported (canvas): 2 answers of 2 students await review (s1 ex.t, s2 ex.t)" in done.stderr
    assert "--allow-pending" in done.stderr and "2 results" in done.stdout
    assert (out / "results" / "s1.json").exists() and not (out / "canvas.csv").exists()
    assert read_csv(out / "grades.csv")[1] == ["s1", "", "1", "", "3"]  # pending: blank, not 0

    done = run_grader("export", str(out), "--format", "moodle")
    assert done.returncode == 2 and "not exported (moodle): 2 answers of 2 students await review" in done.stderr
    assert not (out / "moodle.csv").exists()

    done = run_grader("export", str(out), "--format", "canvas", "--allow-pending")
    assert done.returncode == 0, done.stderr
    assert ("warning: 2 answers of 2 students await review: those students' grades are left blank "
            "in the canvas export") in done.stderr
    exported = read_csv(out / "canvas.csv")
    assert exported[0][5] == "Tiny exercise"  # the course title, as `grade` names it: not "grader"
    assert [row[5] for row in exported[2:]] == ["", ""]

    (out / "canvas.csv").unlink()
    done = run_grader("grade", str(specs), str(submissions), "--out", str(out), "--no-reports", "-q",
                      "--format", "canvas", "--allow-pending")
    assert done.returncode == 0, done.stderr
    assert "left blank in the canvas export" in done.stderr
    assert read_csv(out / "canvas.csv") == exported  # one title, one layout, from either command
    done = run_grader("export", str(out), "--format", "canvas", "--allow-pending", "--title", "Set 1",
                      "--to", str(tmp_path / "named.csv"))
    assert read_csv(tmp_path / "named.csv")[0][5] == "Set 1"
