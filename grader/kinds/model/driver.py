"""Trusted driver for `model` questions: build the student's model, train it, run it on the test inputs.

Runs inside the sandbox child (see `grader.sandbox`). Everything this module needs is
imported at the top, because the grader package is unreadable once the child has locked
itself down. The grader's own seeded loop trains the model; the student supplies only the
architecture. The child gets the test *inputs* but never the test labels: it returns the
raw outputs, and the grader computes every metric in its own process.
"""

from __future__ import annotations

import inspect
import math
import time
from types import ModuleType
from typing import Any, Mapping

import numpy as np
import torch

from grader.sandbox.child import StudentError

MAX_LOSSES = 200
"""Per-epoch losses sent back (for the report's learning curve); longer runs are thinned."""
EVAL_BATCH = 4096


def train_and_evaluate(module: ModuleType | None, payload: Mapping[str, Any]) -> dict[str, Any]:
    """payload: factory, factory_args, task, x_train, y_train, x_test, expected_shape (trailing
    dims, None = any), epochs, lr, batch_size, optimizer, momentum, weight_decay, seed, device."""
    seed = int(payload["seed"])
    torch.manual_seed(seed)
    device = _device(payload["device"])
    model = _build(module, payload["factory"], dict(payload.get("factory_args") or {}))
    model.to(device)
    x_train = torch.as_tensor(payload["x_train"], dtype=torch.float32).to(device)
    x_test = torch.as_tensor(payload["x_test"], dtype=torch.float32).to(device)
    reconstruction = payload["task"] == "reconstruction"
    target = x_train if reconstruction else torch.as_tensor(payload["y_train"], dtype=torch.int64).to(device)
    report: dict[str, Any] = {
        "device": _device_name(device), "parameters": _count(model, trainable=False),
        "trainable": _count(model, trainable=True), "layers": _layers(model),
    }
    shape = _probe_shape(model, x_train[: min(4, len(x_train))])
    report["output_shape"] = [None, *shape[1:]]
    if not _shape_matches(shape[1:], payload["expected_shape"]):
        return {**report, "trained": False}  # the grader explains the shape; training would only crash
    started = time.perf_counter()
    losses, stopped = _train(model, x_train, target, payload, reconstruction)
    report.update(train_s=time.perf_counter() - started, losses=_thin(losses), stopped=stopped, trained=True)
    model.eval()
    report["test_outputs"] = _outputs(model, x_test)
    report["train_outputs"] = _outputs(model, x_train)
    report["bottleneck"] = _bottleneck(model, x_test[: min(4, len(x_test))]) if reconstruction else None
    return report


def _device(choice: str) -> torch.device:
    if choice == "auto" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def _build(module: ModuleType | None, name: str, args: dict[str, Any]) -> torch.nn.Module:
    if module is None:
        raise StudentError("exception", "no module was handed in")
    factory = module.__dict__.get(name)
    filename = module.__name__.split("_", 1)[-1] + ".py"
    if factory is None:
        raise StudentError("exception", f"{filename} does not define {name} (a model class or a function "
                                        f"that returns a torch.nn.Module)")
    if not callable(factory):
        raise StudentError("exception", f"{name} in {filename} is not a class or a function")
    accepted = _accepted_args(factory, args)
    model = factory(**accepted)
    if not isinstance(model, torch.nn.Module):
        raise StudentError("exception", f"{name}() returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _accepted_args(factory: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The spec's factory arguments that the factory's signature names (as references are called)."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return args
    return {k: v for k, v in args.items() if k in parameters}


def _count(model: torch.nn.Module, trainable: bool) -> int:
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable))


def _layers(model: torch.nn.Module) -> list[str]:
    """The leaf modules, one line each, for the report (bounded)."""
    leaves = [f"{name}: {child}" if name else str(child)
              for name, child in model.named_modules() if not list(child.children())]
    lines = leaves or [type(model).__name__]
    return [line[:200] for line in lines[:40]]


def _forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if not isinstance(out, torch.Tensor):
        raise StudentError("exception", f"forward() returned {type(out).__name__}; it must return one tensor")
    return out


def _probe_shape(model: torch.nn.Module, x: torch.Tensor) -> list[int]:
    """The output shape for a small batch, in eval mode: no batch-norm statistics are touched."""
    model.eval()
    with torch.no_grad():
        out = _forward(model, x)
    model.train()
    if out.dim() == 0 or out.shape[0] != x.shape[0]:
        raise StudentError("exception", f"for a batch of {x.shape[0]} inputs the model returned shape "
                                        f"{tuple(out.shape)}; the first dimension must be the batch")
    return list(out.shape)


def _shape_matches(shape: list[int], expected: list[int | None]) -> bool:
    return len(shape) == len(expected) and all(e is None or e == s for s, e in zip(shape, expected))


