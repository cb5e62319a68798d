"""Model and plot questions: cost through the sandbox next to the same work in-process.

    python benchmarks/model_plot.py [--repeat 3]

Baseline (same run): the trusted driver called directly in this process on the reference
code, with no sandbox. Measured: `grader.kinds.model.train` / the plot driver through the
sandbox (fork from the zygote, lock-down, payload and result crossing as JSON + .npy).
Prints the median wall time of each and the ratio sandbox / in-process.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import api, sandbox  # noqa: E402
from grader.kinds.model import kind as model_kind
from grader.kinds.plot import kind as plot_kind  # noqa: E402
from grader.core.model import Reference  # noqa: E402
from grader.sandbox import client  # noqa: E402


def median_time(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    course = api.load([ROOT / "exercises/inf5860/ex03-basic-nets.yaml", ROOT / "exercises/inf5860/ex01-linear-regression.yaml"])
    ex03, ex01 = course.exercise("ex03"), course.exercise("ex01")
    question, plot_question = ex03.question("model"), ex01.question("d")
    options = question.options
    started = time.perf_counter()
    client.zygote_pid()
    print(f"zygote start (once per grader process): {time.perf_counter() - started:.2f} s")

    import torch

    from grader.kinds.model import driver as model_driver
    from grader.kinds.plot import driver as plot_driver

    torch.set_num_threads(1)  # the sandbox child trains single-threaded too
    reference = Reference(course.solutions_root, ex03.solutions, "make_reference_model")
    path = model_kind._reference_path(reference)
    module = load_module(path, "reference_ex03")
    data = model_kind.dataset(options.data)
    payload = {**model_kind.payload(options, reference.function), "device": "cpu"}
    local = median_time(lambda: model_driver.train_and_evaluate(module, payload), repeat)
    boxed = median_time(lambda: model_kind.train(options, path, reference.function), repeat)
    outcome = model_kind.train(options, path, reference.function)
    print(f"ex03.model reference ({options.train.epochs} epochs, {len(data.x_train)} points, "
          f"{outcome.value['device']}): in-process {local:.2f} s, sandbox {boxed:.2f} s "
          f"(training {outcome.value['train_s']:.2f} s), ratio {boxed / local:.2f}")

    params = dict(ex01.params)
    plot_reference = Reference(course.solutions_root, ex01.solutions, "plot_data", params)
    plot_path = model_kind._reference_path(plot_reference)
    plot_module = load_module(plot_path, "reference_ex01")
    plot_payload = {"function": "plot_data", "params": params, "by_signature": True}
    local = median_time(lambda: plot_driver.draw(plot_module, plot_payload), repeat)
    job = sandbox.Job(plot_kind.DRIVER, plot_path, plot_payload, plot_question.options.limits)
    boxed = median_time(lambda: sandbox.run(job), repeat)
    print(f"ex01.d plot (3 points, PNG): in-process {local:.3f} s, sandbox {boxed:.3f} s, ratio {boxed / local:.2f}")


if __name__ == "__main__":
    main()
