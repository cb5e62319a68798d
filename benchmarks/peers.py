"""grader against its peers: one small assignment graded by grader, nbgrader and otter-grader.

The assignment (benchmarks/peers/): three numeric answers, three code functions and the
spiral model of INF 5860 exercise 3. The same N submissions (a mix of right and wrong
answers, the same answers for every system) are graded by

- grader: `grader grade SPEC SUBMISSIONS --out DIR --jobs 1` (and `--jobs 2`), one process;
- nbgrader 0.9.6: `nbgrader autograde ps1` on N submitted notebooks, one process;
- otter-grader 7.0.0: `otter run -a autograder.zip` once per submission (otter's way to grade
  without Docker), with the tests as OK-format test files.

Every command runs as a subprocess and is timed by its wall clock, start-up included; what
builds each system's assignment (nbgrader's `generate_assignment`, the otter zip) and what
reads the results afterwards are not timed. grader runs with `--no-reports`: it still writes
its results and gradebook, and neither peer writes feedback in the commands timed here
(nbgrader's `generate_feedback` is a separate step, `otter run` writes results.json).
Warm-up: each system first grades one submission untimed (so no one pays for a cold disk
cache), then the timed run. Every command sees the same thread settings (OMP/MKL/OPENBLAS
threads = 1; the spec's code questions ask grader's sandbox for one thread too). CPU seconds
are printed beside wall time: on a shared machine other load moves them less. The three
systems' verdicts (full marks or not, per question and student) are compared, one warning
line per disagreement. The peers live in a venv this script makes (`--venv` to reuse one).

    python benchmarks/peers.py [--n 10] [--venv PATH] [--keep]

The last line printed is `peers: grader=X s/sub nbgrader=Y s/sub otter=Z s/sub`.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "benchmarks" / "peers"
SPEC = ASSIGNMENT / "ex03.yaml"
ASSIGNMENT_NAME = "ps1"
NOTEBOOK = "ex03.ipynb"
PEER_PACKAGES = ("nbgrader==0.9.6", "otter-grader==7.0.0", "torch==2.13.0", "numpy")
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
STEP_TIMEOUT_S = 1800
CPU_UNCOUNTED = {"grader --jobs 2": "not counted (its pool workers exit before their sandbox processes "
                                    "are waited for, so the children's rusage misses most of the work)"}
KEYS = {"g": "g", "sigmoid_grad_max": "sigmoid_grad_max", "n_params": "n_params",
        "e": "hidden_layer", "f": "maxnorm", "h": "momentum_step", "model": "model"}
"""Grader's question id -> the name of its answer (answers.yaml) and check (checks/NAME.py)."""
NUMERIC = ("g", "sigmoid_grad_max", "n_params")


class BenchmarkError(Exception):
    """A step failed; main prints the message, never a traceback."""


# ----------------------------------------------------------------------------- the assignment


@dataclass(frozen=True)
class Question:
    """One question as every system sees it: the right and wrong answer and the peers' check."""

    qid: str
    key: str
    points: float
    right: str
    wrong: str
    check: str

    def answer(self, right: bool) -> str:
        """The source of the answer cell (and of ex03.py's part, for a code question)."""
        return self.right if right else self.wrong


@dataclass(frozen=True)
class Student:
    """A submission: its id and the questions it answers right (the others it answers wrong)."""

    sid: str
    right: frozenset[str]


def load_questions(folder: Path = ASSIGNMENT) -> tuple[Question, ...]:
    """The questions of the grader spec, joined with the answers and checks the peers use."""
    spec = yaml.safe_load((folder / SPEC.name).read_text(encoding="utf-8"))
    answers = yaml.safe_load((folder / "answers.yaml").read_text(encoding="utf-8"))
    points = {q["id"]: float(q["points"]) for q in spec["questions"]}
    if set(points) != set(KEYS):
        raise BenchmarkError(f"{SPEC.name} has questions {sorted(points)}, the benchmark knows {sorted(KEYS)}")
    return tuple(Question(qid, key, points[qid], _source(qid, key, answers[key]["right"]),
                          _source(qid, key, answers[key]["wrong"]),
                          (folder / "checks" / f"{key}.py").read_text(encoding="utf-8"))
                 for qid, key in KEYS.items())


