"""grader.api: parallel grading equals serial grading, and writes are atomic."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader import api
from grader.core import output
from grader.core.errors import GraderError
from grader.grading.executor import SerialExecutor
from tests.conftest import EXAMPLES, EXERCISES

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@pytest.mark.slow  # the demo class graded twice, once in two processes
def test_jobs_2_gives_the_same_results_as_jobs_1(tmp_path: Path) -> None:
    serial = api.grade_paths([EXERCISES], [EXAMPLES], tmp_path / "a", jobs=1, now=NOW, reports=False)
    parallel = api.grade_paths([EXERCISES], [EXAMPLES], tmp_path / "b", jobs=2, now=NOW, reports=False)
    # Compared by student (not by the order workers finished in), and any difference named
    # question by question, so that a verdict which depends on the run shows what it is.
    one = {r.student: r.to_dict() for r in serial.results}
    two = {r.student: r.to_dict() for r in parallel.results}
    assert sorted(one) == sorted(two)
    differ = [(student, a["id"], a["status"], a["feedback"], b["status"], b["feedback"])
              for student in sorted(one)
              for a, b in zip(one[student]["questions"], two[student]["questions"]) if a != b]
    assert not differ, differ
    assert one == two
    assert [r.student for r in serial.results] == [r.student for r in parallel.results]
    for path in (tmp_path / "a" / "results").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / "results" / path.name).read_bytes()


def test_any_executor_can_be_plugged_in(tmp_path: Path) -> None:
    class Counting(SerialExecutor):
        calls = 0

        def map(self, fn, *iterables, chunksize=1):
            Counting.calls += 1
            return super().map(fn, *iterables)

    run = api.grade_paths([EXERCISES], [EXAMPLES], tmp_path, executor=Counting(), now=NOW, reports=False)
    assert Counting.calls == 1 and len(run.results) == 7


def test_progress_callback_sees_every_student(tmp_path: Path) -> None:
    seen: list[str] = []
    api.grade_paths([EXERCISES], [EXAMPLES], tmp_path, on_result=lambda r: seen.append(r.student), reports=False)
    assert sorted(seen) == [f"s10000{i}" for i in range(1, 8)]


def test_no_submissions(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(GraderError, match="no submissions found"):
        api.grade_paths([EXERCISES], [tmp_path / "empty"], tmp_path / "out")


def test_results_round_trip_through_json(tmp_path: Path) -> None:
    run = api.grade_paths([EXERCISES], [EXAMPLES / "s100003"], tmp_path, now=NOW, reports=False)
    loaded = output.read_results(tmp_path / "results")
    assert [r.to_dict() for r in loaded] == [r.to_dict() for r in run.results]


def test_atomic_write_leaves_no_half_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    output.write_atomic(target, "old")

    class Boom(Exception):
        pass

    def explode(*args, **kwargs):
        raise Boom

    monkeypatch.setattr(output.os, "replace", explode)
    with pytest.raises(Boom):
        output.write_atomic(target, json.dumps({"new": 1}))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_gradebook_neutralises_formulas() -> None:
    from grader.core.results import StudentResult

    text = output.gradebook_csv([StudentResult("=cmd|' /C calc'!A0", 0, 0, ())])
    assert "\n'=cmd" in text


def test_a_grader_fault_shows_no_private_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.grading import engine

    def broken(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError(2, "No such file or directory", "/tmp/grader-sub-x1y2/s1/answers.yaml")

    monkeypatch.setattr(engine, "grade_submission", broken)
    result = api.grade_path(EXAMPLES / "s100003", api.load([EXERCISES]))
    assert result.error == "grader fault: FileNotFoundError: [Errno 2] No such file or directory: 'answers.yaml'"


def test_a_result_with_text_that_is_not_unicode_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = api.grade_path

    def with_surrogate(*args: object, **kwargs: object) -> object:
        from dataclasses import replace

        return replace(real(*args, **kwargs), warnings=("a note \udcff from a file name",))  # type: ignore[arg-type]

    monkeypatch.setattr(api, "grade_path", with_surrogate)
    run = api.grade_paths([EXERCISES], [EXAMPLES / "s100003"], tmp_path, now=NOW)
    written = (tmp_path / "results" / "s100003.json").read_text(encoding="utf-8")
    assert "a note \\udcff from a file name" in written  # as its JSON escape: strict UTF-8 on disk
    assert output.read_result(tmp_path / "results" / "s100003.json").warnings == run.results[0].warnings
