"""grader as it is installed, not as it runs from the checkout: the wheel holds what the
package reads at run time (the report templates) and no generic top-level module, and the
command it installs validates and grades the demo class from a folder outside the checkout.

The wheel is built with pip from a copy of the project's files (the checkout gets no
build/ folder) and installed with --no-deps into a fresh virtual environment; that
environment borrows this one's site-packages for the dependencies through a .pth file
(torch is a large install, and installing the dependencies is pip's job, not grader's).
A .pth-listed folder is not a site folder, so this environment's editable grader is not
seen there: `grader` is the wheel's. .ci/run installs the wheel with its dependencies too.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, EXERCISES, ROOT

#: What the wheel is built from: the files `git ls-files` would give for the package.
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md", "grader", "templates")


def build_wheel(target: Path) -> Path:
    source = target / "src"
    source.mkdir(parents=True)
    for name in PROJECT_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source),
                           "-w", str(target / "dist")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (target / "dist").glob("grader-*.whl")
    return wheel


def fresh_environment(target: Path, wheel: Path) -> Path:
    """A new venv holding the wheel; its dependencies come from this environment's site-packages."""
    venv = target / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                           str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv


def clean_env(home: Path) -> dict[str, str]:
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "GRADER_DEBUG")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "HOME": str(home), "COLUMNS": "120"}


def test_the_wheel_holds_the_package_and_its_templates_and_nothing_else(tmp_path: Path) -> None:
    wheel = zipfile.ZipFile(build_wheel(tmp_path))
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"grader", "grader-0.1.0.dist-info"}, sorted(top)
    templates = sorted(p.name for p in (ROOT / "templates").iterdir() if p.suffix == ".j2")
    assert sorted(n.split("/")[-1] for n in names if n.startswith("grader/templates/")) == templates
    # every file the package reads at run time that is not Python is in the wheel
    data = sorted(str(p.relative_to(ROOT / "grader")) for p in (ROOT / "grader").rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc"))
    assert all(f"grader/{name}" in names for name in data), data
    assert "grader/cli.py" in names and "grader/__main__.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "grader = grader.cli:main" in wheel.read(entry_points).decode()


@pytest.mark.slow
def test_the_installed_command_grades_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    venv = fresh_environment(tmp_path, build_wheel(tmp_path))
    course = tmp_path / "course"  # what an instructor has: specs, solutions, submissions
    shutil.copytree(EXERCISES, course / "exercises" / "inf5860")
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(EXAMPLES, course / "examples" / "class")
    env = clean_env(tmp_path)
    # the checkout is not on sys.path (its .venv's site-packages, lent for the dependencies, is)
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import grader, sys; print(grader.__file__); "
                            "print(any(p == sys.argv[1] or p.startswith(sys.argv[1] + '/') and '-packages' not in p "
                            "for p in sys.path))", str(ROOT)],
                           cwd=course, capture_output=True, text=True, env=env, check=True).stdout.split()
    assert where[0].startswith(str(venv)) and where[1] == "False", where
    grader = str(venv / "bin" / "grader")

    validated = subprocess.run([grader, "validate", "exercises/inf5860"], cwd=course, capture_output=True,
                               text=True, env=env, timeout=900)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    graded = subprocess.run([grader, "grade", "exercises/inf5860", "examples/class", "--out", "out", "--jobs", "2"],
                            cwd=course, capture_output=True, text=True, env=env, timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    out = course / "out"
    assert (out / "grades.csv").is_file() and (out / "reports" / "index.html").is_file()
    assert len(list((out / "reports").rglob("s1000*.html"))) == 7
    best = json.loads((out / "results" / "s100001.json").read_text())
    auto = [q for q in best["questions"] if q["kind"] != "text"]
    assert [q["id"] for q in auto if q["status"] != "correct"] == [], best["warnings"]
    assert best["score"] == sum(q["max_score"] for q in auto)


def test_installed_the_sandbox_reads_site_packages_but_not_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed, grader's own folder is site-packages, where numpy and torch live too: the
    child must read it (in a checkout the folder that holds grader is kept out)."""
    from grader.sandbox import client

    packages = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    course = tmp_path / "course"
    packages.mkdir(parents=True)
    course.mkdir()
    monkeypatch.setattr(client, "PACKAGE_ROOT", packages)
    monkeypatch.setattr(sys, "path", [str(course), str(packages)])
    assert client.installed()
    readable = client.read_paths()
    assert str(packages.resolve()) in readable and str(course.resolve()) not in readable