def _source(qid: str, key: str, answer: object) -> str:
    """A numeric answer becomes the assignment `key = value`; code is kept as written."""
    return f"{key} = {answer!r}\n" if qid in NUMERIC else str(answer)


def make_students(questions: Sequence[Question], n: int, seed: int = 0) -> tuple[Student, ...]:
    """N students: the first right everywhere, the second wrong everywhere, the rest right
    with probability 0.6 per question, so each question sees both kinds of answer."""
    rng = random.Random(seed)
    qids = [q.qid for q in questions]
    students = []
    for i in range(n):
        right = set(qids) if i == 0 else set() if i == 1 else {q for q in qids if rng.random() < 0.6}
        students.append(Student(f"s{i:03d}", frozenset(right)))
    return tuple(students)


# ----------------------------------------------------------------------------- grader's side


def write_grader_submission(folder: Path, questions: Sequence[Question], student: Student) -> Path:
    """folder/<sid>/answers.yaml (the numeric answers) and ex03.py (the code answers)."""
    target = folder / student.sid
    target.mkdir(parents=True)
    values = {q.qid: yaml.safe_load(q.answer(q.qid in student.right).split("=", 1)[1])
              for q in questions if q.qid in NUMERIC}
    (target / "answers.yaml").write_text(yaml.safe_dump({"ex03": values}), encoding="utf-8")
    code = [q.answer(q.qid in student.right) for q in questions if q.qid not in NUMERIC]
    (target / "ex03.py").write_text("\n\n".join(code), encoding="utf-8")
    return target


