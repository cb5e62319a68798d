"""`grader grade` against what a hostile (or unlucky) class hands in, through the installed
command where it matters: ids whose file names collided, a hard-linked module, two runs
into one --out, a lock left by a dead run, and escape sequences in folder names and
answers.yaml keys, which must never reach the instructor's terminal raw."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from grader import api
from grader.core import lock, output
from grader.core.results import StudentResult
from tests.student_side import RIGHT, STUDENT_CODE, grader, write_course

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
OSC0 = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J"
#: Characters that must not appear in anything grader prints (ESC, BEL, the C1 CSI, the
#: right-to-left override and isolates, a zero-width space, a lone surrogate's byte).
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u2069", "\u200b", "\udc9b"]


def student(folder: Path, answers: dict | None = None, code: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "answers.yaml").write_text(yaml.safe_dump({"ex01": answers or RIGHT}, allow_unicode=True),
                                         encoding="utf-8")
    if code is not None:
        (folder / "ex01.py").write_text(code, encoding="utf-8")
    return folder


def gradebook(out: Path) -> list[str]:
    return [row["student"] for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text("utf-8")))]


def result_students(out: Path) -> list[str]:
    """The student of every result file in out/results (other *.json files left aside)."""
    found = [json.loads(p.read_text("utf-8")) for p in (out / "results").glob("*.json")]
    return sorted(data["student"] for data in found if isinstance(data, dict) and "student" in data)


# ----------------------------------------------------------------------------- one id, one file


def test_ids_whose_names_collided_get_two_files_pages_and_rows(tmp_path: Path) -> None:
    specs = write_course(tmp_path, code=False)
    ids = ["ola.nordmann", "ola_nordmann-28a3fb64", "ola_nordmann", "Ola.Nordmann", "ola@nordmann"]
    for index, name in enumerate(ids):
        student(tmp_path / "class" / name, {**RIGHT, "mean": str(index)})
    done = grader("grade", specs, tmp_path / "class", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "(5 results)" in done.stdout
    assert result_students(tmp_path / "out") == sorted(ids)
    assert sorted(gradebook(tmp_path / "out")) == sorted(ids)
    index = (tmp_path / "out" / "reports" / "index.html").read_text("utf-8")
    pages = re.findall(r'href="(students/[^"]+\.html)"', index)
    assert sorted(pages) == sorted(f"students/{output.safe_file_name(name)}.html" for name in ids)
    for name in ids:
        page = tmp_path / "out" / "reports" / "students" / f"{output.safe_file_name(name)}.html"
        assert name in page.read_text("utf-8")
    for name, score in zip(ids, range(len(ids))):  # each file holds its own student's answers
        data = json.loads(output.result_path(tmp_path / "out", name).read_text("utf-8"))
        assert data["student"] == name
        assert next(q for q in data["questions"] if q["id"] == "ex01.mean")["answer"] == str(score)


def test_a_file_an_older_grader_gave_another_student_is_not_overwritten(tmp_path: Path) -> None:
    specs = write_course(tmp_path, code=False)
    old = tmp_path / "out" / "results" / "ola_nordmann-28a3fb64.json"
    old.parent.mkdir(parents=True)
    old.write_text(output.result_json(StudentResult("ola.nordmann", 1.0, 5.0, ())), encoding="utf-8")
    student(tmp_path / "class" / "ola_nordmann-28a3fb64")
    done = grader("grade", specs, tmp_path / "class", "--out", tmp_path / "out")
    assert done.returncode == 2 and "holds the result of 'ola.nordmann'" in done.stderr
    assert json.loads(old.read_text("utf-8"))["student"] == "ola.nordmann"


# ----------------------------------------------------------------------------- the gradebook lists results/


def test_the_gradebook_lists_every_result_in_the_folder(tmp_path: Path) -> None:
    specs = write_course(tmp_path, code=False)
    for name in ("s1", "s2", "s3"):
        student(tmp_path / "first" / name)
    for name in ("s4", "ola.nordmann"):
        student(tmp_path / "second" / name)
    out = tmp_path / "out"
    assert grader("grade", specs, tmp_path / "first", "--out", out).returncode == 0
    # a file an older grader wrote for ola.nordmann, and a file that is not a result
    older = out / "results" / "ola_nordmann-28a3fb64.json"
    older.write_text(output.result_json(StudentResult("ola.nordmann", 0.0, 5.0, ())), encoding="utf-8")
    (out / "results" / "notes.json").write_text("[]")
    done = grader("grade", specs, tmp_path / "second", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "(5 students, 3 of them from earlier runs)" in done.stdout
    assert f"{older}: an older file of 'ola.nordmann', superseded by this run's; removed" in done.stderr
    assert "notes.json: not a grader result file" in done.stderr
    assert not older.exists()
    listed = sorted(gradebook(out))
    assert listed == ["ola.nordmann", "s1", "s2", "s3", "s4"]
    assert result_students(out) == listed  # every results/*.json that is a result, once
    index = (out / "reports" / "index.html").read_text("utf-8")
    assert len(re.findall(r'href="students/[^"]+\.html"', index)) == 5


# ----------------------------------------------------------------------------- one run per --out


def test_a_second_grade_into_a_busy_folder_is_refused_while_the_first_completes(tmp_path: Path) -> None:
    specs = write_course(tmp_path)
    for name in ("s1", "s2", "s3"):  # each module its own text: no outcome is shared
        student(tmp_path / "class" / name, code=f"# {name}\nimport time\ntime.sleep(4)\n{STUDENT_CODE}")
    student(tmp_path / "other" / "s9")
    out = tmp_path / "out"
    first = subprocess.Popen([*grader_command(), "grade", str(specs), str(tmp_path / "class"), "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / lock.LOCK_NAME).exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first run never took the folder"
            time.sleep(0.05)
        second = grader("grade", specs, tmp_path / "other", "--out", out)
        still_running = first.poll() is None
        stdout, stderr = first.communicate(timeout=300)
    finally:
        first.kill()
    assert still_running, "the first run ended before the second was refused: the test proved nothing"
    assert second.returncode == 2
    assert f"{out} is in use by grader grade pid {first.pid}" in second.stderr
    assert first.returncode == 0, stderr
    assert sorted(gradebook(out)) == result_students(out) == ["s1", "s2", "s3"]
    assert not (out / lock.LOCK_NAME).exists()


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path: Path) -> None:
    specs = write_course(tmp_path, code=False)
    student(tmp_path / "class" / "s1")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / lock.LOCK_NAME).write_text(json.dumps(
        {"pid": gone.pid, "host": os.uname().nodename, "command": "grader grade", "since": "2026-01-01T00:00:00Z"}))
    done = grader("grade", specs, tmp_path / "class", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert f"took over the lock of grader grade pid {gone.pid}" in done.stderr
    assert gradebook(tmp_path / "out") == ["s1"]
    assert not (tmp_path / "out" / lock.LOCK_NAME).exists()


def grader_command() -> list[str]:
    from tests.conftest import grader_command as command

    return command()


# ----------------------------------------------------------------------------- the code outcome cache


def test_a_hard_linked_module_gets_one_verdict_whoever_came_before(tmp_path: Path) -> None:
    specs = write_course(tmp_path)
    student(tmp_path / "class" / "a1", code=STUDENT_CODE)
    linked = student(tmp_path / "class" / "b2")
    (tmp_path / "original.py").write_text(STUDENT_CODE)
    os.link(tmp_path / "original.py", linked / "ex01.py")

    def verdict(run: api.GradeRun) -> tuple:
        result = next(r for r in run.results if r.student == "b2")
        question = next(q for q in result.questions if q.id == "ex01.dbl")
        return question.status, question.score, question.feedback

    after = verdict(api.grade_paths([specs], [tmp_path / "class"], tmp_path / "both", reports=False))
    alone = verdict(api.grade_paths([specs], [linked], tmp_path / "alone", reports=False))
    assert after == alone and alone[0] == "invalid" and "hard link" in alone[2]


# ----------------------------------------------------------------------------- code that is no file


def test_a_module_that_is_a_link_a_folder_or_a_fifo_is_told_so_not_missing(tmp_path: Path) -> None:
    """What sits under the module's name is handed in: the student is told why it is not
    read (it used to be "No answer was given"; a FIFO hung the run, a folder was a grader
    fault), and a link to the reference earns nothing."""
    specs = write_course(tmp_path)
    cls = tmp_path / "class"
    (student(cls / "linked") / "ex01.py").symlink_to(tmp_path / "solutions" / "demo" / "ex01.py")
    (student(cls / "folder") / "ex01.py").mkdir()
    os.mkfifo(student(cls / "fifo") / "ex01.py")
    done = grader("grade", specs, cls, "--out", tmp_path / "out", "--no-reports")
    assert done.returncode == 0, done.stdout + done.stderr
    expected = {"linked": "ex01.py is a symbolic link; hand in the file itself",
                "folder": "ex01.py is a folder, not a file", "fifo": "ex01.py is not a regular file"}
    for name, needle in expected.items():
        result = json.loads((tmp_path / "out" / "results" / f"{name}.json").read_text("utf-8"))
        question = next(q for q in result["questions"] if q["id"] == "ex01.dbl")
        assert (question["status"], question["score"]) == ("invalid", 0), (name, question)
        assert needle in question["feedback"], (name, question["feedback"])
        assert next(q for q in result["questions"] if q["id"] == "ex01.mean")["status"] == "correct"


def test_a_class_folder_entry_that_is_the_reference_solutions_is_not_graded(tmp_path: Path) -> None:
    """A link in the class folder to solutions/ (or a folder under it) would be graded as a
    student holding the reference's code; it is left out with a warning, the others graded."""
    specs = write_course(tmp_path)
    cls = tmp_path / "class"
    student(cls / "a1", code=STUDENT_CODE)
    (tmp_path / "solutions" / "demo" / "answers.yaml").write_text(yaml.safe_dump({"ex01": RIGHT}))
    (cls / "s9").symlink_to(tmp_path / "solutions" / "demo")
    done = grader("grade", specs, cls, "--out", tmp_path / "out", "--no-reports")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not graded" in done.stderr and "reference solutions" in done.stderr, done.stderr
    assert result_students(tmp_path / "out") == ["a1"]
    alone = grader("grade", specs, cls / "s9", "--out", tmp_path / "alone", "--no-reports")
    assert alone.returncode == 2 and "no submissions found" in alone.stderr, alone.stdout + alone.stderr


