"""The overrides file: human decisions applied after grading, kept across regrades,
flagged when the question changed, and written atomically."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grader import api
from grader.grading import overrides
from grader.authoring import spec
from grader.core.errors import SpecError
from grader.core.results import QuestionResult, StudentResult

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
id: ex
title: Tiny
questions:
  - id: t
    kind: text
    points: 2
    prompt: Problems of the sigmoid?
    answer: It kills gradients and is not zero-centred.
    rubric:
      - {concept: kills gradients, points: 1, terms: [kill* gradient*, saturat*]}
      - {concept: not zero-centred, points: 1, terms: [not zero-cent*, always positive]}
  - id: n
    kind: numeric
    points: 1
    prompt: One quarter?
    answer: 0.25
"""


def make_class(tmp: Path, answers: dict[str, str]) -> tuple[Path, Path]:
    specs = tmp / "specs"
    specs.mkdir()
    (specs / "ex.yaml").write_text(SPEC)
    submissions = tmp / "class"
    for student, text in answers.items():
        (submissions / student).mkdir(parents=True)
        (submissions / student / "answers.yaml").write_text(
            json.dumps({"ex": {"t": text, "n": "0.25"}}), encoding="utf-8")
    return specs, submissions


def decision(score: float, spec_print: str, by: str = "alice") -> overrides.Override:
    return overrides.Override(score, "ok", by, "2026-11-27T07:00:00+00:00", spec_print)


def question_result(qid: str = "ex.t", score: float = 0.0, status: str = "review") -> QuestionResult:
    return QuestionResult(id=qid, kind="text", score=score, max_score=2.0, status=status)  # type: ignore[arg-type]


def student(*questions: QuestionResult, name: str = "s1") -> StudentResult:
    return StudentResult(student=name, score=sum(q.score for q in questions), max_score=3.0, questions=questions)


# --- applying ---------------------------------------------------------------------------


@pytest.mark.parametrize("score, status, applied", [
    (2.0, "correct", 2.0), (1.5, "partial", 1.5), (0.0, "incorrect", 0.0), (7.0, "correct", 2.0),
])
def test_apply_sets_score_status_and_review(score: float, status: str, applied: float) -> None:
    result = student(question_result(), question_result("ex.n", 1.0, "correct"))
    after = overrides.apply(result, {"s1": {"ex.t": decision(score, "abc")}}, {"ex.t": "abc", "ex.n": "x"})
    changed = after.questions[0]
    assert (changed.score, changed.status) == (applied, status)
    assert changed.review is not None and changed.review.by == "alice" and not changed.review.stale
    assert after.score == applied + 1.0
    assert result.questions[0].status == "review"  # the input is not mutated


def test_late_penalty_still_scales_a_human_score() -> None:
    from grader.core.results import Lateness

    result = replace(student(question_result()), lateness=(Lateness("ex", "t1", "t0", 3600, 0.25),))
    after = overrides.apply(result, {"s1": {"ex.t": decision(2.0, "abc")}}, {"ex.t": "abc"})
    assert (after.questions[0].score, after.questions[0].status, after.score) == (1.5, "correct", 1.5)


def test_stale_override_is_flagged_not_applied() -> None:
    result = student(question_result())
    after = overrides.apply(result, {"s1": {"ex.t": decision(2.0, "old")}}, {"ex.t": "new"})
    question = after.questions[0]
    assert question.status == "review" and question.score == 0.0
    assert question.review is not None and question.review.stale
    assert any("changed since the review" in w for w in overrides.warnings({}, [after]))


def test_apply_leaves_other_students_and_questions_alone() -> None:
    result = student(question_result(), name="s2")
    assert overrides.apply(result, {"s1": {"ex.t": decision(2.0, "abc")}}, {"ex.t": "abc"}) is result


def test_warns_of_decisions_for_questions_not_in_the_specs() -> None:
    result = student(question_result())
    found = overrides.warnings({"s1": {"ex.gone": decision(1, "x")}}, [result])
    assert found == ["s1 ex.gone: override for a question that is not in the specs"]


# --- fingerprints --------------------------------------------------------------------------


def test_fingerprint_changes_with_the_question(tmp_path: Path) -> None:
    specs, _ = make_class(tmp_path, {})
    before = overrides.fingerprints(spec.load_course([specs]))
    (specs / "ex.yaml").write_text(SPEC.replace("points: 2", "points: 3"))
    after = overrides.fingerprints(spec.load_course([specs]))
    assert before["ex.t"] != after["ex.t"] and before["ex.n"] == after["ex.n"]
    (specs / "ex.yaml").write_text(SPEC.replace("always positive", "only positive"))
    assert overrides.fingerprints(spec.load_course([specs]))["ex.t"] not in (before["ex.t"], after["ex.t"])


