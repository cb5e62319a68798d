"""`grader release`: the student bundle holds what students need and nothing that answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from grader.student import release
from grader.authoring import spec
from grader.core import yamlsafe
from grader.core.errors import GraderError
from tests.student_side import SECRETS, bundle_text, grader, has_code_kind, npy_values, write_course

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return write_course(tmp_path / "course")


@pytest.fixture
def bundle(course_dir: Path, tmp_path: Path) -> Path:
    grader("release", course_dir, "--to", tmp_path / "bundle", "--notebook", check=True)
    return tmp_path / "bundle"


def test_bundle_has_sheet_template_specs_and_stub(bundle: Path) -> None:
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert {"sheet.html", "answers.yaml", "answers.ipynb", "specs/ex01.yaml"} <= names
    if has_code_kind():
        assert "ex01.py" in names and "checks/ex01.dbl.json" in names
        stub = (bundle / "ex01.py").read_text()
        assert "def double_plus(X, c):" in stub
        compile(stub, "ex01.py", "exec")  # the stub is valid Python


def test_answers_template_lists_every_question_with_prompt_and_format(bundle: Path) -> None:
    text = (bundle / "answers.yaml").read_text()
    data = yamlsafe.loads(text).data
    assert data == {"ex01": {"mean": None, "step": None, "pick": None}}  # code goes in ex01.py
    assert "# mean (1 point): Compute the mean of x = [1.25, 3.5, 4.125, 7.0]" in text
    assert "answer: a number such as 2.5" in text
    assert "answer: a list such as [1, 2]" in text
    assert "answer: an option id: a, b, c" in text
    assert "#     b) second" in text


@pytest.mark.parametrize("secret", SECRETS)
def test_bundle_never_holds_a_reference_value_mistake_hidden_check_or_solution_name(bundle: Path,
                                                                                    secret: str) -> None:
    assert secret not in bundle_text(bundle)


def test_hidden_check_inputs_and_outputs_never_ship(bundle: Path) -> None:
    numbers = npy_values(bundle)
    for value in (9.125, 6.375, 11.0625, 29.3125, 23.8125):
        assert value not in numbers
    if has_code_kind():
        cases = json.loads((bundle / "checks" / "ex01.dbl.json").read_text())
        assert [case["name"] for case in cases] == ["small"]


def test_public_spec_keeps_parse_options_and_drops_answers(bundle: Path) -> None:
    public = yaml.safe_load((bundle / "specs" / "ex01.yaml").read_text())
    assert "solutions" not in public and "params" not in public
    questions = {q["id"]: q for q in public["questions"]}
    assert questions["mean"]["tolerance"] == {"rel": 0.001}
    assert "answer" not in questions["mean"] and "mistakes" not in questions["mean"]
    assert questions["step"]["shape"] == [2]
    assert questions["pick"]["choices"] == {"a": "first", "b": "second", "c": "third"}


def test_sheet_escapes_html_and_typesets_math(bundle: Path) -> None:
    sheet = (bundle / "sheet.html").read_text()
    assert "<script>alert(1)</script>" not in sheet
    assert "&lt;script&gt;" in sheet
    assert "<math" in sheet  # $\alpha = 2.5$ became MathML
    assert "<style>" in sheet and "stylesheet" not in sheet  # inline CSS, no external files


def test_notebook_template_has_a_tagged_cell_per_question(bundle: Path) -> None:
    import nbformat

    book = nbformat.read(bundle / "answers.ipynb", as_version=4)
    tags = {tag for cell in book.cells for tag in cell.metadata.get("tags", [])}
    assert {"ex01.mean", "ex01.step", "ex01.pick"} <= tags
    if has_code_kind():
        assert "ex01.py" in tags
    answers = [cell for cell in book.cells if "ex01.mean" in cell.metadata.get("tags", [])]
    assert [(c.cell_type, c.source) for c in answers] == [("code", "# answer: ex01.mean\nex01_mean = ...\n")]
    assert "grader.check()" in book.cells[-1].source and book.cells[-1].cell_type == "code"


DRAWN = """
params:
  x: {uniform: [1, 9], size: 4, round: 3}
  a: 2.5
