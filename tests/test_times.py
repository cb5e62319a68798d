"""Trusted submission times (`grade --times`), the checks on a zip's own times, and
per-student extensions (`grade --extensions`): the readers' tables of good and bad rows,
the flags, and the whole path through the installed command, a tampered manifest included."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.authoring import lateness
from grader.authoring.extensions import Extension, read_extensions
from grader.core.errors import GraderError
from grader.core.model import Course, Exercise, Question
from grader.core.times import TimeError, parse_recorded_time
from grader.intake import times
from grader.intake.submission import Submission
from grader.student import submit as packaging
from tests.student_side import RIGHT, fill, grader, write_course

DEADLINE = datetime(2026, 12, 1, 23, 59, tzinfo=timezone(timedelta(hours=1)))


# --- the time formats an LMS exports -------------------------------------------------------

@pytest.mark.parametrize("text, utc", [
    ("2026-12-01T22:59:00Z", "2026-12-01T22:59:00"),
    ("2026-12-01T23:59:00+01:00", "2026-12-01T22:59:00"),
    ("2026-12-01 23:59:00+0100", "2026-12-01T22:59:00"),
    ("2026-12-01 23:59:00 +0100", "2026-12-01T22:59:00"),     # Gradescope's export
    ("2026-12-01 17:59:00 -05:00", "2026-12-01T22:59:00"),
    ("2026-12-01 22:59 UTC", "2026-12-01T22:59:00"),
    ("2026-12-01T22:59:00.250Z", "2026-12-01T22:59:00.250000"),
    ("  2026-12-01T22:59:00 GMT ", "2026-12-01T22:59:00"),
])
def test_lms_times_are_read_with_their_zone(text: str, utc: str) -> None:
    assert parse_recorded_time(text).astimezone(timezone.utc).replace(tzinfo=None).isoformat() == utc


@pytest.mark.parametrize("text, message", [
    ("2026-12-01 23:59", "no time zone"),
    ("2026-12-01", "no time zone"),
    ("01/12/2026 23:59 UTC", "is not a date and time"),
    ("tomorrow", "is not a date and time"),
    ("", "expected a date and time"),
    ("2026-02-30T10:00Z", "is not a date and time"),
])
def test_bad_lms_times_say_why(text: str, message: str) -> None:
    with pytest.raises(TimeError, match=message):
        parse_recorded_time(text)


# --- the times file --------------------------------------------------------------------------

def _csv(tmp_path: Path, text: str, name: str = "times.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_times_file_reads_headers_loosely_and_keeps_the_latest_attempt(tmp_path: Path) -> None:
    path = _csv(tmp_path, "\ufeffStudent ; Submitted At\ns1;2026-12-01T10:00:00Z\n\ns2;2026-12-02T10:00Z\n"
                          "s1;2026-12-01T12:00:00+01:00\n")
    read = times.read_times(path)
    assert read.by_student["s1"].at == "2026-12-01T12:00:00+01:00" and read.by_student["s1"].where == "times.csv:5"
    assert read.by_student["s2"].where == "times.csv:4"
    assert read.warnings == (f"{path}:5: 's1' is listed again (first at times.csv:2); the latest time is used",)
    assert read.unknown({"s1"}) == ["times.csv:4: 's2' has no submission among those graded; the row is not used"]


@pytest.mark.parametrize("text, message", [
    ("name,submitted_at\na,2026-12-01T10:00Z\n", ":1: the header has no 'student' or 'student id' column"),
    ("student,when\na,2026-12-01T10:00Z\n", "the header has no 'submitted at' or 'submission time' column"),
    ("student,submitted_at\na,2026-12-01T10:00Z\nb,2026-12-01 10:00\n", "times.csv:3: b: '2026-12-01 10:00' has no time zone"),
    ("student,submitted_at\n,2026-12-01T10:00Z\n", "times.csv:2: no student id"),
    ("student,submitted_at\na,soon\n", "times.csv:2: a: 'soon' is not a date and time"),
    ("", "the file is empty"),
])
def test_bad_times_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GraderError) as caught:
        times.read_times(_csv(tmp_path, text))
    assert message in str(caught.value) and caught.value.exit_code == 2


def _opened(claimed: str | None, source: str = "manifest", newest: tuple[str, str] | None = None) -> Submission:
    return Submission("s1", Path("."), submitted_at=claimed, time_source=source if claimed else "",
                      newest_entry=newest)


def _trusted(at: str) -> times.TrustedTimes:
    return times.TrustedTimes("times.csv", {"s1": times.Recorded(at, "times.csv:2")})


@pytest.mark.parametrize("claimed, recorded, newest, used, trusted, kinds", [
    # no times file: the manifest's word, self-reported
    ("2026-12-01T10:00:00+00:00", None, None, "2026-12-01T10:00:00+00:00", False, []),
    # the times file agrees within 5 minutes
    ("2026-12-01T10:00:00+00:00", "2026-12-01T10:04:00+00:00", None, "2026-12-01T10:04:00+00:00", True, []),
    # packaged 15 days before the upload: an edited created_at looks like this
    ("2026-11-16T10:00:00+00:00", "2026-12-01T10:00:00+00:00", None, "2026-12-01T10:00:00+00:00", True,
     ["times_disagree"]),
    # the zip holds a file written 15 days after the manifest's time (local time, zone unknown)
    ("2026-11-16T10:00:00+00:00", None, ("manifest.json", "2026-12-01T10:00:00"), "2026-11-16T10:00:00+00:00",
     False, ["before_zip_entries"]),
    # an entry 13 h "after" the claimed time is a machine east of UTC, not an impossibility
    ("2026-12-01T10:00:00+00:00", None, ("answers.yaml", "2026-12-01T23:00:00"), "2026-12-01T10:00:00+00:00",
     False, []),
    # 14 h 10 min after is impossible in any zone (UTC+14 is the most)
    ("2026-12-01T10:00:00+00:00", None, ("answers.yaml", "2026-12-02T00:10:00"), "2026-12-01T10:00:00+00:00",
     False, ["before_zip_entries"]),
    # a times file without the student: the manifest's word, flagged
    ("2026-12-01T10:00:00+00:00", "missing", None, "2026-12-01T10:00:00+00:00", False, ["not_in_times"]),
    # a folder (no manifest) with a times row: the upload time, nothing to disagree with
    (None, "2026-12-01T10:00:00+00:00", None, "2026-12-01T10:00:00+00:00", True, []),
])
def test_timing_uses_the_times_file_and_flags_disagreements(claimed, recorded, newest, used, trusted, kinds) -> None:
    table = None if recorded is None else (times.TrustedTimes("times.csv") if recorded == "missing"
                                           else _trusted(recorded))
    timing = times.timing(_opened(claimed, newest=newest), table)
    assert (timing.submitted_at, timing.trusted, [f.kind for f in timing.flags]) == (used, trusted, kinds)
    assert timing.source == ("times file" if trusted else "manifest")


def test_a_flag_says_both_times_and_where(tmp_path: Path) -> None:
    timing = times.timing(_opened("2026-11-16T10:00:00+00:00"), _trusted("2026-12-01T10:00:00+00:00"))
    assert timing.flags[0].message == ("the manifest says 2026-11-16T10:00:00+00:00, 15.0 days before the upload "
                                       "time 2026-12-01T10:00:00+00:00 in times.csv:2; the upload time is used")


# --- extensions --------------------------------------------------------------------------------

def _course(deadline: datetime = DEADLINE) -> Course:
    question = Question(id="a", kind="numeric", points=1, prompt="p", answer=None)
    return Course((Exercise("ex01", "t", (question,), deadline=deadline.isoformat()),))


def test_extensions_by_days_or_deadline(tmp_path: Path) -> None:
    read = read_extensions(_csv(tmp_path, "student, deadline, days\ns1,,2.5\ns2,2026-12-05T12:00:00Z,\n",
                                "ext.csv"))
    assert read.by_student["s1"] == Extension("s1", days=2.5, where="ext.csv:2")
    assert read.by_student["s2"].due(DEADLINE.isoformat()) == "2026-12-05T12:00:00+00:00"
    assert read.by_student["s1"].due(DEADLINE.isoformat()) == "2026-12-04T11:59:00+01:00"
    assert read.by_student["s1"].describe() == "extension: 2.5 more days (ext.csv:2)"


@pytest.mark.parametrize("text, message", [
    ("student,hours\ns1,3\n", "the header has no 'deadline' or 'days' column"),
    ("student,days\ns1,0\n", "ext.csv:2: s1: days must be a number above 0"),
    ("student,days\ns1,many\n", "ext.csv:2: s1: days must be a number above 0"),
    ("student,deadline,days\ns1,2026-12-05T12:00Z,2\n", "ext.csv:2: s1: give either a deadline or a number of days, not both"),
    ("student,deadline\ns1,2026-12-05 12:00\n", "ext.csv:2: s1: deadline: '2026-12-05 12:00' has no time zone"),
    ("student,days\ns1,1\ns1,2\n", "ext.csv:3: 's1' already has an extension at ext.csv:2"),
])
def test_bad_extension_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GraderError) as caught:
        read_extensions(_csv(tmp_path, text, "ext.csv"))
    assert message in str(caught.value)


def test_an_extension_moves_the_deadline_and_the_cutoff() -> None:
    course = _course()
    submitted = (DEADLINE + timedelta(days=2)).isoformat()
    policy = lateness.LatePolicy(per_day=0.1, cutoff=(DEADLINE + timedelta(days=1)).isoformat())
    late, _ = lateness.assess(course, submitted, policy=policy)
    assert late[0].penalty == 1.0 and late[0].extended_from is None           # past the cutoff
    on_time, _ = lateness.assess(course, submitted, policy=policy, extension=Extension("s1", days=3))
    assert on_time == []
    one_day, _ = lateness.assess(course, submitted, policy=policy, extension=Extension("s1", days=1))
    # one day late on the extended deadline, and the cutoff moved by a day too: 10 %, not 100 %
    assert one_day[0].penalty == pytest.approx(0.1) and one_day[0].extended_from == DEADLINE.isoformat()
    assert "extended deadline" in lateness.describe(one_day[0])


# --- end to end, through the installed command -------------------------------------------------

def _handed_in(tmp_path: Path, packaged: datetime) -> tuple[Path, Path]:
    """A `grader submit` zip of the right answers, packaged at `packaged`."""
    specs = write_course(tmp_path / "course", extra=f"deadline: {DEADLINE.isoformat()}\n"
                                                    "late_penalty: {per_day: 0.1, max: 0.5}\n", code=False)
    folder = tmp_path / "s123"
    folder.mkdir()
    fill(folder, RIGHT)
    zipped = packaging.submit(folder, tmp_path / "handin", specs, now=packaged).path
    assert zipped is not None
    return specs, zipped


def _tampered(zipped: Path, created_at: datetime, rezipped_at: datetime) -> Path:
    """The student's edit: an earlier created_at in manifest.json, zipped again by a zip tool
    that stamps the entries with the local time of the edit."""
    with zipfile.ZipFile(zipped) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(contents["manifest.json"])
    manifest["created_at"] = created_at.isoformat(timespec="seconds")
    contents["manifest.json"] = json.dumps(manifest).encode()
    target = zipped.parent.parent / "tampered" / "s123.zip"
    target.parent.mkdir()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in contents.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=rezipped_at.timetuple()[:6]), data)
    zipped.unlink()
    return target


def _result(out: Path) -> dict:
    return json.loads((out / "results" / "s123.json").read_text())


def test_a_tampered_manifest_time_is_caught_and_the_upload_time_is_used(tmp_path: Path) -> None:
    uploaded = DEADLINE + timedelta(days=15)
    specs, zipped = _handed_in(tmp_path, packaged=uploaded - timedelta(minutes=2))
    tampered = _tampered(zipped, DEADLINE - timedelta(hours=1), rezipped_at=uploaded.replace(tzinfo=None))

    # without --times: the edited time wins (on time, full marks), but the result says it is
    # self-reported, and the zip's own entries give the edit away
    done = grader("grade", specs, tampered.parent, "--out", tmp_path / "own", "--no-reports")
    assert done.returncode == 0, done.stderr
    own = _result(tmp_path / "own")
    assert own["score"] == own["max_score"] and own["lateness"] == []
    assert own["timing"]["source"] == "manifest" and own["timing"]["trusted"] is False
    assert [f["kind"] for f in own["timing"]["flags"]] == ["before_zip_entries"]
    assert "self-reported" in done.stdout and "time: s123: the manifest says" in done.stdout

    # with --times: the LMS's upload time, 15 days late, and the disagreement flagged
    lms = _csv(tmp_path, f"student,submitted_at\ns123,{uploaded.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}\n"
                         "s999,2026-12-01T10:00:00Z\n")
    done = grader("grade", specs, tampered.parent, "--out", tmp_path / "lms", "--times", lms)
    assert done.returncode == 0, done.stderr
    graded = _result(tmp_path / "lms")
    assert graded["score"] == pytest.approx(graded["max_score"] * 0.5)  # 15 days, capped at 50 %
    assert graded["timing"]["source"] == "times file" and graded["timing"]["trusted"] is True
    assert [f["kind"] for f in graded["timing"]["flags"]] == ["times_disagree", "before_zip_entries"]
    assert "times.csv:3: 's999' has no submission" in done.stderr               # warned, not failed
    gradebook = (tmp_path / "lms" / "grades.csv").read_text().splitlines()
    assert gradebook[0].endswith(",total,max,time_flags") and gradebook[1].endswith(",times_disagree before_zip_entries")
    report = (tmp_path / "lms" / "reports" / "students" / "s123.html").read_text()
    assert "as the course&#39;s LMS recorded the upload" in report and "Time flagged: the manifest says" in report


def test_an_honest_zip_is_not_flagged_and_an_extension_makes_it_on_time(tmp_path: Path) -> None:
    packaged = DEADLINE + timedelta(days=2)
    specs, zipped = _handed_in(tmp_path, packaged=packaged)
    lms = _csv(tmp_path, f"student,submitted_at\ns123,{(packaged + timedelta(minutes=3)).isoformat()}\n")
    late = grader("grade", specs, zipped.parent, "--out", tmp_path / "late", "--no-reports", "--times", lms)
    assert late.returncode == 0, late.stderr
    graded = _result(tmp_path / "late")
    assert graded["timing"]["flags"] == [] and graded["score"] == pytest.approx(graded["max_score"] * 0.7)
    extensions = _csv(tmp_path, "student,days\ns123,3\n", "extensions.csv")
    done = grader("grade", specs, zipped.parent, "--out", tmp_path / "ext", "--no-reports", "--times", lms,
                  "--extensions", extensions)
    graded = _result(tmp_path / "ext")
    assert graded["score"] == graded["max_score"] and graded["lateness"] == []
    assert graded["timing"]["extension"] == "extension: 3 more days (extensions.csv:2)"
    assert done.returncode == 0


def test_bad_time_files_are_bad_usage_with_file_and_line(tmp_path: Path) -> None:
    specs, zipped = _handed_in(tmp_path, packaged=DEADLINE)
    bad = _csv(tmp_path, "student,submitted_at\ns123,2026-12-01 10:00\n")
    done = grader("grade", specs, zipped.parent, "--out", tmp_path / "out", "--times", bad)
    assert done.returncode == 2 and f"{bad}:2: s123: '2026-12-01 10:00' has no time zone" in done.stderr
    missing = _csv(tmp_path, "student\ns123\n", "ext.csv")
    done = grader("grade", specs, zipped.parent, "--out", tmp_path / "out", "--extensions", missing)
    assert done.returncode == 2 and "ext.csv:1: the header has no 'deadline' or 'days' column" in done.stderr
    assert not (tmp_path / "out" / "results").exists()  # refused before any work
