"""Spec loading: every authoring mistake is reported as file:line with the key path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.core.errors import SpecError
from grader.authoring.spec import load_course
from tests.conftest import EXERCISES

GOOD = """\
id: demo
title: Demo
solutions: demo.sol
params:
  x: [1, 2, 3]
questions:
  - id: q1
    kind: numeric
    points: 1
    prompt: "Sum of {{ x }}"
    answer: {solution: total}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "solutions" / "demo").mkdir(parents=True)
    (tmp_path / "solutions" / "demo" / "sol.py").write_text("def total(x):\n    return sum(x)\n")
    (tmp_path / "exercises").mkdir()
    return tmp_path


def write(project: Path, text: str, name: str = "demo.yaml") -> Path:
    path = project / "exercises" / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_course([path])
    return [str(p) for p in caught.value.problems]


def test_good_spec_loads(project: Path) -> None:
    course = load_course([write(project, GOOD)])
    assert [q.id for q in course.exercises[0].questions] == ["q1"]
    assert course.solutions_root == (project / "solutions").resolve()
    assert len(course.digest) == 16


@pytest.mark.parametrize("old, new, expected", [
    ("kind: numeric", "kind: numerc", ":8: (questions[0].kind) kind 'numerc' is not one of"),
    ("kind: numeric", "kind: numerc", "did you mean 'numeric'"),
    ("    points: 1", "    pionts: 1", ":9: (questions[0].pionts) unknown key 'pionts' (did you mean 'points'?)"),
    ("    points: 1", "    points: -2", ":9: (questions[0].points) points must be a number from 0 to 1000"),
    ("{solution: total}", "{solution: totl}", ":11: (questions[0].answer.solution) solutions module 'demo.sol' has no function 'totl'"),
    ("solutions: demo.sol", "solutions: demo.nope", ":3: (solutions) solutions module 'demo.nope' not found"),
    ("id: demo", "id: 'de mo'", ":1: (id) id 'de mo' must be letters"),
    ("title: Demo\n", "", "missing 'title'"),
    ("    points: 1", "    points: 1\n    tolerance: {rel: -1}", ":10: (questions[0].tolerance) tolerance rel must be a number >= 0"),
    ('    prompt: "Sum of {{ x }}"', '    prompt: "Sum of {{ x "', "prompt template error"),
    ("  x: [1, 2, 3]", "  x: {randint: [5, 1]}", ":5: (params.x) randint: the low end is above the high end"),
    ("    answer: {solution: total}\n", "", "missing 'answer'"),
])
def test_authoring_mistakes_name_file_line_and_key(project: Path, old: str, new: str, expected: str) -> None:
    path = write(project, GOOD.replace(old, new))
    found = problems(path)
    assert any(expected in p for p in found), found
    assert all(p.startswith(str(path)) for p in found)


def test_duplicate_question_ids(project: Path) -> None:
    text = GOOD + "  - {id: q1, kind: numeric, answer: 1}\n"
    assert any(":12: (questions[1].id) question id 'q1' is used twice" in p for p in problems(write(project, text)))


def test_duplicate_keys_and_bad_yaml(project: Path) -> None:
    assert any(":3: (title) duplicate key 'title'" in p
               for p in problems(write(project, "id: a\ntitle: x\ntitle: y\nquestions: []\n")))
    assert any(":2:" in p and "invalid YAML" in p for p in problems(write(project, "id: a\ntitle: [x\nquestions:\n")))


@pytest.mark.parametrize("text, line, message", [
    # a bracket opened on line 6 is noticed on line 7: reported at the bracket, saying both
    ("id: a\ntitle: t\nquestions:\n  - id: q\n    kind: vector\n    answer: [1, 2\n    points: 1\n", 6,
     "the [ at column 13 of this line is not closed (the parser noticed on line 7"),
    ("id: a\ntitle: {x: 1\nquestions: []\n", 2, "the { at column 8 of this line is not closed"),
    ('id: a\ntitle: "x\nquestions: []\n', 2, "the quote at column 8 of this line is not closed"),
    # bad indentation is where the parser notices it, not where the mapping began
    ("id: a\nquestions:\n  - x\n b: 1\n", 4, "invalid YAML: did not find expected key"),
])
def test_yaml_errors_point_at_the_line_of_the_problem(project: Path, text: str, line: int, message: str) -> None:
    found = problems(write(project, text))
    assert any(f":{line}:" in p and message in p for p in found), found


