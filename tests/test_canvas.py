"""The Canvas export: the `Name (ID)` assignment header (flag and spec key), the roster read
from a Canvas gradebook export (tests/fixtures/canvas-gradebook-export.csv, written in the
shape Canvas exports: BOM, Integration ID, Points Possible and Manual Posting rows, names
with commas), and the round trip: what we write reads back as a Canvas gradebook."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grader.authoring import spec
from grader.core.canvas import assignment_problem
from grader.core.errors import GraderError, SpecError
from grader.core.results import StudentResult
from grader.render import canvas, export
from tests.student_side import RIGHT, fill, grader, write_course

FIXTURE = Path(__file__).parent / "fixtures" / "canvas-gradebook-export.csv"
COLUMN = "Exercise set 1 (123456)"


def _results(*students: str) -> list[StudentResult]:
    return [StudentResult(student, 7.5, 11, ()) for student in students]


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("text, ok", [
    ("Exercise set 1 (123456)", True), ("Øving 1: lineær regresjon (42)", True), ("A (1) (2)", True),
    ("Exercise set 1", False), ("Exercise set 1 (abc)", False), ("(123)", False), ("Set 1 (12) draft", False),
    ("", False), ("Set\n1 (12)", False),
])
def test_assignment_header_must_carry_the_id(text: str, ok: bool) -> None:
    assert (assignment_problem(text) is None) == ok


def test_roster_reads_a_canvas_gradebook_export() -> None:
    roster = canvas.read_roster(FIXTURE)
    assert [p.canvas_id for p in roster.people] == ["4711", "4712", "4713", "4714", "4715", "4799"]
    assert roster.people[1].section == "INF5860 H2026, gruppe 2" and roster.people[1].name == "Øvrebø, Åse"
    assert roster.people[0].where == f"{FIXTURE}:4"  # after the header, Points Possible, Manual Posting
    assert roster.assignments == {"123456": "Exercise set 1 (123456)", "123457": "Exercise set 2 (123457)"}


@pytest.mark.parametrize("student, filled, warning", [
    ("karinor", ["Nordmann, Kari", "4711", "20261234", "karinor", "INF5860 H2026"], None),   # SIS Login ID
    ("KariNor", ["Nordmann, Kari", "4711", "20261234", "karinor", "INF5860 H2026"], None),   # case ignored
    ("s123", ["Hansen, Ola", "4713", "S123", "olah", "INF5860 H2026"], None),                 # SIS User ID
    ("twin", ["twin", "", "", "twin", ""], "is the SIS Login ID of 2 rows"),
    ("s999", ["s999", "", "", "s999", ""], "is neither an SIS Login ID nor an SIS User ID"),
])
def test_each_student_is_matched_by_login_then_user_id(student: str, filled: list[str], warning: str | None) -> None:
    warnings: list[str] = []
    rows = canvas.rows(_results(student), COLUMN, canvas.read_roster(FIXTURE), warnings.append)
    assert rows[2][:5] == filled and rows[2][5] == 7.5
    assert [w for w in warnings if warning and warning in w] == ([warnings[0]] if warning else [])
    assert len(warnings) == (1 if warning else 0)


def test_round_trip_our_file_reads_back_as_a_canvas_gradebook(tmp_path: Path) -> None:
    out = tmp_path / "canvas.csv"
    warnings: list[str] = []
    export(_results("aseov", "karinor"), "canvas", out, canvas_assignment=COLUMN, roster=FIXTURE,
           warn=warnings.append)
    assert warnings == []
    ours, theirs = _read(out), _read(FIXTURE)
    assert ours[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    assert [name for name in ours[0][:5]] == [theirs[0][0], theirs[0][1], theirs[0][2], theirs[0][3], theirs[0][5]]
    assert ours[0][5] in theirs[0]  # the very column Canvas exported: the import updates it
    assert ours[1] == ["Points Possible", "", "", "", "", "11"]
    back = canvas.read_roster(out)  # our file, read as a Canvas export
    original = {p.canvas_id: p for p in canvas.read_roster(FIXTURE).people}
    for person in back.people:
        mine = original[person.canvas_id]
        assert (person.name, person.sis_user_id, person.sis_login_id, person.section) == (
            mine.name, mine.sis_user_id, mine.sis_login_id, mine.section)
    assert back.assignments == {"123456": COLUMN}
    assert [row[5] for row in ours[2:]] == ["7.5", "7.5"]


def test_what_canvas_would_not_import_as_meant_is_warned(tmp_path: Path) -> None:
    warnings: list[str] = []
    export(_results("karinor"), "canvas", tmp_path / "a.csv", title="Set 1", warn=warnings.append)
    assert any("has no assignment id" in w for w in warnings) and any("no --roster" in w for w in warnings)
    warnings.clear()
    export(_results("karinor"), "canvas", tmp_path / "b.csv", canvas_assignment="Set 9 (999)", roster=FIXTURE,
           warn=warnings.append)
    assert warnings == [f"{FIXTURE} has no assignment with id 999 (it has Exercise set 1 (123456), Exercise set 2 "
                        "(123457)): check the id, or Canvas will create a new assignment"]
    with pytest.raises(GraderError) as caught:
        export(_results("karinor"), "canvas", tmp_path / "c.csv", canvas_assignment="Set 1")
    assert caught.value.exit_code == 2 and "--canvas-assignment: 'Set 1' does not end in the assignment's id" \
        in str(caught.value)


@pytest.mark.parametrize("text, message", [
    ("Student,Name\nx,y\n", "the header has no 'ID' column"),
    ("Student,ID,Section\nx,1,s\n", "the header has no 'SIS Login ID' or 'SIS User ID' column"),
])
def test_a_roster_that_is_not_a_canvas_export_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(GraderError, match=message):
        canvas.read_roster(path)


# --- the spec's canvas: key ---------------------------------------------------------------------

def test_spec_canvas_key_is_validated_with_file_and_line(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "c1", extra="canvas: Exercise set 1", code=False)
    with pytest.raises(SpecError) as caught:
        spec.load_course([specs])
    shown = caught.value.problems[0]
    assert shown.location.file.endswith("ex01.yaml") and shown.location.line
    assert "canvas: 'Exercise set 1' does not end in the assignment's id" in shown.message
    good = write_course(tmp_path / "c2", extra=f"canvas: {COLUMN}", code=False)
    assert spec.load_course([good]).canvas_assignment == COLUMN
    other = (good / "ex01.yaml").read_text().replace("id: ex01", "id: ex02").replace(COLUMN, "Set 2 (9)")
    (good / "ex02.yaml").write_text(other)
    with pytest.raises(SpecError, match="export to one Canvas column"):
        spec.load_course([good])


def test_schema_knows_the_canvas_key() -> None:
    from grader.authoring.schema import spec_schema

    assert "canvas" in spec_schema()["properties"]


# --- end to end through the installed command ----------------------------------------------------

def test_grade_and_export_for_canvas_through_the_command(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", extra=f"canvas: {COLUMN}", code=False)
    folder = tmp_path / "class" / "karinor"
    folder.mkdir(parents=True)
    fill(folder, RIGHT)
    done = grader("grade", specs, tmp_path / "class", "--out", tmp_path / "out", "--no-reports", "--format", "canvas")
    assert done.returncode == 0, done.stderr
    assert _read(tmp_path / "out" / "canvas.csv")[0][5] == COLUMN      # the spec's key
    assert "no --roster" in done.stderr
    done = grader("export", tmp_path / "out", "--format", "canvas", "--roster", FIXTURE,
                  "--canvas-assignment", "Exercise set 2 (123457)", "--to", tmp_path / "upload.csv")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    rows = _read(tmp_path / "upload.csv")
    assert rows[0][5] == "Exercise set 2 (123457)"
    assert rows[2][:5] == ["Nordmann, Kari", "4711", "20261234", "karinor", "INF5860 H2026"]
    score = json.loads((tmp_path / "out" / "results" / "karinor.json").read_text())["score"]
    assert float(rows[2][5]) == score
    bad = grader("export", tmp_path / "out", "--format", "canvas", "--canvas-assignment", "Set 2")
    assert bad.returncode == 2 and "does not end in the assignment's id" in bad.stderr
