"""Answer groups, learned suggestions and the learning loop (grader.grading.groups and
grader.grading.suggest), on a small labelled table (tests/fixtures/review/sigmoid.csv), and
the review-effort benchmark's last line on a generated file."""

from __future__ import annotations

import csv
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.grading import groups, suggest

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tests" / "fixtures" / "review" / "sigmoid.csv"


def table(question: str = "t1") -> tuple[groups.Task, list[groups.Answer], dict[str, float]]:
    with open(TABLE, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["question_id"] == question]
    task = groups.Task(float(rows[0]["max_score"]), rows[0]["reference_answer"], rows[0]["question"])
    return task, [groups.Answer(r["answer_id"], r["answer"]) for r in rows], {r["answer_id"]: float(r["score"])
                                                                             for r in rows}


def group_sets(analysis: groups.Analysis) -> set[frozenset[str]]:
    return {frozenset(g.members) for g in analysis.groups}


def test_exact_and_near_duplicates_share_a_group() -> None:
    task, answers, _ = table()
    analysis = groups.analyse(task, answers)
    # a02: case, spaces and punctuation; a03: two typos
    assert analysis.group("a01") is analysis.group("a02") is analysis.group("a03")
    duplicates = analysis.duplicates
    assert duplicates[analysis.index("a01")] == duplicates[analysis.index("a02")] == duplicates[analysis.index("a03")]


@pytest.mark.parametrize("one, other, same", [
    ("It kills gradients.", "it KILLS   gradients", True),
    ("It kills gradients.", "It kils gradients", True),
    ("It kills gradients.", "It does not kill gradients.", False),  # a negation is never a typo
    ("The loss is 12.5", "The loss is 12.6", False),  # nor is another number
    ("The loss is 12.5", "the loss is 12.5!", True),
])
def test_near_duplicates_table(one: str, other: str, same: bool) -> None:
    marks = groups.near_duplicates([groups.Answer("x", one), groups.Answer("y", other)])
    assert bool(marks[0] == marks[1]) is same


def test_different_rubric_hits_are_not_near_duplicates() -> None:
    answers = [groups.Answer("x", "It kills gradients", frozenset({"kills gradients"})),
               groups.Answer("y", "It kills gradients", frozenset())]
    marks = groups.near_duplicates(answers)
    assert marks[0] != marks[1]


def test_alike_answers_group_and_unlike_ones_do_not() -> None:
    task, answers, _ = table()
    analysis = groups.analyse(task, answers)
    assert analysis.group("a07") is analysis.group("a08")  # the exponential is slow
    assert analysis.group("a07") is not analysis.group("a01")
    sizes = [g.size for g in analysis.groups]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(answers)
    assert [g.id for g in analysis.groups] == list(range(len(analysis.groups)))
    for group in analysis.groups:
        assert group.members[0] == group.representative and 0 <= group.cohesion <= 1


def test_grouping_is_deterministic_and_ignores_order() -> None:
    task, answers, _ = table()
    first = groups.analyse(task, answers)
    assert groups.analyse(task, answers).groups == first.groups
    shuffled = list(answers)
    random.Random(3).shuffle(shuffled)
    assert group_sets(groups.analyse(task, shuffled)) == group_sets(first)
    rounds = [suggest.suggest(groups.analyse(task, answers), {"a05": 3.0}) for _ in range(2)]
    assert rounds[0] == rounds[1]


def test_a_member_unlike_its_group_is_an_outlier() -> None:
    base = "the sigmoid saturates so gradients vanish during backpropagation"
    answers = [groups.Answer(f"s{i}", base + suffix) for i, suffix in
               enumerate(["", " quickly", " in deep nets", " at both ends", " for large inputs"])]
    odd = groups.Answer("odd", "sigmoid gradients")
    analysis = groups.analyse(groups.Task(2.0, base), [*answers, odd], threshold=0.3)
    group = analysis.group("odd")
    assert group is analysis.group("s0") and group.outliers == ("odd",)
    round_ = suggest.suggest(analysis, {})
    assert round_.by_key()["odd"].outlier and "odd" not in round_.proposal[1:]
    # a rubric hit the group does not share flags a member too
    hits = [groups.Answer(a.key, a.text, frozenset({"vanishing"})) for a in answers]
    lone = groups.Answer("lone", base + " too", frozenset())
    flagged = groups.analyse(groups.Task(2.0, base, rubric=True), [*hits, lone], threshold=0.3)
    assert "lone" in flagged.group("s0").outliers or flagged.group("lone").size == 1


