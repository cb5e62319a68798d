"""`grader submit` and the grading of its zips: the whole student loop end to end through
the installed command, manifests that catch tampering, the latest hand-in, lateness."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.authoring import lateness, spec
from grader.student import submit as packaging
from grader.core.errors import SpecError
from tests.student_side import RIGHT, fill, grader, has_code_kind, write_course

NOW = datetime.now(timezone.utc)


def _policy(deadline: datetime, policy: str = "{per_day: 0.1, max: 0.5}") -> str:
    return f"deadline: {deadline.isoformat(timespec='seconds')}\nlate_penalty: {policy}\n"


def _loop(tmp_path: Path, extra: str = "", code: bool = False) -> tuple[Path, Path, Path]:
    """release -> fill with the reference answers -> check -> submit; returns specs, bundle, zip.
    Without the code question unless asked: the sandbox's start costs seconds per command."""
    specs = write_course(tmp_path / "course", extra=extra, code=code)
    bundle = tmp_path / "bundle"
    grader("release", specs, "--to", bundle, check=True)
    fill(bundle, RIGHT)
    grader("check", bundle, bundle, check=True)
    submitted = grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123", check=True)
    zips = sorted((tmp_path / "handin").glob("*.zip"))
    assert len(zips) == 1 and zips[0].name.startswith("s123-"), submitted.stdout
    return specs, bundle, zips[0]


