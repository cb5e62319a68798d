"""Trusted driver for `model` questions: build the student's model, train it, run it on the test inputs.

Runs inside the sandbox child (see `grader.sandbox`). Everything this module needs is
imported at the top, because the grader package is unreadable once the child has locked
itself down. The grader's own seeded loop trains the model; the student supplies only the
architecture. The child gets the test *inputs* but never the test labels.

The loop costs what a bare torch loop of the same steps costs (benchmarks/model_plot.py
measures both): the data arrive as tensors once; each epoch draws one permutation from a
seeded generator and gathers the inputs and targets once, and the batches are slices of
that; the optimizers are the grader's own, bit for bit torch.optim's; gradients are
dropped (set to None), not zeroed; the epoch's losses are summed once; torch uses the
threads the job is allowed (`fit_threads`); the outputs are computed under
`torch.inference_mode()`.

What goes back is data for the grader to measure, never a verdict: the trained weights as
named arrays (the grader counts the parameters), the raw outputs on the training and test
inputs (the grader checks their shape and computes every metric) and the codes of a few
test inputs (the grader measures the bottleneck). The student's code runs in this process
and can change anything in it, so what is done here only keeps an honest report honest:

- the tools the driver measures with are bound when this module is imported, before the
  student's module is: the methods of `torch._C.TensorBase` (which Python code cannot
  replace, unlike `torch.Tensor`'s), `torch.cat`, numpy; the model is walked through its
  modules' own `_parameters` and `_modules` tables, not through methods that a model class
  or a patch of `torch.nn.Module` could override;
- the sandbox child puts this module's namespace back after importing the student's module,
  so a module-level patch of a helper here (`driver._count = ...`) is undone;
- the parameters are walked once, before any of the student's forward() runs: the ones the
  grader's loop trains are the ones counted and sent.

The grader believes none of it: `grader.kinds.model.kind.read_report` measures from the
arrays, checks the report against itself and bounds every part of it.
"""

from __future__ import annotations

import builtins
import inspect
import math
import os
import time
from types import ModuleType
from typing import Any, Callable, Mapping

import numpy as np
import torch

from grader.sandbox.child import StudentError

MAX_LOSSES = 200
"""Per-epoch losses sent back (for the report's learning curve); longer runs are thinned."""
EVAL_BATCH = 4096

# Bound now, before any student code runs (see the module docstring).
_TENSOR = torch._C.TensorBase
_NUMEL, _SIZE, _DETACH, _TO, _NUMPY = _TENSOR.numel, _TENSOR.size, _TENSOR.detach, _TENSOR.to, _TENSOR.numpy
_CAT = torch.cat
_FLOAT32 = torch.float32
_PLAIN = torch._C.DisableTorchFunction
"""Inside it, a tensor subclass's __torch_function__ is not consulted: methods see the raw data."""
_PLAIN_TENSOR, _PARAMETER, _MODULE = torch.Tensor, torch.nn.Parameter, torch.nn.Module
_INSTANCE_DICT = object.__getattribute__
_ITEMS = dict.items
_COPY = np.array