def test_no_decision_ranks_answers_by_the_reference() -> None:
    task, answers, scores = table()
    round_ = suggest.suggest(groups.analyse(task, answers), {})
    by_key = round_.by_key()
    assert all(s.basis == "prior" and 0 <= s.score <= 5 and 0 <= s.confidence < 1 for s in round_.suggestions)
    good = sum(by_key[k].score for k, y in scores.items() if y >= 4.5) / sum(1 for y in scores.values() if y >= 4.5)
    poor = sum(by_key[k].score for k, y in scores.items() if y <= 1) / sum(1 for y in scores.values() if y <= 1)
    assert good > poor + 1


def test_decisions_teach_the_answers_like_them() -> None:
    task, answers, _ = table()
    analysis = groups.analyse(task, answers)
    before = suggest.suggest(analysis, {}).by_key()
    after = suggest.suggest(analysis, {"a07": 0.5}).by_key()
    assert after["a07"] == suggest.Suggestion("a07", 0.5, 1.0, "decided", after["a07"].group, False)
    assert after["a08"].score < before["a08"].score - 0.5  # its look-alike learned
    assert after["a08"].confidence > before["a08"].confidence
    assert abs(after["a01"].score - before["a01"].score) < abs(after["a08"].score - before["a08"].score)


def test_the_learning_loop_gets_closer_with_each_decision() -> None:
    task, answers, scores = table()
    analysis = groups.analyse(task, answers)
    errors = []
    for actions in (0, 2, 4, 12):
        final, taken = suggest.simulate(analysis, scores.__getitem__, actions)
        assert taken == min(actions, len(answers)) or taken < actions  # stops when all are decided
        errors.append(sum(abs(final[k] - y) for k, y in scores.items()) / len(scores))
    assert errors[0] > errors[1] >= errors[2] > errors[3] - 1e-9 and errors[0] < 2.5


def test_next_is_never_decided_or_skipped_and_proposes_its_group() -> None:
    task, answers, _ = table()
    analysis = groups.analyse(task, answers)
    decisions: dict[str, float] = {}
    seen = set()
    while True:
        round_ = suggest.suggest(analysis, decisions, skipped={"a09"})
        if round_.next is None:
            break
        assert round_.next not in decisions and round_.next != "a09" and round_.next not in seen
        assert round_.proposal[0] == round_.next and set(round_.proposal) <= set(analysis.group(round_.next).members)
        assert round_.teach[analysis.index(round_.next)] == max(
            t for t, a in zip(round_.teach, answers) if a.key not in decisions and a.key != "a09")
        seen.add(round_.next)
        decisions = suggest.decide(decisions, round_, 2.0)
    assert set(decisions) == {a.key for a in answers} - {"a09"}


def test_the_first_decision_grades_the_near_duplicates_with_it() -> None:
    task, answers, _ = table()
    analysis = groups.analyse(task, answers)
    round_ = suggest.suggest(analysis, {})
    decided = suggest.decide({}, round_, 5.0)
    assert set(round_.proposal) == set(decided) and len(decided) >= 1
    assert suggest.decide({}, round_, 5.0, whole_group=False) == {round_.next: 5.0}


def test_repeated_keys_and_empty_classes() -> None:
    with pytest.raises(ValueError, match="twice"):
        groups.analyse(groups.Task(1.0), [groups.Answer("a", "x"), groups.Answer("a", "y")])
    empty = groups.analyse(groups.Task(1.0), [])
    assert empty.groups == () and suggest.suggest(empty, {}).next is None
    one = groups.analyse(groups.Task(1.0, "ref"), [groups.Answer("a", "")])
    assert suggest.suggest(one, {}).next == "a"


WORDS = "because units weights layers small large output input always never slowly training".split()


