"""`grader check` and `grader grade` read a submission the same way (grader.intake.open_submission)
and compare code the same way (grader.kinds.code.run.compare_cases), so they agree.

Agreement, row by row of `grader check` against the same question in `grader grade`'s result:

    check says      grade must say
    ok              not invalid, not missing (the answer parses, the module imports)
    missing         missing (model and plot kinds: error, see _known_drift)
    invalid         invalid
    error           error
    passed          every visible case passed; status not invalid, error or missing
    failed          "X/N visible checks pass" with N the visible cases and X those grade passed,
                    and the first failing one named is the first visible case grade failed
    unchecked       (nothing: check cannot tell)
    submission error   the result has an error

"Visible cases" are the cases the released bundle ships (checks/*.json), matched by name
with the cases in grade's result (its typed `cases` records).

Where it matters the tests run the installed `grader` command, as students and instructors do.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

from grader.authoring import spec
from grader.core import registry
from grader.core.model import Invalid
from grader.intake import open_submission
from grader.student import check
from tests.conftest import EXAMPLES, EXERCISES
from tests.student_side import RIGHT, STUDENT_CODE, fill, grader, has_code_kind, write_course

pytestmark = pytest.mark.skipif(not has_code_kind(), reason="the code kind is not installed")

STATUSES = ("ok", "missing", "invalid", "passed", "failed", "error", "unchecked")
ROW = re.compile(rf"^(?P<id>\S+)\s+(?P<status>{'|'.join(STATUSES)})\s\s+(?P<message>.*)$")
COUNT = re.compile(r"^(?P<passed>\d+)/(?P<total>\d+) visible checks pass")


# --- reading what the commands say ----------------------------------------------------------


def check_rows(stdout: str) -> dict[str, dict[str, str]]:
    """`grader check`'s table: id -> {status, message (continuation lines joined)}."""
    rows: dict[str, dict[str, str]] = {}
    last = None
    for line in stdout.splitlines():
        match = ROW.match(line)
        if match and not match["id"][0].isdigit():  # the last line counts statuses
            last = match["id"]
            rows[last] = {"status": match["status"], "message": match["message"]}
        elif last and line.startswith(" "):
            rows[last]["message"] += "\n" + line.strip()
    return rows


def graded(specs: Path, submissions: Path, out: Path, *extra: Any) -> dict[str, dict[str, Any]]:
    """`grader grade`'s results: student -> result JSON."""
    ran = grader("grade", specs, submissions, "--out", out, "--no-reports", *extra)
    assert ran.returncode in (0, 1), ran.stdout + ran.stderr
    return {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}


def visible_names(specs: Path, student: str) -> dict[str, list[str]]:
    """Question id -> the names of the visible cases the bundle ships for it."""
    public = check.load_public(specs, student)
    return {q.id: [str(c.get("name")) for c in json.loads(q.read(q.checks))]
            for q in public.questions if q.checks and q.read}


def case_verdicts(question: dict[str, Any]) -> dict[str, bool]:
    """Grade's verdict on each shown case of a code question (the result's cases)."""
    return {c["name"]: bool(c["passed"]) for c in question.get("cases", []) if not c["hidden"]}


# --- the agreement ---------------------------------------------------------------------------


def disagreements(rows: dict[str, dict[str, str]], result: dict[str, Any],
                  visible: dict[str, list[str]]) -> Iterator[str]:
    """Every way `rows` (check) and `result` (grade) disagree, per the table in the docstring."""
    if "submission" in rows:
        if not result["error"]:
            yield f"check: submission {rows['submission']['status']}; grade found no error"
        return
    questions = {q["id"]: q for q in result["questions"]}
    missing_rows = set(questions) - set(rows)
    if missing_rows:
        yield f"check has no row for {sorted(missing_rows)}"
    for qid, row in rows.items():
        if qid in questions:
            yield from (f"{qid}: {problem}" for problem in _row_disagreement(row, questions[qid], visible.get(qid)))


def _row_disagreement(row: dict[str, str], question: dict[str, Any], visible: list[str] | None) -> Iterator[str]:
    status, got = row["status"], question["status"]
    said = f"check {status}, grade {got}"
    if status == "ok" and got in ("invalid", "missing"):
        yield said
    if status in ("missing", "invalid", "error") and got != status and not _known_drift(status, question):
        yield said
    if status in ("passed", "failed"):
        yield from _cases_disagreement(row, question, visible or [])


def _known_drift(status: str, question: dict[str, Any]) -> bool:
    """The one disagreement left, by name: the model and plot kinds grade a function that is
    not written as `error` (the suite pins it: test_demo_class, test_kind_plot), the code
    kind and `grader check` call it `missing`."""
    return (status == "missing" and question["kind"] in ("model", "plot") and question["status"] == "error"
            and "does not define" in question["feedback"])


