"""The command line: through click's CliRunner and through the installed `grader` command."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader import __version__
from grader.core.errors import SpecError
from tests.conftest import EXAMPLES, EXERCISES, ROOT, run_grader


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_command_has_help_with_an_example() -> None:
    for command in main.commands:
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output, f"grader {command} --help shows no example"


def test_validate_ok() -> None:
    result = invoke("validate", str(EXERCISES))
    assert result.exit_code == 0 and result.output.startswith("ok: ")


def test_validate_reports_file_line_and_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("id: bad\ntitle: Bad\nquestions:\n  - id: q\n    kind: numerc\n    answer: 1\n")
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 1
    assert f"{spec}:5: (questions[0].kind) kind 'numerc' is not one of" in result.output
    assert "did you mean 'numeric'" in result.output


def test_validate_catches_a_mistake_that_passes(tmp_path: Path) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text("id: m\ntitle: M\nquestions:\n  - id: q\n    kind: numeric\n    answer: 1\n"
                    "    tolerance: {rel: 0.1}\n    mistakes:\n      - {answer: 1.05, feedback: nope}\n")
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 1 and "m.q: mistakes[0] passes the check" in result.output


def test_grade_writes_results_and_gradebook(tmp_path: Path) -> None:
    result = invoke("grade", str(EXERCISES), str(EXAMPLES), "--out", str(tmp_path), "--no-reports")
    assert result.exit_code == 0, result.output
    assert "s100001" in result.output and "7 students" in result.output
    data = json.loads((tmp_path / "results" / "s100003.json").read_text())
    assert {"student", "score", "max_score", "questions"} <= set(data)
    question = next(q for q in data["questions"] if q["id"] == "ex01.f")
    assert {"id", "kind", "score", "max_score", "status", "feedback", "expected"} <= set(question)
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("student,ex01.") and rows[0].endswith(",total,max") and len(rows) == 8


def test_grade_strict_exits_1_when_a_submission_is_broken(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["grade", str(EXERCISES), str(EXAMPLES), "--out", str(tmp_path),
                                       "--no-reports", "--strict", "-q"])
    assert result.exit_code == 1


def test_grade_reports_a_missing_submission_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["grade", str(EXERCISES), str(tmp_path / "nope")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_schema_is_json_schema() -> None:
    schema = json.loads(invoke("schema").output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    kinds = {item["properties"]["kind"]["const"] for item in schema["properties"]["questions"]["items"]["oneOf"]}
    assert {"numeric", "vector", "choice"} <= kinds


def test_schema_of_results_is_generated_from_the_records() -> None:
    from grader.core.results_schema import results_schema

    schema = json.loads(invoke("schema", "--results").output)
    assert schema == json.loads(json.dumps(results_schema()))
    assert schema["properties"]["format"] == {"enum": ["grader-results/2"], "description": schema["properties"][
        "format"]["description"]}
    assert {"CaseResult", "RunRecord", "QuestionResult"} <= set(schema["$defs"])


def test_help_does_not_import_heavy_libraries() -> None:
    code = ("import sys; sys.argv=['grader','--help']\nfrom grader import cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('torch','sympy','numpy','jinja2','matplotlib') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out


@pytest.mark.slow  # the demo class, reports and --jobs 2, through the installed command
def test_installed_command_grades_the_demo_class(tmp_path: Path) -> None:
    done = run_grader("grade", str(EXERCISES), str(EXAMPLES), "--out", str(tmp_path), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "s100006" in done.stdout and "invalid YAML" in done.stdout
    assert len(list((tmp_path / "results").glob("*.json"))) == 7
    bad = run_grader("validate", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr


def test_grade_can_export_for_an_lms(tmp_path: Path) -> None:
    # s100004 has no answer awaiting review (exports refuse while one does: test_render_exports)
    result = invoke("grade", str(EXERCISES), str(EXAMPLES / "s100004"), "--out", str(tmp_path), "--no-reports",
                    "-q", "--format", "canvas", "--format", "gradescope")
    assert result.exit_code == 0, result.output
    canvas = (tmp_path / "canvas.csv").read_text().splitlines()
    assert canvas[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section,")
    assert any(",s100004," in row for row in canvas[1:])
    gradescope = json.loads((tmp_path / "gradescope" / "s100004" / "results.json").read_text())
    assert "score" in gradescope and gradescope["tests"]


def test_grade_prints_each_students_warnings(tmp_path: Path) -> None:
    student = tmp_path / "s1"
    student.mkdir()
    (student / "answers.yaml").write_text("ex01:\n  e: 2.083\n  zz: 1\n")
    result = CliRunner().invoke(main, ["grade", str(EXERCISES), str(student), "--out", str(tmp_path / "o"),
                                       "--no-reports", "-q"])
    assert result.exit_code == 0
    assert "warning: s1: answers.yaml: unknown question ex01.zz was ignored" in result.output


# --- the one error boundary -------------------------------------------------------------


def test_a_grader_error_shows_itself_with_its_exit_code(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    done = run_grader("export", str(tmp_path))  # GraderError: nothing to export (exit 2)
    assert done.returncode == 2 and "no result files" in done.stderr
    spec = tmp_path / "bad.yaml"
    spec.write_text("id: bad\ntitle: Bad\nquestions:\n  - id: q\n    kind: numerc\n    answer: 1\n")
    done = run_grader("validate", str(spec))  # SpecError: problems found (exit 1)
    assert done.returncode == 1 and f"{spec}:5:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_usage_errors_exit_2() -> None:
    done = run_grader("grade", str(EXERCISES))  # SUBMISSIONS missing
    assert done.returncode == 2 and "Usage:" in done.stderr
    assert invoke("no-such-command").exit_code == 2
    assert invoke("grade", "--jobs", "0", str(EXERCISES), str(EXAMPLES)).exit_code == 2


def test_a_late_penalty_that_is_not_a_mapping_is_bad_usage(tmp_path: Path) -> None:
    result = invoke("grade", str(EXERCISES), str(EXAMPLES / "s100003"), "--out", str(tmp_path),
                    "--late-penalty", "0.1")
    assert result.exit_code == 2 and "--late-penalty: expected a mapping" in result.output


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom")


def test_an_unexpected_exception_is_an_internal_error_not_a_traceback(monkeypatch) -> None:
    from grader.authoring import spec

    monkeypatch.setattr(spec, "load_course", _boom)  # raised below grader.api.load
    monkeypatch.delenv("GRADER_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["validate", str(EXERCISES)])
    assert result.exit_code == 3
    assert result.output.startswith("internal error: RuntimeError: boom\n")
    assert f"grader {__version__}, Python {platform.python_version()}" in result.output
    assert "at grader/api.py:" in result.output  # the innermost frame inside grader
    assert "please report this with the command you ran" in result.output
    assert "Traceback" not in result.output


def test_grader_debug_shows_the_traceback(monkeypatch) -> None:
    from grader import api

    monkeypatch.setattr(api, "validate", _boom)
    result = CliRunner().invoke(main, ["validate", str(EXERCISES)], env={"GRADER_DEBUG": "1"})
    assert result.exit_code == 3
    assert "internal error: RuntimeError: boom" in result.output and "Traceback" in result.output


def test_a_real_process_reports_an_internal_error_with_exit_3() -> None:
    code = ("import sys\nfrom grader import cli\nfrom grader import api\n"
            "def boom(*args, **kwargs):\n    raise KeyError('no such thing')\n"
            "api.validate = boom\nsys.argv = ['grader', 'validate', sys.argv[1]]\ncli.main()\n")
    env = {k: v for k, v in os.environ.items() if k != "GRADER_DEBUG"}
    done = subprocess.run([sys.executable, "-c", code, str(EXERCISES)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("internal error: KeyError: 'no such thing'")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_callers_outside_standalone_mode_get_the_exception(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("id: bad\ntitle: Bad\nquestions: []\n")
    with pytest.raises(SpecError):
        main.main(["validate", str(spec)], standalone_mode=False)