def test_check_says_a_linked_module_is_no_file(tmp_path: Path) -> None:
    specs = write_course(tmp_path)
    folder = student(tmp_path / "s1")
    (folder / "ex01.py").symlink_to(tmp_path / "solutions" / "demo" / "ex01.py")
    done = grader("check", specs, folder)
    assert "symbolic link" in done.stdout + done.stderr
    assert "not there yet" not in done.stdout + done.stderr


# ----------------------------------------------------------------------------- the terminal


def hostile_class(root: Path) -> Path:
    """Folder names and answers.yaml keys that would clear the screen, set the title, write
    the clipboard or reverse the text, and a folder name that is not UTF-8 at all."""
    cls = root / "class"
    for name in (f"s1{OSC52}", f"s2{OSC0}", f"s3{CLEAR}", "s4\u202eevil", "s5\u2066x\u2069", "s6\x9b2J",
                 "s7\u200bzw", "s8\rfake"):
        student(cls / name)
    os.mkdir(os.fsencode(cls) + b"/s9\x9b31m")
    (cls / os.fsdecode(b"s9\x9b31m") / "answers.yaml").write_text(yaml.safe_dump({"ex01": RIGHT}))
    student(cls / "s10", {**RIGHT, f"q{OSC52}": "1", f"t{OSC0}": "2", f"c{CLEAR}": "3", "r\u202e": "4"})
    (cls / "s10" / "answers.yaml").write_text(
        (cls / "s10" / "answers.yaml").read_text("utf-8") + '"ex99\\e]0;owned\\a\\u202e":\n  a: 1\n',
        encoding="utf-8")
    return cls