def _cases_disagreement(row: dict[str, str], question: dict[str, Any], visible: list[str]) -> Iterator[str]:
    verdicts = case_verdicts(question)
    unknown = [name for name in visible if name not in verdicts]
    if unknown:
        yield f"grade has no case named {unknown}"
        return
    passed = [name for name in visible if verdicts[name]]
    if row["status"] == "passed":
        if len(passed) != len(visible) or question["status"] in ("invalid", "error", "missing"):
            yield f"check passed; grade passed {len(passed)}/{len(visible)} visible cases ({question['status']})"
        return
    count = COUNT.match(row["message"])
    if count is None or (int(count["passed"]), int(count["total"])) != (len(passed), len(visible)):
        yield f"check says {row['message'][:40]!r}; grade passed {len(passed)}/{len(visible)} visible cases"
    first = next((name for name in visible if not verdicts[name]), None)
    if first is None or f"First failing check, {first}:" not in row["message"]:
        yield f"check's first failing check is not grade's first failing visible case {first!r}"


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return graded(EXERCISES, EXAMPLES, tmp_path_factory.mktemp("demo") / "out")


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_check_and_grade_agree_on_every_question_of_the_demo_class(demo_results: dict, student: str) -> None:
    ran = grader("check", EXERCISES, EXAMPLES / student)
    rows = check_rows(ran.stdout)
    assert rows, ran.stdout + ran.stderr
    assert list(disagreements(rows, demo_results[student], visible_names(EXERCISES, student))) == []


def test_the_demo_class_exercises_every_row_of_the_agreement(demo_results: dict) -> None:
    """The demo has passing, failing, missing and broken answers and a broken submission
    (else the agreement above would hold vacuously)."""
    statuses = {q["status"] for result in demo_results.values() for q in result["questions"]}
    assert {"correct", "partial", "incorrect", "missing", "error"} <= statuses
    assert any(result["error"] for result in demo_results.values())


def test_agreement_rules_catch_a_drift() -> None:
    """The rules are not vacuous: the drift seen before (check passed, grade failed) is caught."""
    question = {"id": "ex01.f", "status": "incorrect",
                "cases": [{"name": "a", "passed": False, "hidden": False}]}
    result = {"error": None, "questions": [question]}
    rows = {"ex01.f": {"status": "passed", "message": "1/1 visible checks pass."}}
    assert list(disagreements(rows, result, {"ex01.f": ["a"]})) != []
    rows = {"ex01.f": {"status": "failed", "message": "0/1 visible checks pass. First failing check, a: …"}}
    assert list(disagreements(rows, result, {"ex01.f": ["a"]})) == []


def _parsed(kind: Any, raw: Any, question: Any) -> tuple[str, str]:
    try:
        value = kind.parse(raw, question)
    except Exception as exc:  # a parser fault: both sides must meet it
        return "fault", type(exc).__name__
    return ("invalid", value.message) if isinstance(value, Invalid) else ("ok", kind.show(value, question))


def test_check_parses_every_demo_answer_as_grade_does() -> None:
    """Answers in answers.yaml: check's question (options from the public keys only) parses
    and shows every demo answer exactly as grade's (all options) does. Only free text,
    whose rubric never ships, is left to grading."""
    course = spec.load_course([EXERCISES])
    compared, left = 0, set()
    for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        public = {q.id: q.question for q in check.load_public(EXERCISES, folder.name).questions}
        with open_submission(folder) as opened:
            for exercise in course.exercises:
                for question in exercise.questions:
                    kind = registry.get(question.kind)
                    raw = opened.answers.get(exercise.id, {}).get(question.id)
                    if kind.answer_source != "answers" or raw is None:
                        continue
                    seen = public[f"{exercise.id}.{question.id}"]
                    if seen.options is None and kind.option_keys:
                        left.add(kind.name)
                        continue
                    compared += 1
                    assert _parsed(kind, raw, seen) == _parsed(kind, raw, question), (folder.name, question.id)
    assert compared > 40 and left <= {"text"}


# --- notebook bundles --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_course(tmp_path_factory.mktemp("agree") / "course")


def _notebook_bundle(specs: Path, folder: Path, code: str | None) -> Path:
    """A `release --notebook` bundle answered in its notebook only (ex01.py left as released)."""
    grader("release", specs, "--to", folder, "--notebook", check=True)
    book = nbformat.read(folder / "answers.ipynb", as_version=4)
    for cell in book.cells:
        tags = cell.metadata.get("tags", [])
        if tags and tags[0] != "ex01.py":
            cell.source = cell.source.replace("= ...", f"= {RIGHT[tags[0].split('.')[1]]}")
        elif tags == ["ex01.py"] and code is not None:
            cell.source = f"# file: ex01.py\n{code}"
    nbformat.write(book, folder / "answers.ipynb")
    return folder


