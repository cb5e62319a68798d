"""`grader review`: the terminal walk through the answers marked review, driven with real
input through click's runner and through a real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli
from grader import api
from grader.grading import overrides, review

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
  - id: u
    kind: text
    points: 1
    prompt: Why scale features?
    answer: Gradient descent converges faster.
    rubric:
      - {concept: faster convergence, points: 1, terms: [converge*, faster]}
"""

ANSWERS = {
    "s1": {"t": "It kills gradients", "u": "It converges faster"},
    "s2": {"t": "It does not kill gradients", "u": "\x1b[2J\x1b[31mwipe the screen"},
    "s3": {"t": "It kills gradients and is not zero-centred"},
}


@pytest.fixture()
def graded(tmp_path: Path) -> tuple[Path, Path]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ex.yaml").write_text(SPEC)
    for student, answers in ANSWERS.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "answers.yaml").write_text(json.dumps({"ex": answers}))
    api.grade_paths([specs], [tmp_path / "class"], tmp_path / "out", reports=False)
    return specs, tmp_path / "out"


def run_review(specs: Path, out: Path, typed: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["review", str(specs), str(out), "--by", "alice", *extra], input=typed)
    return result.exit_code, result.output


def decided(specs: Path) -> dict[str, dict[str, overrides.Override]]:
    return overrides.load(specs / "overrides.yaml")


