"""The `model` kind through the real sandbox: the grader trains the student's model and checks
metrics; hostile models end as `error`/`incorrect` with a clear message and the batch goes on."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import api
from grader.core import registry
from grader.kinds.model import kind as model_kind
from grader.core.model import CodeAnswer, Question, Reference, Verdict
from grader.sandbox import Outcome

from tests.conftest import EXAMPLES, EXERCISES, module_from_source

KIND = registry.get("model")
# Easy, small and fast: three Gaussian blobs, a few epochs. Each run takes well under a second.
FAST = {"factory": "make_model", "data": {"name": "blobs", "classes": 3, "points": 30, "test_points": 30},
        "train": {"epochs": 8, "lr": 0.05, "batch_size": 16}, "thresholds": {"test_accuracy": 0.8},
        "limits": {"wall_s": 20}}

MLP = """
from torch import nn
def make_model():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
"""


def question(**changes: Any) -> Question:
    raw = {**FAST, **changes}
    return Question(id="model", kind="model", points=3, prompt="", answer=None, options=KIND.load_options(raw))


def answer(folder: Path, source: str) -> CodeAnswer:
    module = folder / "ex03.py"
    module.write_text(textwrap.dedent(source))
    return CodeAnswer(folder, module, "s1", "ex03")


def grade(folder: Path, source: str, **changes: Any) -> Verdict:
    unused = Reference(folder, "inf5860.ex03", "make_reference_model")
    return KIND.check(question(**changes), answer(folder, source), unused)


# ----------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize("source, changes, status, fraction, says", [
    (MLP, {}, "correct", 1.0, "All thresholds met"),
    # an nn.Module class named as the factory, built with the spec's factory_args
    ("""
     from torch import nn
     class Net(nn.Module):
         def __init__(self, hidden=4, unused=None):
             super().__init__()
             self.body = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 3))
         def forward(self, x):
             return self.body(x)
     """, {"factory": "Net", "factory_args": {"hidden": 12}}, "correct", 1.0, "Trained on cpu"),
    (MLP, {"thresholds": {"test_accuracy": 0.8, "max_parameters": 20}}, "incorrect", 0.0,
     "parameters: 99 (needs ≤ 20) — the model is larger than the question allows"),
    (MLP, {"thresholds": {"test_accuracy": 0.8, "max_parameters": 20}, "partial": True}, "partial", 0.5,
     "parameters: 99"),
    # wrong output shape: explained, not trained
    ("""
     from torch import nn
     def make_model():
         return nn.Linear(2, 2)
     """, {}, "incorrect", 0.0, "returns shape (N, 2), but this question needs (N, 3): one score per class"),
    # NaN everywhere: training stops, non-finite outputs count as wrong
    ("""
     import torch
     from torch import nn
     class Nan(nn.Module):
         def __init__(self):
             super().__init__()
             self.layer = nn.Linear(2, 3)
         def forward(self, x):
             return self.layer(x) * float("nan")
     def make_model():
         return Nan()
     """, {}, "incorrect", 0.0, "90 test outputs were NaN or infinite"),
    # no parameters at all: evaluated untrained, with a note
    ("""
     import torch
     from torch import nn
     class Constant(nn.Module):
         def forward(self, x):
             return torch.zeros(len(x), 3)
     def make_model():
         return Constant()
     """, {}, "incorrect", 0.0, "no trainable parameters"),
])
def test_verdicts(tmp_path: Path, source: str, changes: dict, status: str, fraction: float, says: str) -> None:
    verdict = grade(tmp_path, source, **changes)
    assert (verdict.status, verdict.fraction) == (status, fraction), verdict.feedback
    assert says in verdict.feedback
    json.dumps(verdict.details, allow_nan=False)  # results JSON is strict


@pytest.mark.parametrize("source, changes, says", [
    ("import torch\nimport no_such_package_xyz\n", {}, "importing ex03.py failed: ModuleNotFoundError"),
    ("def make_model(:\n    pass\n", {}, "importing ex03.py failed: SyntaxError"),
    ("from torch import nn\n", {}, "ex03.py does not define make_model"),
    ("make_model = 3\n", {}, "make_model in ex03.py is not a class or a function"),
    ("def make_model():\n    return 42\n", {}, "make_model() returned int, not a torch.nn.Module"),
    ("import sys\ndef make_model():\n    sys.exit(0)\n", {}, "sys.exit()"),
    ("def make_model():\n    raise RuntimeError('boom')\n", {}, "RuntimeError: boom"),
    ("""
     import torch
     from torch import nn
     class Pair(nn.Module):
         def __init__(self):
             super().__init__()
             self.layer = nn.Linear(2, 3)
         def forward(self, x):
             return self.layer(x), x
     def make_model():
         return Pair()
     """, {}, "forward() returned tuple; it must return one tensor"),
    ("""
     from torch import nn
     class Summed(nn.Module):
         def __init__(self):
             super().__init__()
             self.layer = nn.Linear(2, 3)
         def forward(self, x):
             return self.layer(x).sum(0)
     def make_model():
         return Summed()
     """, {}, "the first dimension must be the batch"),
    ("""
     import time
     from torch import nn
     class Sleepy(nn.Module):
         def __init__(self):
             super().__init__()
             self.layer = nn.Linear(2, 3)
         def forward(self, x):
             while True:
                 time.sleep(1)
     def make_model():
         return Sleepy()
     """, {"limits": {"wall_s": 2}}, "did not finish within 2 s"),
    ("""
     from torch import nn
     class Loud(nn.Module):
         def __init__(self):
             super().__init__()
             self.layer = nn.Linear(2, 3)
         def forward(self, x):
             print("x" * 100_000)
             return self.layer(x)
     def make_model():
         return Loud()
     """, {}, "printed more than"),
    ("""
     import torch
     from torch import nn
     class Greedy(nn.Module):
         def __init__(self):
             super().__init__()
             self.layer = nn.Linear(2, 3)
             self.hog = torch.ones(50_000, 50_000)   # 10 GB
         def forward(self, x):
             return self.layer(x)
     def make_model():
         return Greedy()
     """, {}, "ran out of memory"),
    # the grader package is not readable from the child: no faking a verdict with its code
    ("from grader.kinds.model import datasets\n", {}, "importing ex03.py failed"),
])
def test_hostile_models_end_as_errors(tmp_path: Path, source: str, changes: dict, says: str) -> None:
    verdict = grade(tmp_path, source, **changes)
    assert (verdict.status, verdict.fraction) == ("error", 0.0)
    assert says in verdict.feedback, verdict.feedback


def test_the_batch_goes_on_after_a_hostile_model(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert grade(tmp_path / "a", "import os\ndef make_model():\n    os._exit(3)\n").status == "error"
    assert grade(tmp_path / "b", MLP).status == "correct"


def test_training_is_deterministic_and_reports_device_and_details(tmp_path: Path) -> None:
    first, second = grade(tmp_path, MLP), grade(tmp_path, MLP)
    assert first.details["losses"] == second.details["losses"] and len(first.details["losses"]) == 8
    assert first.details["metrics"] == second.details["metrics"]
    details = first.details
    assert first.run is not None and first.run == second.run
    assert first.run.device == ("cuda" if model_kind.has_gpu() else "cpu")  # device: auto
    assert details["parameters"] == 2 * 16 + 16 + 16 * 3 + 3
    assert details["architecture"][0].startswith("0: Linear(in_features=2, out_features=16")
    assert [c.name for c in first.cases] == ["output shape", "test accuracy"]
    assert first.cases[1].expected == "≥ 0.8" and float(first.cases[1].got) >= 0.8
    assert details["data"].startswith("3-class blobs, 90 training and 90 test points")
    assert "rlimits" in first.run.layers and "def make_model" in first.run.source
    assert not {"cases", "device", "layers", "isolation", "stdout"} & set(details)  # typed fields now


@pytest.mark.parametrize("name, settings", [
    ("adam", {"weight_decay": 0.0}),
    ("adam", {"weight_decay": 0.01}),
    ("sgd", {"momentum": 0.9, "weight_decay": 0.0}),
    ("sgd", {"momentum": 0.0, "weight_decay": 0.001}),
])
def test_the_graders_optimizers_match_torch_optim_bit_for_bit(name: str, settings: dict) -> None:
    """The driver's own Adam/SGD (no torch._dynamo import per child) train exactly as torch.optim."""
    import torch

    from grader.kinds.model import driver as model_driver

    def run(make: Any) -> list[Any]:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
        optimizer = make(list(net.parameters()))
        x, y = torch.randn(32, 2), torch.randint(0, 3, (32,))
        for _ in range(25):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
        return [p.detach().clone() for p in net.parameters()]

    if name == "adam":
        ours = run(lambda ps: model_driver.Adam(ps, lr=0.01, weight_decay=settings["weight_decay"]))
        theirs = run(lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=settings["weight_decay"]))
    else:
        ours = run(lambda ps: model_driver.SGD(ps, lr=0.1, **settings))
        theirs = run(lambda ps: torch.optim.SGD(ps, lr=0.1, **settings))
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))