def write_class(path: Path, questions: int, answers: int, seed: int, variety: int = 0) -> Path:
    """A corpus-format CSV: per question, good answers (5 points) and poor ones (1), each with
    up to `variety` extra words."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question_id", "question", "reference_answer", "answer_id", "answer", "score", "max_score"])
        for q in range(questions):
            for i in range(answers):
                good = rng.random() < 0.6
                text = "the gradient vanishes when it saturates" if good else rng.choice(["no idea", "it is fast"])
                text += " " + " ".join(rng.sample(WORDS, rng.randint(0, variety)))
                writer.writerow([f"q{q}", "Why?", "The gradient vanishes when the unit saturates.", f"q{q}-{i}",
                                 text.strip(), 5 if good else 1, 5])
    return path


def test_benchmark_prints_the_protocol_line(tmp_path: Path) -> None:
    data = write_class(tmp_path / "tiny.csv", 2, 8, seed=0)
    process = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "review_effort.py"), "--data", str(data),
                              "--class-size", "50"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert process.returncode == 0, process.stderr
    last = process.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"review effort: mae@0=\d+\.\d{3} mae@0\.1=\d+\.\d{3} mae@0\.2=\d+\.\d{3} "
                        r"mae@0\.3=\d+\.\d{3} r@0=-?\d+\.\d{3}", last), last
    assert "class of 50 answers" in process.stdout


def test_the_learned_suggestion_reads_the_nearest_decisions() -> None:
    task, answers, scores = table()
    analysis = groups.analyse(task, answers)
    decisions, taken = suggest.reached(analysis, scores.__getitem__, 4)
    rows, keys = suggest.learning_rows(analysis, decisions)
    assert taken == 4 and rows.shape == (len(answers) - len(decisions), len(suggest.FEATURES))
    assert set(keys).isdisjoint(decisions) and np.all((rows >= 0) & (rows <= 1))
    nearest = rows[:, suggest.FEATURES.index("nearest_score")]
    assert set(np.round(nearest * task.max_score, 6)) <= {round(v, 6) for v in decisions.values()}
    assert suggest.learning_rows(analysis, {})[1] == []


def test_without_a_calibration_the_suggestion_is_the_processs_own(monkeypatch: pytest.MonkeyPatch) -> None:
    task, answers, scores = table()
    analysis = groups.analyse(task, answers)
    decisions, _ = suggest.reached(analysis, scores.__getitem__, 3)
    learned = suggest.suggest(analysis, decisions).by_key()
    monkeypatch.setattr(suggest, "CALIBRATION", (0.0,) * (len(suggest.FEATURES) + 1))
    plain = suggest.suggest(analysis, decisions).by_key()
    assert {k: s.score for k, s in learned.items() if k in decisions} == {k: s.score for k, s in plain.items()
                                                                          if k in decisions}
    assert any(abs(learned[k].score - plain[k].score) > 1e-3 for k in plain if k not in decisions)


def test_the_benchmark_fits_on_some_questions_and_measures_on_the_others(tmp_path: Path) -> None:
    data = write_class(tmp_path / "answers.csv", 4, 30, seed=3, variety=6)
    process = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "review_effort.py"), "--data", str(data),
                              "--class-size", "0", "--fit-on", "^q[01]$"], capture_output=True, text=True,
                             timeout=300, cwd=ROOT)
    assert process.returncode == 0, process.stderr
    assert "fitted on questions matching '^q[01]$': CALIBRATION = (" in process.stdout
    assert "2 questions, 60 answers" in process.stdout


def test_coverage_counts_only_the_reference_words_the_prompt_does_not_give():
    """Repeating the question is not an answer (question demoting): the prompt's words in the
    reference are not counted; a prompt that holds every reference word leaves them all counted."""
    task = groups.Task(5.0, "a stack is last in first out", "What is a stack?")
    echo, right = groups.Answer("echo", "a stack is a stack"), groups.Answer("right", "last in, first out")
    analysis = groups.analyse(task, [echo, right])
    assert analysis.coverage[analysis.index("echo")] == 0.0
    assert analysis.coverage[analysis.index("right")] == 1.0
    whole = groups.analyse(groups.Task(5.0, "stack", "What is a stack?"), [echo])
    assert whole.coverage[0] == 1.0