def train_and_evaluate(module: ModuleType | None, payload: Mapping[str, Any]) -> dict[str, Any]:
    """payload: factory, factory_args, task, x_train, y_train, x_test, expected_shape (trailing
    dims, None = any), epochs, lr, batch_size, optimizer, momentum, weight_decay, seed, device,
    threads, max_parameters and bottleneck (the thresholds, or None), probe_rows."""
    restore = _RESTORE  # bound before any student code runs in this call (the child has just put it back)
    settings = dict(payload)
    fit_threads(int(settings.get("threads", 1)))
    torch.manual_seed(int(settings["seed"]))
    device = _device(settings["device"])
    model = _build(module, settings["factory"], dict(settings.get("factory_args") or {}))
    model.to(device)
    restore()
    parameters, modules = walk(model)
    restore()
    count = _count(parameters)  # before any forward(): the parameters the grader's loop trains
    x_train = torch.as_tensor(settings["x_train"], dtype=torch.float32).to(device)
    x_test = torch.as_tensor(settings["x_test"], dtype=torch.float32).to(device)
    reconstruction = settings["task"] == "reconstruction"
    target = x_train if reconstruction else torch.as_tensor(settings["y_train"], dtype=torch.int64).to(device)
    probe = int(settings["probe_rows"])
    report: dict[str, Any] = {"device": _device_name(device), "layers": _layers(modules)}
    shape = _probe_shape(model, x_train[: min(probe, len(x_train))])
    report["output_shape"] = [None, *shape[1:]]
    if not _shape_matches(shape[1:], settings["expected_shape"]):
        restore()  # the grader explains the shape; training would only crash
        return {**report, "trained": False, "parameters": count,
                "weights": _weights(parameters, count, settings["max_parameters"])}
    # train_s and train_cpu_s are for `grader validate` and the benchmarks; no result shows them
    started, cpu = time.perf_counter(), time.process_time()
    losses, stopped = _train(model, parameters, x_train, target, settings, reconstruction)
    report.update(train_s=time.perf_counter() - started, train_cpu_s=time.process_time() - cpu,
                  losses=_thin(losses), stopped=stopped, trained=True)
    model.eval()
    with torch.inference_mode():  # no training follows: no autograd bookkeeping at all
        test, train = _outputs(model, x_test), _outputs(model, x_train)
        code = _code(model, x_test[: min(probe, len(x_test))]) if reconstruction else None
    restore()  # the student's code has run for the last time: measure
    weights = _weights(parameters, count, settings["max_parameters"])
    codes = None if code is None else _rows(_array(code))
    width = None if codes is None else int(codes.shape[1])
    limit = settings["bottleneck"]
    return {**report, "parameters": count, "weights": weights, "test_outputs": _array(test),
            "train_outputs": _array(train), "code_width": width,
            "codes": codes if width is not None and limit is not None and width <= limit else None}


def fit_threads(threads: int) -> None:
    """torch's thread pools fitted to the job: `threads` intra-op threads (the job's CPU
    allowance, at most the CPUs this process may run on), one inter-op thread. A small
    model trains fastest on one thread; more only oversubscribe the cores the other jobs
    use. The inter-op pool can be sized only before its first use, once per process: where
    that moment has passed (a second run in one process) it is left as it is."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    wanted = max(1, min(threads, usable))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    if torch.get_num_interop_threads() != 1:
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass


def choose_device(choice: str, cuda_available: Callable[[], bool]) -> str:
    """`auto` is CUDA where `cuda_available()` says so, else the CPU; `cpu` and `cuda` are
    taken as they are (the kind refuses `cuda` on a machine without a GPU before any job)."""
    if choice == "cuda" or (choice == "auto" and cuda_available()):
        return "cuda"
    return "cpu"


def _device(choice: str) -> torch.device:
    return torch.device(choose_device(choice, torch.cuda.is_available))


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
    if not isinstance(model, _MODULE):
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


Named = tuple[tuple[str, Any], ...]


def walk(model: torch.nn.Module) -> tuple[Named, Named]:
    """(parameters, modules): each registered parameter and module once, in the order and
    with the names of named_parameters() and named_modules(), read from the modules' own
    `_parameters` and `_modules` tables (no method a model class or a patch can override)."""
    parameters: list[tuple[str, Any]] = []
    modules: list[tuple[str, Any]] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("", model)]
    while stack:
        prefix, module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        own, children = _tables(prefix, module)
        modules.append((prefix, module))
        for name, parameter in list(_ITEMS(own)):
            if parameter is None or id(parameter) in seen:
                continue
            if type(parameter) is not _PARAMETER:  # a subclass could run code while it is measured
                lazy = " (a lazy module? give the layer its input size)" if isinstance(parameter, _TENSOR) else ""
                raise StudentError("exception", f"parameter {_join(prefix, name)} is a {type(parameter).__name__}, "
                                                f"not a torch.nn.Parameter{lazy}")
            seen.add(id(parameter))
            parameters.append((_join(prefix, name), parameter))
        stack.extend(reversed([(_join(prefix, name), child) for name, child in list(_ITEMS(children))
                               if child is not None]))
    return tuple(parameters), tuple(modules)


def _tables(prefix: str, module: Any) -> tuple[dict, dict]:
    where = prefix or "the model"
    if not isinstance(module, _MODULE):
        raise StudentError("exception", f"{where} is a {type(module).__name__}, not a torch.nn.Module")
    namespace = _INSTANCE_DICT(module, "__dict__")
    own, children = namespace.get("_parameters"), namespace.get("_modules")
    if type(own) is not dict or type(children) is not dict:
        raise StudentError("exception", f"{where} has no parameter table of its own; was "
                                        "torch.nn.Module.__init__ called (and nothing of nn.Module replaced)?")
    return own, children


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _count(parameters: Named) -> int:
    with _PLAIN():
        return sum(int(_NUMEL(p)) for _, p in parameters)


def _weights(parameters: Named, count: int, max_parameters: int | None) -> dict[str, np.ndarray] | None:
    """The parameters as float32 arrays, for the grader to count; None for a model over the
    question's limit (it fails that threshold, and its weights need not cross) or with no limit
    to check (the count is only shown then)."""
    if max_parameters is None or count > max_parameters:
        return None
    return {name: _array(p) for name, p in parameters}


def _array(tensor: Any) -> np.ndarray:
    """A float32 CPU copy of a tensor, through torch's own methods."""
    with _PLAIN():
        return _COPY(_NUMPY(_TO(_DETACH(tensor), "cpu", _FLOAT32)), dtype=np.float32, order="C")