def test_sgd_option_trains(tmp_path: Path) -> None:
    verdict = grade(tmp_path, MLP, train={"epochs": 8, "lr": 0.1, "optimizer": "sgd", "momentum": 0.9})
    assert verdict.status == "correct", verdict.feedback


# ----------------------------------------------------------------------------- reconstruction

AUTOENCODER = """
from torch import nn
class AE(nn.Module):
    def __init__(self, code=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(8, 24), nn.Tanh(), nn.Linear(24, code))
        self.decoder = nn.Sequential(nn.Linear(code, 24), nn.Tanh(), nn.Linear(24, 8))
    def forward(self, x):
        return self.decoder(self.encoder(x))
def make_model():
    return AE()
def wide():
    return AE(code=8)
class NoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 2), nn.Linear(2, 8))
    def forward(self, x):
        return self.body(x)
"""
RECONSTRUCTION = {"task": "reconstruction", "data": {"name": "manifold", "points": 160, "test_points": 40},
                  "train": {"epochs": 15, "lr": 0.01, "batch_size": 32}, "thresholds": {"test_mse": 0.05, "bottleneck": 2}}


@pytest.mark.parametrize("factory, status, says", [
    ("make_model", "correct", "bottleneck size: 2 (needs ≤ 2)"),
    ("wide", "incorrect", "bottleneck size: 8 (needs ≤ 2) — the code is wider than the question allows"),
    ("NoEncoder", "incorrect", "define encode(x) (or an `encoder` submodule)"),
])
def test_autoencoders(tmp_path: Path, factory: str, status: str, says: str) -> None:
    verdict = grade(tmp_path, AUTOENCODER, factory=factory, **RECONSTRUCTION)
    assert verdict.status == status, verdict.feedback
    assert says in verdict.feedback
    assert "test_mse" in verdict.details["metrics"]