"""


def test_drawn_params_give_one_sheet_each_or_one_marked_bundle_for_the_class(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", code=False)
    text = (specs / "ex01.yaml").read_text().replace("params:\n  x: [1.25, 3.5, 4.125, 7.0]\n  a: 2.5\n",
                                                    DRAWN.lstrip("\n"))
    (specs / "ex01.yaml").write_text(text)
    shared = grader("release", specs, "--to", tmp_path / "class", check=True)
    assert "ex01 (x) drawn per student" in shared.stderr and "--roster FILE" in shared.stderr
    public = yaml.safe_load((tmp_path / "class" / "specs" / "ex01.yaml").read_text())
    assert "‹x: drawn per student›" in public["questions"][0]["prompt"]
    assert public["questions"][1]["shape"] == [2]  # step takes only the literal a: its facts still ship
    for name in ("answers.yaml", "sheet.html"):
        assert "differ per student" in (tmp_path / "class" / name).read_text()
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name\ns1,Ada\ns2,Bo\n")
    grader("release", specs, "--to", tmp_path / "out", "--roster", roster, "--student", "s3", check=True)
    prompts = {s: yaml.safe_load((tmp_path / "out" / s / "specs" / "ex01.yaml").read_text())["questions"][0]["prompt"]
               for s in ("s1", "s2", "s3")}
    assert len(set(prompts.values())) == 3  # each student sees their own x
    course = spec.load_course([specs])
    for student in ("s1", "s2"):
        from grader.grading import engine
        from grader.authoring import variants

        exercise = course.exercises[0]
        params = variants.resolve(exercise.params, student, exercise.id)
        value = engine.expected_for(course, exercise, exercise.questions[0], params).value
        text = bundle_text(tmp_path / "out" / student)
        for shown in (f"{value:.4g}", f"{value:.6g}", repr(value)):
            assert shown not in text


@pytest.mark.parametrize("student", ["../evil", "a/b", "", "-rf", "x" * 80])
def test_hostile_student_ids_are_refused(course_dir: Path, tmp_path: Path, student: str) -> None:
    with pytest.raises(GraderError):
        release.release(spec.load_course([course_dir]), tmp_path / "out", [student])
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize("line, expected", [
    ("s1\ns2\n", ["s1", "s2"]),
    ("student,name\ns1,Ada\n# comment\n\ns1,again\n", ["s1"]),
    ('"s9",x\n', ["s9"]),
])
def test_roster_reading(tmp_path: Path, line: str, expected: list[str]) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text(line)
    assert release.read_roster(roster) == expected


def test_inf5860_bundle_leaks_no_reference_value(tmp_path: Path) -> None:
    """The real course: every reference value, as a student might type it, is absent."""
    from grader.grading import engine
    from grader.core import registry
    from grader.authoring import variants

    specs = REPO / "exercises" / "inf5860"
    course = spec.load_course([specs])
    student = "s100001"
    release.release(course, tmp_path, [student])
    text = bundle_text(tmp_path / student)
    for exercise in course.exercises:
        assert not exercise.solutions or exercise.solutions not in text
        params = variants.resolve(exercise.params, student, exercise.id)
        for question in exercise.questions:
            kind = registry.get(question.kind)
            if not kind.calls_reference or kind.answer_source != "answers":
                continue
            expected = engine.expected_for(course, exercise, question, params)
            for value in (expected.value, *expected.mistakes):
                for form in _typed_forms(kind.show(value, question)):
                    assert form not in text, f"{exercise.id}.{question.id}: {form!r} is in the bundle"
            public_names = {q.id for q in exercise.questions}  # ids are public; a reference may share one
            if question.answer.is_solution and question.answer.solution not in public_names:
                # as a whole identifier: `output_shape` may sit inside a student's `conv_output_shape`
                assert not re.search(rf"\b{question.answer.solution}\b", text), question.answer.solution


def _typed_forms(shown: str) -> list[str]:
    """The distinctive ways a student might type a shown value (short ones are everywhere)."""
    forms = {shown, shown.replace(", ", ",")}
    try:
        number = float(shown)
        forms |= {f"{number:.3g}", f"{number:.4g}", f"{number:.6g}", repr(number)}
    except ValueError:
        pass
    return [f for f in forms if len(f) >= 4 and not f.isalpha()]


ODD_IDS = """
id: "1"
title: "Odd ids: # not a comment"
questions:
  - {id: "1", kind: numeric, points: 1, prompt: "one", answer: 1.5}
  - {id: "yes", kind: numeric, points: 1, prompt: "two\\nlines: # and a colon", answer: 2.5}
  - {id: "null", kind: numeric, points: 1, prompt: "three", answer: 3.5}
  - {id: "Off", kind: numeric, points: 1, prompt: "four", answer: 4.5}
"""


def test_template_ids_read_back_as_written(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "odd.yaml").write_text(ODD_IDS)
    release.release(spec.load_course([tmp_path / "specs"]), tmp_path / "bundle")
    data = yamlsafe.loads((tmp_path / "bundle" / "answers.yaml").read_bytes(), raw_scalars=True).data
    assert data == {"1": {"1": None, "yes": None, "null": None, "Off": None}}
