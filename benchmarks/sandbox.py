"""Sandbox speed: per-question latency and batch throughput, against a fresh interpreter.

    python benchmarks/sandbox.py [--runs 40] [--baseline-runs 5] [--submissions 200] [--jobs 2]

1. Latency of one trivial numpy question and one torch question through `grader.sandbox`
   (fork from the warm zygote, lock-down, import the student module, call, send back),
   back-to-back and paced (20 ms of other work between questions, which lets the zygote
   pre-fork the next child off the clock, as in a real batch), next to the same question in a fresh `python -I` subprocess that imports numpy/torch
   itself, measured in the same run. The ratio is the figure to watch (goal: >= 20x, and
   < 30 ms per question with torch pre-loaded).
2. Throughput: `grader.api.grade_paths` over N generated submissions of the code questions
   of ex03/ex06 (4 questions each), with `--jobs` worker processes, each with its own zygote.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NUMPY_STUDENT = "import numpy as np\ndef f(x):\n    return np.maximum(0, x) * 2\n"
TORCH_STUDENT = "import torch\ndef f(x):\n    return torch.relu(torch.as_tensor(x)) * 2\n"
FRESH = ("import sys, json, importlib.util\n"
         "spec = importlib.util.spec_from_file_location('m', sys.argv[1]); m = importlib.util.module_from_spec(spec)\n"
         "spec.loader.exec_module(m)\nimport numpy as np\n"
         "out = m.f(np.arange(-3.0, 3.0))\nprint(json.dumps([float(v) for v in out]))\n")


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e3:8.1f} ms (p90 {sorted(samples)[int(0.9 * (len(samples) - 1))] * 1e3:.1f})"


def latency(runs: int, baseline_runs: int, folder: Path) -> None:
    import numpy as np

    from grader import sandbox
    from grader.sandbox import client

    started = time.perf_counter()
    client.zygote_pid()
    print(f"zygote start (imports numpy, torch, matplotlib once): {time.perf_counter() - started:.2f} s")
    for name, source in (("numpy", NUMPY_STUDENT), ("torch", TORCH_STUDENT)):
        module = folder / f"{name}_q.py"
        module.write_text(source)
        job = sandbox.Job("grader.kinds.code.driver:call_function", module,
                          {"function": "f", "calls": [{"args": [np.arange(-3.0, 3.0)]}]})
        assert sandbox.run(job).ok
        inside, paced = [], []
        for index in range(2 * runs):
            if index >= runs:  # as in a real batch: the grader works between questions
                time.sleep(0.02)
            t = time.perf_counter()
            outcome = sandbox.run(job)
            (inside if index < runs else paced).append(time.perf_counter() - t)
            assert outcome.ok, outcome.error
        fresh = []
        for _ in range(baseline_runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-I", "-c", FRESH, str(module)], check=True, capture_output=True)
            fresh.append(time.perf_counter() - t)
        ratios = [statistics.median(fresh) / statistics.median(times) for times in (inside, paced)]
        print(f"{name:5} question  sandbox back-to-back {_median_ms(inside)}, paced {_median_ms(paced)}   "
              f"fresh python -I {_median_ms(fresh)}   ratio {ratios[0]:.1f}x / {ratios[1]:.1f}x paced   "
              f"layers {','.join(outcome.layers)}")


STUDENT_VARIANTS = [
    {"ex03": "import numpy as np\n"
             "def hidden_layer(X, W1, b1):\n    return np.maximum(0, X @ W1 + b1)\n"
             "def maxnorm(W, c):\n    n = np.linalg.norm(W, axis=0)\n    return W * np.minimum(1, c / np.maximum(n, 1e-12))\n"
             "def momentum_step(x, v, dx, lr, mu):\n    v = mu * v - lr * dx\n    return x + v, v\n",
     "ex06": "import torch\ndef blur_kernel(channels, size):\n    w = torch.zeros(channels, channels, size, size)\n"
             "    for c in range(channels):\n        w[c, c] = 1 / size**2\n    return w\n"},
    {"ex03": "def hidden_layer(X, W1, b1):\n    return X @ W1 + b1\n"
             "def maxnorm(W, c):\n    return W\n"
             "def momentum_step(x, v, dx, lr, mu):\n    v *= mu\n    v -= lr * dx\n    x += v\n    return x, v\n",
     "ex06": "import torch\ndef blur_kernel(channels, size):\n    return torch.full((channels, channels, size, size), 1 / size**2)\n"},
]


def _code_only_specs(folder: Path) -> Path:
    """A copy of ex03/ex06 holding only their code questions, beside a link to solutions/."""
    import yaml

    specs = folder / "exercises" / "inf5860"
    specs.mkdir(parents=True)
    (folder / "solutions").symlink_to(ROOT / "solutions")
    for name in ("ex03-basic-nets.yaml", "ex06-conv-nets.yaml"):
        spec = yaml.safe_load((ROOT / "exercises" / "inf5860" / name).read_text())
        spec["questions"] = [q for q in spec["questions"] if q["kind"] == "code"]
        (specs / name).write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    return specs


def throughput(count: int, jobs: int, folder: Path) -> None:
    from grader import api

    specs = _code_only_specs(folder)
    submissions = folder / "class"
    for index in range(count):
        student = submissions / f"s{index:06d}"
        student.mkdir(parents=True)
        (student / "answers.yaml").write_text("{}\n")
        for exercise, source in STUDENT_VARIANTS[index % len(STUDENT_VARIANTS)].items():
            (student / f"{exercise}.py").write_text(source)
    started = time.perf_counter()
    run = api.grade_paths([specs], [submissions], folder / "out", jobs=jobs, reports=False)
    elapsed = time.perf_counter() - started
    questions = sum(len(r.questions) for r in run.results)
    statuses = sorted({q.status for r in run.results for q in r.questions})
    print(f"throughput: {len(run.results)} submissions x 4 code questions with --jobs {jobs}: {elapsed:.1f} s "
          f"({len(run.results) / elapsed:.1f} submissions/s, {questions / elapsed:.1f} questions/s, "
          f"{elapsed / questions * 1e3 * jobs:.1f} ms per question per worker; statuses {statuses})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        latency(args.runs, args.baseline_runs, folder)
        throughput(args.submissions, args.jobs, folder / "batch")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
