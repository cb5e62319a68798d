"""The result records (grader.core.results): typed, round-tripped through JSON, readable in
the first format, and described by a JSON Schema generated from the dataclasses."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from grader.core import output, results
from grader.core.errors import GraderError
from grader.core.results import RESULTS_FORMAT, CaseResult, QuestionResult, RunRecord, StudentResult
from grader.core.results_schema import results_schema
from tests.render_samples import all_status_student, hostile_student, synthetic_class, unicode_student

RECORDS = (CaseResult, RunRecord, results.RubricTick, results.Review, QuestionResult, results.Lateness,
           StudentResult)
SAMPLES = (all_status_student, hostile_student, unicode_student)


def _hints_in(hint: Any) -> list[Any]:
    return [hint, *(inner for arg in typing.get_args(hint) for inner in _hints_in(arg))]


@pytest.mark.parametrize("record", RECORDS, ids=[r.__name__ for r in RECORDS])
def test_records_are_frozen_typed_and_documented(record: type) -> None:
    assert dataclasses.fields(record) and record.__dataclass_params__.frozen
    for name, hint in typing.get_type_hints(record).items():
        assert typing.Any not in _hints_in(hint), f"{record.__name__}.{name} is typed Any"
    properties = results_schema()["$defs"].get(record.__name__, results_schema())["properties"]
    assert list(properties) == [f.name for f in dataclasses.fields(record)]  # the schema cannot drift
    assert all(p.get("description") for p in properties.values()), "every field has a docstring"


@pytest.mark.parametrize("make", SAMPLES, ids=["all-statuses", "hostile", "unicode"])
def test_to_dict_round_trips_through_json(make: Any) -> None:
    result = make()
    text = output.result_json(result)
    assert json.loads(text)["format"] == RESULTS_FORMAT
    assert StudentResult.from_dict(json.loads(text)) == result


@pytest.mark.parametrize("make", SAMPLES, ids=["all-statuses", "hostile", "unicode"])
def test_samples_validate_against_the_schema(make: Any) -> None:
    data = json.loads(json.dumps(make().to_dict(), allow_nan=False))
    jsonschema.Draft202012Validator(results_schema()).validate(data)


def test_the_schema_refuses_what_is_not_a_results_file() -> None:
    validator = jsonschema.Draft202012Validator(results_schema())
    data = all_status_student().to_dict()
    grad = next(q for q in data["questions"] if q["id"] == "ex03.grad")
    assert validator.is_valid(data)
    for broken in ({**data, "format": "grader-results/1"}, {**data, "extra": 1},
                   {**data, "questions": [{**grad, "cases": [{"name": "x"}]}]},
                   {**data, "questions": [{**grad, "run": {**grad["run"], "limits_hit": "cpu"}}]},
                   {**data, "questions": [{**grad, "status": "great"}]}):
        assert not validator.is_valid(broken)


def test_code_records_survive_the_results_file() -> None:
    grad = next(q for q in all_status_student().questions if q.id == "ex03.grad")
    again = QuestionResult.from_dict(json.loads(json.dumps(grad.to_dict())))
    assert again.cases == grad.cases and isinstance(again.cases[0], CaseResult)
    assert again.run == grad.run and isinstance(again.run.layers, tuple)


def test_infinite_differences_are_written_as_null() -> None:
    assert CaseResult("c", False, largest_difference=float("inf")).to_dict()["largest_difference"] is None


FIRST_FORMAT = {
    "student": "s1", "score": 1, "max_score": 3, "graded_at": "", "grader_version": "0.1.0", "spec_digest": "",
    "warnings": [], "error": None,
    "questions": [
        {"id": "ex.e", "kind": "numeric", "score": 1, "max_score": 1, "status": "correct", "feedback": "",
         "expected": "2", "answer": "2", "prompt": "", "mistake": None, "details": {}, "review": None},
        {"id": "ex.c", "kind": "code", "score": 0, "max_score": 1, "status": "partial", "feedback": "1 of 2",
         "expected": None, "answer": None, "prompt": "", "mistake": None, "review": None,
         "details": {"checks": [{"name": "case 1", "passed": True, "message": "", "hidden": False, "weight": 1.0,
                                 "inputs": "x=1", "expected": "1", "got": "1"},
                                {"name": "case 2", "passed": False, "message": "the values are not right",
                                 "hidden": True, "weight": 1.0}],
                     "passed": 1, "total": 2,
                     "sandbox": {"layers": ["rlimits"], "warnings": [], "stdout": "hi\n"}}},
        {"id": "ex.m", "kind": "model", "score": 0, "max_score": 1, "status": "incorrect", "feedback": "",
         "expected": None, "answer": None, "prompt": "", "mistake": None, "review": None,
         "details": {"cases": [{"name": "test accuracy", "passed": False, "expected": "≥ 0.9", "got": "0.5",
                                "message": ""}],
                     "device": "cuda (NVIDIA H200)", "layers": ["0: Linear"], "metrics": {"test_accuracy": 0.5},
                     "isolation": ["rlimits", "seccomp"], "stdout": ""}},
    ],
}


def test_a_first_format_file_is_read_and_its_code_questions_upgraded() -> None:
    result = StudentResult.from_dict(FIRST_FORMAT)
    numeric, code, model = result.questions
    assert result.format == RESULTS_FORMAT and result.lateness == () and numeric.cases == () and numeric.run is None
    assert [c.name for c in code.cases] == ["case 1", "case 2"] and code.cases[1].hidden
    assert code.run == RunRecord(stdout="hi\n", layers=("rlimits",)) and code.details == {}
    assert model.cases[0] == CaseResult("test accuracy", False, expected="≥ 0.9", got="0.5")
    assert model.run.device == "cuda" and model.run.layers == ("rlimits", "seccomp")
    assert model.details == {"architecture": ["0: Linear"], "metrics": {"test_accuracy": 0.5}}


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "s1.json").write_text(json.dumps({**FIRST_FORMAT, "format": "grader-results/9"}))
    with pytest.raises(GraderError, match="results format 'grader-results/9' is not one this grader reads"):
        output.read_results(tmp_path)


def test_to_dict_stays_shallow_and_fast() -> None:
    """Writing a class's results must not deep-copy (see StudentResult.to_dict)."""
    import time

    cohort = synthetic_class(300)
    started = time.process_time()  # CPU time: a busy machine stretches wall time, not this
    for result in cohort:
        result.to_dict()
    assert time.process_time() - started < 1.0  # about 0.01 s


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("questions"), "has no 'questions'"),
    (lambda d: d.update(score="7"), "'score' is not a number"),
    (lambda d: d["questions"][0].update(status="great"), "status is 'great'"),
    (lambda d: d["questions"][0].update(details={"x": {1, 2}}), "not JSON data"),
    (lambda d: d["questions"][6]["cases"][0].update(passed="yes"), "'passed' is not true or false"),
    (lambda d: d["questions"][6]["run"].update(layers="rlimits"), "'layers' is not a list"),
    (lambda d: d["questions"][6]["run"].update(limits_hit="cpu"), "limits_hit is 'cpu'"),
    (lambda d: d["lateness"][0].update(seconds_late=1.5), "'seconds_late' is not a whole number"),
], ids=["no-questions", "score", "status", "details", "case", "layers", "limit", "lateness"])
def test_from_dict_checks_every_fields_type(change: Any, message: str) -> None:
    data = json.loads(json.dumps(all_status_student().to_dict()))
    assert data["questions"][6]["id"] == "ex03.grad"
    change(data)
    with pytest.raises(ValueError, match=message):
        StudentResult.from_dict(data)
