"""The model driver's loop, device choice and threads, run in this process on real modules:
the grader's loop trains exactly as a bare torch loop of the same steps would."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.kinds.model import driver  # noqa: E402
from tests.conftest import module_from_source  # noqa: E402

TINY = """
from torch import nn
def make_model():
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
"""


def student_module(folder: Path, source: str) -> ModuleType:
    return module_from_source(folder / "ex03.py", source, "submission_ex03")


def payload(**changes: Any) -> dict[str, Any]:
    """A classification job on 50 noisy points (batches of 16: the last one is short)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0).astype(np.int64)
    base = {"factory": "make_model", "factory_args": {}, "task": "classification", "x_train": x, "y_train": y,
            "x_test": x[:10], "expected_shape": [3], "epochs": 6, "lr": 0.05, "batch_size": 16,
            "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0, "seed": 3, "device": "cpu",
            "threads": 1, "max_parameters": 1000, "bottleneck": None, "probe_rows": 4}
    return {**base, **changes}


def bare_loop(module: ModuleType, job: dict[str, Any]) -> tuple[Any, list[float]]:
    """The same steps as a student would write them: torch.optim, a fresh index per batch."""
    torch.manual_seed(job["seed"])
    model = module.make_model()
    x, y = torch.as_tensor(job["x_train"]), torch.as_tensor(job["y_train"])
    if job["optimizer"] == "sgd":
        optimizer: Any = torch.optim.SGD(model.parameters(), lr=job["lr"], momentum=job["momentum"],
                                         weight_decay=job["weight_decay"])
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=job["lr"], weight_decay=job["weight_decay"])
    shuffle, batch, losses = torch.Generator().manual_seed(job["seed"]), job["batch_size"], []
    for _ in range(job["epochs"]):
        order, total = torch.randperm(len(x), generator=shuffle), 0.0
        for start in range(0, len(x), batch):
            index = order[start:start + batch]
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        losses.append(total / len(x))
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(job["x_test"])).numpy(), losses


@pytest.mark.parametrize("changes", [
    {},
    {"weight_decay": 0.01},
    {"optimizer": "sgd"},
    {"optimizer": "sgd", "momentum": 0.0, "weight_decay": 0.001},
    {"batch_size": 50},  # one batch per epoch
    {"batch_size": 7},   # a short last batch of 1
])
def test_the_loop_trains_as_a_bare_torch_loop(tmp_path: Path, changes: dict[str, Any]) -> None:
    module = student_module(tmp_path, TINY)
    job = payload(**changes)
    report = driver.train_and_evaluate(module, job)
    outputs, losses = bare_loop(student_module(tmp_path, TINY), job)
    assert np.array_equal(report["test_outputs"], outputs)  # bit for bit: the same steps on the same data
    assert report["losses"] == pytest.approx(losses, rel=1e-5)
    assert report["device"] == "cpu" and report["trained"] is True


def test_a_parameter_the_loss_does_not_reach_is_left_alone(tmp_path: Path) -> None:
    module = student_module(tmp_path, """
        import torch
        from torch import nn
        class Spare(nn.Module):
            def __init__(self):
                super().__init__()
                self.used, self.spare = nn.Linear(2, 3), nn.Linear(2, 3)
            def forward(self, x):
                return self.used(x)
        def make_model():
            return Spare()
        """)
    report = driver.train_and_evaluate(module, payload())
    torch.manual_seed(3)  # the driver's seed: the same initial weights
    before = module.make_model().spare.weight.detach().numpy()
    assert np.array_equal(report["weights"]["spare.weight"], before)
    torch.manual_seed(3)
    assert not np.array_equal(report["weights"]["used.weight"], module.make_model().used.weight.detach().numpy())


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_zero_grad_in_place_matches_set_to_none(optimizer: str) -> None:
    """zero_grad(set_to_none=False) zeroes the gradients as torch.optim's does; the loop drops them."""
    def train(set_to_none: bool) -> list[Any]:
        torch.manual_seed(0)
        net = torch.nn.Linear(2, 3)
        params = list(net.parameters())
        make: Callable[[], Any] = (lambda: driver.Adam(params, lr=0.01, weight_decay=0.0)) if optimizer == "adam" \
            else (lambda: driver.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.0))
        opt = make()
        x, y = torch.randn(8, 2), torch.randint(0, 3, (8,))
        for _ in range(5):
            opt.zero_grad(set_to_none=set_to_none)
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        if not set_to_none:
            opt.zero_grad(set_to_none=False)
            assert all(p.grad is not None and not p.grad.any() for p in params)
        return [p.detach().clone() for p in params]

    assert all(torch.equal(a, b) for a, b in zip(train(True), train(False)))


@pytest.mark.parametrize("choice, available, device", [
    ("auto", False, "cpu"),
    ("auto", True, "cuda"),
    ("cpu", True, "cpu"),
    ("cpu", False, "cpu"),
    ("cuda", True, "cuda"),
    ("cuda", False, "cuda"),  # never quietly the CPU: torch then fails and says why
])
def test_the_device_choice(choice: str, available: bool, device: str) -> None:
    asked: list[bool] = []
    assert driver.choose_device(choice, lambda: asked.append(True) or available) == device
    assert asked == ([True] if choice == "auto" else [])  # CUDA is probed only where auto needs it


def test_auto_trains_on_the_cpu_of_a_machine_without_cuda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    report = driver.train_and_evaluate(student_module(tmp_path, TINY), payload(device="auto"))
    assert report["device"] == "cpu" and report["trained"] is True


def test_threads_fit_the_job_and_the_cpus() -> None:
    import os

    before = torch.get_num_threads()
    try:
        driver.fit_threads(1)
        assert torch.get_num_threads() == 1
        driver.fit_threads(10_000)  # never more than the CPUs this process may run on
        assert torch.get_num_threads() == len(os.sched_getaffinity(0))
        driver.fit_threads(0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