class Adam:
    """Adam exactly as torch.optim.Adam computes it on the CPU (single-tensor path, L2 weight decay).

    The grader's own copy, because constructing any torch.optim optimizer imports
    torch._dynamo (about a second per sandbox child). Same arithmetic in the same order, so
    a student who trains locally with torch.optim.Adam sees the same numbers."""

    def __init__(self, parameters: list[torch.Tensor], lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.parameters, self.lr, self.weight_decay, self.betas, self.eps = parameters, lr, weight_decay, betas, eps
        self.exp_avg = [torch.zeros_like(p) for p in parameters]
        self.exp_avg_sq = [torch.zeros_like(p) for p in parameters]
        self.steps = 0

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1 ** self.steps)
        correction2_sqrt = (1 - beta2 ** self.steps) ** 0.5
        for param, exp_avg, exp_avg_sq in zip(self.parameters, self.exp_avg, self.exp_avg_sq):
            if param.grad is None:
                continue
            grad = param.grad if self.weight_decay == 0 else param.grad.add(param, alpha=self.weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad.conj(), value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / correction2_sqrt).add_(self.eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)

    def zero_grad(self) -> None:
        for param in self.parameters:
            param.grad = None


class SGD:
    """SGD with momentum (no dampening, not Nesterov) and L2 weight decay, as torch.optim.SGD."""

    def __init__(self, parameters: list[torch.Tensor], lr: float, momentum: float, weight_decay: float) -> None:
        self.parameters, self.lr, self.momentum, self.weight_decay = parameters, lr, momentum, weight_decay
        self.buffers: list[torch.Tensor | None] = [None] * len(parameters)

    @torch.no_grad()
    def step(self) -> None:
        for index, param in enumerate(self.parameters):
            if param.grad is None:
                continue
            grad = param.grad if self.weight_decay == 0 else param.grad.add(param, alpha=self.weight_decay)
            if self.momentum != 0:
                buffer = self.buffers[index]
                if buffer is None:
                    buffer = self.buffers[index] = torch.clone(grad).detach()
                else:
                    buffer.mul_(self.momentum).add_(grad)
                grad = buffer
            param.add_(grad, alpha=-self.lr)

    def zero_grad(self) -> None:
        for param in self.parameters:
            param.grad = None


def _optimizer(model: torch.nn.Module, payload: Mapping[str, Any]) -> Adam | SGD | None:
    parameters: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        return None  # nothing to train: the model is evaluated as it is
    lr, decay = float(payload["lr"]), float(payload["weight_decay"])
    if payload["optimizer"] == "sgd":
        return SGD(parameters, lr=lr, momentum=float(payload["momentum"]), weight_decay=decay)
    return Adam(parameters, lr=lr, weight_decay=decay)


def _train(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor, payload: Mapping[str, Any],
           reconstruction: bool) -> tuple[list[float], str | None]:
    """The grader's loop: seeded shuffles, mean loss per epoch; stops at a non-finite loss."""
    optimizer = _optimizer(model, payload)
    if optimizer is None:
        return [], "the model has no trainable parameters, so it was not trained"
    loss_fn = torch.nn.MSELoss() if reconstruction else torch.nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(int(payload["seed"]))
    batch = int(payload["batch_size"])
    losses: list[float] = []
    model.train()
    for epoch in range(int(payload["epochs"])):
        order = torch.randperm(len(x), generator=shuffle).to(x.device)
        total = torch.zeros((), device=x.device)
        for start in range(0, len(x), batch):
            index = order[start:start + batch]
            loss = loss_fn(_forward(model, x[index]), target[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(index)
        mean = float(total) / len(x)
        losses.append(mean)
        if not math.isfinite(mean):
            return losses, f"the training loss became {mean} in epoch {epoch + 1}; training stopped there"
    return losses, None


def _outputs(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        parts = [_forward(model, x[i:i + EVAL_BATCH]).detach().to("cpu", torch.float32)
                 for i in range(0, len(x), EVAL_BATCH)]
    return np.ascontiguousarray(torch.cat(parts).numpy(), dtype=np.float32)


def _bottleneck(model: torch.nn.Module, x: torch.Tensor) -> int | None:
    """Numbers per example in the code: `model.encode(x)`, else `model.encoder(x)`; None if neither."""
    encode = getattr(model, "encode", None)
    if not callable(encode):
        encode = getattr(model, "encoder", None)
    if not callable(encode):
        return None
    with torch.no_grad():
        code = encode(x)
    if not isinstance(code, torch.Tensor) or code.dim() == 0 or code.shape[0] != x.shape[0]:
        raise StudentError("exception", "encode(x) must return one tensor whose first dimension is the batch")
    return int(code[0].numel())


def _thin(values: list[float]) -> list[float | None]:
    """At most MAX_LOSSES values, the last one kept; NaN and inf become None (JSON has neither)."""
    if len(values) > MAX_LOSSES:
        step = len(values) / MAX_LOSSES
        values = [values[int(i * step)] for i in range(MAX_LOSSES - 1)] + [values[-1]]
    return [v if math.isfinite(v) else None for v in values]