def _rows(array: np.ndarray) -> np.ndarray:
    """One row per example (numpy's own methods: torch.Tensor.__len__ is a Python method)."""
    return array.reshape(array.shape[0], -1)


def _layers(modules: Named) -> list[str]:
    """The leaf modules, one line each, for the report (bounded)."""
    leaves = [f"{name}: {child}" if name else str(child)
              for name, child in modules if all(c is None for c in _tables(name, child)[1].values())]
    lines = leaves or [type(modules[0][1]).__name__]
    return [line[:200] for line in lines[:40]]


def _forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if type(out) is not _PLAIN_TENSOR:
        if isinstance(out, _TENSOR):  # a subclass could run code while it is measured
            raise StudentError("exception", f"forward() returned a {type(out).__name__}; it must return a plain "
                                            "torch.Tensor, not a subclass")
        raise StudentError("exception", f"forward() returned {type(out).__name__}; it must return one tensor")
    return out


def _probe_shape(model: torch.nn.Module, x: torch.Tensor) -> list[int]:
    """The output shape for a small batch, in eval mode: no batch-norm statistics are touched."""
    model.eval()
    with torch.no_grad():
        out = _forward(model, x)
    model.train()
    with _PLAIN():
        shape = [int(n) for n in _SIZE(out)]
    if not shape or shape[0] != len(x):
        raise StudentError("exception", f"for a batch of {len(x)} inputs the model returned shape "
                                        f"{tuple(shape)}; the first dimension must be the batch")
    return shape


def _shape_matches(shape: list[int], expected: list[int | None]) -> bool:
    return len(shape) == len(expected) and all(e is None or e == s for s, e in zip(shape, expected))


