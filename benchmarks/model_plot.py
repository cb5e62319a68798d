"""Model and plot questions: the grader's cost next to the floor, measured in the same run.

    python benchmarks/model_plot.py [--repeat 3]

Model questions (ex03's spiral classifier, ex12's autoencoder, each on its reference):

- floor: a bare torch loop of the same steps on the same data tensors in this process:
  the same model built under the same seed, torch.optim.Adam, the same batch size, epochs
  and shuffles, a plain `x[index]` per batch, then the outputs on the test and training
  inputs. No sandbox, no measuring. Also with the grader's own Adam in place of
  torch.optim's (the same numbers, less overhead per step): the ratio is taken against
  the faster of the two.
- driver: the grader's trusted driver called directly in this process (no sandbox).
- grader: `grader.kinds.model.train` through the sandbox, as grading runs it: fork from
  the zygote, lock-down, the payload and the report crossing as JSON + .npy, the whole
  job timed from the grader's side.

Each is run `--repeat` times, interleaved, and the fastest run is shown (the machine may
be shared: the minimum is the least disturbed); CPU seconds are shown beside the wall
time (the floor's whole loop; the sandbox child's training loop). The ratio grader/floor
is the goal (at most 1.3). Plot questions: the plot driver in-process against the sandbox.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import api, sandbox  # noqa: E402
from grader.core.model import Reference  # noqa: E402
from grader.kinds.model import kind as model_kind  # noqa: E402
from grader.kinds.plot import kind as plot_kind  # noqa: E402
from grader.sandbox import client  # noqa: E402

MODELS = (("ex03-basic-nets.yaml", "ex03", "model", "make_reference_model"),
          ("ex12-unsupervised.yaml", "ex12", "autoencoder", "make_autoencoder"))
GOAL = 1.3


def fastest(actions: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[float, float, Any]]:
    """name -> (least wall seconds, CPU seconds of that run, its value), the actions interleaved."""
    best: dict[str, tuple[float, float, Any]] = {}
    for _ in range(repeat):
        for name, action in actions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            value = action()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu, value)
    return best


def floor(module: Any, factory: str, job: dict[str, Any], adam: Any = None) -> Any:
    """The bare loop: what a student would write to train the same model the same way
    (with torch.optim.Adam, or with `adam`: the grader's own, the same numbers)."""
    import torch

    torch.manual_seed(int(job["seed"]))
    model = getattr(module, factory)()
    x = torch.as_tensor(job["x_train"], dtype=torch.float32)
    reconstruction = job["task"] == "reconstruction"
    y = x if reconstruction else torch.as_tensor(job["y_train"], dtype=torch.int64)
    x_test = torch.as_tensor(job["x_test"], dtype=torch.float32)
    optimizer = (adam or torch.optim.Adam)(list(model.parameters()), lr=float(job["lr"]),
                                           weight_decay=float(job["weight_decay"]))
    loss_fn = torch.nn.MSELoss() if reconstruction else torch.nn.CrossEntropyLoss()
    shuffle, batch = torch.Generator().manual_seed(int(job["seed"])), int(job["batch_size"])
    model.train()
    for _ in range(int(job["epochs"])):
        order = torch.randperm(len(x), generator=shuffle)
        for start in range(0, len(x), batch):
            index = order[start:start + batch]
            loss = loss_fn(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return model(x_test).numpy(), model(x).numpy()


def load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare_model(course: Any, exercise_id: str, question_id: str, factory: str, repeat: int) -> float:
    """Prints floor, driver and grader for one model question; returns grader / floor."""
    import numpy as np

    from grader.kinds.model import driver as model_driver

    exercise = course.exercise(exercise_id)
    options = exercise.question(question_id).options
    path = model_kind._reference_path(Reference(course.solutions_root, exercise.solutions, factory))
    module = load_module(path, f"reference_{exercise_id}")
    job = {**model_kind.payload(options, factory), "device": "cpu"}
    best = fastest({
        "floor": lambda: floor(module, factory, job),
        "floor, grader's Adam": lambda: floor(module, factory, job, model_driver.Adam),
        "driver": lambda: model_driver.train_and_evaluate(module, job),
        "grader": lambda: model_kind.train(options, path, factory),
    }, repeat)
    (floor_s, floor_cpu, (floor_test, _)), (driver_s, _, report) = best["floor"], best["driver"]
    grader_s, _, outcome = best["grader"]
    if not outcome.ok:
        raise SystemExit(f"{exercise_id}.{question_id}: the sandbox run failed: {outcome.error}")
    same = np.array_equal(floor_test, report["test_outputs"]) and np.array_equal(floor_test,
                                                                                  outcome.value["test_outputs"])
    data = model_kind.dataset(options.data)
    steps = options.train.epochs * -(-len(data.x_train) // options.train.batch_size)
    own_s, own_cpu, _ = best["floor, grader's Adam"]
    ratio = grader_s / min(floor_s, own_s)
    print(f"{exercise_id}.{question_id} reference ({options.train.epochs} epochs, {steps} steps, "
          f"{len(data.x_train)} points, {outcome.value['device']}, {job['threads']} thread):")
    print(f"  floor  (bare torch loop, in-process) {floor_s:6.2f} s  (CPU {floor_cpu:.2f} s)")
    print(f"  floor with the grader's Adam         {own_s:6.2f} s  (CPU {own_cpu:.2f} s)")
    print(f"  driver (grader's loop, in-process)   {driver_s:6.2f} s  (training {report['train_s']:.2f} s)")
    print(f"  grader (through the sandbox)         {grader_s:6.2f} s  (training {outcome.value['train_s']:.2f} s, "
          f"CPU {outcome.value.get('train_cpu_s', 0.0):.2f} s)")
    print(f"  ratio grader/floor {ratio:.2f} against the faster floor (goal <= {GOAL}: "
          f"{'met' if ratio <= GOAL else 'NOT met'}); grader/torch.optim floor {grader_s / floor_s:.2f}; "
          f"driver/faster floor {driver_s / min(floor_s, own_s):.2f}; test outputs bit-equal to the floor's: {same}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    course = api.load([ROOT / "exercises/inf5860" / name for name, *_ in MODELS]
                      + [ROOT / "exercises/inf5860/ex01-linear-regression.yaml"])
    started = time.perf_counter()
    client.zygote_pid()
    print(f"zygote start (once per grader process): {time.perf_counter() - started:.2f} s")

    import torch
    import torch.optim  # noqa: F401  (the floor's optimizer; its import of torch._dynamo is not timed)

    torch.set_num_threads(1)  # as the sandbox child trains (the model questions' limits.threads)
    for _, exercise_id, question_id, factory in MODELS:
        compare_model(course, exercise_id, question_id, factory, repeat)

    from grader.kinds.plot import driver as plot_driver

    ex01 = course.exercise("ex01")
    plot_question = ex01.question("d")
    params = dict(ex01.params)
    plot_reference = Reference(course.solutions_root, ex01.solutions, "plot_data", params)
    plot_path = model_kind._reference_path(plot_reference)
    plot_module = load_module(plot_path, "reference_ex01")
    plot_payload = {"function": "plot_data", "params": params, "by_signature": True}
    job = sandbox.Job(plot_kind.DRIVER, plot_path, plot_payload, plot_question.options.limits)
    best = fastest({"local": lambda: plot_driver.draw(plot_module, plot_payload), "boxed": lambda: sandbox.run(job)},
                   repeat)
    local, boxed = best["local"][0], best["boxed"][0]
    print(f"ex01.d plot (3 points, PNG): in-process {local:.3f} s, sandbox {boxed:.3f} s, ratio {boxed / local:.2f}")


if __name__ == "__main__":
    main()