def grader_verdicts(out: Path) -> dict[str, dict[str, bool]]:
    """student -> question -> full marks, from grader's results/*.json."""
    verdicts: dict[str, dict[str, bool]] = {}
    for path in sorted((out / "results").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        verdicts[data["student"]] = {q["id"].split(".", 1)[1]: q["score"] >= q["max_score"] - 1e-9
                                     for q in data["questions"]}
    return verdicts


# ----------------------------------------------------------------------------- nbgrader's side


def _cell_meta(grade_id: str, *, solution: bool, points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": points is not None, "solution": solution, "locked": not solution,
                            "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def nbgrader_source(questions: Sequence[Question]) -> nbformat.NotebookNode:
    """The instructor's notebook: per question a solution cell (the right answer between
    BEGIN/END SOLUTION) and an autograder test cell worth the question's points."""
    cells = [nbformat.v4.new_markdown_cell("# Exercise 3 (peer benchmark)")]
    for q in questions:
        cells.append(nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\n{q.right}### END SOLUTION\n",
                                               metadata=_cell_meta(f"answer_{q.qid}", solution=True)))
        cells.append(nbformat.v4.new_code_cell(q.check, metadata=_cell_meta(f"test_{q.qid}", solution=False,
                                                                            points=q.points)))
    return _notebook(cells)


def _notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    return book


def nbgrader_submission(released: nbformat.NotebookNode, questions: Sequence[Question],
                        student: Student) -> nbformat.NotebookNode:
    """The released notebook with each solution cell filled in with the student's answer."""
    book = nbformat.from_dict(json.loads(json.dumps(released)))
    by_id = {f"answer_{q.qid}": q for q in questions}
    for cell in book.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in by_id and cell.metadata["nbgrader"].get("solution"):
            question = by_id[grade_id]
            cell.source = question.answer(question.qid in student.right)
    return book


NBGRADER_CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "peers"
c.Execute.timeout = 600
"""

NBGRADER_SCORES = """import json, sys
from nbgrader.api import Gradebook
with Gradebook("sqlite:///" + sys.argv[1]) as gb:
    out = {}
    for sub in gb.assignment_submissions(sys.argv[2]):
        cells = {}
        for nb in sub.notebooks:
            for grade in nb.grades:
                cells[grade.name] = [grade.score, grade.max_score]
        out[sub.student.id] = cells
print(json.dumps(out))
"""


def nbgrader_course(root: Path, questions: Sequence[Question], students: Sequence[Student],
                    env: Mapping[str, str]) -> Callable[[], None]:
    """A course folder with the assignment generated and the students' notebooks submitted;
    returns the timed step, `nbgrader autograde ps1`."""
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(root=str(root)), encoding="utf-8")
    source = root / "source" / ASSIGNMENT_NAME
    source.mkdir(parents=True)
    nbformat.write(nbgrader_source(questions), source / NOTEBOOK)
    _run(["nbgrader", "generate_assignment", ASSIGNMENT_NAME, "--create", "--force"], root, env)
    released = nbformat.read(root / "release" / ASSIGNMENT_NAME / NOTEBOOK, as_version=4)
    for student in students:
        folder = root / "submitted" / student.sid / ASSIGNMENT_NAME
        folder.mkdir(parents=True)
        nbformat.write(nbgrader_submission(released, questions, student), folder / NOTEBOOK)
    return lambda: _run(["nbgrader", "autograde", ASSIGNMENT_NAME, "--create", "--force"], root, env)


def nbgrader_verdicts(root: Path, python: Path, env: Mapping[str, str]) -> dict[str, dict[str, bool]]:
    """student -> question -> full marks, from the gradebook autograde filled."""
    done = _run([str(python), "-c", NBGRADER_SCORES, str(root / "gradebook.db"), ASSIGNMENT_NAME], root, env)
    cells = json.loads(done.stdout)
    return {sid: {name[len("test_"):]: score >= top - 1e-9 for name, (score, top) in grades.items()
                  if name.startswith("test_")}
            for sid, grades in cells.items()}


# ----------------------------------------------------------------------------- otter's side


def ok_test(question: Question) -> str:
    """An OK-format test file whose one doctest case runs the check, statement by statement."""
    return "OK_FORMAT = True\n\ntest = " + repr({
        "name": f"q_{question.qid}", "points": question.points,
        "suites": [{"cases": [{"code": doctest_lines(question.check), "hidden": False, "locked": False}],
                    "scored": True, "setup": "", "teardown": "", "type": "doctest"}],
    }) + "\n"


def doctest_lines(source: str) -> str:
    """The check as a doctest session: `>>> ` before each top-level statement, `... ` before
    its other lines (doctest compiles each example as one statement)."""
    lines = source.splitlines()
    session = []
    for node in ast.parse(source).body:
        first = node.lineno - 1 - len(getattr(node, "decorator_list", []))
        chunk = lines[first:node.end_lineno]
        session.append(">>> " + chunk[0])
        session.extend("... " + line if line.strip() else "..." for line in chunk[1:])
        if isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.With, ast.If, ast.ClassDef, ast.Try)):
            session.append("...")
    return "\n".join(session) + "\n"


def write_otter_autograder(path: Path, questions: Sequence[Question]) -> Path:
    """The autograder zip `otter run` takes: otter_config.json and tests/q_<id>.py."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("otter_config.json", json.dumps({"pdf": False}))
        for q in questions:
            archive.writestr(f"tests/q_{q.qid}.py", ok_test(q))
    return path


def otter_submission(questions: Sequence[Question], student: Student) -> nbformat.NotebookNode:
    """The student's notebook for otter: one answer cell per question."""
    return _notebook([nbformat.v4.new_code_cell(q.answer(q.qid in student.right)) for q in questions])


def otter_verdicts(results: Path) -> dict[str, bool]:
    """question -> full marks, from one results.json of `otter run`."""
    data = json.loads(results.read_text(encoding="utf-8"))
    scored = {test["name"].removeprefix("q_"): test["score"] >= test["max_score"] - 1e-9
              for test in data["tests"] if test["name"].startswith("q_") and "score" in test}
    if not scored:  # "Autograder Failed": otter could not run the notebook or read its tests
        raise BenchmarkError(f"otter graded nothing in {results}: {json.dumps(data['tests'])[:2000]}")
    return scored


# ----------------------------------------------------------------------------- running


def _run(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """One step as a subprocess; BenchmarkError with its output's tail when it fails."""
    try:
        done = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True, text=True,
                              timeout=STEP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchmarkError(f"{command[0]} {' '.join(command[1:3])}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise BenchmarkError(f"{' '.join(command[:3])} exited {done.returncode}:\n{tail}")
    return done


@dataclass(frozen=True)
class Cost:
    """Wall seconds, and CPU seconds of the finished subprocesses and their waited-for children
    (the second figure is the one that other load on a shared machine disturbs less)."""

    wall: float
    cpu: float

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.wall + other.wall, self.cpu + other.cpu)


def timed(action: Callable[[], object]) -> Cost:
    """The cost of running `action`, which runs subprocesses to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Cost(wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def make_venv(path: Path) -> float:
    """Seconds to make the peers' venv (0 when `path` already holds nbgrader and otter)."""
    python = path / "bin" / "python"
    if (path / "bin" / "nbgrader").exists() and (path / "bin" / "otter").exists():
        return 0.0
    started = time.perf_counter()
    _run([sys.executable, "-m", "venv", str(path)], ROOT, os.environ)
    _run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], ROOT, os.environ)
    return time.perf_counter() - started


