"""The Gradescope autograder end to end: `grader gradescope` builds the zip through the
installed command; each test unpacks it into a temporary AUTOGRADER_ROOT laid out as
Gradescope's container is (source/, submission/, submission_metadata.json), runs its
run_autograder with this environment's grader on PATH (instead of setup.sh's installs), and
checks results/results.json against Gradescope's documented format (SCHEMA below)."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from grader.cli import STUDENT_IDS as CLI_STUDENT_IDS
from grader.intake import gradescope as gs
from tests.student_side import RIGHT, STUDENT_CODE, VENV_BIN, grader, has_code_kind, write_course

pytestmark = pytest.mark.slow

DEADLINE = "2026-07-15T00:00:00+00:00"
ON_TIME = "2026-07-14T10:00:00.123456-07:00"
FOUR_DAYS_LATE = "2026-07-18T12:00:00+00:00"

_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
#: results.json as https://gradescope-autograders.readthedocs.io/en/latest/specs/ documents it
#: ("Output format"): every key is optional but a score (at the top, or on every test).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": _FORMAT,
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": _FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": _VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}},
    },
    "anyOf": [{"required": ["score"]},
              {"properties": {"tests": {"items": {"required": ["score"]}}}, "required": ["tests"]}],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The autograder zip of the test course (deadline and late policy in the spec), and the course."""
    if not has_code_kind():
        pytest.skip("the code kind is not installed")
    root = tmp_path_factory.mktemp("gradescope")
    specs = write_course(root / "course", extra=f"deadline: {DEADLINE}\nlate_penalty: {{per_day: 0.1, max: 0.5}}")
    done = grader("gradescope", specs, "--to", root / "autograder.zip", check=True)
    assert "wrote" in done.stdout and "grader-0.1.0-py3-none-any.whl" in done.stdout
    return root / "autograder.zip", root / "course"


def metadata(created_at: str = ON_TIME, email: str = "s123@uni.example", due: str | None = None) -> dict[str, Any]:
    """submission_metadata.json as Gradescope documents it (…/submission_metadata/)."""
    return {"id": 123456, "created_at": created_at,
            "assignment": {"due_date": due or "2026-07-31T23:00:00.000000-07:00", "group_size": None,
                           "group_submission": False, "id": 25828, "course_id": 1234, "late_due_date": None,
                           "release_date": "2026-07-02T00:00:00.000000-07:00", "title": "Exercise 1",
                           "total_points": "6.0"},
            "submission_method": "upload",
            "users": [{"email": email, "id": 1234, "name": "Student User"}],
            "previous_submissions": []}


def autograde(zipped: Path, tmp: Path, files: dict[str, str | bytes], meta: dict[str, Any] | None = None,
              path: str | None = None) -> dict[str, Any]:
    """Unpack the zip into a fresh AUTOGRADER_ROOT, hand in `files`, run run_autograder."""
    root = tmp / "autograder"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(root / "source")
    for name, content in files.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    (root / "submission").mkdir(parents=True, exist_ok=True)
    if meta is not None:
        (root / "submission_metadata.json").write_text(json.dumps(meta))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": path or f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    return data


def answers(values: dict[str, str]) -> str:
    return "ex01:\n" + "".join(f"  {key}: '{value}'\n" for key, value in values.items())


