"""`model`: the student supplies a PyTorch model; the grader trains it and checks metrics.

The student's `<exercise>.py` defines a `torch.nn.Module` class or a function returning one
(`factory: make_model`). The grader generates the data from a seeded recipe
(`grader.kinds.model.datasets`), trains the model with its own seeded loop inside the sandbox
(`grader.kinds.model.driver`) and gets back data, never a verdict: the trained weights, the
raw outputs and a few codes. Everything that decides the verdict is measured here, in the
grader's process: the parameters counted from the weights, the output shape read off the
outputs, every metric computed against test labels the child never saw (`read_report`).

    - id: model
      kind: model
      factory: make_model
      task: classification                 # or reconstruction (autoencoders)
      data: {name: spiral, classes: 3, points: 100, seed: 0}
      train: {epochs: 150, lr: 0.01, batch_size: 32, optimizer: adam}
      thresholds: {test_accuracy: 0.9, max_parameters: 10000, output_shape: [null, 3]}
      device: auto                         # CUDA when the machine has it, else the CPU; cpu; cuda (needs a GPU)
      answer: {solution: make_reference_model}

Thresholds: `test_accuracy`, `train_accuracy` (at least), `test_mse` (reconstruction: the
mean squared reconstruction error, at most), `max_parameters`, `bottleneck` (at most this
many numbers per example in `model.encode(x)` or `model.encoder(x)`), `min_conv_layers`
(at least this many 2-D convolution kernels larger than 1×1 among the trained weights,
counted from the weights sent; needs `max_parameters`) and `output_shape` (null matches
any size). The image recipes (`digits`, `shapes`) give inputs of shape (N, 1, H, W). All must hold for the points; `partial: true` credits the share
of thresholds met instead.

Devices. `device: auto` (the default) trains on CUDA where the child finds it
(`torch.cuda.is_available()` there), else on the CPU; `cpu` never opens a GPU; `cuda`
needs one (grading refuses to start without it). The device a model was actually trained
on is in its result: `RunRecord.device` (`cpu` or `cuda`) and the feedback's "Trained on
…" (with the card's name). The trade-off of the sandbox's design: every job is a fresh
child forked from a zygote, and CUDA cannot be initialised before a fork (a forked child
cannot use its parent's context), so each job on a GPU creates its own CUDA context (a
fraction of a second to a few seconds) and none is kept per worker. Keeping one would
mean training students' models one after the other in one long-lived process, where one
student's code could leave state for the next: isolation is worth the start-up. For the
small models of a problem sheet the CPU is often as fast; `device: cpu` skips the GPU.

Identical submissions train once: the outcome is kept in the course's memo under the
prepared job's key (`train`), as the code kind keeps its outcomes.
"""

from __future__ import annotations

import functools
import glob
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from grader.core import registry
from grader.core.memo import Memo
from grader.core.model import CodeAnswer, Question, Reference, Verdict
from grader.core.results import CaseResult, RunRecord
from grader.kinds.common import TORCH, CodeAnswered, error_text, load_limits, run_record
from grader.sandbox import LIMITS_SCHEMA, Job, Limits, Outcome

DRIVER = "grader.kinds.model.driver:train_and_evaluate"
TASKS = ("classification", "reconstruction")
OPTIMIZERS = ("adam", "sgd")
DEVICES = ("auto", "cpu", "cuda")
ACCURACY_MARGIN = 0.03
"""`grader validate`: the reference must beat an accuracy threshold by this much..."""
MSE_MARGIN = 0.8
"""...and stay under this share of an error threshold, so that a fair model passes too."""
MAX_EPOCHS = 10_000

_ID = r"^[A-Za-z_][A-Za-z0-9_]*$"
@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 150
    lr: float = 0.01
    batch_size: int = 32
    optimizer: str = "adam"
    momentum: float = 0.9
    """SGD only."""
    weight_decay: float = 0.0


@dataclass(frozen=True)
class Thresholds:
    test_accuracy: float | None = None
    train_accuracy: float | None = None
    test_mse: float | None = None
    max_parameters: int | None = None
    bottleneck: int | None = None
    min_conv_layers: int | None = None
    """Convolution kernels (4-D weights, (out, in, kh, kw), kh·kw > 1) the trained weights must hold."""
    output_shape: tuple[int | None, ...] | None = None
    """Trailing dimensions after the batch one, None matching any size."""