class Adam:
    """Adam exactly as torch.optim.Adam computes it on the CPU (single-tensor path, L2 weight decay).

    The grader's own copy, because constructing any torch.optim optimizer imports
    torch._dynamo (about a second per sandbox child). Same arithmetic in the same order, so
    a student who trains locally with torch.optim.Adam sees the same numbers; each step is
    a handful of `torch._foreach_*` calls over all parameters at once (on the CPU these run
    the single-tensor kernels one tensor after the other: the same numbers, without a
    Python loop of six calls per parameter)."""

    def __init__(self, parameters: list[torch.Tensor], lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.parameters, self.lr, self.weight_decay, self.betas, self.eps = parameters, lr, weight_decay, betas, eps
        self.exp_avg = [torch.zeros_like(p) for p in parameters]
        self.exp_avg_sq = [torch.zeros_like(p) for p in parameters]
        self.steps = 0
        self.complex = any(p.is_complex() for p in parameters)
        """torch.optim.Adam multiplies a complex gradient by its conjugate."""

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1 ** self.steps)
        correction2_sqrt = (1 - beta2 ** self.steps) ** 0.5
        indices, params, grads = _reached(self.parameters)
        if not params:
            return
        whole = len(params) == len(self.parameters)
        exp_avgs = self.exp_avg if whole else [self.exp_avg[i] for i in indices]
        exp_avg_sqs = self.exp_avg_sq if whole else [self.exp_avg_sq[i] for i in indices]
        if self.weight_decay != 0:
            grads = list(torch._foreach_add(grads, params, alpha=self.weight_decay))
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, [g.conj() for g in grads] if self.complex else grads,
                                value=1 - beta2)
        denom = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denom, correction2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, exp_avgs, denom, value=-step_size)

    def zero_grad(self, set_to_none: bool = True) -> None:
        _zero_grad(self.parameters, set_to_none)


