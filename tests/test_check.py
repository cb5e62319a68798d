"""`grader check`: the student's self-check says whether answers parse and code passes the
visible checks, quickly, and never reveals a reference value or a hidden check."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader.student import check
from grader.intake.submission import read_folder
from tests.student_side import RIGHT, SECRETS, STUDENT_CODE, fill, grader, has_code_kind, write_course


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("check")
    specs = write_course(root / "course")
    grader("release", specs, "--to", root / "bundle", check=True)
    return root / "bundle"


def _student(tmp_path: Path, bundle: Path, answers: dict, code: str | None = STUDENT_CODE) -> Path:
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, answers, code=None)
    if code is not None and has_code_kind():
        (folder / "ex01.py").write_text(code)
    return folder


def _rows(bundle: Path, folder: Path) -> dict[str, check.CheckRow]:
    report = check.check_submission(check.load_public(bundle), read_folder(folder, folder.name))
    return {row.id: row for row in report.rows}


def test_right_answers_all_read_well_and_pass_visible_checks(bundle: Path, tmp_path: Path) -> None:
    folder = _student(tmp_path, bundle, RIGHT)
    started = time.monotonic()
    result = grader("check", bundle, folder)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b[" not in result.stdout  # plain text when piped
    lines = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines() if line.startswith("ex01.")}
    assert lines["ex01.mean"] == lines["ex01.step"] == lines["ex01.pick"] == "ok"
    if has_code_kind():
        assert lines["ex01.dbl"] == "passed"
    assert elapsed < 30  # seconds, including the sandbox's start


ROWS = [
    # (question, answer, status, words in the message)
    ("mean", "3.5", "ok", "reads as 3.5"),            # wrong but well formed: check does not judge
    ("mean", "7/2", "ok", "reads as"),
    ("mean", "abc", "invalid", "a number"),
    ("mean", "[1, 2]", "invalid", "unexpected character '['"),
    ("mean", "", "missing", "no answer"),
    ("mean", "1" * 100_000, "invalid", ""),
    ("mean", "__import__('os').system('touch /tmp/pwned-check')", "invalid", ""),
    ("step", "[1, 2]", "ok", "reads as [1, 2]"),
    ("step", "[1, 2, 3]", "invalid", "3 entries"),
    ("step", "[[1, 2]]", "invalid", "2 entries"),
    ("step", "[1, 2", "invalid", "not closed"),
    ("pick", "a", "ok", "reads as a"),
    ("pick", "z", "invalid", "choose from a, b, c"),
    ("pick", "a, b", "invalid", "exactly one"),
]


@pytest.mark.parametrize("question, answer, status, words", ROWS)
def test_answer_rows(bundle: Path, tmp_path: Path, question: str, answer: str, status: str, words: str) -> None:
    answers = {**RIGHT, question: answer}
    rows = _rows(bundle, _student(tmp_path, bundle, answers, code=None))
    row = rows[f"ex01.{question}"]
    assert row.status == status, row.message
    assert words in row.message
    assert not Path("/tmp/pwned-check").exists()
    for secret in SECRETS:
        assert secret not in row.message  # the row says how the answer reads, never what is right


CODE_ROWS = [
    ("def double_plus(X, c):\n    return X * 3 + c\n", "failed", "0/1 visible checks pass"),
    ("def double_plus(X, c):\n    return X * 2 + c\n", "passed", "1/1"),
    ("def double_plus(X, c)\n    return 1\n", "error", "SyntaxError"),
    ("def other(X, c):\n    return X\n", "missing", "does not define double_plus() yet"),
    ("import nonexistent_module_xyz\n", "error", "does not import"),
    ("double_plus = 3\n", "missing", "double_plus"),
    ("import os\ndef double_plus(X, c):\n    os.kill(os.getppid(), 9)\n", "failed error", ""),
    ("def double_plus(X, c):\n    raise ValueError('nope')\n", "failed", "nope"),
]


@pytest.mark.skipif(not has_code_kind(), reason="the code kind is not installed")
@pytest.mark.parametrize("code, status, words", CODE_ROWS)
def test_code_rows_run_in_the_sandbox(bundle: Path, tmp_path: Path, code: str, status: str, words: str) -> None:
    rows = _rows(bundle, _student(tmp_path, bundle, RIGHT, code=code))
    row = rows["ex01.dbl"]
    assert row.status in status.split(), row.message
    assert words in row.message
    for secret in ("29.3125", "23.8125", "secret", "reference_double_plus"):
        assert secret not in row.message


def test_instructor_specs_give_the_same_rows_as_the_bundle(bundle: Path, tmp_path: Path) -> None:
    folder = _student(tmp_path, bundle, {**RIGHT, "step": "[1, 2, 3]"})
    specs = bundle.parent / "course" / "specs"
    from_bundle = _rows(bundle, folder)
    from_specs = check.check_submission(check.load_public(specs, "s123"), read_folder(folder, "s123"))
    assert [(r.id, r.status) for r in from_specs.rows] == [(r.id, r.status) for r in from_bundle.values()]


def test_malformed_answers_file_is_one_clear_error(bundle: Path, tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "answers.yaml").write_text("ex01: [unclosed\n")
    result = grader("check", bundle, folder)
    assert result.returncode == 1
    assert "answers.yaml (line" in result.stdout


def test_check_files_outside_the_bundle_are_refused(bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="checks/"):
        check._read_check_file(bundle, "checks/../../etc/passwd")
    with pytest.raises(Exception, match="check data file"):
        check.decode_value({"$npy": "../x.npy"}, lambda name: b"")


@pytest.mark.parametrize("text", [
    "grader_public_spec: 1\nid: ex01\nquestions:\n  - {id: a, kind: nonsense}\n",
    "grader_public_spec: 1\nid: ex01\nquestions:\n  - {kind: numeric}\n",
    "grader_public_spec: 1\nid: ex01\nquestions: 3\n",
    "grader_public_spec: 1\nid: ex01\nquestions:\n  - !!python/object:os.system {}\n",
])
def test_broken_bundle_specs_are_one_clear_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "bundle" / "specs").mkdir(parents=True)
    (tmp_path / "bundle" / "specs" / "ex01.yaml").write_text(text)
    folder = tmp_path / "s123"
    folder.mkdir()
    result = grader("check", tmp_path / "bundle", folder)
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
    assert "bundle" in result.stderr or "ex01.yaml:" in result.stderr


def test_colour_in_a_terminal(bundle: Path, tmp_path: Path) -> None:
    """Statuses are coloured when stdout is a terminal (and plain when piped, above)."""
    import os
    import pty
    import subprocess

    from tests.student_side import GRADER

    folder = _student(tmp_path, bundle, {**RIGHT, "pick": "z"}, code=None)
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    process = subprocess.run([GRADER, "check", str(bundle), str(folder)], stdout=follower, stderr=follower,
                             env=env, timeout=120)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    text = b"".join(chunks).decode(errors="replace")
    assert process.returncode == 1
    assert "\x1b[" in text and "invalid" in text


def test_check_reads_a_submitted_zip_too(bundle: Path, tmp_path: Path) -> None:
    folder = _student(tmp_path, bundle, {**RIGHT, "step": "[1, 2, 3]"})
    grader("submit", folder, "--to", tmp_path / "handin", "--specs", bundle / "specs", "--force", check=True)
    zipped = next((tmp_path / "handin").glob("s123-*.zip"))
    result = grader("check", bundle, zipped)
    assert result.returncode == 1
    assert "ex01.step" in result.stdout and "3 entries" in result.stdout