def _grade(specs: Path, handin: Path, out: Path, *extra: str) -> dict:
    result = grader("grade", specs, handin, "--out", out, "--no-reports", *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((out / "results" / "s123.json").read_text())


@pytest.mark.slow
def test_release_check_submit_grade_gives_full_marks(tmp_path: Path) -> None:
    specs, _, zipped = _loop(tmp_path, code=True)
    names = set(zipfile.ZipFile(zipped).namelist())
    assert names == {"answers.yaml", "manifest.json"} | ({"ex01.py"} if has_code_kind() else set())
    manifest = json.loads(zipfile.ZipFile(zipped).read("manifest.json"))
    assert manifest["student"] == "s123" and manifest["spec_digest"] == spec.load_course([specs]).digest
    assert set(manifest["files"]) == names - {"manifest.json"}
    result = _grade(specs, zipped.parent, tmp_path / "out")
    assert result["error"] is None and result["warnings"] == []
    assert result["score"] == result["max_score"] == (6 if has_code_kind() else 4)
    assert {q["status"] for q in result["questions"]} == {"correct"}
    assert not [p for p in zipped.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def _rewrite(zipped: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of `zipped` at `target` with entries replaced (bytes), removed (None) or added."""
    with zipfile.ZipFile(zipped) as source, zipfile.ZipFile(target, "w") as sink:
        for name in source.namelist():
            if name in change:
                if change[name] is not None:
                    sink.writestr(name, change.pop(name))
                else:
                    change.pop(name)
            else:
                sink.writestr(name, source.read(name))
        for name, data in change.items():
            sink.writestr(name, data)
    return target


TAMPERING = [
    ("changed answer", "s123-{t}.zip", {"answers.yaml": b"ex01: {mean: '3.96875', step: '[7.0625, -0.8125]', pick: c}\n"},
     "answers.yaml was changed"),
    ("added file", "s123-{t}.zip", {"extra.py": b"x = 1\n"}, "extra.py was added"),
    ("removed file", "s123-{t}.zip", {"answers.yaml": None}, "answers.yaml is listed but missing"),
    ("another student", "s999-{t}.zip", {}, "packaged for student 's123'"),
    ("broken manifest", "s123-{t}.zip", {"manifest.json": b"{not json"}, "manifest"),
]


@pytest.fixture(scope="module")
def handed_in(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    specs, _, zipped = _loop(tmp_path_factory.mktemp("handed-in"))
    return specs, zipped


@pytest.mark.parametrize("label, name, change, message", TAMPERING, ids=[row[0] for row in TAMPERING])
def test_tampered_zip_is_reported_not_graded(tmp_path: Path, handed_in: tuple[Path, Path], label: str, name: str,
                                             change: dict, message: str) -> None:
    specs, zipped = handed_in
    stamp = zipped.name.split("-")[-1][:-4]
    tampered_dir = tmp_path / "tampered"
    tampered_dir.mkdir()
    tampered = _rewrite(zipped, tampered_dir / name.format(t=stamp), dict(change))
    student = tampered.name.split("-")[0]
    result = grader("grade", specs, tampered_dir, "--out", tmp_path / "out", "--no-reports", "--strict")
    assert result.returncode == 1
    graded = json.loads((tmp_path / "out" / "results" / f"{student}.json").read_text())
    assert message in graded["error"] and "manifest" in graded["error"]
    assert graded["score"] == 0


def test_latest_submission_per_student_wins(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", code=False)
    folder = tmp_path / "s123"
    folder.mkdir()
    handin = tmp_path / "handin"
    early, late = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
    fill(folder, RIGHT)
    packaging.submit(folder, handin, specs, now=late)
    fill(folder, {**RIGHT, "pick": "c"})
    packaging.submit(folder, handin, specs, now=early)  # written last, but packaged first
    assert len(list(handin.glob("s123-*.zip"))) == 2
    result = _grade(specs, handin, tmp_path / "out")
    assert result["score"] == result["max_score"]


@pytest.mark.parametrize("days_late, policy, kept", [
    (2.5, "{per_day: 0.1, max: 0.5}", 0.7),        # 3 started days
    (9, "{per_day: 0.1, max: 0.5}", 0.5),          # capped
    (0.001, "{per_day: 0.1, grace_minutes: 10}", 1.0),
    (1, "{flat: 0.25}", 0.75),
    (-1, "{per_day: 0.1}", 1.0),                   # on time
])
def test_late_submission_is_penalised_as_the_spec_says(tmp_path: Path, days_late: float, policy: str,
                                                       kept: float) -> None:
    # the zip is stamped with the real time: measure lateness from now, not from collection
    deadline = datetime.now(timezone.utc) - timedelta(days=days_late)
    specs, _, zipped = _loop(tmp_path, extra=_policy(deadline, policy))
    result = _grade(specs, zipped.parent, tmp_path / "out")
    assert result["score"] == pytest.approx(result["max_score"] * kept, abs=1e-6)
    if kept < 1 or days_late > 0:
        record = result["lateness"][0] if result["lateness"] else None
        assert record is not None and record["exercise"] == "ex01"
        assert record["penalty"] == pytest.approx(1 - kept)
    else:
        assert result["lateness"] == []


def test_deadline_and_penalty_on_the_command_line(tmp_path: Path, handed_in: tuple[Path, Path]) -> None:
    specs, zipped = handed_in
    deadline = (NOW - timedelta(days=1, hours=1)).isoformat(timespec="seconds")
    result = _grade(specs, zipped.parent, tmp_path / "out", "--deadline", deadline,
                    "--late-penalty", "{per_day: 0.2}")
    assert result["score"] == pytest.approx(result["max_score"] * 0.6)  # 2 started days
    bad = grader("grade", specs, zipped.parent, "--out", tmp_path / "o2", "--deadline", "2026-12-01T10:00")
    assert bad.returncode == 2 and "time zone" in bad.stderr


def test_cutoff_scores_zero(tmp_path: Path) -> None:
    extra = _policy(NOW - timedelta(days=3), f"{{per_day: 0.1, cutoff: {(NOW - timedelta(days=1)).isoformat()}}}")
    specs, _, zipped = _loop(tmp_path, extra=extra)
    assert _grade(specs, zipped.parent, tmp_path / "out")["score"] == 0


def test_plain_folder_with_a_deadline_gets_a_warning_not_a_penalty(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", extra=_policy(NOW - timedelta(days=3)), code=False)
    folder = tmp_path / "class" / "s123"
    folder.mkdir(parents=True)
    fill(folder, RIGHT)
    result = _grade(specs, tmp_path / "class", tmp_path / "out")
    assert result["score"] == result["max_score"]
    assert any("lateness was not assessed" in w for w in result["warnings"])


SUBMIT_PROBLEMS = [
    ("malformed answer", {"answers.yaml": "ex01: {mean: abc}\n"}, "ex01.mean"),
    ("stray file", {"notes.txt": "my notes"}, "notes.txt is not part of a submission"),
    ("huge module", {"ex01.py": "x = 1\n" * 300_000}, "ex01.py is too large"),
    ("broken yaml", {"answers.yaml": "ex01: [\n"}, "answers.yaml"),
]


@pytest.mark.parametrize("label, files, message", SUBMIT_PROBLEMS, ids=[row[0] for row in SUBMIT_PROBLEMS])
def test_submit_refuses_with_a_clear_list_unless_forced(tmp_path: Path, label: str, files: dict[str, str],
                                                        message: str) -> None:
    specs = write_course(tmp_path / "course", code=False)
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, RIGHT)
    for name, text in files.items():
        (folder / name).write_text(text)
    refused = grader("submit", folder, "--to", tmp_path / "handin", "--specs", specs)
    assert refused.returncode == 1
    assert message in refused.stderr and "not packaged" in refused.stderr
    assert not (tmp_path / "handin").exists() or not list((tmp_path / "handin").iterdir())
    forced = grader("submit", folder, "--to", tmp_path / "handin", "--specs", specs, "--force")
    assert forced.returncode == 0, forced.stderr
    zipped = next((tmp_path / "handin").glob("s123-*.zip"))
    assert "notes.txt" not in zipfile.ZipFile(zipped).namelist()


@pytest.mark.skipif(not has_code_kind(), reason="the code kind is not installed")
def test_submit_warns_about_failing_visible_checks_and_still_packages(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", code=True)
    bundle = tmp_path / "bundle"
    grader("release", specs, "--to", bundle, check=True)
    fill(bundle, RIGHT, code="def double_plus(X, c):\n    return X * 3 + c\n")  # 3X: fails "small"
    submitted = grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123")
    assert submitted.returncode == 0, submitted.stderr
    assert ("warning: 1 question fails visible checks: ex01.dbl (packaged anyway; `grader check` shows "
            "the details)") in submitted.stderr
    assert "warning: ex01.dbl: " in submitted.stderr and "small" in submitted.stderr
    assert "wrote " in submitted.stdout and len(list((tmp_path / "handin").glob("s123-*.zip"))) == 1
    for secret in ("reference_double_plus", "secret", "29.3125"):  # a hidden case stays hidden
        assert secret not in submitted.stderr
    fill(bundle, RIGHT)  # the right code: no warning
    again = grader("submit", bundle, "--to", tmp_path / "handin", "--student", "s123", check=True)
    assert "visible checks" not in again.stderr


def test_submit_refuses_links(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", code=False)
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, RIGHT)
    (folder / "ex01.py").symlink_to(specs / "ex01.yaml")
    refused = grader("submit", folder, "--to", tmp_path / "handin", "--specs", specs)
    assert refused.returncode == 1 and "ex01.py is a link" in refused.stderr


@pytest.mark.parametrize("extra, message", [
    ("deadline: 2026-12-01T23:59:00\n", "no time zone"),
    ("deadline: tomorrow\n", "not a date and time"),
    ("deadline: 2026-12-01T23:59:00Z\nlate_penalty: {per_day: 2}\n", "share of the points"),
    ("deadline: 2026-12-01T23:59:00Z\nlate_penalty: {per_dya: 0.1}\n", "unknown key 'per_dya'"),
    ("deadline: 2026-12-01T23:59:00Z\nlate_penalty: {cutoff: soon}\n", "cutoff"),
    ("deadline: 2026-12-01T23:59:00Z\nlate_penalty: 0.1\n", "must be a mapping"),
    ("late_penalty: {per_day: 0.1}\n", "needs a deadline"),
    ("deadline: 2026-12-01T23:59:00Z\nlate_penalty: {grace_minutes: -5}\n", "negative"),
])
def test_bad_late_policies_fail_at_load_time_with_file_and_line(tmp_path: Path, extra: str, message: str) -> None:
    specs = write_course(tmp_path / "course", extra=extra, code=False)
    with pytest.raises(SpecError) as caught:
        spec.load_course([specs])
    text = str(caught.value)
    assert message in text
    assert "ex01.yaml:" in text and ":?:" not in text.split(message)[0][-80:]


@pytest.mark.parametrize("late_by, policy, share", [
    (timedelta(minutes=5), lateness.LatePolicy(per_day=0.1, grace_minutes=10), 0.0),
    (timedelta(minutes=11), lateness.LatePolicy(per_day=0.1, grace_minutes=10), 0.1),
    (timedelta(days=1), lateness.LatePolicy(per_day=0.1), 0.1),
    (timedelta(days=1, seconds=1), lateness.LatePolicy(per_day=0.1), 0.2),
    (timedelta(days=30), lateness.LatePolicy(per_day=0.1, flat=0.1, max=0.6), 0.6),
    (timedelta(hours=1), lateness.LatePolicy(), 0.0),   # an empty policy records lateness only
])
def test_policy_table(late_by: timedelta, policy: lateness.LatePolicy, share: float) -> None:
    assert policy.share_lost(late_by, NOW) == pytest.approx(share)


def test_schema_lists_the_same_policy_keys_as_the_loader() -> None:
    from grader.authoring.schema import spec_schema

    assert set(spec_schema()["properties"]["late_penalty"]["properties"]) == set(lateness.POLICY_KEYS)


@pytest.mark.slow
def test_inf5860_loop_gives_full_marks_on_every_auto_graded_answer(tmp_path: Path) -> None:
    """The real course: the reference answers, typed back into the released template,
    pass check, submit and grade (code and free-text questions are left out here)."""
    import yaml

    from grader.grading import engine
    from grader.core import registry
    from grader.authoring import variants

    specs = Path(__file__).resolve().parents[1] / "exercises" / "inf5860"
    course = spec.load_course([specs])
    grader("release", specs, "--to", tmp_path / "bundle", "--student", "s123", check=True)
    bundle = tmp_path / "bundle" / "s123"
    answers: dict = {}
    graded: set[str] = set()
    for exercise in course.exercises:
        params = variants.resolve(exercise.params, "s123", exercise.id)
        for question in exercise.questions:
            kind = registry.get(question.kind)
            if kind.answer_source != "answers" or not kind.calls_reference or question.kind == "text":
                continue
            expected = engine.expected_for(course, exercise, question, params)
            answers.setdefault(exercise.id, {})[question.id] = kind.show(expected.value, question)
            graded.add(f"{exercise.id}.{question.id}")
    (bundle / "answers.yaml").write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    for stub in bundle.glob("*.py"):
        stub.unlink()  # the code questions are not answered here
    grader("check", bundle, bundle, check=True)
    grader("submit", bundle, "--to", tmp_path / "handin", check=True)
    result = _grade(specs, tmp_path / "handin", tmp_path / "out")
    statuses = {q["id"]: q["status"] for q in result["questions"] if q["id"] in graded}
    assert statuses == {qid: "correct" for qid in graded}
    assert result["error"] is None


def test_submitting_into_a_folder_inside_the_submission_twice(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", code=False)
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, RIGHT)
    for when in (NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)):
        packaged = packaging.submit(folder, folder / "handin", specs, now=when)
        assert packaged.problems == [] and packaged.path is not None
    assert len(list((folder / "handin").glob("s123-*.zip"))) == 2


def test_submit_from_a_shared_bundle_needs_the_student_id(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", code=False)
    grader("release", specs, "--to", tmp_path / "bundle", check=True)
    fill(tmp_path / "bundle", RIGHT)
    refused = grader("submit", tmp_path / "bundle", "--to", tmp_path / "handin")
    assert refused.returncode == 2 and "--student" in refused.stderr
    grader("submit", tmp_path / "bundle", "--to", tmp_path / "handin", "--student", "s123", check=True)
    assert next((tmp_path / "handin").glob("s123-*.zip"))


def test_a_hand_made_zip_named_like_a_submission_is_still_late(tmp_path: Path) -> None:
    specs = write_course(tmp_path / "course", extra=_policy(NOW - timedelta(days=2, hours=1)), code=False)
    handin = tmp_path / "handin"
    handin.mkdir()
    stamp = lateness.utc_stamp(NOW - timedelta(minutes=5))
    with zipfile.ZipFile(handin / f"s123-{stamp}.zip", "w") as archive:
        archive.writestr("answers.yaml", "ex01: {mean: '3.96875', step: '[7.0625, -0.8125]', pick: b}\n")
    result = _grade(specs, handin, tmp_path / "out")
    assert result["score"] == pytest.approx(result["max_score"] * 0.7)  # 3 started days at 10%
    assert any("no manifest" in w for w in result["warnings"])
