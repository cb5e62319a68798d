"""grader.core.output: one file per student id (never two ids in one file), and reading a
results folder back (one result per student, files that are not results named)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path

import pytest

from grader.core import output
from grader.core.errors import GraderError
from grader.core.output import safe_file_name, unique_file_names
from grader.core.results import StudentResult

#: Ids that collided, or could: the cleaned form of one is another id, they differ in case
#: only, or in a character the cleaning replaces, or after the length cut.
HOSTILE_IDS = [
    "ola.nordmann", "ola_nordmann", "ola_nordmann-" + hashlib.sha256(b"ola.nordmann").hexdigest()[:8],
    "Ola.Nordmann", "OLA_NORDMANN", "ola@nordmann", "ola nordmann", "ola/nordmann", "ola\\nordmann",
    "s1", "S1", "s1~2", "s1-2", "s1_2", "s1.2", "con", "CON", "Con", "aux.txt", "", ".", "..", "-",
    "x" * 80, "x" * 81, "x" * 80 + "y", "x" * 300, "x" * 300 + "y",
    "Åse", "Ase", "A\u030ase", "a\x1b[2Jb", "a\u202eb", "a\u200bb", "a\udc9bb", "a\x00b",
]


def test_two_ids_never_share_a_file_name() -> None:
    names = [safe_file_name(student) for student in HOSTILE_IDS]
    # distinct also where case is ignored (macOS, Windows)
    assert len({name.casefold() for name in names}) == len(HOSTILE_IDS)


def test_the_reported_collision_has_two_files() -> None:
    odd, plain = "ola.nordmann", "ola_nordmann-28a3fb64"
    assert safe_file_name(odd) != safe_file_name(plain)
    assert safe_file_name(plain) == plain  # a plain id keeps its own name


@pytest.mark.parametrize("student", HOSTILE_IDS)
def test_a_name_is_safe_on_every_file_system(student: str) -> None:
    name = safe_file_name(student)
    assert 1 <= len(name) <= output.MAX_STEM + 1 + output.HASH_CHARS
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-~")
    assert name.split("~")[0].upper() not in {"CON", "PRN", "AUX", "NUL"} or "~" in name
    assert safe_file_name(student) == name  # the same id, the same name, every run


def test_plain_names_have_no_separator_and_odd_ones_end_in_the_hash() -> None:
    for student in HOSTILE_IDS:
        name = safe_file_name(student)
        if name == student:
            assert "~" not in name and name == name.lower()
        else:
            digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:output.HASH_CHARS]
            assert name.endswith("~" + digest)


def test_repeated_ids_get_counted_names_no_other_id_has() -> None:
    ids = ["s1", "s1", "s1", "S1", "S1", "s1~2", "s1-2"]
    names = unique_file_names(ids)
    assert names[:3] == ["s1", "s1~2", "s1~3"]
    assert len({n.casefold() for n in names}) == len(names)
    assert safe_file_name("s1~2") not in names[:3]


def test_two_ids_given_one_name_are_refused() -> None:
    with pytest.raises(GraderError, match="'a' and 'b' would be written to one file"):
        output.refuse_shared_names(["a", "b"], ["x", "X"])


def result(student: str, score: float = 1.0) -> StudentResult:
    return StudentResult(student=student, score=score, max_score=2.0, questions=())


def test_every_id_gets_its_own_result_file(tmp_path: Path) -> None:
    paths = [output.write_result(tmp_path, result(s)) for s in HOSTILE_IDS]
    assert len(set(paths)) == len(HOSTILE_IDS)
    assert sorted(r.student for r in output.read_results(tmp_path)) == sorted(HOSTILE_IDS)


def test_a_file_that_holds_another_student_is_not_overwritten(tmp_path: Path) -> None:
    # a file an older grader named `ola_nordmann-28a3fb64.json` holds ola.nordmann
    old = tmp_path / "results" / "ola_nordmann-28a3fb64.json"
    old.parent.mkdir()
    old.write_text(output.result_json(result("ola.nordmann")))
    stored, notes = output.stored_results(tmp_path / "results")
    assert notes == []
    with pytest.raises(GraderError, match="holds the result of 'ola.nordmann'"):
        output.refuse_foreign_files(tmp_path, ["ola_nordmann-28a3fb64"], stored)
    output.refuse_foreign_files(tmp_path, ["ola.nordmann", "kari"], stored)  # its own student may


def test_reading_a_folder_names_what_is_not_a_result(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    output.write_result(tmp_path, result("s1"))
    (folder / "notes.json").write_text("[1, 2]")
    (folder / "broken.json").write_text("{")
    stored, notes = output.stored_results(folder)
    assert [r.student for _, r in stored] == ["s1"]
    assert len(notes) == 2 and all("not a grader result file" in n for n in notes)
    assert output.stored_results(tmp_path / "nowhere") == ([], [])


def test_one_file_per_student_prefers_the_students_own_name(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    own = output.write_result(tmp_path, result("ola.nordmann", 2.0))
    older = folder / "ola_nordmann-28a3fb64.json"
    older.write_text(output.result_json(result("ola.nordmann", 1.0)))
    os.utime(own, (1, 1))  # even when the other file is newer
    kept, notes = output.one_per_student(output.stored_results(folder)[0])
    assert [(p, r.score) for p, r in kept] == [(own, 2.0)]
    assert notes == [f"{older} also holds 'ola.nordmann'; {own.name} is the one listed"]
    assert [r.score for r in output.read_results(tmp_path)] == [2.0]


def test_result_files_round_trip_every_id(tmp_path: Path) -> None:
    for student, score in zip(HOSTILE_IDS, itertools.count()):
        path = output.write_result(tmp_path, result(student, float(score)))
        assert json.loads(path.read_text(encoding="utf-8"))["student"] == student


def test_results_version_changes_with_each_result_file_and_no_other(tmp_path: Path) -> None:
    """What the review page compares to follow a regrade."""
    assert output.results_version(tmp_path / "nothing") == "none"
    out = tmp_path / "out"
    first = output.write_result(out, StudentResult("s1", 0, 1, ()))
    start = output.results_version(out)
    assert output.results_version(out / "results") == start  # the folder or its results/
    (out / "results" / ".s2.json.ab12.tmp").write_text('{"half')  # a file being written
    (out / "grades.csv").write_text("student\n")
    assert output.results_version(out) == start
    output.write_result(out, StudentResult("s1", 1, 1, ()))  # rewritten whole, by a rename
    rewritten = output.results_version(out)
    assert rewritten != start
    output.write_result(out, StudentResult("s2", 0, 1, ()))
    assert output.results_version(out) not in (start, rewritten)
    (out / "results" / "s2.json").unlink()
    first.unlink()
    assert output.results_version(out) not in (start, rewritten)