def test_fingerprint_ignores_set_order_and_addresses() -> None:
    from grader.core.model import Question, ValueSource

    class Opaque:
        pass

    def q(options: object) -> Question:
        return Question(id="q", kind="choice", points=1, prompt="p", answer=ValueSource(literal="a"),
                        options=options)

    shuffled = frozenset({"c", "b", "a"})
    assert overrides.fingerprint(q(frozenset({"a", "b", "c"}))) == overrides.fingerprint(q(shuffled))
    assert overrides.fingerprint(q({"x": 1, "y": 2})) == overrides.fingerprint(q({"y": 2, "x": 1}))
    assert overrides.fingerprint(q(Opaque())) == overrides.fingerprint(q(Opaque()))
    assert overrides.fingerprint(q({"x": 1})) != overrides.fingerprint(q({"x": 2}))


def test_fingerprint_is_the_same_in_another_process() -> None:
    code = ("from pathlib import Path; from grader.authoring import spec; from grader.grading import overrides; import json;"
            "print(json.dumps(overrides.fingerprints(spec.load_course([Path('exercises/inf5860')]))))")
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and len(json.loads(runs[0])) > 40


# --- the file ----------------------------------------------------------------------------------


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert overrides.load(tmp_path / "overrides.yaml") == {}


def test_round_trip_is_sorted_and_diff_friendly(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    overrides.record(path, "s2", "ex.t", decision(1.5, "abc"))
    overrides.record(path, "s1", "ex.t", decision(2, "abc", by="bob"))
    overrides.record(path, "s1", "ex.n", replace(decision(0, "def"), comment="Ærlig talt: «nei»\nline two"))
    text = path.read_text(encoding="utf-8")
    assert text.index("s1:") < text.index("s2:") and text.index("ex.n:") < text.index("ex.t:")
    assert "score: 2\n" in text and "Ærlig" in text
    loaded = overrides.load(path)
    assert loaded["s1"]["ex.n"].comment == "Ærlig talt: «nei»\nline two"
    assert loaded["s2"]["ex.t"] == decision(1.5, "abc")


@pytest.mark.parametrize("student, comment", [
    ("s1", 'quote " backslash \\ colon: hash # dash - at @'),
    ("no", "- starts like a list item"),
    ("123", "line\nbreak, tab\tand carriage\rreturn"),
    ("1e3", "line separator \u2028 paragraph \u2029 next-line \x85 bell \x07 nul \x00"),
    ("yes", "emoji 🙂 and astral \U0001d11e and ÆØÅ"),
    ("s-1@uio.no", "{not: a mapping} [nor a list] *alias &anchor !tag"),
    ("'quoted'", ""),
    ("x: y", "   leading and trailing spaces   "),
])
def test_any_text_survives_the_file(tmp_path: Path, student: str, comment: str) -> None:
    path = tmp_path / "overrides.yaml"
    chosen = replace(decision(1.25, "abc"), comment=comment)
    overrides.record(path, student, "ex.t", chosen)
    overrides._written.clear()  # read the file back, not the cache
    assert overrides.load(path) == {student: {"ex.t": chosen}}


def test_a_big_class_is_recorded_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first decision, a session does not re-read the file for every decision."""
    path = tmp_path / "overrides.yaml"
    entries = {f"s{i:04d}": {f"ex{j:02d}.{k}": decision(1.5, "abc") for j in range(12) for k in "abcd"}
               for i in range(60)}
    path.write_text(overrides.dump(entries), encoding="utf-8")
    assert overrides.load(path) == entries
    parses = []
    real = overrides.yamlsafe.loads

    def counted(*args: Any, **kwargs: Any) -> Any:
        parses.append(1)
        return real(*args, **kwargs)

    # Counted, not timed: a write costs about a fifth of a read here, too close to time
    # on a busy machine; what matters is that the file is parsed once, not once a decision.
    monkeypatch.setattr(overrides.yamlsafe, "loads", counted)
    overrides.record(path, "s0000", "ex01.a", decision(2, "abc"))  # reads the file once
    for index in range(5):
        overrides.record(path, f"s{index:04d}", "ex99.z", decision(1, "abc"))
    monkeypatch.undo()
    assert len(parses) <= 1
    assert overrides.load(path)["s0004"]["ex99.z"].score == 1
    overrides._written.clear()
    assert len(overrides.load(path)["s0003"]) == 49


def test_another_writer_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    overrides.record(path, "s1", "ex.t", decision(1, "abc"))
    text = path.read_text().replace("score: 1\n", "score: 2\n")
    tmp = tmp_path / "edited"
    tmp.write_text(text)
    os.replace(tmp, path)  # a second reviewer (or an editor) replaced the file
    overrides.record(path, "s2", "ex.t", decision(1, "abc"))
    assert overrides.load(path)["s1"]["ex.t"].score == 2


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "an overrides file maps"),
    ("s1: 3", "expected question id"),
    ("s1:\n  ex.t: {score: -1, spec: a}", "score must be a number"),
    ("s1:\n  ex.t: {score: '2', spec: a}", "score must be a number"),
    ("s1:\n  ex.t: {score: 1}", "spec (the question's fingerprint) is missing"),
    ("s1:\n  ex.t: {score: 1, spec: a, colour: red}", "unknown key 'colour'"),
    ("s1:\n  ex.t: {score: 1, spec: a, by: [x]}", "by must be text"),
    ("s1: {ex.t: {score: 1, spec: a}}\ns1: {}", "duplicate key"),
    ("!!python/object:os.system {}", "not allowed"),
    ("s1: [unclosed", "invalid YAML"),
])
def test_bad_file_is_reported_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        overrides.load(path)
    shown = caught.value.show()
    assert message in shown and str(path) in shown


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "overrides.yaml"
    overrides.record(path, "s1", "ex.t", decision(1, "abc"))
    before = path.read_bytes()

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        overrides.record(path, "s2", "ex.t", decision(2, "abc"))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".overrides.yaml.lock", "overrides.yaml"]


def _record_many(args: tuple[str, str]) -> None:
    path, who = args
    for index in range(15):
        overrides.record(Path(path), f"{who}{index}", "ex.t", decision(1, "abc", by=who))


def test_concurrent_reviewers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.map(_record_many, [(str(path), who) for who in ("a", "b", "c")])
    assert len(overrides.load(path)) == 45


# --- grading with overrides ---------------------------------------------------------------


def test_overrides_are_applied_on_grading_and_survive_a_regrade(tmp_path: Path) -> None:
    specs, submissions = make_class(tmp_path, {"s1": "It kills gradients", "s2": "No idea"})
    assert (specs / "overrides.yaml").exists() is False
    first = api.grade_paths([specs], [submissions], tmp_path / "out", reports=False)
    assert [r.questions[0].status for r in first.results] == ["review", "review"]
    prints = overrides.fingerprints(spec.load_course([specs]))
    overrides.record(specs / "overrides.yaml", "s1", "ex.t", decision(1.5, prints["ex.t"]))
    for _ in range(2):  # the file in the specs folder is found by default, and is no spec
        run = api.grade_paths([specs], [submissions], tmp_path / "out", reports=False)
        s1, s2 = run.results
        assert (s1.questions[0].status, s1.questions[0].score, s1.score) == ("partial", 1.5, 2.5)
        assert s1.questions[0].review is not None and s1.questions[0].review.comment == "ok"
        assert s2.questions[0].status == "review" and s2.questions[0].review is None
        saved = json.loads((tmp_path / "out" / "results" / "s1.json").read_text())
        assert saved["questions"][0]["review"]["by"] == "alice" and saved["score"] == 2.5
    assert "s1,1.5,1,2.5,3" in (tmp_path / "out" / "grades.csv").read_text()


def test_a_changed_question_makes_the_override_stale(tmp_path: Path) -> None:
    specs, submissions = make_class(tmp_path, {"s1": "It kills gradients"})
    prints = overrides.fingerprints(spec.load_course([specs]))
    elsewhere = tmp_path / "decisions.yaml"
    overrides.record(elsewhere, "s1", "ex.t", decision(2, prints["ex.t"]))
    (specs / "ex.yaml").write_text(SPEC.replace("points: 2", "points: 4"))
    run = api.grade_paths([specs], [submissions], tmp_path / "out", reports=False, overrides=elsewhere)
    question = run.results[0].questions[0]
    assert question.status == "review" and question.score == 0 and question.review and question.review.stale
    assert any("changed since the review" in w for w in run.warnings)


def test_a_bad_overrides_file_stops_grading_with_its_location(tmp_path: Path) -> None:
    specs, submissions = make_class(tmp_path, {"s1": "x"})
    (specs / "overrides.yaml").write_text("s1:\n  ex.t: {score: lots, spec: a}\n")
    with pytest.raises(SpecError) as caught:
        api.grade_paths([specs], [submissions], tmp_path / "out", reports=False)
    assert "overrides.yaml:2:" in caught.value.show()


# --- rubric items ticked -------------------------------------------------------------------

RUBRIC = [{"concept": "kills gradients", "points": 1, "found": True, "matched": "kills gradients"},
          {"concept": "not zero-centred", "points": 1, "found": False}]


def ticked_decision(ticked: tuple[str, ...] | None, spec_print: str = "abc") -> overrides.Override:
    return replace(decision(1.5, spec_print), rubric=ticked)


@pytest.mark.parametrize("ticked", [
    ("kills gradients", "not zero-centred"),
    (),
    None,
    ('quote " backslash \\ comma, [bracket] {brace} # hash: colon', "line\nbreak\u2028sep \x85 nel", "ÆØÅ 🙂"),
])
def test_the_rubric_items_ticked_survive_the_file(tmp_path: Path, ticked: tuple[str, ...] | None) -> None:
    path = tmp_path / "overrides.yaml"
    overrides.record(path, "s1", "ex.t", ticked_decision(ticked))
    overrides._written.clear()  # read the file back, not the cache
    assert overrides.load(path) == {"s1": {"ex.t": ticked_decision(ticked)}}
    text = path.read_text(encoding="utf-8")
    assert ("rubric:" in text) == (ticked is not None)


def test_a_file_written_before_rubric_ticks_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text("s1:\n  ex.t:\n    score: 1.5\n    comment: \"thin\"\n    by: \"alice\"\n"
                    "    at: \"2026-11-27T07:00:00+00:00\"\n    spec: \"abc\"\n", encoding="utf-8")
    loaded = overrides.load(path)["s1"]["ex.t"]
    assert loaded.rubric is None and loaded.comment == "thin"
    # and a decision written now sits beside it, the old one unchanged
    overrides.record(path, "s2", "ex.t", ticked_decision(("kills gradients",)))
    overrides._written.clear()
    assert overrides.load(path)["s1"]["ex.t"] == loaded


@pytest.mark.parametrize("value, message, key_path", [
    ("kills gradients", "rubric must be a list of the rubric items judged present, got 'kills gradients'",
     "s1.ex.t.rubric"),
    ("{a: 1}", "rubric must be a list", "s1.ex.t.rubric"),
    ("[1]", "rubric item 1 must be the name of a rubric item (text), got 1", "s1.ex.t.rubric[0]"),
    ("[ok, '']", "rubric item 2 must be the name of a rubric item (text), got ''", "s1.ex.t.rubric[1]"),
    ("[ok, [nested]]", "rubric item 2 must be the name", "s1.ex.t.rubric[1]"),
    ("[a, b, a]", "rubric lists 'a' twice", "s1.ex.t.rubric[2]"),
    ("[" + ", ".join(f"c{i}" for i in range(101)) + "]", "rubric lists 101 items; at most 100", "s1.ex.t.rubric"),
    ("['" + "x" * 301 + "']", "rubric item 1 is over 300 characters", "s1.ex.t.rubric[0]"),
])
def test_malformed_rubric_ticks_are_refused_with_file_line_and_key_path(tmp_path: Path, value: str, message: str,
                                                                       key_path: str) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(f"s1:\n  ex.t:\n    score: 1\n    spec: a\n    rubric: {value}\n")
    with pytest.raises(SpecError) as caught:
        overrides.load(path)
    shown = caught.value.show()
    assert message in shown and f"{path}:" in shown and f"({key_path})" in shown, shown


def test_apply_puts_the_ticks_beside_the_rubrics_own_reading() -> None:
    from grader.core.results import RubricTick

    question = replace(question_result(), details={"rubric": RUBRIC})
    result = student(question)
    after = overrides.apply(result, {"s1": {"ex.t": ticked_decision(("not zero-centred",))}}, {"ex.t": "abc"})
    review = after.questions[0].review
    assert review is not None and review.rubric == (RubricTick("kills gradients", False, True),
                                                    RubricTick("not zero-centred", True, False))
    none = overrides.apply(result, {"s1": {"ex.t": ticked_decision(())}}, {"ex.t": "abc"}).questions[0].review
    assert none is not None and [t.ticked for t in none.rubric] == [False, False]
    silent = overrides.apply(result, {"s1": {"ex.t": ticked_decision(None)}}, {"ex.t": "abc"}).questions[0].review
    assert silent is not None and silent.rubric == ()
    assert overrides.warnings({"s1": {"ex.t": ticked_decision(("not zero-centred",))}}, [after]) == []


def test_a_tick_for_an_item_the_rubric_lacks_is_left_out_and_said() -> None:
    question = replace(question_result(), details={"rubric": RUBRIC})
    entries = {"s1": {"ex.t": ticked_decision(("kills gradients", "made up"))}}
    after = overrides.apply(student(question), entries, {"ex.t": "abc"})
    review = after.questions[0].review
    assert review is not None and [t.concept for t in review.rubric if t.ticked] == ["kills gradients"]
    assert overrides.warnings(entries, [after]) == [
        "s1 ex.t: the override ticks 'made up', which is not an item of the answer's rubric; that tick is left out"]