def environments(venv: Path, scratch: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(grader's, the peers') environments: the same thread settings for both; the peers get
    their venv first on PATH and Jupyter folders of their own under the scratch folder."""
    base = {**os.environ, **THREADS}
    jupyter = {f"JUPYTER_{name}_DIR": str(scratch / "jupyter" / name.lower()) for name in ("CONFIG", "DATA", "RUNTIME")}
    peers = {**base, **jupyter, "PATH": f"{venv / 'bin'}{os.pathsep}{base.get('PATH', '')}",
             "VIRTUAL_ENV": str(venv)}
    peers.pop("PYTHONPATH", None)
    return base, peers


def grader_command() -> list[str]:
    """The installed `grader` script beside this interpreter, else `python -m grader`."""
    script = Path(sys.executable).parent / "grader"
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def run_grader(scratch: Path, questions: Sequence[Question], students: Sequence[Student],
               env: Mapping[str, str], jobs: int, name: str) -> tuple[Cost, dict[str, dict[str, bool]]]:
    """(cost, verdicts) of one `grader grade` process over the students."""
    klass = scratch / f"{name}-class"
    for student in students:
        write_grader_submission(klass, questions, student)
    out = scratch / f"{name}-out"
    command = [*grader_command(), "grade", str(SPEC), str(klass), "--out", str(out), "--jobs", str(jobs),
               "--no-reports", "-q"]
    cost = timed(lambda: _run(command, ROOT, env))
    return cost, grader_verdicts(out)


def run_nbgrader(scratch: Path, questions: Sequence[Question], students: Sequence[Student],
                 env: Mapping[str, str], venv: Path, name: str) -> tuple[Cost, dict[str, dict[str, bool]]]:
    """(cost of `nbgrader autograde`, verdicts) over the students."""
    root = scratch / f"{name}-course"
    autograde = nbgrader_course(root, questions, students, env)
    cost = timed(autograde)
    return cost, nbgrader_verdicts(root, venv / "bin" / "python", env)


def run_otter(scratch: Path, questions: Sequence[Question], students: Sequence[Student],
              env: Mapping[str, str], name: str) -> tuple[Cost, dict[str, dict[str, bool]]]:
    """(cost of all `otter run` processes, verdicts), one process per submission."""
    folder = scratch / f"{name}-otter"
    folder.mkdir()
    autograder = write_otter_autograder(folder / "autograder.zip", questions)
    cost, verdicts = Cost(0.0, 0.0), {}
    for student in students:
        notebook, out = folder / student.sid / NOTEBOOK, folder / student.sid / "out"
        out.mkdir(parents=True)
        nbformat.write(otter_submission(questions, student), notebook)
        command = ["otter", "run", "-a", str(autograder), "-o", str(out), "--no-logo", str(notebook)]
        cost += timed(lambda: _run(command, folder, env))
        verdicts[student.sid] = otter_verdicts(out / "results.json")
    return cost, verdicts


def disagreements(questions: Sequence[Question], students: Sequence[Student],
                  verdicts: Mapping[str, Mapping[str, Mapping[str, bool]]]) -> list[str]:
    """One line per (student, question) where the systems' verdicts differ or a verdict is missing."""
    lines = []
    for student in students:
        for q in questions:
            seen = {system: by[student.sid].get(q.qid) if student.sid in by else None
                    for system, by in verdicts.items()}
            if len(set(seen.values())) > 1 or None in seen.values():
                said = " ".join(f"{system}={_word(v)}" for system, v in seen.items())
                intended = _word(q.qid in student.right)
                lines.append(f"warning: {student.sid} {q.qid} ({intended} answer): {said}")
    return lines


def _word(verdict: bool | None) -> str:
    return "missing" if verdict is None else "right" if verdict else "wrong"


def benchmark(n: int, venv: Path, scratch: Path) -> None:
    """Warm up each system on one submission, then grade all N with each and print the figures."""
    questions = load_questions()
    students = make_students(questions, n)
    setup = make_venv(venv)
    print(f"peers venv {venv}: " + (f"made in {setup:.1f} s" if setup else "reused"))
    grader_env, peer_env = environments(venv, scratch)
    right = sum(len(s.right) for s in students)
    print(f"{n} submissions, {right} right and {n * len(questions) - right} wrong answers; "
          f"warm-up: one untimed submission per system; threads: {THREADS}")
    warm = students[:1]
    run_grader(scratch, questions, warm, grader_env, 1, "warm")
    run_nbgrader(scratch, questions, warm, peer_env, venv, "warm")
    run_otter(scratch, questions, warm, peer_env, "warm")
    walls: dict[str, Cost] = {}
    walls["grader"], grader_says = run_grader(scratch, questions, students, grader_env, 1, "jobs1")
    walls["grader --jobs 2"], _ = run_grader(scratch, questions, students, grader_env, 2, "jobs2")
    walls["nbgrader"], nbgrader_says = run_nbgrader(scratch, questions, students, peer_env, venv, "timed")
    walls["otter"], otter_says = run_otter(scratch, questions, students, peer_env, "timed")
    for line in disagreements(questions, students, {"grader": grader_says, "nbgrader": nbgrader_says,
                                                     "otter": otter_says}):
        print(line)
    base = walls["grader"]
    for system, cost in walls.items():
        cpu = CPU_UNCOUNTED.get(system) or f"{cost.cpu / n:.2f} s/sub ({cost.cpu / base.cpu:.1f}x)"
        print(f"{system}: {n} submissions in {cost.wall:.2f} s wall = {cost.wall / n:.2f} s/sub "
              f"({cost.wall / base.wall:.1f}x grader --jobs 1); CPU {cpu}")
    print(f"peers: grader={base.wall / n:.2f} s/sub nbgrader={walls['nbgrader'].wall / n:.2f} s/sub "
          f"otter={walls['otter'].wall / n:.2f} s/sub")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="submissions per system (at least 2)")
    parser.add_argument("--venv", type=Path, default=Path.home() / ".cache" / "grader-peers" / "venv",
                        help="the peers' venv: made if it lacks nbgrader or otter, else reused")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and print its path")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows as it comes
    if args.n < 2:
        parser.error("--n must be at least 2 (one right and one wrong submission)")
    scratch = Path(tempfile.mkdtemp(prefix="grader-peers-"))
    if args.keep:
        print(f"scratch folder (kept): {scratch}")
    try:
        benchmark(args.n, args.venv.resolve(), scratch)
    except BenchmarkError as exc:
        raise SystemExit(f"peers: {exc}") from None
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
