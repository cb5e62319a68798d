"""Notebook submissions: tagged or marked cells supply answers and code, read as data and
never run; a notebook grades the same as the equivalent folder."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from grader.intake import notebook
from grader.intake import open_submission
from grader.intake.submission import read_folder
from tests.student_side import RIGHT, STUDENT_CODE, fill, grader, has_code_kind, write_course
from tests import hostile_inputs as hostile

PWNED = Path("/tmp/grader-notebook-pwned")
EVIL = f"open({str(PWNED)!r}, 'w').write('ran')\n"


def _book(cells: list) -> str:
    return nbformat.writes(v4.new_notebook(cells=cells))


def _tagged(kind: str, text: str, tag: str):
    cell = {"code": v4.new_code_cell, "markdown": v4.new_markdown_cell, "raw": v4.new_raw_cell}[kind](text)
    cell.metadata["tags"] = [tag]
    return cell


def tagged_notebook(answers: dict[str, str], code: str) -> str:
    cells = [v4.new_code_cell(EVIL)]  # an untagged cell: never run, never read
    cells += [_tagged("raw", text, f"ex01.{qid}") for qid, text in answers.items()]
    cells.append(_tagged("code", code, "ex01.py"))
    return _book(cells)


def marked_notebook(answers: dict[str, str], code: str) -> str:
    cells = [v4.new_markdown_cell(f"# answer: ex01.{qid}\n{text}") for qid, text in answers.items()]
    half = code.index("\n") + 1
    cells += [v4.new_code_cell(f"# file: ex01.py\n{code[:half]}"), v4.new_code_cell(f"# file: ex01.py\n{code[half:]}")]
    return _book(cells)


def _grade(specs: Path, folder: Path, out: Path) -> dict:
    result = grader("grade", specs, folder, "--out", out, "--no-reports")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(next((out / "results").glob("*.json")).read_text())


def _summary(result: dict) -> list[tuple]:
    return [(q["id"], q["status"], q["score"]) for q in result["questions"]]


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_course(tmp_path_factory.mktemp("nb") / "course")


@pytest.fixture(scope="module")
def folder_result(specs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("plain") / "s123"
    folder.mkdir()
    fill(folder, RIGHT, code=None)
    (folder / "ex01.py").write_text(STUDENT_CODE)
    return _grade(specs, folder, folder.parent / "out")


@pytest.mark.parametrize("make", [tagged_notebook, marked_notebook], ids=["tags", "markers"])
def test_notebook_grades_the_same_as_the_folder(specs: Path, folder_result: dict, tmp_path: Path, make) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "work.ipynb").write_text(make(RIGHT, STUDENT_CODE))
    result = _grade(specs, folder, tmp_path / "out")
    assert _summary(result) == _summary(folder_result)
    assert result["score"] == result["max_score"]
    assert not PWNED.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["work.ipynb"]  # the student's folder is untouched


@pytest.mark.slow
def test_notebook_submitted_as_a_zip(specs: Path, folder_result: dict, tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "work.ipynb").write_text(tagged_notebook(RIGHT, STUDENT_CODE))
    grader("check", specs, folder, check=True)
    grader("submit", folder, "--to", tmp_path / "handin", "--specs", specs, check=True)
    result = _grade(specs, tmp_path / "handin", tmp_path / "out")
    assert result["error"] is None
    assert _summary(result) == _summary(folder_result)


def test_release_notebook_template_filled_in_grades_full(specs: Path, tmp_path: Path) -> None:
    grader("release", specs, "--to", tmp_path / "bundle", "--notebook", check=True)
    book = nbformat.read(tmp_path / "bundle" / "answers.ipynb", as_version=4)
    for cell in book.cells:
        tags = cell.metadata.get("tags", [])
        if tags and tags[0].startswith("ex01.") and tags[0] != "ex01.py":
            cell.source = cell.source.replace("= ...", f"= {RIGHT[tags[0].split('.')[1]]}")  # as typed: b, unquoted
        elif tags == ["ex01.py"]:
            cell.source = f"# file: ex01.py\n{STUDENT_CODE}"
    folder = tmp_path / "s123"
    folder.mkdir()
    nbformat.write(book, folder / "answers.ipynb")
    result = _grade(specs, folder, tmp_path / "out")
    assert result["score"] == result["max_score"]


def test_answers_yaml_wins_over_the_notebook_with_a_warning(specs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, RIGHT, code=None)
    (folder / "work.ipynb").write_text(tagged_notebook({"pick": "c"}, STUDENT_CODE))
    submission = read_folder(folder, "s123")
    assert submission.answers["ex01"]["pick"] == "b"
    assert any("ex01.pick is answered in answers.yaml and in work.ipynb" in w for w in submission.warnings)


HOSTILE = [
    ("not json", b"{\"cells\": [", "not a readable notebook"),
    ("not a notebook", b"[1, 2, 3]", "not a readable notebook"),
    ("binary", bytes(range(256)), "not a readable notebook"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "not a readable notebook"),
    ("answered twice", _book([v4.new_raw_cell("# answer: ex01.pick\na"),
                              v4.new_raw_cell("# answer: ex01.pick\nb")]).encode(), "answered twice"),
]


@pytest.mark.parametrize("label, data, message", HOSTILE, ids=[row[0] for row in HOSTILE])
def test_hostile_notebooks_become_a_clear_submission_error(tmp_path: Path, label: str, data: bytes,
                                                           message: str) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "work.ipynb").write_bytes(data)
    with open_submission(folder) as submission:
        assert submission.error is not None and message in submission.error


def test_a_notebook_that_is_a_link_or_a_folder_is_not_read_and_the_student_is_told(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.ipynb").write_text(_book([v4.new_raw_cell("# answer: ex01.mean\n2.5")]))
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "answers.yaml").write_text("ex01:\n  pick: b\n")
    (folder / "linked.ipynb").symlink_to(tmp_path / "elsewhere.ipynb")
    (folder / "folder.ipynb").mkdir()
    with open_submission(folder) as submission:
        assert submission.error is None and submission.answers == {"ex01": {"pick": "b"}}
        assert submission.warnings == ("folder.ipynb is not a file and was not read",
                                       "linked.ipynb is a symbolic link and was not read; hand in the notebook itself")


def test_oversized_notebook_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebook, "MAX_NOTEBOOK_BYTES", 1000)
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "work.ipynb").write_text(_book([v4.new_raw_cell("x" * 2000)]))
    assert "too large" in read_folder(folder, "s123").error


@pytest.mark.parametrize("cell, expected", [
    (_tagged("markdown", "2.5", "ex01.mean"), ("ex01.mean", "2.5")),
    (v4.new_raw_cell("# answer: ex01.mean\n  2.5  \n"), ("ex01.mean", "2.5")),
    (v4.new_raw_cell("# ANSWER: ex01.mean\n2.5"), ("ex01.mean", "2.5")),
    (v4.new_raw_cell("# answer: ../../etc/passwd\n2.5"), (None, None)),
    (v4.new_raw_cell("# answer: ex01\n2.5"), (None, None)),
    (_tagged("raw", "2.5", "not a question id"), (None, None)),
    (v4.new_markdown_cell("# file: ex01.py\nprint(1)"), (None, None)),  # code only from code cells
    (_tagged("code", "# file: ../x.py\nx = 1", "../x.py"), (None, None)),
])
def test_cell_targets(tmp_path: Path, cell, expected: tuple) -> None:
    (tmp_path / "a.ipynb").write_text(_book([cell]))
    found = notebook.extract(tmp_path)
    pairs = [(f"{e}.{q}", text) for e, qs in found.answers.items() for q, text in qs.items()]
    assert pairs == ([expected] if expected[0] else [])
    assert all(name == "ex01.py" for name in found.modules) and not (tmp_path / "x.py").exists()


def _fill_template(book, code: str):
    for cell in book.cells:
        tags = cell.metadata.get("tags", [])
        if tags and tags[0] != "ex01.py":
            cell.source = cell.source.replace("= ...", f"= {json.dumps(RIGHT[tags[0].split('.')[1]])}")  # quoted
        elif tags == ["ex01.py"]:
            cell.source = f"# file: ex01.py\n{code}"
    return book


@pytest.mark.slow
@pytest.mark.skipif(not has_code_kind(), reason="the code kind is not installed")
def test_notebook_work_in_the_bundle_beats_the_untouched_stub(specs: Path, tmp_path: Path) -> None:
    """A student who answers in the notebook and never opens ex01.py or answers.yaml."""
    bundle = tmp_path / "s123"
    grader("release", specs, "--to", bundle, "--notebook", check=True)
    nbformat.write(_fill_template(nbformat.read(bundle / "answers.ipynb", as_version=4), STUDENT_CODE),
                   bundle / "answers.ipynb")
    checked = grader("check", bundle, bundle, check=True)
    assert "passed" in next(line for line in checked.stdout.splitlines() if line.startswith("ex01.dbl"))
    grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123", check=True)
    zipped = next((tmp_path / "handin").glob("s123-*.zip"))
    import zipfile

    assert "ex01.py" not in zipfile.ZipFile(zipped).namelist()  # the stub stayed home
    result = _grade(specs, tmp_path / "handin", tmp_path / "out")
    assert result["score"] == result["max_score"] and result["warnings"] == []


@pytest.mark.skipif(not has_code_kind(), reason="the code kind is not installed")
def test_code_in_both_file_and_notebook_differently_is_refused(specs: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "s123"
    grader("release", specs, "--to", bundle, "--notebook", check=True)
    nbformat.write(_fill_template(nbformat.read(bundle / "answers.ipynb", as_version=4), STUDENT_CODE),
                   bundle / "answers.ipynb")
    (bundle / "ex01.py").write_text("def double_plus(X, c):\n    return X\n")
    refused = grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123")
    assert refused.returncode == 1 and "ex01.py is both a file and cells of a notebook" in refused.stderr


def test_untouched_template_notebook_shadows_nothing(specs: Path, tmp_path: Path) -> None:
    """A student who answers in answers.yaml and ex01.py and ignores the notebook."""
    bundle = tmp_path / "s123"
    grader("release", specs, "--to", bundle, "--notebook", check=True)
    fill(bundle, RIGHT)
    submission = read_folder(bundle, "s123")
    assert submission.warnings == () and submission.error is None
    assert notebook.extract(bundle).modules == {}
    assert submission.answers["ex01"] == RIGHT


# ----------------------------------------------------------------------------- malformed notebooks, class by class


@pytest.mark.parametrize("student, text, needle", hostile.MALFORMED_NOTEBOOKS,
                         ids=[row[0] for row in hostile.MALFORMED_NOTEBOOKS])
def test_malformed_notebooks_say_what_is_wrong(tmp_path: Path, student: str, text: str | bytes, needle: str) -> None:
    folder = tmp_path / student
    folder.mkdir()
    (folder / "answers.ipynb").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    with open_submission(folder) as opened:
        assert opened.error is not None and needle in opened.error, opened.error
        assert opened.error.startswith("answers.ipynb") or "answered twice" in opened.error
        assert not hostile.grader_paths().search(opened.error)
        assert "Error" not in opened.error, "a Python exception's name is no message for a student"


@pytest.mark.parametrize("student, text", hostile.ODD_BUT_FINE_NOTEBOOKS,
                         ids=[row[0] for row in hostile.ODD_BUT_FINE_NOTEBOOKS])
def test_unusual_but_readable_notebooks_are_read(tmp_path: Path, student: str, text: str) -> None:
    folder = tmp_path / student
    folder.mkdir()
    (folder / "answers.ipynb").write_text(text, encoding="utf-8")
    with open_submission(folder) as opened:
        assert opened.error is None and opened.answers == {"ex03": {"sigmoid_grad_max": "0.25"}}


def test_untagged_cells_are_not_held_to_the_answer_limits(tmp_path: Path) -> None:
    big = hostile.cell("x = 1\n" * 300_000, kind="code")  # 1.8 MB in a cell nobody reads
    control = hostile.cell("print('\x1b[31m')", kind="code")
    (tmp_path / "work.ipynb").write_text(hostile.notebook([big, control, hostile.ANSWER_CELL]))
    assert notebook.extract(tmp_path).answers == {"ex03": {"sigmoid_grad_max": "0.25"}}


# ----------------------------------------------------------------------------- nbgrader notebooks, answer cells as code


def _nbgrader(kind: str, text: str, grade_id: str, solution: bool = True, grade: bool = False, locked: bool = False):
    cell = {"code": v4.new_code_cell, "markdown": v4.new_markdown_cell}[kind](text)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked,
                                 "schema_version": 3, **({"points": 1} if grade else {})}
    return cell


def nbgrader_notebook(answers: dict[str, str], code: str) -> str:
    """A student's copy of a notebook released by nbgrader, answered: prompts and tests are
    locked cells (never read, never run); answers in solution cells named by grade_id."""
    cells = [_nbgrader("markdown", "Compute the mean of x.", "cell-8f3a", solution=False, locked=True),
             _nbgrader("markdown", answers["mean"], "ex01-mean", grade=True),  # manually graded answer
             _nbgrader("code", f"# YOUR CODE HERE\nanswer = {answers['step']}", "ex01-step"),
             _nbgrader("code", EVIL, "ex01-step_test", solution=False, grade=True, locked=True),  # a test: never run
             _nbgrader("markdown", answers["pick"], "ex01.pick", grade=True),
             _nbgrader("markdown", "YOUR ANSWER HERE", "cell-free-text", grade=True),  # not one of ours: ignored
             _nbgrader("code", code, "ex01-dbl")]
    return _book(cells)


def test_nbgrader_notebook_is_graded_by_grade_id(specs: Path, folder_result: dict, tmp_path: Path) -> None:
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "assignment1.ipynb").write_text(nbgrader_notebook(RIGHT, STUDENT_CODE))
    result = _grade(specs, folder, tmp_path / "out")
    assert _summary(result) == _summary(folder_result)
    assert result["score"] == result["max_score"]
    assert not PWNED.exists()


def test_nbgrader_placeholders_are_no_answer(specs: Path, tmp_path: Path) -> None:
    """The notebook as nbgrader releases it, untouched: every question is missing."""
    folder = tmp_path / "s123"
    folder.mkdir()
    blank = {"mean": "YOUR ANSWER HERE", "step": "...", "pick": "YOUR ANSWER HERE"}
    (folder / "assignment1.ipynb").write_text(nbgrader_notebook(blank, "# YOUR CODE HERE\nraise NotImplementedError()"))
    result = _grade(specs, folder, tmp_path / "out")
    assert {q["status"] for q in result["questions"]} == {"missing"}, _summary(result)


def test_notebook_in_the_old_raw_cell_template_is_still_graded(specs: Path, folder_result: dict,
                                                                 tmp_path: Path) -> None:
    """answers.ipynb as `release --notebook` wrote it before: raw answer cells after `# answer:`."""
    cells = [v4.new_markdown_cell("# Answers")]
    for qid, text in RIGHT.items():
        cell = v4.new_raw_cell(f"# answer: ex01.{qid}\n{text}")
        cell.metadata["tags"] = [f"ex01.{qid}"]
        cells.append(cell)
    code = v4.new_code_cell(f"# file: ex01.py\n{STUDENT_CODE}")
    code.metadata["tags"] = ["ex01.py"]
    folder = tmp_path / "s123"
    folder.mkdir()
    (folder / "answers.ipynb").write_text(_book([*cells, code]))
    assert _summary(_grade(specs, folder, tmp_path / "out")) == _summary(folder_result)


@pytest.mark.parametrize("source, expected", [
    ("ex01_e = 2.083", "2.083"),
    ("answer = 13/3", "13/3"),                                  # as written, never computed
    ("ex01_e = [4.33, 2]  # w, b", "[4.33, 2]"),
    ('ex01_e = "x^2 + 1"', "x^2 + 1"),
    ('ex01_e = """It saturates,\nand kills gradients."""', "It saturates,\nand kills gradients."),
    ("# answer: a comment\nex01_e = ...", ""),                  # the template, untouched
    ("ex01_e = 2x + 1", "2x + 1"),                              # not Python: split at the =
    ("ex01_e = np.mean(x)", "np.mean(x)"),                      # code is graded as its text
    ("x = -1/2", None),                                         # an equation, not our name
    ("ex01_e == 2", None),
    ("ex01_e = 1\nprint(ex01_e)", None),
    ("ex01_e = a = 2", None),
    ("(" * 500 + ")" * 500, None),
])
def test_assigned_value(source: str, expected: str | None) -> None:
    assert notebook.assigned_value(source, {"answer", "ex01_e"}) == expected


def test_code_answer_cell_with_other_code_is_read_as_written(tmp_path: Path) -> None:
    (tmp_path / "a.ipynb").write_text(_book([_tagged("code", "2.5", "ex01.mean"),
                                             _tagged("code", "x = -1/2", "ex01.eq")]))
    assert notebook.extract(tmp_path).answers == {"ex01": {"mean": "2.5", "eq": "x = -1/2"}}
