"""`grader gradescope SPECS --to autograder.zip`: the autograder zip, and the settings file
inside it that `grader autograde` reads (see grader.gradescope for the layout)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from grader.core.version import __version__
from grader.authoring import lateness, solutions, spec
from grader.core.errors import GraderError
from grader.core.model import Course
from grader.intake.gradescope import STUDENT_IDS

CONFIG = "autograder.json"
CONFIG_FORMAT = "grader-autograder/1"
SCRIPTS = ("setup.sh", "run_autograder")
#: Where the deadline comes from: the specs' (`spec`; Gradescope's due date when no spec
#: sets one), or Gradescope's due date for every exercise (`gradescope`).
DEADLINES = ("spec", "gradescope")
#: The files a grader wheel is built from in a checkout (as tests/test_install.py builds it).
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md", "grader", "templates")


@dataclass(frozen=True)
class Config:
    """autograder.json: how `grader autograde` grades in the container."""

    specs: str = "course/specs"
    """The specs folder, relative to the source folder."""
    student_id: str = "email-name"
    """Which field of Gradescope's first user is the student id (grader.intake.gradescope.STUDENT_IDS)."""
    deadline: str = "spec"
    """One of DEADLINES."""
    late_penalty: dict[str, Any] | None = None
    """A late policy for every exercise (as `grade --late-penalty`), or None for the specs'."""

    def to_dict(self) -> dict[str, Any]:
        return {"format": CONFIG_FORMAT, "grader_version": __version__, "specs": self.specs,
                "student_id": self.student_id, "deadline": self.deadline, "late_penalty": self.late_penalty}


def read_config(source: Path) -> Config:
    """The source folder's autograder.json; GraderError when it is missing or not one."""
    try:
        data = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GraderError(f"{CONFIG} cannot be read: {type(exc).__name__}") from None
    if not isinstance(data, dict) or data.get("format") != CONFIG_FORMAT:
        raise GraderError(f"{CONFIG} is not a {CONFIG_FORMAT} file; build the autograder again")
    config = Config(specs=str(data.get("specs")), student_id=str(data.get("student_id")),
                    deadline=str(data.get("deadline")), late_penalty=data.get("late_penalty"))
    _check(config)
    return config


def _check(config: Config) -> None:
    if config.student_id not in STUDENT_IDS:
        raise GraderError(f"--student-id: {config.student_id!r} is not one of {', '.join(STUDENT_IDS)}")
    if config.deadline not in DEADLINES:
        raise GraderError(f"--deadline: {config.deadline!r} is not one of {', '.join(DEADLINES)}")
    if config.late_penalty is not None:
        try:
            lateness.load_policy(config.late_penalty)
        except ValueError as exc:
            raise GraderError(f"--late-penalty: {exc}") from None


@dataclass(frozen=True)
class Built:
    path: Path
    files: list[str] = field(default_factory=list)
    """The zip's entries."""
    wheels: list[str] = field(default_factory=list)
    """The wheels in it (grader's first)."""

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def build(course: Course, spec_paths: Sequence[Path], to: Path, config: Config,
          wheels: Path | None = None) -> Built:
    """Write the autograder zip for `course` (loaded from `spec_paths`) to `to`.

    grader's wheel is the one in `wheels` when it holds one, else built from this checkout;
    every other wheel in `wheels` goes in too. Raises GraderError when there is no grader
    wheel to be had (grader installed from a wheel, and none given)."""
    _check(config)
    given = sorted(wheels.glob("*.whl")) if wheels is not None else []
    if wheels is not None and not wheels.is_dir():
        raise GraderError(f"--wheels: {wheels} is not a folder")
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as work:
        grader_wheel = next((w for w in given if w.name.startswith("grader-")), None) or _build_wheel(Path(work))
        entries: dict[str, Path | bytes] = {name: _script(name) for name in SCRIPTS}
        entries[CONFIG] = (json.dumps(config.to_dict(), indent=2) + "\n").encode()
        entries["constraints.txt"] = constraints().encode()
        for wheel in [grader_wheel, *(w for w in given if w != grader_wheel)]:
            entries[f"wheels/{wheel.name}"] = wheel
        entries.update(_course_files(course, spec_paths, config.specs))
        return _write_zip(to, entries)


def _script(name: str) -> Path:
    return Path(__file__).with_name(name)


def _course_files(course: Course, spec_paths: Sequence[Path], specs_at: str) -> dict[str, Path]:
    """The spec files under `specs_at` (their folders kept, relative to the path given) and the
    solutions folder beside it, where the specs find it."""
    found = {f"{specs_at}/{name}": file for given in spec_paths for name, file in spec.spec_entries(given)}
    if course.solutions_root is not None:
        solutions_at = specs_at.rsplit("/", 1)[0] + "/solutions"
        found.update({f"{solutions_at}/{name}": file for name, file in solutions.source_files(course.solutions_root)})
    return found


def _build_wheel(work: Path) -> Path:
    """grader's wheel, built with pip from the checkout this grader runs from."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "pyproject.toml").is_file() or not (checkout / "setup.py").is_file():
        raise GraderError("grader is installed from a wheel, so it cannot build one: pass --wheels DIR "
                          "with the grader-*.whl it was installed from")
    source = work / "src"
    source.mkdir()
    for name in PROJECT_FILES:
        path = checkout / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            shutil.copy2(path, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source),
                           "-w", str(work / "dist")], capture_output=True, text=True, timeout=900)
    wheels = sorted((work / "dist").glob("grader-*.whl"))
    if done.returncode != 0 or not wheels:
        raise GraderError("building grader's wheel failed (pip wheel): "
                          + (done.stderr or done.stdout).strip()[-1500:])
    return wheels[0]


def constraints() -> str:
    """grader's dependencies (with the ml extra) at the versions installed here: the autograder
    installs what the specs were validated with. torch keeps its CPU build's local version off
    (`2.13.0`, not `2.13.0+cpu`), which the CPU index serves under both."""
    lines = [f"# grader {__version__}'s dependencies as installed where the autograder was built"]
    for requirement in metadata.requires("grader") or []:
        name_part, _, marker = requirement.partition(";")
        if marker and "extra" in marker and '"ml"' not in marker and "'ml'" not in marker:
            continue
        name = re.split(r"[\s<>=!~\[(]", name_part.strip(), maxsplit=1)[0]
        try:
            version = metadata.version(name).split("+", 1)[0]
        except metadata.PackageNotFoundError:
            lines.append(name_part.strip())
            continue
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def _write_zip(to: Path, entries: dict[str, Path | bytes]) -> Built:
    """The zip, written beside `to` and moved into place (a half-written zip is never left)."""
    to.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{to.name}.", dir=to.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(entries, key=lambda n: (n not in SCRIPTS, n)):
                content = entries[name]
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o100755 if name in SCRIPTS else 0o100644) << 16
                archive.writestr(info, content if isinstance(content, bytes) else content.read_bytes())
        os.chmod(temporary, 0o644)  # mkstemp's file is private; a zip to upload is not
        os.replace(temporary, to)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    names = sorted(entries)
    return Built(to, names, [n.split("/", 1)[1] for n in names if n.startswith("wheels/")])