@dataclass(frozen=True)
class ModelOptions:
    factory: str
    data: Any
    """A grader.kinds.model.datasets.Recipe."""
    task: str = "classification"
    factory_args: tuple[tuple[str, Any], ...] = ()
    train: TrainSettings = field(default_factory=TrainSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    device: str = "auto"
    partial: bool = False
    limits: Limits = field(default_factory=lambda: Limits(wall_s=60.0, cpu_s=120.0, threads=1))


def threshold_case(name: str, passed: bool, expected: str, got: str, message: str = "") -> CaseResult:
    """One threshold as a case of the report's test table: what it needs, what the model got."""
    return CaseResult(name=name, passed=passed, expected=expected, got=got, message=message)


class _Malformed(ValueError):
    """The child's report does not have the shape the driver writes, or does not add up:
    tampering or a bug."""


# ----------------------------------------------------------------------------- options


def _number(raw: Mapping[str, Any], key: str, where: str, low: float, high: float, integer: bool = False) -> Any:
    value = raw[key]
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        what = "a whole number" if integer else "a number"
        raise registry.OptionError(f"{where}.{key} must be {what} from {low:g} to {high:g}, got {value!r}",
                                   f"{where}.{key}")
    return value


def _mapping(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise registry.OptionError(f"{key} must be a mapping", key)
    unknown = sorted(set(value) - set(allowed), key=str)
    if unknown:
        raise registry.OptionError(f"{key} does not take {', '.join(map(str, unknown))} "
                                   f"(it takes {', '.join(allowed)})", f"{key}.{unknown[0]}")
    return value


def _load_train(raw: Mapping[str, Any]) -> TrainSettings:
    spec = _mapping(raw, "train", ("epochs", "lr", "batch_size", "optimizer", "momentum", "weight_decay"))
    values: dict[str, Any] = {}
    for key, low, high, integer in (("epochs", 1, MAX_EPOCHS, True), ("lr", 1e-9, 100, False),
                                    ("batch_size", 1, 100_000, True), ("momentum", 0, 1, False),
                                    ("weight_decay", 0, 10, False)):
        if key in spec:
            values[key] = _number(spec, key, "train", low, high, integer)
    optimizer = spec.get("optimizer", "adam")
    if optimizer not in OPTIMIZERS:
        raise registry.OptionError(f"train.optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}",
                                   "train.optimizer")
    return TrainSettings(optimizer=optimizer, **values)


def _load_shape(value: Any) -> tuple[int | None, ...]:
    ok = isinstance(value, list) and 1 <= len(value) <= 6 and all(
        d is None or (type(d) is int and d >= 1) for d in value)
    if not ok or value[0] is not None:
        raise registry.OptionError("thresholds.output_shape must be a list such as [null, 3]: the batch "
                                   "dimension null, then positive sizes or null", "thresholds.output_shape")
    return tuple(value[1:])


def _load_thresholds(raw: Mapping[str, Any], task: str) -> Thresholds:
    spec = _mapping(raw, "thresholds", ("test_accuracy", "train_accuracy", "test_mse", "max_parameters",
                                        "bottleneck", "min_conv_layers", "output_shape"))
    values: dict[str, Any] = {}
    for key, low, high, integer in (("test_accuracy", 0, 1, False), ("train_accuracy", 0, 1, False),
                                    ("test_mse", 0, 1e9, False), ("max_parameters", 1, 10**10, True),
                                    ("bottleneck", 1, 10**6, True), ("min_conv_layers", 1, 100, True)):
        if key in spec:
            values[key] = _number(spec, key, "thresholds", low, high, integer)
    if "output_shape" in spec:
        values["output_shape"] = _load_shape(spec["output_shape"])
    wrong = {"classification": ("test_mse", "bottleneck"),
             "reconstruction": ("test_accuracy", "train_accuracy")}[task]
    for key in wrong:
        if key in values:
            raise registry.OptionError(f"thresholds.{key} does not apply to a {task} task", f"thresholds.{key}")
    if "min_conv_layers" in values and "max_parameters" not in values:
        # the kernels are counted from the weights, which cross only for a model within a limit
        raise registry.OptionError("thresholds.min_conv_layers needs thresholds.max_parameters: the grader "
                                   "counts the kernels in the trained weights, which it reads only for a "
                                   "model within a parameter limit", "thresholds.min_conv_layers")
    if not any(k in values for k in ("test_accuracy", "train_accuracy", "test_mse")):
        needed = "test_accuracy" if task == "classification" else "test_mse"
        raise registry.OptionError(f"thresholds must set a metric the model has to reach, e.g. {needed}",
                                   "thresholds")
    return Thresholds(**values)


def _choice(raw: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    if value not in choices:
        raise registry.OptionError(f"{key} must be one of {', '.join(choices)}, got {value!r}", key)
    return value


def load_model_options(raw: Mapping[str, Any]) -> ModelOptions:
    from grader.kinds.model import datasets

    factory = raw.get("factory")
    if not isinstance(factory, str) or not factory.isidentifier():
        raise registry.OptionError("factory must name the model class or function in the student's module, "
                                   "e.g. factory: make_model", "factory")
    task = _choice(raw, "task", TASKS, "classification")
    try:
        recipe = datasets.load_recipe(raw.get("data"))
    except ValueError as exc:
        raise registry.OptionError(str(exc), "data") from None
    if recipe.labelled != (task == "classification"):
        raise registry.OptionError(f"data {recipe.name!r} does not suit a {task} task", "data.name")
    thresholds = _load_thresholds(raw, task)
    if thresholds.min_conv_layers is not None and not recipe.image:
        raise registry.OptionError(f"thresholds.min_conv_layers needs image data (digits or shapes); "
                                   f"{recipe.name!r} gives points, not images", "thresholds.min_conv_layers")
    args = raw.get("factory_args") or {}
    if not isinstance(args, Mapping) or not all(isinstance(k, str) and k.isidentifier() for k in args):
        raise registry.OptionError("factory_args must map argument names to values", "factory_args")
    partial = raw.get("partial", False)
    if not isinstance(partial, bool):
        raise registry.OptionError("partial must be true or false", "partial")
    natural = (recipe.classes,) if task == "classification" else (recipe.dim,)
    shape = thresholds.output_shape
    if shape is not None and (len(shape) != 1 or shape[0] not in (None, natural[0])):
        raise registry.OptionError(f"thresholds.output_shape must be [null, {natural[0]}] for this data "
                                   f"({'one score per class' if task == 'classification' else 'the input size'})",
                                   "thresholds.output_shape")
    device = _choice(raw, "device", DEVICES, "auto")
    base = ModelOptions(factory=factory, data=recipe).limits
    limits = load_limits(raw.get("limits"), replace(base, gpu=device != "cpu"))
    return ModelOptions(factory=factory, data=recipe, task=task, factory_args=tuple(sorted(args.items())),
                        train=_load_train(raw), thresholds=thresholds, device=device,
                        partial=partial, limits=limits)


# ----------------------------------------------------------------------------- training


@functools.lru_cache(maxsize=16)
def dataset(recipe: Any) -> Any:
    from grader.kinds.model import datasets

    return datasets.generate(recipe)


def expected_shape(options: ModelOptions) -> list[int | None]:
    if options.thresholds.output_shape is not None:
        return list(options.thresholds.output_shape)
    data = dataset(options.data)
    return [options.data.classes] if options.task == "classification" else list(data.x_train.shape[1:])


PROBE_ROWS = 4
"""Inputs the driver runs first to learn the output shape, and whose codes it sends back."""
REPORT_BYTES = 1_000_000
"""What a report may take besides its arrays: names, losses, layers, the JSON around them."""
WEIGHT_BYTES = 8
"""Per parameter sent back (float32, with room for the .npy headers of many small arrays)."""


def payload(options: ModelOptions, factory: str) -> dict[str, Any]:
    """What the driver gets: the training data and test *inputs* (never the test labels), the
    settings, and the thresholds that decide what it sends back."""
    data = dataset(options.data)
    settings, limits = options.train, options.thresholds
    return {
        "factory": factory, "factory_args": dict(options.factory_args), "task": options.task,
        "x_train": data.x_train, "y_train": data.y_train, "x_test": data.x_test,
        "expected_shape": expected_shape(options), "epochs": settings.epochs, "lr": settings.lr,
        "batch_size": settings.batch_size, "optimizer": settings.optimizer, "momentum": settings.momentum,
        "weight_decay": settings.weight_decay, "seed": options.data.seed, "device": options.device,
        "threads": options.limits.threads, "max_parameters": limits.max_parameters, "bottleneck": limits.bottleneck, "probe_rows": PROBE_ROWS,
    }


def result_bytes(options: ModelOptions) -> int:
    """The most an honest report can take (the outputs, the weights of a model within
    max_parameters, a few codes, the rest): a child that sends more is stopped."""
    data = dataset(options.data)
    shape = expected_shape(options)
    if any(d is None for d in shape):
        return options.limits.result_bytes
    outputs = 4 * math.prod(d for d in shape if d is not None) * (len(data.x_train) + len(data.x_test))
    weights = WEIGHT_BYTES * (options.thresholds.max_parameters or 0)
    codes = 4 * PROBE_ROWS * (options.thresholds.bottleneck or 0)
    return min(options.limits.result_bytes, REPORT_BYTES + outputs + weights + codes)


OUTCOMES_KEPT = 16
"""Training runs kept per course (each holds the model's outputs and weights, up to a few MB)."""


def train(options: ModelOptions, module: Path | None, factory: str, memo: Memo | None = None) -> Outcome:
    """Train `factory` from `module` in the sandbox with the question's data and settings.

    With the course's `memo`, the outcome is kept under the prepared job's key, as the code
    kind keeps its outcomes: two students who hand in the same bytes get one training run
    (the loop is seeded, so a second run would give the same numbers), and a job that
    differs in anything its code could see (a byte of the file, the data, the limits) is
    trained afresh."""
    from grader import sandbox

    # Least privilege: the child sees GPU devices only when the question allows it and the machine
    # has one, and may send back no more than an honest report takes.
    limits = replace(options.limits, gpu=options.limits.gpu and has_gpu(), result_bytes=result_bytes(options))
    job = Job(DRIVER, module, payload(options, factory), limits)
    if memo is None:
        return sandbox.run(job)
    prepared = sandbox.prepare(job)
    if isinstance(prepared, Outcome):  # refused (a link, a file too big): never kept
        return prepared
    return memo.get("model outcome", prepared.key, lambda: sandbox.run_prepared(prepared), limit=OUTCOMES_KEPT)


def has_gpu() -> bool:
    """An NVIDIA device node is present (checked without importing or initialising CUDA here)."""
    return any(glob.glob("/dev/nvidia[0-9]*"))


# ----------------------------------------------------------------------------- the child's report
#
# The child is the student's process: its report is data to measure, never a verdict. Each
# measurement that decides one (the parameters, the output shape, the metrics, the
# bottleneck) is made here from the arrays sent, and the report must agree with itself. A
# bare claim is believed only where it can only cost the student: a model over
# max_parameters sends its count without its weights, a code wider than the bottleneck its
# width without the codes, a model of the wrong shape its shape without outputs.


def _int(report: Mapping[str, Any], key: str) -> int:
    value = report.get(key)
    if type(value) is not int or value < 0:
        raise _Malformed(f"{key} is not a count")
    return value


def _float_array(value: Any, what: str, ndim: int = 1) -> Any:
    """A float32 array of at least `ndim` dimensions (a parameter may be a scalar)."""
    import numpy as np

    if type(value) is not np.ndarray or value.dtype != np.float32 or value.ndim < ndim:
        raise _Malformed(f"{what} is not a float32 array")
    return value


def _outputs(report: Mapping[str, Any], key: str, rows: int) -> Any:
    value = _float_array(report.get(key), key)
    if len(value) != rows:
        raise _Malformed(f"{key} has {len(value)} rows, not {rows}")
    return value


def _shape(report: Mapping[str, Any]) -> list[int | None]:
    shape = report.get("output_shape")
    if (type(shape) is not list or not 1 <= len(shape) <= 8 or shape[0] is not None
            or not all(type(d) is int and d >= 0 for d in shape[1:])):
        raise _Malformed("output_shape is malformed")
    return shape


def _fits(shape: list[int | None], expected: list[int | None]) -> bool:
    """Trailing dimensions as the question asks (None there matches any size)."""
    return len(shape) == len(expected) and all(e is None or e == s for s, e in zip(shape, expected))


def _parameters(report: Mapping[str, Any], max_parameters: int | None) -> int:
    """The parameter count, measured from the weights sent; the child's own count must agree."""
    claimed, weights = _int(report, "parameters"), report.get("weights")
    if weights is None:
        if max_parameters is not None and claimed <= max_parameters:
            raise _Malformed(f"it sent no weights for a model of {claimed:,} parameters, within the limit")
        return claimed  # over the limit (the threshold fails), or no limit (the count is only shown)
    if type(weights) is not dict:
        raise _Malformed("the weights are not named arrays")
    count = sum(_float_array(array, f"weight {name[:100]!r}", ndim=0).size for name, array in weights.items())
    if count != claimed:
        raise _Malformed(f"it says the model has {claimed:,} parameters, but sent the weights of {count:,}")
    return count


def _conv_layers(weights: Any) -> int | None:
    """2-D convolution kernels among the weights sent (already read by `_parameters`): arrays
    shaped (out, in, kh, kw) with more than one tap (a 1×1 kernel sees no neighbourhood).
    None when no weights crossed (a model over max_parameters, which fails that threshold)."""
    if weights is None:
        return None
    return sum(1 for array in weights.values() if array.ndim == 4 and array.shape[2] * array.shape[3] > 1)


def _bottleneck(report: Mapping[str, Any], limit: int | None, rows: int) -> int | None:
    """Numbers per example in the code, measured from the codes sent; None without an encoder."""
    claimed, codes = report.get("code_width"), report.get("codes")
    if claimed is not None and (type(claimed) is not int or claimed < 0):
        raise _Malformed("code_width is not a count")
    if codes is None:
        if claimed is not None and limit is not None and claimed <= limit:
            raise _Malformed(f"it sent no codes for a code of {claimed} numbers, within the limit")
        return claimed  # no encoder or too wide (the threshold fails), or no limit (only shown)
    codes = _float_array(codes, "the codes")
    if codes.ndim != 2 or len(codes) != rows or codes.shape[1] != claimed:
        raise _Malformed(f"the codes have shape {codes.shape}, not ({rows}, {claimed})")
    return int(codes.shape[1])


def read_report(value: Any, options: ModelOptions) -> dict[str, Any]:
    """The driver's report, checked field by field and against itself: the child is untrusted."""
    if type(value) is not dict:
        raise _Malformed("the report is not a mapping")
    thresholds, data = options.thresholds, dataset(options.data)
    report: dict[str, Any] = {"parameters": _parameters(value, thresholds.max_parameters),
                              "trained": value.get("trained") is True,
                              "conv_layers": _conv_layers(value.get("weights"))}
    device, layers = value.get("device"), value.get("layers")
    if type(device) is not str or type(layers) is not list or not all(type(x) is str for x in layers):
        raise _Malformed("device or layers are malformed")
    report.update(device=device[:100], layers=[x[:200] for x in layers[:40]])
    expected, claimed = expected_shape(options), _shape(value)
    if not report["trained"]:
        if _fits(claimed[1:], expected):
            raise _Malformed(f"it says the output shape {_shape_text(claimed)} is wrong, but the question asks "
                             "for that shape")
        return {**report, "output_shape": claimed}
    test = _outputs(value, "test_outputs", len(data.x_test))
    train = _outputs(value, "train_outputs", len(data.x_train))
    shape: list[int | None] = [None, *test.shape[1:]]
    if train.shape[1:] != test.shape[1:] or not _fits(shape[1:], expected):
        raise _Malformed(f"it trained a model whose outputs have shapes {test.shape} and {train.shape}, but the "
                         f"question asks for {_shape_text([None, *expected])}")
    if claimed != shape:
        raise _Malformed(f"it says the outputs have shape {_shape_text(claimed)}, but sent outputs of shape "
                         f"{_shape_text(shape)}")
    losses, stopped, seconds = value.get("losses"), value.get("stopped"), value.get("train_s")
    if type(losses) is not list or not all(v is None or type(v) is float for v in losses):
        raise _Malformed("losses are malformed")
    if (stopped is not None and type(stopped) is not str) or type(seconds) is not float:
        raise _Malformed("stopped or train_s are malformed")
    rows = min(PROBE_ROWS, len(data.x_test))
    report.update(output_shape=shape, losses=losses[:500], stopped=stopped[:500] if stopped else None,
                  train_s=seconds, test_outputs=test, train_outputs=train,
                  bottleneck=_bottleneck(value, thresholds.bottleneck, rows) if options.task == "reconstruction"
                  else None)
    return report


# ----------------------------------------------------------------------------- metrics


def _accuracy(outputs: Any, labels: Any) -> tuple[float, int]:
    """(accuracy, rows with NaN/inf): a row that is not finite counts as wrong."""
    import numpy as np

    flat = outputs.reshape(len(outputs), -1)
    finite = np.isfinite(flat).all(axis=1)
    right = (flat.argmax(axis=1) == labels) & finite
    return float(right.mean()), int((~finite).sum())


def _mse(outputs: Any, targets: Any) -> tuple[float, int]:
    import numpy as np

    flat = outputs.reshape(len(outputs), -1).astype(np.float64)
    finite = np.isfinite(flat).all(axis=1)
    if outputs.shape != targets.shape or not finite.all():
        return float("inf"), int((~finite).sum())
    return float(np.mean((flat - targets.reshape(len(targets), -1)) ** 2)), 0


def _shape_text(shape: list[int | None]) -> str:
    return "(" + ", ".join("N" if i == 0 else ("any" if d is None else str(d)) for i, d in enumerate(shape)) + ")"


def metrics(options: ModelOptions, report: Mapping[str, Any]) -> dict[str, Any]:
    data = dataset(options.data)
    found: dict[str, Any] = {"parameters": report["parameters"]}
    if options.thresholds.min_conv_layers is not None:
        found["conv_layers"] = report["conv_layers"]
    if options.task == "classification":
        found["test_accuracy"], found["nonfinite"] = _accuracy(report["test_outputs"], data.y_test)
        found["train_accuracy"], _ = _accuracy(report["train_outputs"], data.y_train)
    else:
        found["test_mse"], found["nonfinite"] = _mse(report["test_outputs"], data.x_test)
        found["train_mse"], _ = _mse(report["train_outputs"], data.x_train)
        found["bottleneck"] = report["bottleneck"]
    return found


def checks(options: ModelOptions, report: Mapping[str, Any], found: Mapping[str, Any]) -> list[CaseResult]:
    """One case per threshold, in the order the report lists them."""
    limits = options.thresholds
    shape = [None, *expected_shape(options)]
    out = [threshold_case("output shape", True, _shape_text(shape), _shape_text(report["output_shape"]))]
    if limits.test_accuracy is not None:
        out.append(_at_least("test accuracy", found["test_accuracy"], limits.test_accuracy))
    if limits.train_accuracy is not None:
        out.append(_at_least("training accuracy", found["train_accuracy"], limits.train_accuracy))
    if limits.test_mse is not None:
        got = found["test_mse"]
        out.append(threshold_case("test reconstruction error (MSE)", got <= limits.test_mse,
                                  f"≤ {limits.test_mse:g}", f"{got:.4g}"))
    if limits.max_parameters is not None:
        got = found["parameters"]
        fits = got <= limits.max_parameters
        out.append(threshold_case("parameters", fits, f"≤ {limits.max_parameters:,}", f"{got:,}",
                                  "" if fits else "the model is larger than the question allows"))
    if limits.bottleneck is not None:
        out.append(_bottleneck_check(found.get("bottleneck"), limits.bottleneck))
    if limits.min_conv_layers is not None:
        out.append(_conv_check(found.get("conv_layers"), limits.min_conv_layers))
    return out


def _at_least(name: str, got: float, threshold: float) -> CaseResult:
    return threshold_case(name, got >= threshold, f"≥ {threshold:.3g}", f"{got:.3f}")


def _bottleneck_check(got: int | None, limit: int) -> CaseResult:
    if got is None:
        return threshold_case("bottleneck size", False, f"≤ {limit}", "not found",
                              "define encode(x) (or an `encoder` submodule) so the grader can measure the code size")
    wide = "the code is wider than the question allows, so it can copy its input"
    return threshold_case("bottleneck size", got <= limit, f"≤ {limit}", str(got), "" if got <= limit else wide)


def _conv_check(got: int | None, needed: int) -> CaseResult:
    """Whether the model convolves, from the kernels its weights hold (a layer's name proves nothing)."""
    name, expected = "convolution layers", f"≥ {needed}"
    if got is None:
        return threshold_case(name, False, expected, "not counted",
                              "the model is over the parameter limit, so its weights were not read")
    held = "no 2-D convolution kernel" if got == 0 else f"only {got} 2-D convolution kernel{'s' if got > 1 else ''}"
    few = f"the trained weights hold {held} larger than 1×1; use torch.nn.Conv2d layers on the (N, 1, H, W) images"
    return threshold_case(name, got >= needed, expected, str(got), "" if got >= needed else few)


# ----------------------------------------------------------------------------- verdicts


def _details(report: Mapping[str, Any], options: ModelOptions, found: Mapping[str, Any]) -> dict[str, Any]:
    """The model kind's own extras; the thresholds are the verdict's cases, the run its RunRecord."""
    # JSON has no inf/NaN: a metric that could not be computed shows as null.
    shown = {k: (round(v, 6) if math.isfinite(v) else None) if isinstance(v, float) else v for k, v in found.items()}
    return {
        "architecture": report["layers"], "metrics": shown, "parameters": report["parameters"],
        "losses": report.get("losses", []), "data": dataset(options.data).describe(),
    }


def _device(name: str) -> str:
    """`cuda (NVIDIA …)` -> `cuda`: the RunRecord says where, the feedback names the card."""
    return "cuda" if name.startswith("cuda") else "cpu" if name == "cpu" else ""


def _summary(options: ModelOptions, cases: list[CaseResult], report: Mapping[str, Any],
             found: Mapping[str, Any]) -> str:
    parts = [f"{c.name}: {c.got} (needs {c.expected})" + (f" — {c.message}" if c.message else "")
             for c in cases[1:]]
    summary = "; ".join(parts)
    lines = [summary[:1].upper() + summary[1:] + "."] if parts else []
    hint = _fit_hint(options, found)
    if hint:
        lines.append(hint)
    if found.get("nonfinite"):
        lines.append(f"{found['nonfinite']} test outputs were NaN or infinite.")
    if report.get("stopped"):
        lines.append(f"Note: {report['stopped']}.")
    # No timings here or in the details: a result must not depend on how busy the machine was.
    lines.append(f"Trained on {report['device']}; {report['parameters']:,} parameters.")
    return " ".join(lines)


def _fit_hint(options: ModelOptions, found: Mapping[str, Any]) -> str:
    """Under- or overfitting, told apart by the training accuracy, when the test accuracy fails."""
    threshold, convolutions = options.thresholds.test_accuracy, options.thresholds.min_conv_layers
    if threshold is None or found["test_accuracy"] >= threshold or found.get("nonfinite"):
        return ""
    if convolutions is not None and (found.get("conv_layers") or 0) < convolutions:
        return ""  # the missing convolutions are the reason; the convolution case says so
    train = found["train_accuracy"]
    if train < threshold or train < found["test_accuracy"] + 0.05:
        return (f"The training accuracy is low too ({train:.3f}): the model underfits. It is too simple "
                "for this data; hidden layers with a nonlinear activation can bend the decision boundary.")
    return (f"The training accuracy is much higher ({train:.3f}): the model overfits the training "
            "points; a smaller model or weight decay generalises better.")


def verdict_for(options: ModelOptions, outcome: Outcome, module: Path | None = None) -> Verdict:
    """The verdict for one training run (student's or reference's) of the code in `module`."""
    run = run_record(outcome, module)
    if not outcome.ok:
        fault = outcome.error_kind == "sandbox"
        lead = "The grader could not run your model (grader fault)" if fault else "Training your model failed"
        return Verdict("error", 0.0, f"{lead}: {error_text(outcome)}", run=run,
                       fault="grader" if fault else "student")
    try:
        report = read_report(outcome.value, options)
    except _Malformed as exc:
        return Verdict("error", 0.0, f"The results your code sent back do not add up (tampering?): {exc}.",
                       run=run, fault="student")
    return _trained_verdict(options, report, replace(run, device=_device(report["device"])))


def _trained_verdict(options: ModelOptions, report: Mapping[str, Any], run: RunRecord) -> Verdict:
    """The verdict on a report that was read: the shape first, then every threshold."""
    if not report["trained"]:
        shape = [None, *expected_shape(options)]
        case = threshold_case("output shape", False, _shape_text(shape), _shape_text(report["output_shape"]),
                              "the model was not trained")
        feedback = (f"For N inputs your model returns shape {_shape_text(report['output_shape'])}, but this "
                    f"question needs {_shape_text(shape)}"
                    + (f": one score per class ({options.data.classes} classes)." if options.task == "classification"
                       else ": the reconstruction must have the input's shape."))
        return Verdict("incorrect", 0.0, feedback, _details(report, options, {}), cases=(case,), run=run)
    found = metrics(options, report)
    cases = tuple(checks(options, report, found))
    details = _details(report, options, found)
    passed = sum(c.passed for c in cases)
    feedback = _summary(options, list(cases), report, found)
    if passed == len(cases):
        return Verdict("correct", 1.0, f"All thresholds met. {feedback}", details, cases=cases, run=run)
    # The output-shape check always passes here, so it earns nothing on its own.
    share = (passed - 1) / (len(cases) - 1) if len(cases) > 1 else 0.0
    if options.partial and share > 0:
        return Verdict("partial", share, feedback, details, cases=cases, run=run)
    return Verdict("incorrect", 0.0, feedback, details, cases=cases, run=run)


# ----------------------------------------------------------------------------- the kind


def _reference_path(reference: Reference) -> Path:
    from grader.authoring import solutions

    return solutions.module_path(reference.solutions_root, reference.module)


class ModelKind(CodeAnswered):
    name = "model"
    sandbox_modules = (DRIVER.split(":")[0],)
    option_keys = {
        "factory": {"type": "string", "pattern": _ID, "description": "model class or factory function to train"},
        "factory_args": {"type": "object", "description": "keyword arguments for the factory"},
        "task": {"enum": list(TASKS)},
        "data": {"description": "seeded data recipe, e.g. {name: spiral, classes: 3, points: 100, seed: 0}; "
                 "images (N, 1, H, W): {name: digits} (scikit-learn's 8×8 digits) or {name: shapes, size: 16}"},
        "train": {"type": "object", "additionalProperties": False,
                  "properties": {"epochs": {"type": "integer", "minimum": 1, "maximum": MAX_EPOCHS},
                                 "lr": {"type": "number", "exclusiveMinimum": 0},
                                 "batch_size": {"type": "integer", "minimum": 1},
                                 "optimizer": {"enum": list(OPTIMIZERS)},
                                 "momentum": {"type": "number", "minimum": 0, "maximum": 1},
                                 "weight_decay": {"type": "number", "minimum": 0}}},
        "thresholds": {"type": "object", "additionalProperties": False,
                       "properties": {"test_accuracy": {"type": "number", "minimum": 0, "maximum": 1},
                                      "train_accuracy": {"type": "number", "minimum": 0, "maximum": 1},
                                      "test_mse": {"type": "number", "minimum": 0},
                                      "max_parameters": {"type": "integer", "minimum": 1},
                                      "bottleneck": {"type": "integer", "minimum": 1},
                                      "min_conv_layers": {"type": "integer", "minimum": 1, "maximum": 100},
                                      "output_shape": {"type": "array", "items": {"type": ["integer", "null"]}}}},
        "device": {"enum": list(DEVICES), "description": "auto: CUDA when present, else the CPU; cuda: a GPU "
                   "is required (grading stops on a machine without one)"},
        "partial": {"type": "boolean", "description": "credit the share of thresholds met"},
        "limits": LIMITS_SCHEMA,
    }
    supports_mistakes = False
    public_keys = ("factory",)
    """The factory students must define is part of the question; nothing else is shipped."""

    def load_options(self, raw: Mapping[str, Any]) -> ModelOptions:
        return load_model_options(raw)

    def requires(self, question: Question) -> list[registry.Requirement]:
        """torch, and with `device: cuda` a GPU it can use (a bundle ships no device: students need none)."""
        gpu = isinstance(question.options, ModelOptions) and question.options.device == "cuda"
        return [replace(TORCH, why="training the model", gpu=gpu)]

    def check(self, question: Question, value: CodeAnswer, expected: Reference) -> Verdict:
        options: ModelOptions = question.options
        memo = expected.memo if isinstance(expected, Reference) else None
        return verdict_for(options, train(options, value.module, options.factory, memo), value.module)

    def prove(self, question: Question, expected: Any) -> list[str]:
        """`grader validate`: the reference trains through the same path and passes comfortably."""
        if not isinstance(expected, Reference):
            return ["the answer must be {solution: function} naming the reference model"]
        options: ModelOptions = question.options
        outcome = train(options, _reference_path(expected), expected.function, expected.memo)
        verdict = verdict_for(options, outcome)
        if verdict.status == "error":
            return [f"the reference model does not train: {outcome.error or verdict.feedback}"]
        if verdict.status != "correct":
            return [f"the reference model does not pass its own thresholds: {verdict.feedback}"]
        train_s = float(outcome.value.get("train_s", 0.0))  # read_report checked it is a float
        metrics = verdict.details["metrics"]
        assert isinstance(metrics, dict)  # verdict_for always reports them
        return _margins(options, metrics, outcome, train_s)

    def show(self, value: Any, question: Question) -> str:
        module = value.module.name if isinstance(value, CodeAnswer) and value.module else "the submission"
        return f"{question.options.factory} in {module}"


def _margins(options: ModelOptions, found: Mapping[str, Any], outcome: Outcome, train_s: float) -> list[str]:
    limits, problems = options.thresholds, []
    for key in ("test_accuracy", "train_accuracy"):
        threshold = getattr(limits, key)
        if threshold is not None and found[key] < min(1.0, threshold + ACCURACY_MARGIN):
            problems.append(f"the reference reaches {key} {found[key]:.3f}, too close to the threshold "
                            f"{threshold:g}: lower it to at most {found[key] - ACCURACY_MARGIN:.2f}")
    if limits.test_mse is not None and found["test_mse"] > MSE_MARGIN * limits.test_mse:
        problems.append(f"the reference reaches test_mse {found['test_mse']:.4g}, too close to the threshold "
                        f"{limits.test_mse:g}: raise it to at least {found['test_mse'] / MSE_MARGIN:.3g}")
    if outcome.wall_s > options.limits.wall_s / 3:
        problems.append(f"the reference took {outcome.wall_s:.1f} s ({train_s:.1f} s of training) of the "
                        f"{options.limits.wall_s:g} s limit: train for fewer epochs or raise limits.wall_s")
    return problems


registry.register(ModelKind())