def test_nan_reconstruction_fails_and_details_stay_json(tmp_path: Path) -> None:
    source = AUTOENCODER + "\ndef nan_model():\n    model = AE()\n    model.decoder[2].bias.data[:] = float('nan')\n    return model\n"
    verdict = grade(tmp_path, source, factory="nan_model", **RECONSTRUCTION)
    assert verdict.status == "incorrect" and "40 test outputs were NaN or infinite" in verdict.feedback
    assert verdict.details["metrics"]["test_mse"] is None
    json.dumps(verdict.details, allow_nan=False)


def test_reconstruction_needs_the_input_shape(tmp_path: Path) -> None:
    verdict = grade(tmp_path, "from torch import nn\ndef make_model():\n    return nn.Linear(8, 3)\n",
                    **RECONSTRUCTION)
    assert verdict.status == "incorrect"
    assert "needs (N, 8): the reconstruction must have the input's shape" in verdict.feedback


# ----------------------------------------------------------------------------- options


@pytest.mark.parametrize("changes, key, message", [
    ({"factory": None}, "factory", "factory must name the model class"),
    ({"factory": "make model"}, "factory", "factory must name"),
    ({"task": "regression"}, "task", "task must be one of classification, reconstruction"),
    ({"data": {"name": "mnist"}}, "data", "data.name must be one of"),
    ({"data": {"name": "manifold"}}, "data.name", "does not suit a classification task"),
    ({"train": {"epochs": 0}}, "train.epochs", "train.epochs must be a whole number from 1"),
    ({"train": {"optimizer": "rmsprop"}}, "train.optimizer", "adam, sgd"),
    ({"train": {"lr": "fast"}}, "train.lr", "train.lr must be a number"),
    ({"train": {"steps": 3}}, "train.steps", "train does not take steps"),
    ({"thresholds": {}}, "thresholds", "thresholds must set a metric"),
    ({"thresholds": {"test_accuracy": 1.5}}, "thresholds.test_accuracy", "from 0 to 1"),
    ({"thresholds": {"test_mse": 0.1}}, "thresholds.test_mse", "does not apply to a classification task"),
    ({"thresholds": {"test_accuracy": 0.9, "output_shape": [3]}}, "thresholds.output_shape", "[null, 3]"),
    ({"thresholds": {"test_accuracy": 0.9, "output_shape": [None, -1]}}, "thresholds.output_shape", "[null, 3]"),
    ({"thresholds": {"test_accuracy": 0.9, "output_shape": [None, 2]}}, "thresholds.output_shape",
     "must be [null, 3] for this data (one score per class)"),
    ({"device": "tpu"}, "device", "device must be one of auto, cpu"),
    ({"partial": "yes"}, "partial", "partial must be true or false"),
    ({"limits": {"wall_s": 0}}, "limits.wall_s", "limits.wall_s must be a number"),
    ({"limits": {"gpu": True}}, "limits.gpu", "limits does not take gpu"),
    ({"factory_args": [1]}, "factory_args", "factory_args must map"),
    ({"data": {"name": "shapes", "size": 4}}, "data", "size must be a whole number from 8 to 64, got 4"),
    ({"data": {"name": "digits", "noise": 0.1}}, "data", "data recipe 'digits' does not take noise"),
    ({"thresholds": {"test_accuracy": 0.9, "min_conv_layers": 1}}, "thresholds.min_conv_layers",
     "thresholds.min_conv_layers needs thresholds.max_parameters"),
    ({"thresholds": {"test_accuracy": 0.9, "max_parameters": 99, "min_conv_layers": 0}}, "thresholds.min_conv_layers",
     "thresholds.min_conv_layers must be a whole number from 1 to 100, got 0"),
    ({"thresholds": {"test_accuracy": 0.9, "max_parameters": 99, "min_conv_layers": 1}}, "thresholds.min_conv_layers",
     "thresholds.min_conv_layers needs image data (digits or shapes); 'blobs' gives points"),
])
def test_bad_options_name_the_key(changes: dict, key: str, message: str) -> None:
    with pytest.raises(registry.OptionError, match=re.escape(message)) as caught:
        KIND.load_options({**FAST, **changes})
    assert caught.value.key == key


def test_option_defaults_and_device() -> None:
    options = KIND.load_options({"factory": "f", "data": {"name": "spiral"}, "thresholds": {"test_accuracy": 0.9}})
    assert options.limits.gpu is True and options.limits.threads == 1  # device: auto may use CUDA
    assert options.train == model_kind.TrainSettings()
    cpu = KIND.load_options({**FAST, "device": "cpu"})
    assert cpu.limits.gpu is False