def test_python_tags_are_refused(project: Path) -> None:
    text = "id: a\ntitle: !!python/object/apply:os.system ['touch /tmp/pwned']\nquestions: []\n"
    assert any("tag" in p and "not allowed" in p for p in problems(write(project, text)))
    assert not Path("/tmp/pwned").exists()


def test_every_problem_of_every_file_is_listed(project: Path) -> None:
    write(project, GOOD.replace("kind: numeric", "kind: nope"), "a.yaml")
    write(project, GOOD.replace("id: demo", "id: other").replace("points: 1", "points: x"), "b.yaml")
    found = problems(project / "exercises")
    assert any("a.yaml:8:" in p for p in found) and any("b.yaml:9:" in p for p in found)


def test_duplicate_exercise_ids_across_files(project: Path) -> None:
    write(project, GOOD, "a.yaml")
    write(project, GOOD, "b.yaml")
    assert any("exercise id 'demo' is already used" in p for p in problems(project / "exercises"))


def test_empty_folder(tmp_path: Path) -> None:
    assert any("no spec files" in p for p in problems(tmp_path))


def test_the_inf5860_specs_load() -> None:
    course = load_course([EXERCISES])
    assert {"ex01", "ex02", "ex03", "ex06"} <= {e.id for e in course.exercises}


def test_numbers_written_with_an_exponent_are_numbers(project: Path) -> None:
    """`1e-9` is a string to YAML 1.1 (PyYAML) but a number to every author; quoted it stays text."""
    text = ("id: a\ntitle: t\nquestions:\n"
            "  - {id: q1, kind: numeric, answer: 2e3, tolerance: {rel: 1e-9, abs: 5E-12}}\n")
    question = load_course([write(project, text)]).exercises[0].questions[0]
    assert (question.options.tolerance.rel, question.options.tolerance.abs) == (1e-9, 5e-12)
    from grader.core import yamlsafe

    assert yamlsafe.loads("a: 1e-9\nb: '1e-9'\nc: x1e5\n").data == {"a": 1e-9, "b": "1e-9", "c": "x1e5"}
    assert yamlsafe.loads("a: 1e-9\n", raw_scalars=True).data == {"a": "1e-9"}


# --- the gradescope: key -------------------------------------------------------------------


def _gradescope_spec(tmp_path, exercise_key: str, question_key: str):
    from grader.authoring.spec import load_course

    (tmp_path / "ex01.yaml").write_text(
        "id: ex01\ntitle: T\n" + exercise_key + "questions:\n"
        "  - id: a\n    kind: numeric\n    answer: 1\n" + question_key +
        "  - id: b\n    kind: numeric\n    answer: 2\n", encoding="utf-8")
    return load_course([tmp_path])


def test_gradescope_key_on_the_exercise_is_refined_by_a_question(tmp_path):
    course = _gradescope_spec(tmp_path, "gradescope: {hidden_cases: hidden, tests: case}\n",
                              "    gradescope: {visibility: after_published}\n")
    a, b = course.exercises[0].questions
    assert (a.gradescope.visibility, a.gradescope.hidden_cases, a.gradescope.per_case) == ("after_published", "hidden", True)
    assert (b.gradescope.visibility, b.gradescope.hidden_cases, b.gradescope.per_case) == ("visible", "hidden", True)


@pytest.mark.parametrize("exercise_key, question_key, message", [
    ("gradescope: {visibility: soon}\n", "", "(gradescope.visibility) visibility 'soon' is not one of"),
    ("", "    gradescope: {tests: each}\n", "(questions[0].gradescope.tests) tests 'each' is not one of"),
    ("", "    gradescope: {visible: true}\n", "unknown key 'visible'"),
    ("gradescope: visible\n", "", "gradescope must be a mapping"),
])
def test_gradescope_key_problems_name_file_line_and_key(tmp_path, exercise_key, question_key, message):
    from grader.core.errors import SpecError

    with pytest.raises(SpecError) as caught:
        _gradescope_spec(tmp_path, exercise_key, question_key)
    assert message in str(caught.value)


def test_gradescope_key_is_in_the_schema():
    from grader.authoring.schema import spec_schema

    schema = spec_schema()
    assert schema["properties"]["gradescope"]["properties"]["tests"]["enum"] == ["question", "case"]
    assert all("gradescope" in q["properties"] for q in schema["properties"]["questions"]["items"]["oneOf"])
