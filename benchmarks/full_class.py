"""The whole INF 5860 sheet for a class: seconds per submission and peak memory.

    python benchmarks/full_class.py --n 10 [--jobs 2] [--distinct] [--leave-out ID] [--specs exercises/inf5860]

Copies every demo student of examples/class (answers.yaml and their .py files) N times
under new ids, runs `grader grade SPECS CLASS --out OUT --jobs J` as one subprocess (so
start-up, the zygote, the sandbox, training every model question and writing results and
reports all count) and prints its seconds per submission and the peak memory of its whole
process tree (the grader, its workers, their zygotes and sandbox children), sampled from
/proc. It does so at N/2 and at N, to show memory flat in N, and prints the last line as
`full class: N=.. jobs=.. s/sub=.. peak_rss_mb=..`.

The copies are byte-identical, so a worker that met a file before reuses its sandbox
outcome (the course's memo keys outcomes on exactly what the code sees). `--distinct`
adds a comment with the copy's id to every .py file, so every copy runs afresh: the
cost of a class whose code all differs.

Peak memory: the largest sum over the tree, sampled every 0.25 s, of each process's
proportional set size (PSS, from /proc/PID/smaps_rollup: pages the forked children share
with their zygote are counted once, not once per process), with the largest single
process's peak RSS (getrusage of the waited children) beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "class"
SAMPLE_S = 0.25


@dataclass(frozen=True)
class Run:
    """One `grader grade` run of a class."""

    submissions: int
    jobs: int
    wall_s: float
    tree_peak_mb: float
    """The largest sum of PSS over the process tree seen while it ran."""
    process_peak_mb: float
    """The largest peak RSS of any one process of the tree (RUSAGE_CHILDREN)."""

    @property
    def per_submission(self) -> float:
        return self.wall_s / self.submissions


def students_of(examples: Path, leave_out: Sequence[str] = ()) -> list[Path]:
    """The demo students to copy: every folder with an answers.yaml, less those left out."""
    return sorted(p for p in examples.iterdir() if (p / "answers.yaml").is_file() and p.name not in leave_out)


def make_class(folder: Path, copies: int, distinct: bool, students: Sequence[Path]) -> Path:
    """`copies` copies of every student given, as students c0000-s100001, c0001-s100001, …"""
    target = folder / f"class-{copies}"
    target.mkdir()
    for copy in range(copies):
        for student in students:
            into = target / f"c{copy:04d}-{student.name}"
            shutil.copytree(student, into)
            if distinct:
                for module in into.glob("*.py"):
                    with module.open("a", encoding="utf-8") as handle:
                        handle.write(f"\n# copy {into.name}\n")
    return target


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc/*/stat (field 4 is the parent's pid)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry))
    return tree


def _pss_kb(pid: int) -> int:
    """The process's proportional set size in KiB (its RSS where smaps_rollup is unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0


def tree_kb(root: int) -> int:
    """The PSS of `root` and all its descendants, in KiB."""
    tree, total, stack = _children(), 0, [root]
    while stack:
        pid = stack.pop()
        total += _pss_kb(pid)
        stack.extend(tree.get(pid, []))
    return total


def grade(specs: Path, klass: Path, out: Path, jobs: int, submissions: int) -> Run:
    """Run `grader grade` on the class once, sampling the memory of its process tree."""
    command = [sys.executable, "-m", "grader", "grade", str(specs), str(klass), "--out", str(out),
               "--jobs", str(jobs), "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    peak = [0]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            peak[0] = max(peak[0], tree_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"grader grade failed (exit {process.returncode}):\n{errors}")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Run(submissions, jobs, wall, peak[0] / 1024, largest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="copies of the demo class (7 students each)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--specs", type=Path, default=ROOT / "exercises" / "inf5860")
    parser.add_argument("--distinct", action="store_true", help="make every copy's code differ (no reuse)")
    parser.add_argument("--leave-out", action="append", default=[], metavar="ID",
                        help="a demo student not to copy (repeat), e.g. s100007, whose endless loop costs its "
                             "question's whole time limit in every copy")
    args = parser.parse_args()
    if args.n < 1 or args.jobs < 1:
        parser.error("--n and --jobs must be at least 1")
    students = students_of(EXAMPLES, args.leave_out)
    unknown = sorted(set(args.leave_out) - {p.name for p in EXAMPLES.iterdir()})
    if unknown or not students:
        parser.error(f"--leave-out: {', '.join(unknown) or 'every student'} "
                     + ("is not a demo student" if unknown else "left out: nothing to grade"))
    per_copy = len(students)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = []
        for copies in sorted({max(1, args.n // 2), args.n}):
            klass = make_class(folder, copies, args.distinct, students)
            run = grade(args.specs, klass, folder / f"out-{copies}", args.jobs, copies * per_copy)
            runs.append(run)
            print(f"N={copies} copies ({run.submissions} submissions), --jobs {run.jobs}: {run.wall_s:.1f} s = "
                  f"{run.per_submission:.2f} s/submission; peak memory of the process tree {run.tree_peak_mb:.0f} MiB "
                  f"(PSS), largest single process {run.process_peak_mb:.0f} MiB (RSS)")
        if len(runs) == 2:
            print(f"peak memory at N={args.n // 2} vs N={args.n}: {runs[0].tree_peak_mb:.0f} vs "
                  f"{runs[1].tree_peak_mb:.0f} MiB (ratio {runs[1].tree_peak_mb / runs[0].tree_peak_mb:.2f})")
        last = runs[-1]
        print(f"full class: N={args.n} jobs={args.jobs} s/sub={last.per_submission:.2f} "
              f"peak_rss_mb={last.tree_peak_mb:.0f}")


if __name__ == "__main__":
    main()
