"""The command line: through click's CliRunner and through the installed `grader` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli import main
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
    code = ("import sys; sys.argv=['grader','--help']\nimport cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('torch','sympy','numpy','jinja2','matplotlib') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out


def test_installed_command_grades_the_demo_class(tmp_path: Path) -> None:
    done = run_grader("grade", str(EXERCISES), str(EXAMPLES), "--out", str(tmp_path), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "s100006" in done.stdout and "invalid YAML" in done.stdout
    assert len(list((tmp_path / "results").glob("*.json"))) == 7
    bad = run_grader("validate", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr


def test_grade_can_export_for_an_lms(tmp_path: Path) -> None:
    result = invoke("grade", str(EXERCISES), str(EXAMPLES / "s100003"), "--out", str(tmp_path), "--no-reports",
                    "-q", "--format", "canvas", "--format", "gradescope")
    assert result.exit_code == 0, result.output
    canvas = (tmp_path / "canvas.csv").read_text().splitlines()
    assert canvas[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section,")
    assert any(",s100003," in row for row in canvas[1:])
    gradescope = json.loads((tmp_path / "gradescope" / "s100003" / "results.json").read_text())
    assert "score" in gradescope and gradescope["tests"]


def test_grade_prints_each_students_warnings(tmp_path: Path) -> None:
    student = tmp_path / "s1"
    student.mkdir()
    (student / "answers.yaml").write_text("ex01:\n  e: 2.083\n  zz: 1\n")
    result = CliRunner().invoke(main, ["grade", str(EXERCISES), str(student), "--out", str(tmp_path / "o"),
                                       "--no-reports", "-q"])
    assert result.exit_code == 0
    assert "warning: s1: answers.yaml: unknown question ex01.zz was ignored" in result.output