def test_a_notebook_only_bundle_grades_the_notebook_code_not_the_stub(specs: Path, tmp_path: Path) -> None:
    bundle = _notebook_bundle(specs, tmp_path / "s123", STUDENT_CODE)
    stub = (bundle / "ex01.py").read_text()
    assert "raise NotImplementedError" in stub
    rows = check_rows(grader("check", bundle, bundle, check=True).stdout)
    assert rows["ex01.dbl"]["status"] == "passed"
    result = graded(specs, bundle, tmp_path / "out")["s123"]
    dbl = next(q for q in result["questions"] if q["id"] == "ex01.dbl")
    assert dbl["status"] == "correct", dbl["feedback"]
    assert result["score"] == result["max_score"] and result["warnings"] == []
    assert list(disagreements(rows, result, visible_names(bundle, "s123"))) == []
    assert (bundle / "ex01.py").read_text() == stub  # the student's folder is never written to


def test_an_untouched_notebook_and_an_untouched_stub_are_missing_work_in_both(specs: Path, tmp_path: Path) -> None:
    bundle = _notebook_bundle(specs, tmp_path / "s123", code=None)
    rows = check_rows(grader("check", bundle, bundle).stdout)
    result = graded(specs, bundle, tmp_path / "out")["s123"]
    dbl = next(q for q in result["questions"] if q["id"] == "ex01.dbl")
    assert rows["ex01.dbl"]["status"] == "failed" and dbl["status"] == "incorrect"
    assert "NotImplementedError" in rows["ex01.dbl"]["message"] and "NotImplementedError" in dbl["feedback"]


def test_code_in_the_file_and_the_notebook_differently_is_said_by_check_and_grade(specs: Path,
                                                                                 tmp_path: Path) -> None:
    """The hostile case: which code counts? Both commands say so, in the same words."""
    bundle = _notebook_bundle(specs, tmp_path / "s123", STUDENT_CODE)
    (bundle / "ex01.py").write_text("def double_plus(X, c):\n    return X * 3 + c\n")
    ran = grader("check", bundle, bundle)
    rows = check_rows(ran.stdout)
    message = ("ex01.py is both a file and cells of a notebook (answers.ipynb), and they differ: "
               "the file is graded")
    assert ran.returncode == 1 and rows["ex01.py"]["status"] == "invalid"
    assert rows["ex01.py"]["message"].startswith(message)
    out = tmp_path / "out"
    ran = grader("grade", specs, bundle, "--out", out, "--no-reports")
    assert message in ran.stdout + ran.stderr
    result = json.loads((out / "results" / "s123.json").read_text())
    assert any(w.startswith(message) for w in result["warnings"])
    dbl = next(q for q in result["questions"] if q["id"] == "ex01.dbl")
    assert dbl["status"] == "incorrect"  # the file's X * 3 was graded, as both said
    assert rows["ex01.dbl"]["status"] == "failed"


# --- zips ------------------------------------------------------------------------------------


def test_a_submit_zip_is_opened_alike_by_check_and_grade(specs: Path, tmp_path: Path) -> None:
    bundle = _notebook_bundle(specs, tmp_path / "s123", STUDENT_CODE)
    grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123", check=True)
    zipped = next((tmp_path / "handin").glob("s123-*.zip"))
    assert "manifest.json" in zipfile.ZipFile(zipped).namelist()
    rows = check_rows(grader("check", bundle, zipped, check=True).stdout)
    result = graded(specs, zipped, tmp_path / "out")["s123"]
    assert result["error"] is None and result["score"] == result["max_score"]
    assert {rows[q]["status"] for q in ("ex01.mean", "ex01.step", "ex01.pick")} == {"ok"}
    assert rows["ex01.dbl"]["status"] == "passed"
    assert list(disagreements(rows, result, visible_names(bundle, "s123"))) == []


def test_a_tampered_zip_is_refused_by_check_and_grade_alike(specs: Path, tmp_path: Path) -> None:
    bundle = _notebook_bundle(specs, tmp_path / "s123", STUDENT_CODE)
    grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123", check=True)
    zipped = next((tmp_path / "handin").glob("s123-*.zip"))
    with zipfile.ZipFile(zipped, "a") as archive:
        archive.writestr("ex01.py", "def double_plus(X, c):\n    return 2 * X + c\n")
    ran = grader("check", bundle, zipped)
    rows = check_rows(ran.stdout)
    result = graded(specs, zipped, tmp_path / "out")["s123"]
    assert ran.returncode == 1 and rows["submission"]["status"] == "error"
    assert "does not match its manifest" in rows["submission"]["message"]
    assert rows["submission"]["message"] in result["error"]