class SGD:
    """SGD with momentum (no dampening, not Nesterov) and L2 weight decay, as torch.optim.SGD
    (its single-tensor arithmetic, run through `torch._foreach_*` as Adam's)."""

    def __init__(self, parameters: list[torch.Tensor], lr: float, momentum: float, weight_decay: float) -> None:
        self.parameters, self.lr, self.momentum, self.weight_decay = parameters, lr, momentum, weight_decay
        self.buffers: dict[int, torch.Tensor] = {}
        """Momentum buffers by parameter index, from the parameter's first step on."""

    @torch.no_grad()
    def step(self) -> None:
        indices, params, grads = _reached(self.parameters)
        if not params:
            return
        if self.weight_decay != 0:
            grads = list(torch._foreach_add(grads, params, alpha=self.weight_decay))
        if self.momentum != 0:
            grads = self._momentum(indices, grads)
        torch._foreach_add_(params, grads, alpha=-self.lr)

    def _momentum(self, indices: list[int], grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """The momentum buffers after this step (a parameter's first step starts its buffer
        as a copy of its gradient, as torch.optim.SGD does)."""
        kept = [(self.buffers[i], grad) for i, grad in zip(indices, grads) if i in self.buffers]
        for i, grad in zip(indices, grads):
            if i not in self.buffers:
                self.buffers[i] = torch.clone(grad).detach()
        if kept:
            buffers = [buffer for buffer, _ in kept]
            torch._foreach_mul_(buffers, self.momentum)
            torch._foreach_add_(buffers, [grad for _, grad in kept])
        return [self.buffers[i] for i in indices]

    def zero_grad(self, set_to_none: bool = True) -> None:
        _zero_grad(self.parameters, set_to_none)


def _reached(parameters: list[torch.Tensor]) -> tuple[list[int], list[torch.Tensor], list[torch.Tensor]]:
    """(indices, parameters, gradients) of the parameters that have a gradient this step (one
    the loss did not reach is skipped, as torch.optim skips it)."""
    indices, params, grads = [], [], []
    for index, param in enumerate(parameters):
        grad = param.grad
        if grad is not None:
            indices.append(index)
            params.append(param)
            grads.append(grad)
    return indices, params, grads


def _zero_grad(parameters: list[torch.Tensor], set_to_none: bool) -> None:
    """As torch.optim's zero_grad: drop the gradients (the default), or zero them in place."""
    for param in parameters:
        if set_to_none or param.grad is None:
            param.grad = None
        else:
            param.grad.detach_().zero_()


def _optimizer(parameters: Named, payload: Mapping[str, Any]) -> Adam | SGD | None:
    trainable: list[torch.Tensor] = [p for _, p in parameters if p.requires_grad]
    if not trainable:
        return None  # nothing to train: the model is evaluated as it is
    lr, decay = float(payload["lr"]), float(payload["weight_decay"])
    if payload["optimizer"] == "sgd":
        return SGD(trainable, lr=lr, momentum=float(payload["momentum"]), weight_decay=decay)
    return Adam(trainable, lr=lr, weight_decay=decay)


def _train(model: torch.nn.Module, parameters: Named, x: torch.Tensor, target: torch.Tensor,
           payload: Mapping[str, Any], reconstruction: bool) -> tuple[list[float], str | None]:
    """The grader's loop: seeded shuffles, mean loss per epoch; stops at a non-finite loss.

    Per epoch, one permutation from the seeded generator gathers the inputs and targets
    once; the batches are slices of that (views, no copy, no DataLoader), so a step costs
    the student's forward, the loss, backward and the optimizer, and nothing else. The
    batch losses are kept as tensors and summed once per epoch: no sync per step."""
    optimizer = _optimizer(parameters, payload)
    if optimizer is None:
        return [], "the model has no trainable parameters, so it was not trained"
    loss_fn = torch.nn.functional.mse_loss if reconstruction else torch.nn.functional.cross_entropy
    shuffle = torch.Generator().manual_seed(int(payload["seed"]))
    batch = int(payload["batch_size"])
    sizes = torch.tensor([min(batch, len(x) - start) for start in range(0, len(x), batch)],
                         dtype=torch.float64, device=x.device)
    losses: list[float] = []
    model.train()
    for epoch in range(int(payload["epochs"])):
        order = torch.randperm(len(x), generator=shuffle).to(x.device)
        inputs, targets = x.index_select(0, order).split(batch), target.index_select(0, order).split(batch)
        steps = []
        for inputs_batch, target_batch in zip(inputs, targets):
            loss = loss_fn(_forward(model, inputs_batch), target_batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps.append(loss.detach())
        mean = float(torch.dot(torch.stack(steps).to(sizes.dtype), sizes)) / len(x)
        losses.append(mean)
        if not math.isfinite(mean):
            return losses, f"the training loss became {mean} in epoch {epoch + 1}; training stopped there"
    return losses, None


def _outputs(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The raw outputs, batch by batch, joined (converted to an array only after the last
    student code ran); called under torch.inference_mode()."""
    parts = [_forward(model, x[i:i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)]
    with _PLAIN():
        return _CAT([_DETACH(part) for part in parts])


def _code(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """`model.encode(x)`, else `model.encoder(x)`; None if neither exists."""
    encode = getattr(model, "encode", None)
    if not callable(encode):
        encode = getattr(model, "encoder", None)
    if not callable(encode):
        return None
    code = encode(x)
    if type(code) is _PLAIN_TENSOR:
        with _PLAIN():
            shape = [int(n) for n in _SIZE(code)]
        if shape and shape[0] == len(x):
            return code
    raise StudentError("exception", "encode(x) must return one tensor whose first dimension is the batch")


def _thin(values: list[float]) -> list[float | None]:
    """At most MAX_LOSSES values, the last one kept; NaN and inf become None (JSON has neither)."""
    if len(values) > MAX_LOSSES:
        step = len(values) / MAX_LOSSES
        values = [values[int(i * step)] for i in range(MAX_LOSSES - 1)] + [values[-1]]
    return [v if math.isfinite(v) else None for v in values]


def _restorer() -> Callable[[], None]:
    """A function that puts back this module's namespace and the builtins as they are now
    (at import, before any student code), for the driver to call after the student's code
    ran and before it measures. It uses no name that could be rebound in between."""
    namespace, names = globals(), dict(globals())
    table, builtin = builtins.__dict__, dict(builtins.__dict__)

    def restore() -> None:
        namespace.update(names)
        table.update(builtin)

    return restore


_RESTORE = _restorer()
