"""Bulk grading throughput: N synthetic submissions of the demo specs, --jobs 1 vs --jobs 2.

Prints submissions per second, wall time and peak memory for each run, the speed-up of
two jobs over one (the baseline measured in the same run), and peak memory at N/4 vs N
submissions to show that memory stays flat as the class grows. Each run is a fresh
`grader grade` process, so start-up and writing results are counted too.

    python benchmarks/bulk.py [--n 1000] [--specs exercises/inf5860]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "class"


def make_class(folder: Path, n: int, seed: int = 0) -> Path:
    """N submissions cloned from the demo students' answers.yaml, with ids s000000...

    Only answers.yaml is copied: code questions run in the sandbox and are measured by
    benchmarks/sandbox.py; here they count as missing, as for a student who skipped them.
    """
    rng = random.Random(seed)
    templates = sorted(p / "answers.yaml" for p in EXAMPLES.iterdir() if (p / "answers.yaml").is_file())
    target = folder / f"class-{n}"
    target.mkdir()
    for i in range(n):
        student = target / f"s{i:06d}"
        student.mkdir()
        shutil.copyfile(rng.choice(templates), student / "answers.yaml")
    return target


def grade(specs: Path, klass: Path, out: Path, jobs: int) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB of the grading processes) for one `grader grade` run."""
    script = (
        "import resource, sys, runpy\n"
        "sys.argv = ['grader'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('grader', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print('PEAK_KB', max(own, kids), file=sys.stderr)\n"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, "grade", str(specs), str(klass), "--out", str(out),
                           "--jobs", str(jobs), "--no-reports", "-q"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"grader failed:\n{done.stderr}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return wall, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--specs", type=Path, default=ROOT / "exercises" / "inf5860")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = make_class(folder, args.n)
        small = make_class(folder, max(1, args.n // 4))
        rows = []
        for jobs in (1, 2):
            wall, peak = grade(args.specs, big, folder / f"out-{jobs}", jobs)
            rows.append((jobs, wall, peak))
            print(f"--jobs {jobs}: {args.n} submissions in {wall:.2f} s = {args.n / wall:,.0f} submissions/s, "
                  f"peak memory {peak:.0f} MiB")
        _, small_peak = grade(args.specs, small, folder / "out-small", 2)
        speedup = rows[0][1] / rows[1][1]
        print(f"speed-up of --jobs 2 over --jobs 1: {speedup:.2f}x")
        print(f"peak memory at {args.n // 4} vs {args.n} submissions (--jobs 2): {small_peak:.0f} vs "
              f"{rows[1][2]:.0f} MiB (ratio {rows[1][2] / small_peak:.2f})")
        goal = "met" if rows[1][1] < 5 else "NOT met"
        print(f"goal (1,000 submissions under 5 s with --jobs 2): {goal} at n={args.n}")


if __name__ == "__main__":
    main()