# --- a torch tensor where numpy is asked for (and the other way round) ---------------------------

TORCH_SOLUTIONS = '''
import numpy as np
import torch


def reference_scaled(x):
    return np.asarray(x) * 2.0


def reference_scaled_tensor(x):
    return torch.as_tensor(x) * 2.0


def reference_pair(x):
    return np.asarray(x) * 2.0, np.asarray(x).sum() > 0
'''

TORCH_SPEC = """
id: ex02
title: Returned types
solutions: demo.ex02
questions:
  - {id: same, kind: code, points: 1, prompt: twice x, function: same_type, returns: same,
     answer: {solution: reference_scaled}, cases: [{name: three, args: {x: {array: [1, 2, 3]}}}]}
  - {id: numpy, kind: code, points: 1, prompt: twice x, function: as_numpy, returns: numpy,
     answer: {solution: reference_scaled}, cases: [{name: three, args: {x: {array: [1, 2, 3]}}}]}
  - {id: tensor, kind: code, points: 1, prompt: twice x, function: as_tensor, returns: same,
     answer: {solution: reference_scaled_tensor}, cases: [{name: three, args: {x: {array: [1, 2, 3]}}}]}
  - {id: pair, kind: code, points: 1, prompt: twice x and a flag, function: pair, returns: same,
     answer: {solution: reference_pair}, cases: [{name: three, args: {x: {array: [1, 2, 3]}}}]}
"""

#: Each function returns the right numbers in the wrong type for its question.
WRONG_TYPES = '''
import numpy as np
import torch


def same_type(x):
    return torch.as_tensor(x) * 2.0


def as_numpy(x):
    return torch.as_tensor(x) * 2.0


def as_tensor(x):
    return np.asarray(x) * 2.0


def pair(x):
    return np.asarray(x) * 2.0, bool(np.asarray(x).sum() > 0)
'''

RIGHT_TYPES = '''
import numpy as np
import torch


def same_type(x):
    return np.asarray(x) * 2.0


def as_numpy(x):
    return np.asarray(x) * 2.0


def as_tensor(x):
    return torch.as_tensor(x) * 2.0


def pair(x):
    return np.asarray(x) * 2.0, np.asarray(x).sum() > 0
'''


@pytest.fixture(scope="module")
def typed_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    root = tmp_path_factory.mktemp("types")
    specs = write_course(root, code=False)
    (root / "solutions" / "demo" / "ex02.py").write_text(TORCH_SOLUTIONS)
    (specs / "ex02.yaml").write_text(TORCH_SPEC)
    grader("release", specs, "--to", root / "bundle", check=True)
    return root


@pytest.mark.parametrize("question, said", [
    ("ex02.same", "expected a numpy array, got a torch tensor"),
    ("ex02.numpy", "expected a numpy array, got a torch tensor"),
    ("ex02.tensor", "expected a torch tensor, got a numpy array"),
    ("ex02.pair", "in value 2 of the tuple"),  # numpy's bool_ is not Python's bool, in both
])
def test_the_right_numbers_in_the_wrong_type_fail_check_and_grade(typed_course: Path, tmp_path: Path,
                                                                  question: str, said: str) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, RIGHT, code=None)
    (folder / "ex02.py").write_text(WRONG_TYPES)
    rows = check_rows(grader("check", typed_course / "bundle", folder).stdout)
    result = graded(typed_course / "specs", folder, tmp_path / "out")["s123"]
    graded_question = next(q for q in result["questions"] if q["id"] == question)
    assert rows[question]["status"] == "failed" and said in rows[question]["message"]
    assert graded_question["status"] == "incorrect" and said in graded_question["feedback"]
    assert list(disagreements(rows, result, visible_names(typed_course / "bundle", "s123"))) == []


def test_the_right_types_pass_check_and_grade(typed_course: Path, tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, RIGHT, code=None)
    (folder / "ex02.py").write_text(RIGHT_TYPES)
    rows = check_rows(grader("check", typed_course / "bundle", folder, check=True).stdout)
    result = graded(typed_course / "specs", folder, tmp_path / "out")["s123"]
    assert all(rows[f"ex02.{q}"]["status"] == "passed" for q in ("same", "numpy", "tensor", "pair")), rows
    assert result["score"] == result["max_score"], [q["feedback"] for q in result["questions"]]