def test_walks_question_by_question_across_the_class(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    # ex.t for s1, s2, s3, then ex.u for s1 (s2's ex.u is review too; s3 left it empty).
    code, shown = run_review(specs, out, "\ngood start\n0.5\nnegated\n2\n\ns\n1\nfine\n")
    assert code == 0, shown
    order = [line.split("·")[0].split("]")[1].strip() + " " + line.split("·")[1].strip()
             for line in shown.splitlines() if line.startswith("─── [")]
    assert order == ["ex.t s1", "ex.t s2", "ex.t s3", "ex.u s1", "ex.u s2"]
    assert "Rubric suggests: 1 of 2" in shown and "✓ kills gradients" in shown and "✗ not zero-centred" in shown
    assert "negated: “kill gradients”" in shown
    entries = decided(specs)
    assert entries["s1"]["ex.t"].score == 1.0 and entries["s1"]["ex.t"].comment == "good start"
    assert entries["s2"]["ex.t"].score == 0.5 and entries["s3"]["ex.t"].comment == ""
    assert "ex.u" not in entries["s1"] and entries["s2"]["ex.u"].score == 1.0
    assert entries["s1"]["ex.t"].by == "alice" and entries["s1"]["ex.t"].at.endswith("+00:00")
    assert "4 decided, 1 skipped" in shown


def test_quit_keeps_what_was_decided_and_the_rest_comes_back(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    code, shown = run_review(specs, out, "2\n\nq\n")
    assert code == 0 and "1 decided, 0 skipped, 4 left for later" in shown
    assert list(decided(specs)) == ["s1"]
    code, shown = run_review(specs, out, "q\n")
    assert "[1/4] ex.t · s2" in shown  # the decided answer is not asked again
    code, shown = run_review(specs, out, "q\n", "--again")
    assert "[1/5] ex.t · s1" in shown


def test_end_of_input_quits_cleanly(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    code, shown = run_review(specs, out, "1\nok\n")
    assert code == 0 and "1 decided" in shown and "4 left for later" in shown


@pytest.mark.parametrize("typed, score", [
    ("5\n-1\nabc\n1,5\n\n", 1.5),
    ("3/4\n\n", 0.75),
    ("  2  \n\n", 2.0),
    ("1e400\n0\n\n", 0.0),
])
def test_bad_scores_are_asked_again(graded: tuple[Path, Path], typed: str, score: float) -> None:
    specs, out = graded
    code, shown = run_review(specs, out, typed + "q\n")
    assert code == 0
    assert decided(specs)["s1"]["ex.t"].score == score


def test_hostile_answers_cannot_drive_the_terminal(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    results = out / "results" / "s2.json"
    data = json.loads(results.read_text())
    data["questions"][1]["answer"] = "\x1b[2J\x1b]0;owned\x07gone\x00" + "x" * 20_000
    results.write_text(json.dumps(data))
    _code, shown = run_review(specs, out, "s\ns\ns\ns\nq\n")
    assert "\x1b" not in shown and "\x07" not in shown and "\x00" not in shown
    assert "gone" in shown and len(shown) < 12_000


def test_hostile_ids_and_rubric_phrases_are_shown_not_obeyed(graded: tuple[Path, Path]) -> None:
    """Every student string of the walk (id, question id, rubric matches, the saved line)
    is shown with its steering characters visible, a line feed included."""
    specs, out = graded
    results = out / "results" / "s1.json"
    data = json.loads(results.read_text())
    data["student"] = "s1\x1b]52;c;cm0gLXJmIH4K\x07\u202e\nfake line"
    data["questions"][0]["details"]["rubric"][0]["matched"] = "\x1b]0;owned\x07\x9b2J"
    results.write_text(json.dumps(data))
    _code, shown = run_review(specs, out, "2\ncomment\nq\n")
    assert not any(ch in shown for ch in ("\x1b", "\x07", "\x9b", "\u202e"))
    assert "s1␛]52;c;cm0gLXJmIH4K␇\\u202e␊fake line" in shown and "“␛]0;owned␇\\x9b2J”" in shown
    assert "saved ex.t for s1␛]52;c;cm0gLXJmIH4K␇\\u202e␊fake line: 2 of 2" in shown


def test_refuses_without_a_reviewer_or_results(graded: tuple[Path, Path], tmp_path: Path) -> None:
    specs, out = graded
    result = CliRunner().invoke(cli.main, ["review", str(specs), str(out), "--by", " "], input="")
    assert result.exit_code == 2 and "--by" in result.output
    (tmp_path / "empty").mkdir()
    code, shown = run_review(specs, tmp_path / "empty", "")
    assert code == 2 and "no result files" in shown


def test_decisions_go_to_the_given_file_and_regrading_applies_them(graded: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    specs, out = graded
    path = tmp_path / "decisions" / "course.yaml"
    code, _shown = run_review(specs, out, "2\nall there\nq\n", "--overrides", str(path))
    assert code == 0 and path.exists() and not (specs / "overrides.yaml").exists()
    run = api.grade_paths([specs], [tmp_path / "class"], out, reports=False, overrides=path)
    s1 = run.results[0].questions[0]
    assert (s1.status, s1.score) == ("correct", 2.0) and s1.review and s1.review.comment == "all there"


def test_again_brings_back_answers_a_regrade_already_scored(graded: tuple[Path, Path], tmp_path: Path) -> None:
    specs, out = graded
    run_review(specs, out, "2\n\nq\n")
    api.grade_paths([specs], [tmp_path / "class"], out, reports=False)
    code, shown = run_review(specs, out, "1\nsecond thoughts\nq\n", "--again")
    assert code == 0 and "[1/5] ex.t · s1" in shown
    assert decided(specs)["s1"]["ex.t"].comment == "second thoughts"


@pytest.mark.parametrize("content", ["{not json", '{"student": "s1"}', "[]"])
def test_unreadable_results_are_reported(graded: tuple[Path, Path], content: str) -> None:
    specs, out = graded
    (out / "results" / "s1.json").write_text(content)
    code, shown = run_review(specs, out, "")
    assert code == 2 and "s1.json: not a grader result file" in shown


def test_nothing_to_review(tmp_path: Path) -> None:
    items = review.pending([], {}, {"ex.t": "abc"})
    summary = review.session(items, tmp_path / "o.yaml", "alice", ask=lambda _: "q", say=lambda _: None)
    assert summary.text().startswith("Nothing to review")


def test_real_terminal_session_in_a_subprocess(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    process = subprocess.run(
        [sys.executable, "-m", "grader", "review", str(specs), str(out), "--by", "bob"],
        input="1.5\nnames one problem\ns\nq\n", capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert process.returncode == 0, process.stderr
    assert "saved ex.t for s1: 1.5 of 2" in process.stdout
    entry = decided(specs)["s1"]["ex.t"]
    assert (entry.score, entry.comment, entry.by) == (1.5, "names one problem", "bob")


GROUP_ANSWERS = {
    "g1": "It kills gradients and is not zero-centred.",
    "g2": "it kills gradients, and is not zero centred",
    "g3": "It kills gradients and is not zero-centred!",
    "g4": "It is slow to compute because of the exponential.",
}


def graded_group_class(tmp_path: Path) -> Path:
    """The GROUP_ANSWERS class graded into tmp_path/out; returns its specs folder."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ex.yaml").write_text(SPEC)
    for student, answer in GROUP_ANSWERS.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "answers.yaml").write_text(json.dumps({"ex": {"t": answer}}))
    api.grade_paths([specs], [tmp_path / "class"], tmp_path / "out", reports=False)
    return specs


def test_one_decision_grades_a_group_in_a_real_terminal(tmp_path: Path) -> None:
    """Driven in a subprocess: the walk shows the group, one score and one `y` decide the
    near duplicates together; the unlike answer is asked on its own, then quit."""
    specs = graded_group_class(tmp_path)
    process = subprocess.run(
        [sys.executable, "-m", "grader", "review", str(specs), str(tmp_path / "out"), "--by", "carol"],
        input="2\nboth problems\ny\nq\n", capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert process.returncode == 0, process.stderr
    shown = process.stdout
    assert "Group: 3 answers alike, 2 more not yet decided" in shown and "Suggested: " in shown
    assert "confidence" in shown and "Give 2, the comment and the ticked items to all 2 of them too? [y/N]" in shown
    assert "3 decided (2 with their group), 0 skipped, 1 left for later" in shown
    entries = decided(specs)
    assert {s for s in entries} == {"g1", "g2", "g3"}
    assert all(entries[s]["ex.t"].score == 2.0 and entries[s]["ex.t"].comment == "both problems"
               and entries[s]["ex.t"].by == "carol" for s in ("g1", "g2", "g3"))
    # the ticks (the rubric's hits, untouched) go to the group with the score
    assert {entries[s]["ex.t"].rubric for s in ("g1", "g2", "g3")} == {("kills gradients", "not zero-centred")}
    # the next session starts with the answer left, and learns from the group's decisions
    code, again = run_review(specs, tmp_path / "out", "q\n")
    assert code == 0 and "ex.t · g4" in again and "learned from the decisions so far" in again


def test_declining_the_group_records_the_shown_answer_only(tmp_path: Path) -> None:
    specs = graded_group_class(tmp_path)
    code, shown = run_review(specs, tmp_path / "out", "2\n\nn\nq\n")
    assert code == 0 and "1 decided, 0 skipped, 3 left for later" in shown
    assert len(decided(specs)) == 1


# --- one decision without the walk (a regrade request) -----------------------------------


def run_decide(specs: Path, out: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["review", str(specs), str(out), *args])
    return result.exit_code, result.output


def test_one_decision_without_the_walk_lands_and_grading_applies_it(graded: tuple[Path, Path],
                                                                             tmp_path: Path) -> None:
    specs, out = graded
    before = json.loads((out / "results" / "s1.json").read_text())
    assert [q["status"] for q in before["questions"]][1] == "review"
    code, shown = run_decide(specs, out, "--student", "s1", "--question", "ex.u", "--score", "0,5",
                             "--comment", "Converges faster, but why?", "--by", "carol")
    assert code == 0, shown
    assert "saved ex.u for s1: 0.5 of 1 (was review)" in shown and "Grade again" in shown
    entry = decided(specs)["s1"]["ex.u"]
    assert (entry.score, entry.comment, entry.by) == (0.5, "Converges faster, but why?", "carol")
    assert entry.spec == overrides.fingerprints(api.load([specs]))["ex.u"]
    # a second decision replaces the first, and says so
    code, shown = run_decide(specs, out, "--student", "s1", "--question", "ex.u", "--score", "1", "--by", "dan")
    assert code == 0 and "replacing 0.5 by carol" in shown
    run = api.grade_paths([specs], [tmp_path / "class"], out, reports=True)
    s1 = next(r for r in run.results if r.student == "s1")
    u = next(q for q in s1.questions if q.id == "ex.u")
    assert (u.status, u.score) == ("correct", 1.0) and u.review and u.review.by == "dan"
    report = (out / "reports" / "students" / "s1.html").read_text()
    assert "Reviewed by dan" in report


@pytest.mark.parametrize("args, message", [
    (["--student", "nobody", "--question", "ex.t", "--score", "1"], "no results for student 'nobody'"),
    (["--student", "s1", "--question", "ex.zz", "--score", "1"], "no question 'ex.zz' for s1"),
    (["--student", "s1", "--question", "ex.t", "--score", "3"], "the score must be from 0 to 2"),
    (["--student", "s1", "--question", "ex.t", "--score", "-1"], "the score must be from 0 to 2"),
    (["--student", "s1", "--question", "ex.t", "--score", "lots"], "not a score"),
    (["--student", "s1", "--question", "ex.t"], "--student, --question and --score together"),
    (["--student", "s1", "--question", "ex.t", "--score", "1", "--serve"], "without --serve"),
    (["--comment", "hello"], "--student, --question and --score together"),
    (["--rubric", "kills gradients"], "--student, --question and --score together"),
    (["--student", "s1", "--question", "ex.t", "--score", "1", "--rubric", "made up"],
     "--rubric: no rubric item 'made up' in ex.t (its items: 'kills gradients', 'not zero-centred')"),
    (["--student", "s1", "--question", "ex.t", "--score", "1", "--rubric", "kills gradients", "--rubric", ""],
     "no rubric item ''"),
    (["--student", "s3", "--question", "ex.u", "--score", "1", "--rubric", "faster convergence"],
     "ex.u has no rubric items to tick (asked to tick 'faster convergence')"),
    (["--port", "8080"], "--port goes with --serve"),
])
def test_one_decision_refuses_clearly(graded: tuple[Path, Path], args: list[str], message: str) -> None:
    specs, out = graded
    code, shown = run_decide(specs, out, "--by", "alice", *args)
    assert code == 2 and message in shown, shown
    assert not (specs / "overrides.yaml").exists()


def test_one_decision_through_a_real_subprocess(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    process = subprocess.run(
        [sys.executable, "-m", "grader", "review", str(specs), str(out), "--student", "s3",
         "--question", "ex.t", "--score", "2", "--comment", "Both.", "--by", "erin"],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert process.returncode == 0, process.stderr
    assert decided(specs)["s3"]["ex.t"].score == 2.0


# --- reusable comments -------------------------------------------------------------------


def test_comment_bank_holds_the_rubric_then_earlier_comments_most_used_first() -> None:
    question = QuestionResult_with_rubric()
    bank = review.comment_bank([question], ["Thin.", "Good.", "Thin.", "Missing: kills gradients.", " "])
    assert bank == ["Missing: kills gradients.", "Missing: not zero-centred.", "Thin.", "Good."]
    assert review.picked_comment("2", bank) == "Missing: not zero-centred."
    assert review.picked_comment("1+3", bank) == "Missing: kills gradients. Thin."
    assert review.picked_comment("7", bank) is None and review.picked_comment("2 apples", bank) is None


def QuestionResult_with_rubric():  # noqa: N802 — reads as the record it builds
    from grader.core.results import QuestionResult

    return QuestionResult(id="ex.t", kind="text", status="review", score=0.0, max_score=2.0, details={
        "rubric": [{"concept": "kills gradients", "found": True}, {"concept": "not zero-centred", "found": False}]})


def test_walk_offers_reusable_comments_one_digit_away(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    code, shown = run_review(specs, out, "1\n2\n0.5\n1+2\nq\n")
    assert code == 0, shown
    assert "[1] Missing: kills gradients.   [2] Missing: not zero-centred." in shown
    assert "[3]" not in shown  # a comment equal to a rubric one is not offered twice
    first, second = sorted((e for s in decided(specs).values() for e in s.values()), key=lambda e: -e.score)
    assert first.comment == "Missing: not zero-centred."
    assert second.comment == "Missing: kills gradients. Missing: not zero-centred."


# --- rubric items ticked -----------------------------------------------------------------


def test_walk_ticks_rubric_items_by_number(graded: tuple[Path, Path]) -> None:
    specs, out = graded
    # s1's answer names the first item only: its ticks start there, and r 2 ticks the second; a
    # wrong number or a bare r is explained and asked again. s2's answer names none (negated):
    # r 1 2 ticks both, r 2 unticks the second.
    code, shown = run_review(specs, out, "r 2\nr 7\nr\n2\n\nr 1 2\nr 2\n1\n\nq\n")
    assert code == 0, shown
    assert "1. ✓ kills gradients (1)" in shown and "2. ✗ not zero-centred (1)" in shown
    assert "Judged present: 1  (r 2 ticks or unticks item 2" in shown and "Judged present: 1, 2" in shown
    assert "no rubric item 7: the items are numbered 1–2" in shown and "type r and the numbers" in shown
    assert "saved ex.t for s1: 2 of 2; judged present: 1, 2" in shown
    entries = decided(specs)
    assert entries["s1"]["ex.t"].rubric == ("kills gradients", "not zero-centred")
    assert entries["s2"]["ex.t"].rubric == ("kills gradients",) and entries["s2"]["ex.t"].score == 1


def test_one_decision_with_rubric_items_through_subprocesses_reaches_the_report(graded: tuple[Path, Path],
                                                                                  tmp_path: Path) -> None:
    """`grader review --rubric` (a real process, names as typed: case and spacing aside), then
    `grader grade`: the result and the student's report show what the reviewer ticked."""
    specs, out = graded
    process = subprocess.run(
        [sys.executable, "-m", "grader", "review", str(specs), str(out), "--student", "s2", "--question", "ex.t",
         "--score", "1", "--rubric", "NOT  zero-centred", "--comment", "Only the second.", "--by", "erin"],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert process.returncode == 0, process.stderr
    assert "rubric items judged present: not zero-centred. Grade again" in process.stdout
    assert decided(specs)["s2"]["ex.t"].rubric == ("not zero-centred",)
    graded_again = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(specs), str(tmp_path / "class"), "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert graded_again.returncode == 0, graded_again.stderr
    result = json.loads((out / "results" / "s2.json").read_text())
    review_ = result["questions"][0]["review"]
    assert review_["rubric"] == [{"concept": "kills gradients", "ticked": False, "found": False},
                                 {"concept": "not zero-centred", "ticked": True, "found": False}]
    report = (out / "reports" / "students" / "s2.html").read_text()
    assert "Reviewed by erin" in report and "Rubric items: what the reviewer judged present" in report
    table = report[report.index('<table class="rubric-ticks">'):]
    rows = [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table[:table.index("</table>")], re.S)]
    assert rows == ["kills gradients ✗ not present ✗ not found", "not zero-centred ✓ present ✗ not found"]