def by_number(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {test["number"]: test for test in data["tests"]}


def test_the_zip_holds_what_gradescope_needs(built: tuple[Path, Path]) -> None:
    zipped, _ = built
    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        config = json.loads(archive.read("autograder.json"))
        constraints = archive.read("constraints.txt").decode()
    assert {"setup.sh", "run_autograder", "autograder.json", "constraints.txt", "course/specs/ex01.yaml",
            "course/solutions/demo/ex01.py"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert [n for n in names if n.startswith("wheels/")] == ["wheels/grader-0.1.0-py3-none-any.whl"]
    assert not [n for n in names if "torch" in n.lower() or "__pycache__" in n]
    assert "torch==2.13.0" in constraints.splitlines() and "click==" in constraints
    assert config["format"] == "grader-autograder/1" and config["student_id"] == "email-name"
    assert zipped.stat().st_size < 2_000_000


def test_setup_sh_is_valid_bash_and_its_dry_run_installs_from_the_zip(built: tuple[Path, Path], tmp_path: Path) -> None:
    zipped, _ = built
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(tmp_path / "source")
    for script in ("setup.sh", "run_autograder"):
        done = subprocess.run(["bash", "-n", str(tmp_path / "source" / script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    env = {**os.environ, "AUTOGRADER_ROOT": str(tmp_path)}
    done = subprocess.run(["bash", str(tmp_path / "source" / "setup.sh"), "--dry-run"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    install = next(line for line in lines if "pip install --find-links" in line)
    assert f"{tmp_path}/source/wheels" in install and f"--constraint {tmp_path}/source/constraints.txt" in install
    assert "grader-0.1.0-py3-none-any.whl[ml]" in install and "download.pytorch.org/whl/cpu" in install
    assert any(line.startswith("+ ") and line.endswith("-m venv " + str(tmp_path / "grader-venv")) for line in lines)
    assert not (tmp_path / "grader-venv").exists()  # a dry run installs nothing


def test_a_correct_submission_earns_everything(built: tuple[Path, Path], tmp_path: Path) -> None:
    data = autograde(built[0], tmp_path, {"answers.yaml": answers(RIGHT), "ex01.py": STUDENT_CODE}, metadata())
    assert data["score"] == 6 and data["output_format"] == "html" and data["execution_time"] >= 0
    tests = by_number(data)
    assert set(tests) == {"ex01.mean", "ex01.step", "ex01.pick", "ex01.dbl", "ex01.dbl.hidden"}
    assert {t["status"] for t in tests.values()} == {"passed"}
    assert sum(t["max_score"] for t in tests.values()) == 6 and sum(t["score"] for t in tests.values()) == 6
    assert tests["ex01.dbl.hidden"]["visibility"] == "after_due_date"
    assert {t["visibility"] for n, t in tests.items() if n != "ex01.dbl.hidden"} == {"visible"}
    assert "secret" not in tests["ex01.dbl"]["output"] and "secret" in tests["ex01.dbl.hidden"]["output"]
    assert all(t["output_format"] == "html" for t in tests.values())
    assert "late" not in data["output"]


def test_a_wrong_submission_is_told_what_is_wrong(built: tuple[Path, Path], tmp_path: Path) -> None:
    wrong = {"mean": "7.9375", "step": "[1, 2]", "pick": "c"}
    code = "def double_plus(X, c):\n    return X * 3 + c\n"
    data = autograde(built[0], tmp_path, {"answers.yaml": answers(wrong), "ex01.py": code}, metadata())
    tests = by_number(data)
    assert data["score"] == 0 and {t["status"] for t in tests.values()} == {"failed"}
    assert "You doubled it." in tests["ex01.mean"]["output"]  # a known mistake's feedback
    assert "failed: small" in tests["ex01.dbl"]["output"]


def test_a_late_submission_loses_what_the_spec_says(built: tuple[Path, Path], tmp_path: Path) -> None:
    data = autograde(built[0], tmp_path, {"answers.yaml": answers(RIGHT), "ex01.py": STUDENT_CODE},
                     metadata(created_at=FOUR_DAYS_LATE))
    assert data["score"] == pytest.approx(6 * 0.6)  # 4 started days at 0.1 each
    assert "was late" in data["output"] and "40%" in data["output"]
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(data["score"])


def test_hostile_code_sees_no_solutions_and_an_endless_loop_is_stopped(built: tuple[Path, Path], tmp_path: Path) -> None:
    solutions = tmp_path / "autograder" / "source" / "course" / "solutions" / "demo" / "ex01.py"
    code = ("def double_plus(X, c):\n"
            "    try:\n"
            f"        print(open({str(solutions)!r}).read())\n"
            "    except OSError as error:\n"
            "        print('refused', type(error).__name__)\n"
            "    while True:\n"
            "        pass\n")
    data = autograde(built[0], tmp_path, {"answers.yaml": answers(RIGHT), "ex01.py": code}, metadata())
    text = json.dumps(data)
    assert "reference_double_plus" not in text and "reference_mean" not in text
    tests = by_number(data)
    assert tests["ex01.dbl"]["status"] == "failed" and tests["ex01.dbl"]["score"] == 0
    assert "time" in tests["ex01.dbl"]["output"]
    assert data["score"] == 4  # the other questions are graded as usual


def test_a_broken_zip_is_reported_not_graded(built: tuple[Path, Path], tmp_path: Path) -> None:
    data = autograde(built[0], tmp_path, {"s123.zip": b"PK\x03\x04 this is not a zip"}, metadata())
    assert data["score"] == 0 and "zip" in data["output"]
    assert {t["status"] for t in data["tests"]} == {"failed"}


def test_bad_yaml_is_reported_with_its_line(built: tuple[Path, Path], tmp_path: Path) -> None:
    data = autograde(built[0], tmp_path, {"answers.yaml": "ex01:\n  mean: [3.9\n", "ex01.py": STUDENT_CODE},
                     metadata())
    assert data["score"] == 0 and "answers.yaml" in data["output"] and "line" in data["output"]


def test_a_grader_submit_zip_is_graded_under_the_gradescope_student_and_time(built: tuple[Path, Path], tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    grader("release", built[1] / "specs", "--to", bundle, check=True)
    (bundle / "answers.yaml").write_text(answers(RIGHT))
    (bundle / "ex01.py").write_text(STUDENT_CODE)
    grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123", check=True)
    (zipped,) = (tmp_path / "handin").glob("s123-*.zip")
    data = autograde(built[0], tmp_path, {zipped.name: zipped.read_bytes()}, metadata())
    # the manifest says now, months after the deadline; Gradescope's time, on time, is the one that counts
    assert data["score"] == 6, data["output"]
    other = autograde(built[0], tmp_path / "other", {zipped.name: zipped.read_bytes()},
                      metadata(email="s999@uni.example"))
    assert other["score"] == 0 and "packaged for student &#39;s123&#39;" in other["output"]


def test_a_grader_fault_still_writes_a_results_file(built: tuple[Path, Path], tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(built[0]) as archive:
        archive.extractall(root / "source")
    (root / "source" / "autograder.json").write_text("{not json")
    (root / "submission").mkdir()
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True, timeout=300,
                   capture_output=True)
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0 and "autograder.json" in data["output"] and "course staff" in data["output"]


def test_without_grader_run_autograder_writes_the_results_itself(built: tuple[Path, Path], tmp_path: Path) -> None:
    data = autograde(built[0], tmp_path, {"answers.yaml": answers(RIGHT)}, metadata(), path="/usr/bin:/bin")
    assert data["score"] == 0 and data["tests"] == [] and "could not run (exit status 127)" in data["output"]


# --- the parts, without the container -----------------------------------------------------


def test_metadata_gives_the_student_and_the_trusted_time(tmp_path: Path) -> None:
    (tmp_path / gs.METADATA).write_text(json.dumps(metadata(email="ola.nordmann@uni.example")))
    read = gs.read_metadata(tmp_path)
    assert (read.student, read.submitted_at, read.notes) == ("ola.nordmann", ON_TIME, ())
    assert gs.read_metadata(tmp_path, "email").student == "ola.nordmann@uni.example"
    assert gs.read_metadata(tmp_path, "gradescope-id").student == "1234"
    assert read.due_date == "2026-07-31T23:00:00.000000-07:00"
    assert CLI_STUDENT_IDS == gs.STUDENT_IDS


@pytest.mark.parametrize("content, note", [
    (None, "no submission_metadata.json"),
    ("{broken", "cannot be read"),
    (json.dumps({"created_at": "yesterday", "users": []}), "is not a time"),
    (json.dumps({"created_at": ON_TIME, "users": [{"email": "\u202e@x", "id": 1}]}), "not a student id"),
])
def test_metadata_that_cannot_be_used_is_a_note_never_a_crash(tmp_path: Path, content: str | None, note: str) -> None:
    if content is not None:
        (tmp_path / gs.METADATA).write_text(content)
    read = gs.read_metadata(tmp_path)
    assert any(note in line for line in read.notes), read.notes


def test_find_submission_takes_the_folder_a_lone_zip_or_a_lone_folder(tmp_path: Path) -> None:
    folder = tmp_path / "submission"
    folder.mkdir()
    assert gs.find_submission(folder) == folder
    (folder / "s1-20260101T000000Z.zip").write_bytes(b"")
    assert gs.find_submission(folder) == folder / "s1-20260101T000000Z.zip"
    (folder / "s1-20260101T000000Z.zip").unlink()
    (folder / "__MACOSX").mkdir()
    (folder / "mine").mkdir()
    (folder / "mine" / "answers.yaml").write_text("ex01: {}\n")
    assert gs.find_submission(folder) == folder / "mine"
    (folder / "answers.yaml").write_text("ex01: {}\n")
    assert gs.find_submission(folder) == folder


def test_root_is_autograder_root_or_slash_autograder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AUTOGRADER_ROOT", raising=False)
    assert gs.root_folder() == Path("/autograder")
    monkeypatch.setenv("AUTOGRADER_ROOT", str(tmp_path))
    assert gs.root_folder() == tmp_path and gs.root_folder(Path("x")) == Path("x")