def assert_nothing_raw(shown: bytes) -> None:
    """No steering character in the output: it is strict UTF-8 (a raw 0x9b byte, the
    one-byte CSI, is not; inside `␛`, e2 90 9b, it is a harmless part), without any of RAW."""
    text = shown.decode("utf-8")
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the terminal"


def test_hostile_names_and_keys_never_reach_the_output_raw(tmp_path: Path) -> None:
    specs = write_course(tmp_path, code=False)
    cls = hostile_class(tmp_path)
    done = subprocess.run([*grader_command(), "grade", str(specs), str(cls), "--out", str(tmp_path / "out")],
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert_nothing_raw(done.stdout + done.stderr)
    text = (done.stdout + done.stderr).decode("utf-8")
    assert "\r" not in text
    assert "s1␛]52;c;cm0gLXJmIH4K␇" in text and "s3␛[2J" in text and "s4\\u202eevil" in text
    assert "s9\\udc9b31m" in text  # the byte that is not UTF-8, as its escape
    assert "unknown question ex01.q␛]52;c;cm0gLXJmIH4K␇ was ignored" in text
    assert "unknown question ex01.t␛]0;owned␇ was ignored" in text
    assert "unknown exercise 'ex99\\x1b]0;owned\\x07\\u202e' was ignored" in text
    assert "10 students" in text and "(10 results)" in text
    assert len(list((tmp_path / "out" / "results").glob("*.json"))) == 10


def test_a_terminal_sees_only_graders_own_sequences(tmp_path: Path) -> None:
    """On a terminal click strips nothing: run grade on a pseudo-terminal."""
    specs = write_course(tmp_path, code=False)
    cls = hostile_class(tmp_path)
    controller, terminal = pty.openpty()
    process = subprocess.Popen([*grader_command(), "grade", str(specs), str(cls), "--out", str(tmp_path / "out")],
                               stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if select.select([controller], [], [], 1)[0]:
            try:
                chunk = os.read(controller, 1 << 16)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    assert process.wait(timeout=60) == 0, shown.decode("utf-8", "replace")
    # the progress bar hides and shows the cursor and returns to the line start: grader's own
    ours = shown.replace(b"\x1b[?25l", b"").replace(b"\x1b[?25h", b"")
    assert_nothing_raw(ours)
    assert "unknown question ex01.t␛]0;owned␇".encode() in shown


def test_click_usage_errors_show_typed_names_safely(tmp_path: Path) -> None:
    done = subprocess.run([*grader_command(), "schema", f"extra{OSC52}", f"more{OSC0}\u202e"],
                          capture_output=True, timeout=120)
    assert done.returncode == 2
    assert b"unexpected extra argument" in done.stderr
    assert_nothing_raw(done.stdout + done.stderr)


def test_check_shows_hostile_keys_and_file_names_safely(tmp_path: Path) -> None:
    specs = write_course(tmp_path, code=False)
    folder = student(tmp_path / "s1", {**RIGHT, f"q{OSC52}": "1", "mean": f"1{OSC0}", "step": f"[1, 2]{CLEAR}"})
    done = subprocess.run([*grader_command(), "check", str(specs), str(folder)], capture_output=True, timeout=300)
    assert_nothing_raw(done.stdout + done.stderr)
    assert b"ex01.mean" in done.stdout and done.returncode == 1
    named = student(tmp_path / f"s2{CLEAR}\u202e", RIGHT)
    done = subprocess.run([*grader_command(), "check", str(specs), str(named)], capture_output=True, timeout=300)
    assert_nothing_raw(done.stdout + done.stderr)


@pytest.mark.parametrize("line", [f"s1{OSC52}: unknown question", f"{CLEAR}\u202e"])
def test_every_print_of_the_cli_goes_through_the_sanitizer(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    from grader import cli

    cli._echo("warning: ", line, ("styled" + OSC0, "red"), err=True)
    assert_nothing_raw(capsys.readouterr().err.encode())
    source = Path(cli.__file__).read_text("utf-8")
    assert source.count("click.echo(") == 1, "print through _echo, which makes student text safe"
