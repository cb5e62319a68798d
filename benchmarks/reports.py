"""Rendering feedback reports for a class: time and peak memory for 1,000 graded students.

    python benchmarks/reports.py [--students 1000]

Baselines measured in the same run: `json.dumps` of the same results (the cost of merely
serialising them), and rendering a tenth of the class (to show that time grows linearly).
Peak memory is measured with tracemalloc in a separate pass, so it does not slow the timings.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.render import export, write_reports  # noqa: E402
from grader.render.math import _convert_cached  # noqa: E402
from tests.render_samples import synthetic_class  # noqa: E402


def timed(fn, repeat: int = 5) -> float:
    """Best wall time of `repeat` runs (the least disturbed by other load). The LaTeX
    cache is emptied first, so every run pays for converting its formulas."""
    best = float("inf")
    for _ in range(repeat):
        _convert_cached.cache_clear()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_mib(fn) -> float:
    _convert_cached.cache_clear()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    args = parser.parse_args()
    n = args.students
    results = synthetic_class(n)
    tenth = results[: max(1, n // 10)]
    questions = sum(len(r.questions) for r in results)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_reports(tenth, out / "warm")  # template compilation and caches, not measured
        t_json = timed(lambda: json.dumps([r.to_dict() for r in results]))
        t_tenth = timed(lambda: write_reports(tenth, out / "tenth"))
        t_full = timed(lambda: write_reports(results, out / "full"))
        t_csv = timed(lambda: export(results, "csv", out / "grades.csv"))
        t_gs = timed(lambda: export(results, "gradescope", out / "gradescope"))
        mem_full = peak_mib(lambda: write_reports(results, out / "mem"))
        mem_json = peak_mib(lambda: json.dumps([r.to_dict() for r in results]))
        size = sum(p.stat().st_size for p in (out / "full").rglob("*.html")) / 2**20

    per_student_ms = 1000 * t_full / n
    print(f"students: {n}  questions: {questions}  HTML written: {size:.1f} MiB")
    print(f"write_reports ({n} students + index): {t_full:.3f} s  ({per_student_ms:.2f} ms/student)")
    print(f"baseline json.dumps of the same results: {t_json:.3f} s  -> reports/json = {t_full / t_json:.1f}x")
    print(f"write_reports of {len(tenth)} students: {t_tenth:.3f} s  -> "
          f"full/tenth = {t_full / t_tenth:.1f}x for {n / len(tenth):.0f}x the students (linear = {n / len(tenth):.0f}x)")
    print(f"export csv: {t_csv:.3f} s   export gradescope ({n} files): {t_gs:.3f} s")
    print(f"peak traced memory: write_reports {mem_full:.1f} MiB, json.dumps {mem_json:.1f} MiB "
          f"-> {mem_full / mem_json:.1f}x")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