def test_gpu_devices_are_opened_only_where_allowed_and_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr("grader.sandbox.run", lambda job: seen.append(job.limits.gpu) or Outcome(
        ok=False, value=None, error="stub", error_kind="exception", stdout="", layers=(), warnings=(), wall_s=0.0))
    module = answer(tmp_path, MLP).module
    for present in (False, True):
        monkeypatch.setattr(model_kind, "has_gpu", lambda: present)
        for device in ("auto", "cpu"):
            model_kind.train(question(device=device).options, module, "make_model")
    assert seen == [False, False, True, False]


def test_answers_yaml_is_not_a_model_and_literal_references_are_refused(tmp_path: Path) -> None:
    assert KIND.parse("nn.Linear(2, 3)", question()).message.startswith("a model question is answered with code")
    with pytest.raises(ValueError, match="must be {solution: function}"):
        KIND.parse_reference(3, question())


def test_a_failed_training_run_keeps_the_code_and_the_trace(tmp_path: Path) -> None:
    source = "print('building')\ndef make_model():\n    raise RuntimeError('no model today')\n"
    verdict = grade(tmp_path, source)
    assert verdict.status == "error" and verdict.cases == ()
    assert verdict.run is not None and verdict.run.source == source and "building" in verdict.run.stdout
    assert "RuntimeError: no model today" in verdict.run.traceback and 'File "ex03.py"' in verdict.run.traceback


def test_sandbox_faults_are_grader_faults() -> None:
    options = question().options
    outcome = Outcome(ok=False, value=None, error="the sandbox failed: zygote died", error_kind="sandbox",
                      stdout="", layers=(), warnings=(), wall_s=0.1)
    verdict = model_kind.verdict_for(options, outcome)
    assert verdict.status == "error" and "grader fault" in verdict.feedback


# ----------------------------------------------------------------------------- the child grades nothing
#
# The driver runs in the student's process. These students patch what measures them: the
# driver's helpers, torch's methods, the driver's own defences, the report through the stack
# frames. None of them passes a threshold it should fail; a report that does not add up is
# the student's error.

BIG = """
import sys, builtins
import numpy as np
import torch
from torch import nn
driver = sys.modules["grader.kinds.model.driver"]

def make_model():  # 2*256+256 + 256*256+256 + 256*3+3 = 67,331 parameters
    return nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 3))

def tamper(**names):
    '''Rebind driver names inside the driver's own restore (it then installs them itself).'''
    cells = dict(zip(driver._RESTORE.__code__.co_freevars, (c.cell_contents for c in driver._RESTORE.__closure__)))
    cells["names"].update(names)
"""
LIMITED = {"thresholds": {"test_accuracy": 0.8, "max_parameters": 10_000}}
IN_FORWARD = """
make_model_plain = make_model
class Patching(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = make_model_plain()
    def forward(self, x):
        {patch}
        return self.body(x)
def make_model():
    return Patching()
"""


def test_a_large_model_fails_the_parameter_limit(tmp_path: Path) -> None:
    verdict = grade(tmp_path, BIG, **LIMITED)
    assert (verdict.status, verdict.fraction) == ("incorrect", 0.0), verdict.feedback
    assert "parameters: 67,331 (needs ≤ 10,000)" in verdict.feedback
    assert verdict.details["parameters"] == 67_331


@pytest.mark.parametrize("attack", [
    # the driver's helpers, rebound when the module is imported: put back before the driver runs
    "driver._count = lambda *args, **kwargs: 5\ndriver.walk = lambda model: ((), ())\n"
    "driver._weights = lambda *args: {'w': np.zeros(5, np.float32)}\n",
    # torch's methods, patched for everyone: the driver measures with what it bound at import
    "nn.Module.parameters = lambda self, recurse=True: iter(self._modules['4']._parameters.values()\n"
    "                                                       if '4' in self._modules else ())\n"
    "nn.Module.named_parameters = lambda self, *args, **kwargs: iter(())\n"
    "nn.Module.state_dict = lambda self, *args, **kwargs: {}\n"
    "torch.Tensor.numel = lambda self: 1\nbuiltins.sum = lambda *args: 5\n",
    # the same, from forward() while the driver runs: the driver puts its names back before it measures
    IN_FORWARD.format(patch="driver._count = lambda *args: 5; builtins.sum = lambda *args: 5; "
                            "driver._weights = lambda *args: {'w': np.zeros(5, np.float32)}"),
    # a model class that hides its layers from nn.Module's methods
    """
    class Hiding(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = make_model()
        def forward(self, x):
            return self.body(x)
        def parameters(self, recurse=True):
            return iter(list(self.body[4].parameters()))
        def named_parameters(self, *args, **kwargs):
            return iter(list(self.body[4].named_parameters()))
        def named_modules(self, *args, **kwargs):
            return iter([("", self)])
    def make_model_hiding():
        return Hiding()
    """,
])
def test_patching_what_measures_the_model_does_not_shrink_it(tmp_path: Path, attack: str) -> None:
    factory = "make_model_hiding" if "make_model_hiding" in attack else "make_model"
    verdict = grade(tmp_path, BIG + textwrap.dedent(attack), factory=factory, **LIMITED)
    assert (verdict.status, verdict.fraction) == ("incorrect", 0.0), verdict.feedback
    assert "parameters: 67,331 (needs ≤ 10,000)" in verdict.feedback


