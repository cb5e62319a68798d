"""What Gradescope hands an autograder: the submission folder and `submission_metadata.json`.

https://gradescope-autograders.readthedocs.io/en/latest/specs/ and .../submission_metadata/:
the harness puts the student's upload under `<root>/submission/` (a zip the student uploads
is extracted there) and writes `<root>/submission_metadata.json`:

    {"id": 123456, "created_at": "2018-07-01T14:22:32.365935-07:00",
     "assignment": {"due_date": "2018-07-31T23:00:00.000000-07:00", "title": "…", …},
     "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}, …], …}

`root` is `$AUTOGRADER_ROOT`, `/autograder` by default (the tests use a temporary tree).
The metadata is Gradescope's, not the student's: its `created_at` is the trusted
submission time, and the student id comes from its first user, never from the upload.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from grader.core.times import TimeError, parse_time
from grader.intake.submission import ANSWERS_FILE, STUDENT_ID

DEFAULT_ROOT = Path("/autograder")
METADATA = "submission_metadata.json"
MAX_METADATA_BYTES = 5_000_000
#: How the student id is taken from the metadata's first user (`grader gradescope --student-id`).
STUDENT_IDS = ("email-name", "email", "gradescope-id")
#: Files an operating system's zip tool adds that are never part of a submission.
_NOISE = ("__MACOSX", ".DS_Store")


def root_folder(given: Path | None = None) -> Path:
    """The autograder's root: `given`, else $AUTOGRADER_ROOT, else /autograder."""
    if given is not None:
        return given
    return Path(os.environ.get("AUTOGRADER_ROOT") or DEFAULT_ROOT)


@dataclass(frozen=True)
class Metadata:
    """What grading needs from submission_metadata.json, checked."""

    student: str | None = None
    """The student id (STUDENT_IDS says from which field); None when there is none to take."""
    submitted_at: str | None = None
    """Gradescope's submission time (ISO, with a zone)."""
    due_date: str | None = None
    """The assignment's due date in Gradescope, if set."""
    notes: tuple[str, ...] = ()
    """What could not be read (shown in the results' output)."""


def read_metadata(root: Path, student_id: str = "email-name") -> Metadata:
    """The metadata under `root`; a Metadata with notes (never an exception) when it is
    missing or malformed, so that grading still writes a results.json."""
    path = root / METADATA
    if not path.is_file():
        return Metadata(notes=(f"no {METADATA}: the submission time is unknown, so lateness was not assessed",))
    try:
        if path.stat().st_size > MAX_METADATA_BYTES:
            raise ValueError("it is too large")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        return Metadata(notes=(f"{METADATA} cannot be read ({type(exc).__name__}: {str(exc)[:200]})",))
    if not isinstance(data, dict):
        return Metadata(notes=(f"{METADATA} is not a JSON object",))
    notes: list[str] = []
    raw_assignment = data.get("assignment")
    assignment: dict[str, object] = raw_assignment if isinstance(raw_assignment, dict) else {}
    submitted = _time(data.get("created_at"), "created_at", notes)
    due = _time(assignment.get("due_date"), "assignment.due_date", notes) if assignment.get("due_date") else None
    return Metadata(_student(data.get("users"), student_id, notes), submitted, due, tuple(notes))


def _time(value: object, key: str, notes: list[str]) -> str | None:
    try:
        parse_time(value)
    except (TimeError, TypeError, ValueError, OverflowError):
        notes.append(f"{METADATA}: {key} {str(value)[:60]!r} is not a time; lateness was not assessed")
        return None
    return str(value)


def _student(users: object, how: str, notes: list[str]) -> str | None:
    first = users[0] if isinstance(users, list) and users else None
    if not isinstance(first, dict):
        notes.append(f"{METADATA} names no user: the submission is graded as an unnamed student")
        return None
    if isinstance(users, list) and len(users) > 1:
        notes.append(f"a group submission of {len(users)} students: graded under the first one's id")
    email = str(first.get("email") or "")
    value = {"email-name": email.split("@", 1)[0], "email": email,
             "gradescope-id": str(first.get("id") or "")}[how]
    if not STUDENT_ID.fullmatch(value):
        notes.append(f"{METADATA}: the {how} of the first user is not a student id grader can use")
        return None
    return value


def find_submission(folder: Path) -> Path:
    """What to grade in Gradescope's submission folder: the folder itself when it holds
    answers or code; else the one zip it holds (a `grader submit` zip uploaded as it is);
    else the one folder it holds (a zip of a folder, extracted by Gradescope)."""
    if not folder.is_dir() or _holds_answers(folder):
        return folder
    entries = [p for p in folder.iterdir() if p.name not in _NOISE and not p.name.startswith(".")]
    zips = [p for p in entries if p.suffix.lower() == ".zip" and p.is_file() and not p.is_symlink()]
    folders = [p for p in entries if p.is_dir() and not p.is_symlink()]
    if len(zips) == 1 and not folders:
        return zips[0]
    if len(folders) == 1 and not zips and _holds_answers(folders[0]):
        return folders[0]
    return folder


def _holds_answers(folder: Path) -> bool:
    return (folder / ANSWERS_FILE).exists() or any(folder.glob("*.py")) or any(folder.glob("*.ipynb"))
