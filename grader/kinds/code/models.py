"""Seeded torch models as arguments of `code` questions (e.g. an occlusion map of a CNN).

A torch module cannot cross the sandbox boundary (nothing executable does), so a case
names the model by a recipe, `{model: {arch: small_cnn, channels: 3, classes: 3, seed: 0}}`,
and the same trusted `build` makes it twice from the same seed: in the grader for the
reference, and inside the sandbox child (from the call's `models` entry) for the student.

```yaml
cases:
  - args: {model: {model: {arch: small_cnn, seed: 0}}, image: {randn: [3, 12, 12]}, target: 1}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

#: Architecture name -> (settings it takes, with their defaults).
ARCHITECTURES: dict[str, dict[str, int]] = {
    "small_cnn": {"channels": 3, "classes": 3, "width": 8, "seed": 0},
}
_LIMITS = {"channels": (1, 16), "classes": (1, 100), "width": (1, 64), "seed": (0, 2**32 - 1)}
MARKER = "$model"
"""Key of the JSON stand-in `{"$model": spec}` used in released visible checks."""


@dataclass(frozen=True)
class ModelRecipe:
    """A validated model recipe: hashable and copyable, built only by `build`."""

    arch: str
    settings: tuple[tuple[str, int], ...]

    def spec(self) -> dict[str, Any]:
        return {"arch": self.arch, **dict(self.settings)}

    def describe(self) -> str:
        return f"<{self.arch} model, " + ", ".join(f"{k} {v}" for k, v in self.settings) + ">"


def recipe(raw: Any) -> ModelRecipe:
    """A ModelRecipe from `{arch, ...settings}`; ValueError naming what is wrong."""
    if not isinstance(raw, Mapping) or raw.get("arch") not in ARCHITECTURES:
        raise ValueError(f"a model recipe is {{arch: one of {', '.join(ARCHITECTURES)}, ...settings}}; got {raw!r}")
    defaults = ARCHITECTURES[raw["arch"]]
    unknown = sorted(set(raw) - set(defaults) - {"arch"}, key=str)
    if unknown:
        raise ValueError(f"model {raw['arch']!r} does not take {', '.join(map(str, unknown))} "
                         f"(it takes {', '.join(defaults)})")
    settings = {**defaults, **{k: v for k, v in raw.items() if k != "arch"}}
    for key, value in settings.items():
        low, high = _LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"model setting {key} must be a whole number from {low} to {high}, got {value!r}")
    return ModelRecipe(raw["arch"], tuple(sorted(settings.items())))


def build(model: ModelRecipe | Mapping[str, Any]) -> Any:
    """The torch module of a recipe, in eval mode; the same recipe gives the same weights.
    The global torch RNG is left as it was (the grader's own process calls this too)."""
    import torch
    from torch import nn

    made = model if isinstance(model, ModelRecipe) else recipe(model)
    settings = dict(made.settings)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings["seed"])
        width = settings["width"]
        network = nn.Sequential(
            nn.Conv2d(settings["channels"], width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            nn.Flatten(), nn.Linear(8 * width, settings["classes"]))
    return network.eval()


def materialise(args: Sequence[Any]) -> list[Any]:
    """Trusted-side arguments: recipes become modules, everything else a deep copy."""
    import copy

    return [build(arg) if isinstance(arg, ModelRecipe) else copy.deepcopy(arg) for arg in args]


def wire_call(args: Sequence[Any], kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A sandbox call: recipes (or their `{"$model": spec}` stand-ins) move to `models`,
    keyed by argument position, for the driver to build inside the child."""
    plain, models = [], {}
    for index, arg in enumerate(args):
        spec = arg.spec() if isinstance(arg, ModelRecipe) else marker_spec(arg)
        models.update({str(index): spec} if spec is not None else {})
        plain.append(None if spec is not None else arg)
    call: dict[str, Any] = {"args": plain, "kwargs": dict(kwargs or {})}
    if models:
        call["models"] = models
    return call


def marker_spec(value: Any) -> dict[str, Any] | None:
    """The model spec of a `{"$model": spec}` stand-in (a released visible check), else None."""
    if isinstance(value, dict) and set(value) == {MARKER} and isinstance(value[MARKER], dict):
        return dict(value[MARKER])
    return None


def shippable(args: Sequence[Any]) -> list[Any]:
    """Arguments for a released visible check: recipes become `{"$model": spec}`."""
    return [{MARKER: arg.spec()} if isinstance(arg, ModelRecipe) else arg for arg in args]