@pytest.mark.parametrize("attack, changes, says", [
    # the driver's defences broken too: the grader counts the weights it gets, and they do not add up
    ("tamper(_weights=lambda *args: {'w': np.zeros(5, np.float32)})", LIMITED,
     "it says the model has 67,331 parameters, but sent the weights of 5"),
    ("tamper(_count=lambda parameters: 5)", LIMITED, "it says the model has 5 parameters, but sent the weights of 67,331"),
    ("tamper(_count=lambda parameters: 5, _weights=lambda *args: None)", LIMITED,
     "it sent no weights for a model of 5 parameters, within the limit"),
    # lying about the output shape: the grader reads it off the outputs
    ("tamper(_shape_matches=lambda *args: False)", LIMITED,
     "it says the output shape (N, 3) is wrong, but the question asks for that shape"),
    # predictions of the wrong type cannot be read
    ("tamper(_array=lambda t: np.zeros((len(t), 3)))", {}, "test_outputs is not a float32 array"),
])
def test_a_report_that_does_not_add_up_is_the_students_error(tmp_path: Path, attack: str, changes: dict,
                                                            says: str) -> None:
    verdict = grade(tmp_path, BIG + attack + "\n", **changes)
    assert (verdict.status, verdict.fraction) == ("error", 0.0), verdict.feedback
    assert verdict.feedback.startswith("The results your code sent back do not add up (tampering?)")
    assert says in verdict.feedback, verdict.feedback


def test_fake_predictions_earn_nothing_without_the_labels(tmp_path: Path) -> None:
    """'Perfect' outputs of the right type and shape: the grader scores them against labels the child never saw."""
    verdict = grade(tmp_path, MLP + textwrap.dedent(BIG.split("def make_model")[0]) + textwrap.dedent("""
        def tamper(**names):
            cells = dict(zip(driver._RESTORE.__code__.co_freevars, (c.cell_contents for c in driver._RESTORE.__closure__)))
            cells["names"].update(names)
        tamper(_array=lambda t: np.eye(3, dtype=np.float32)[np.zeros(len(t), int)])
        """))
    assert (verdict.status, verdict.fraction) == ("incorrect", 0.0), verdict.feedback
    assert "Test accuracy: 0.333 (needs ≥ 0.8)" in verdict.feedback


def test_lying_about_a_wrong_output_shape_does_not_pass(tmp_path: Path) -> None:
    """A model of shape (N, 2) on 3 classes says it is (N, 3) and skips training: the outputs tell."""
    source = BIG.replace("nn.Linear(256, 3))", "nn.Linear(256, 2))") + textwrap.dedent("""
        tamper(_probe_shape=lambda model, x: [len(x), 3], _train=lambda *args: ([0.5], None))
        """)
    verdict = grade(tmp_path, source)
    assert verdict.status == "error" and "do not add up" in verdict.feedback, verdict.feedback
    assert "outputs have shapes (90, 2) and (90, 2), but the question asks for (N, 3)" in verdict.feedback


def test_the_test_labels_never_reach_the_child(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jobs: list[Any] = []
    monkeypatch.setattr("grader.sandbox.run", lambda job: jobs.append(job) or Outcome(
        ok=False, value=None, error="stub", error_kind="exception", stdout="", layers=(), warnings=(), wall_s=0.0))
    options = question(thresholds={"test_accuracy": 0.8, "max_parameters": 500}).options
    model_kind.train(options, answer(tmp_path, MLP).module, "make_model")
    data = model_kind.dataset(options.data)
    sent = jobs[0].payload
    assert "y_test" not in sent and not any(v is data.y_test for v in sent.values())
    assert np.array_equal(sent["x_test"], data.x_test) and sent["max_parameters"] == 500
    # the child may send back no more than an honest report takes: outputs, 500 weights, the rest
    assert jobs[0].limits.result_bytes == model_kind.REPORT_BYTES + 4 * 3 * 180 + 8 * 500


@pytest.mark.parametrize("bomb", [
    # an array slipped into the report through the driver's stack frame
    IN_FORWARD.format(patch="frame = sys._getframe()\n        "
                            "while frame.f_code.co_name != 'train_and_evaluate': frame = frame.f_back\n        "
                            "frame.f_locals['report']['bomb'] = np.zeros(5_000_000, np.float32)"),
    "tamper(_layers=lambda modules: ['x' * 999_999] * 30)",
])
def test_result_size_bombs_are_the_students_error(tmp_path: Path, bomb: str) -> None:
    verdict = grade(tmp_path, BIG + textwrap.dedent(bomb) + "\n", **LIMITED)
    assert (verdict.status, verdict.fraction) == ("error", 0.0), verdict.feedback
    assert "returned more than" in verdict.feedback and "bytes of results" in verdict.feedback
    assert verdict.run is not None and verdict.run.limits_hit == "output"


@pytest.mark.parametrize("source, factory", [
    (MLP, "make_model"),
    (AUTOENCODER, "make_model"),
    ("""
     import torch
     from torch import nn
     class Shared(nn.Module):
         def __init__(self):
             super().__init__()
             self.a = nn.Linear(2, 4)
             self.b = self.a                      # the same layer twice: counted once
             self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), self.a])
             self.scale = nn.Parameter(torch.tensor(2.0))
             self.register_parameter("unused", None)
             self.add_module("nothing", None)
         def forward(self, x):
             return self.a(x)
     def make_model():
         return Shared()
     """, "make_model"),
])
def test_the_walk_finds_what_named_parameters_finds(tmp_path: Path, source: str, factory: str) -> None:
    from grader.kinds.model import driver as model_driver

    model = getattr(module_from_source(tmp_path / "walked.py", source, "walked"), factory)()
    parameters, modules = model_driver.walk(model)
    assert [(n, id(p)) for n, p in parameters] == [(n, id(p)) for n, p in model.named_parameters()]
    assert [(n, id(m)) for n, m in modules] == [(n, id(m)) for n, m in model.named_modules()]


def honest_report(**changes: Any) -> tuple[dict[str, Any], model_kind.ModelOptions]:
    """A report as the driver writes it, through the wire format, for the question `changes` makes."""
    import sys
    import types

    import torch

    from grader.kinds.model import driver as model_driver
    from grader.sandbox import protocol

    options = question(**changes).options
    module = types.ModuleType("submission_ex03")
    exec(compile(textwrap.dedent(AUTOENCODER if options.task == "reconstruction" else MLP), "ex03.py", "exec"),
         module.__dict__)
    torch.set_num_threads(1)
    report = model_driver.train_and_evaluate(module, {**model_kind.payload(options, "make_model"), "device": "cpu"})
    assert sys.modules["grader.kinds.model.driver"] is model_driver
    return protocol.decode(protocol.encode(report, torch)), options


LIMITED_FAST = {"thresholds": {"test_accuracy": 0.8, "max_parameters": 1000}, "train": {"epochs": 1}}


@pytest.mark.parametrize("changes, edit, message", [
    ({}, lambda r: [], "the report is not a mapping"),
    ({}, lambda r: {**r, "parameters": -1}, "parameters is not a count"),
    ({}, lambda r: {**r, "weights": [np.zeros(99, np.float32)]}, "the weights are not named arrays"),
    ({}, lambda r: {**r, "weights": {"w": np.zeros(99)}}, "weight 'w' is not a float32 array"),
    ({}, lambda r: {**r, "weights": {**r["weights"], "extra": np.zeros(1, np.float32)}},
     "it says the model has 99 parameters, but sent the weights of 100"),
    ({}, lambda r: {**r, "weights": None}, "it sent no weights for a model of 99 parameters, within the limit"),
    ({}, lambda r: {**r, "device": 1}, "device or layers"),
    ({}, lambda r: {**r, "output_shape": "N,3"}, "output_shape is malformed"),
    ({}, lambda r: {**r, "output_shape": [None, 4]}, "it says the outputs have shape (N, 4), but sent outputs of "
                                                     "shape (N, 3)"),
    ({}, lambda r: {**r, "trained": False}, "it says the output shape (N, 3) is wrong, but the question asks"),
    ({}, lambda r: {**r, "test_outputs": r["test_outputs"][:5]}, "test_outputs has 5 rows, not 90"),
    ({}, lambda r: {**r, "test_outputs": r["test_outputs"][:, :2], "train_outputs": r["train_outputs"][:, :2],
                    "output_shape": [None, 2]}, "but the question asks for (N, 3)"),
    ({}, lambda r: {**r, "losses": ["nan"]}, "losses are malformed"),
    ({}, lambda r: {**r, "train_s": None}, "stopped or train_s are malformed"),
    (RECONSTRUCTION, lambda r: {**r, "code_width": 1}, "the codes have shape (4, 2), not (4, 1)"),
    (RECONSTRUCTION, lambda r: {**r, "codes": None}, "it sent no codes for a code of 2 numbers, within the limit"),
    (RECONSTRUCTION, lambda r: {**r, "codes": r["codes"][:1]}, "the codes have shape (1, 2), not (4, 2)"),
])
def test_the_childs_report_is_read_strictly(changes: dict, edit: Any, message: str) -> None:
    report, options = honest_report(**{**LIMITED_FAST, **changes})
    assert model_kind.read_report(report, options)["trained"] is True  # the honest report reads
    with pytest.raises(model_kind._Malformed) as caught:
        model_kind.read_report(edit(report), options)
    assert message in str(caught.value)


@pytest.mark.parametrize("changes, edit, parameters, bottleneck", [
    # a bare claim is believed where it can only cost the student
    ({}, lambda r: {**r, "parameters": 5000, "weights": None}, 5000, None),
    ({"thresholds": {"test_accuracy": 0.8}}, lambda r: r, 99, None),  # no limit: the count is only shown
    (RECONSTRUCTION, lambda r: {**r, "codes": None, "code_width": 3}, None, 3),
    (RECONSTRUCTION, lambda r: {**r, "codes": None, "code_width": None}, None, None),  # no encoder found
])
def test_claims_against_the_student_are_believed(changes: dict, edit: Any, parameters: int | None,
                                                bottleneck: int | None) -> None:
    report, options = honest_report(**{**LIMITED_FAST, **changes})
    read = model_kind.read_report(edit(report), options)
    assert read["bottleneck"] == bottleneck
    if parameters is not None:
        assert read["parameters"] == parameters


# ----------------------------------------------------------------------------- the INF 5860 question


@pytest.fixture(scope="module")
def ex03() -> Any:
    course = api.load([EXERCISES / "ex03-basic-nets.yaml"])
    exercise = course.exercises[0]
    return course, exercise, exercise.question("model")


def test_ex03_reference_proves_itself(ex03: Any) -> None:
    course, exercise, q = ex03
    reference = Reference(course.solutions_root, exercise.solutions, "make_reference_model")
    assert KIND.prove(q, reference) == []


@pytest.mark.parametrize("student, status, says", [
    ("s100001", "correct", "Test accuracy: 1.000"),
    ("s100002", "incorrect", "the model underfits"),
])
def test_ex03_demo_students(ex03: Any, student: str, status: str, says: str) -> None:
    course, exercise, q = ex03
    folder = EXAMPLES / student
    value = CodeAnswer(folder, folder / "ex03.py", student, "ex03")
    verdict = KIND.check(q, value, Reference(course.solutions_root, exercise.solutions, "make_reference_model"))
    assert verdict.status == status, verdict.feedback
    assert says in verdict.feedback


def test_prove_flags_a_threshold_the_reference_barely_reaches(tmp_path: Path) -> None:
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    # always predicts class 0: exactly 1/3 accuracy on three balanced classes
    (solutions / "weak.py").write_text(textwrap.dedent("""
        import torch
        from torch import nn
        class Constant(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.zeros(1))
            def forward(self, x):
                return torch.zeros(len(x), 3) + 0 * self.w
        def make_reference_model():
            return Constant()
        """))
    weak = Reference(solutions, "weak", "make_reference_model")
    close = KIND.prove(question(thresholds={"test_accuracy": 0.32}), weak)
    assert close == ["the reference reaches test_accuracy 0.333, too close to the threshold 0.32: "
                     "lower it to at most 0.30"]
    failing = KIND.prove(question(thresholds={"test_accuracy": 0.5}), weak)
    assert len(failing) == 1 and failing[0].startswith("the reference model does not pass its own thresholds")
    broken = KIND.prove(question(), Reference(solutions, "weak", "no_such_factory"))
    assert broken[0].startswith("the reference model does not train: weak.py does not define no_such_factory")
    assert KIND.prove(question(), "a literal") == ["the answer must be {solution: function} naming the reference model"]


@pytest.mark.parametrize("test, train, hint", [
    (0.95, 0.99, ""),
    (0.52, 0.58, "the model underfits"),
    (0.70, 0.85, "the model underfits"),  # training accuracy under the threshold as well
    (0.70, 1.00, "the model overfits"),
    (0.20, 0.25, "the model underfits"),
])
def test_fit_hint_tells_under_from_overfitting(test: float, train: float, hint: str) -> None:
    text = model_kind._fit_hint(question(thresholds={"test_accuracy": 0.9}).options,
                                {"test_accuracy": test, "train_accuracy": train, "nonfinite": 0})
    assert hint in text and (text == "") == (hint == "")


def test_batchnorm_and_dropout_models_train(tmp_path: Path) -> None:
    verdict = grade(tmp_path, """
        from torch import nn
        def make_model():
            return nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
        """)
    assert verdict.status == "correct", verdict.feedback
    assert any("BatchNorm1d" in layer for layer in verdict.details["architecture"])


def test_the_same_bytes_train_once_per_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outcomes are kept in the course's memo under the prepared job's key: a copy of a file
    is graded from the first run, a file that differs by one byte is trained afresh."""
    from grader import sandbox
    from grader.core.memo import Memo

    runs: list[str] = []
    real = sandbox.run_prepared
    monkeypatch.setattr(sandbox, "run_prepared", lambda job: runs.append(job.key) or real(job))
    shared = Reference(tmp_path, "inf5860.ex03", "make_reference_model", memo=Memo())
    verdicts = []
    for name, source in (("a", MLP), ("b", MLP), ("c", MLP + "# another student\n")):
        (tmp_path / name).mkdir()
        verdicts.append(KIND.check(question(), answer(tmp_path / name, source), shared))
    assert len(runs) == 2 and runs[0] != runs[1]
    assert [v.status for v in verdicts] == ["correct"] * 3
    assert verdicts[0].details == verdicts[1].details == verdicts[2].details
    assert verdicts[2].run is not None and "another student" in verdicts[2].run.source
    (tmp_path / "d").mkdir()
    link = tmp_path / "d" / "ex03.py"
    link.symlink_to(tmp_path / "a" / "ex03.py")
    refused = KIND.check(question(), CodeAnswer(tmp_path / "d", link, "s4", "ex03"), shared)
    assert refused.status == "error" and len(runs) == 2  # refused before any run, and not kept


# ----------------------------------------------------------------------------- image data and ex06.cnn


IMAGE_SPEC = """\
id: ex06
title: Convolutional nets
solutions: inf5860.ex06
questions:
  - id: cnn
    kind: model
    points: 3
    prompt: p
    factory: make_shape_classifier
    data: {data}
    thresholds: {thresholds}
    answer: {{solution: make_shape_classifier}}
"""


@pytest.mark.parametrize("data, thresholds, line, message", [
    ("{name: shapes, size: 100}", "{test_accuracy: 0.9}", 10,
     "(questions[0].data) size must be a whole number from 8 to 64, got 100"),
    ("{name: digits, points: 170}", "{test_accuracy: 0.9}", 10,
     "(questions[0].data) digits has 174 images of its rarest class: points + test_points (per class) must be "
     "at most 174, got 170 + 50"),
    ("{name: shape}", "{test_accuracy: 0.9}", 10, "(questions[0].data) data.name must be one of"),
    ("{name: digits}", "{test_accuracy: 0.9, min_conv_layers: 2}", 11,
     "(questions[0].thresholds.min_conv_layers) thresholds.min_conv_layers needs thresholds.max_parameters"),
])
def test_image_recipe_mistakes_name_file_and_line(tmp_path: Path, data: str, thresholds: str, line: int,
                                                  message: str) -> None:
    from grader.authoring.spec import load_course
    from grader.core.errors import SpecError

    spec = tmp_path / "exercises" / "ex06.yaml"
    spec.parent.mkdir()
    (tmp_path / "solutions").symlink_to(EXERCISES.parent.parent / "solutions")
    spec.write_text(IMAGE_SPEC.format(data=data, thresholds=thresholds))
    with pytest.raises(SpecError) as caught:
        load_course([spec])
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{spec}:{line}: ") and message in p for p in found), found


def test_conv_layers_are_counted_from_the_weights_sent() -> None:
    """4-D kernels with more than one tap; a 1×1 kernel, a 3-D or 2-D weight counts for nothing."""
    arrays = {"a": np.zeros((8, 1, 3, 3), np.float32), "b": np.zeros((4, 8, 1, 1), np.float32),
              "c": np.zeros((3, 16), np.float32), "d": np.zeros((4, 2, 3), np.float32),
              "e": np.zeros((2, 4, 1, 5), np.float32)}
    assert model_kind._conv_layers(arrays) == 2
    assert model_kind._conv_layers({}) == 0 and model_kind._conv_layers(None) is None


@pytest.fixture(scope="module")
def ex06() -> Any:
    from grader.authoring.spec import load_course

    course = load_course([EXERCISES / "ex06-conv-nets.yaml"])
    return course, course.exercises[0].question("cnn")


@pytest.mark.slow
def test_ex06_cnn_reference_proves_itself(ex06: Any) -> None:
    course, q = ex06
    assert q.options.data.image and q.options.thresholds.min_conv_layers == 1
    assert KIND.prove(q, Reference(course.solutions_root, "inf5860.ex06", "make_shape_classifier")) == []


CNN = """
from torch import nn
def make_shape_classifier():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(16, 3))
"""


@pytest.mark.slow
@pytest.mark.parametrize("source, status, says", [
    (CNN, "correct", "convolution layers: 2 (needs ≥ 1)"),
    # too big: 32 and 64 channels, 19,011 parameters; its weights are not read, so its kernels are not counted
    (CNN.replace("(1, 8,", "(1, 32,").replace("(8, 16,", "(32, 64,").replace("Linear(16,", "Linear(64,"),
     "incorrect", "parameters: 19,011 (needs ≤ 2,000) — the model is larger than the question allows"),
    # no convolution at all: a small MLP on the flattened pixels
    ("""
     from torch import nn
     def make_shape_classifier():
         return nn.Sequential(nn.Flatten(), nn.Linear(256, 7), nn.ReLU(), nn.Linear(7, 3))
     """, "incorrect", "convolution layers: 0 (needs ≥ 1) — the trained weights hold no 2-D convolution kernel"),
    # 1×1 convolutions see no neighbourhood: they are a per-pixel linear map, not a convolutional net
    ("""
     from torch import nn
     def make_shape_classifier():
         return nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(512, 3))
     """, "incorrect", "convolution layers: 0 (needs ≥ 1)"),
    # a layer merely named Conv2d: the count comes from the weights' shapes, not from the layers' names
    ("""
     from torch import nn
     class Conv2d(nn.Module):
         def __init__(self):
             super().__init__()
             self.inner = nn.Linear(256, 3)
         def forward(self, x):
             return self.inner(x.flatten(1))
     def make_shape_classifier():
         return Conv2d()
     """, "incorrect", "convolution layers: 0 (needs ≥ 1)"),
])
def test_ex06_cnn_through_the_engine(ex06: Any, tmp_path: Path, source: str, status: str, says: str) -> None:
    """Real sandbox runs, graded as `grader grade` grades a submission folder."""
    from datetime import datetime, timezone

    from grader.grading import engine
    from grader.intake.submission import read_folder

    course, _ = ex06
    (tmp_path / "ex06.py").write_text(textwrap.dedent(source))
    result = engine.grade_submission(course, read_folder(tmp_path, "s1"), datetime(2026, 11, 27, tzinfo=timezone.utc))
    cnn = {q.id: q for q in result.questions}["ex06.cnn"]
    assert cnn.status == status, cnn.feedback
    assert says in cnn.feedback
    assert cnn.score == (3 if status == "correct" else 0)
