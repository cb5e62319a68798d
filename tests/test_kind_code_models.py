"""Seeded models as code-question arguments (grader.kinds.code.models): recipes are checked
at load, built the same in the grader and in the sandbox child, and never cross as objects."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.grading import engine
from grader.core import registry
from grader.kinds.code import models as cm
from grader.kinds.code import values as cv
from grader.kinds.code.kind import KIND
from grader.core.model import CodeAnswer, Question, Reference, ValueSource

torch = pytest.importorskip("torch")

REFERENCES = '''
import torch

def class_scores(model, image):
    with torch.no_grad():
        return model(torch.as_tensor(image)[None])[0].numpy()
'''

QUESTION = {
    "function": "class_scores",
    "returns": "any",
    "inputs": "torch",
    "tolerance": {"rel": 1e-4, "abs": 1e-6},
    "limits": {"wall_s": 10},
    "cases": [
        {"name": "seed 0", "args": {"model": {"model": {"arch": "small_cnn", "seed": 0}}, "image": {"randn": [3, 8, 8]}}},
        {"name": "grey, 5 classes", "args": {"model": {"model": {"arch": "small_cnn", "channels": 1, "classes": 5,
                                                                "seed": 7}},
                                            "image": {"randn": [1, 6, 6]}}},
    ],
}


@pytest.fixture(scope="module")
def solutions_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("solutions")
    (root / "course").mkdir()
    (root / "course" / "m.py").write_text(REFERENCES)
    return root


def grade(solutions_root: Path, tmp_path: Path, source: str) -> Any:
    q = Question(id="q", kind="code", points=1, prompt="", answer=ValueSource(solution="class_scores"),
                 options=KIND.load_options(QUESTION))
    folder = tmp_path / "s1"
    folder.mkdir(exist_ok=True)
    (folder / "ex.py").write_text(textwrap.dedent(source))
    expected = engine.Expected(Reference(solutions_root, "course.m", "class_scores"), ())
    return engine.judge(q, CodeAnswer(folder, folder / "ex.py", "s1", "ex"), expected)


@pytest.mark.parametrize("raw, problem", [
    ({"arch": "small_cnn"}, None),
    ({"arch": "small_cnn", "channels": 1, "classes": 10, "width": 4, "seed": 99}, None),
    ({"arch": "resnet152"}, "a model recipe is"),
    ("small_cnn", "a model recipe is"),
    ({"arch": "small_cnn", "layers": 3}, "does not take layers"),
    ({"arch": "small_cnn", "width": 10**6}, "width must be a whole number"),
    ({"arch": "small_cnn", "seed": True}, "seed must be a whole number"),
    ({"arch": "small_cnn", "seed": -1}, "seed must be a whole number"),
    ({"arch": "small_cnn", "classes": 2.5}, "classes must be a whole number"),
], ids=["defaults", "all-settings", "unknown-arch", "not-a-mapping", "unknown-key", "huge", "bool", "negative",
        "float"])
def test_recipes_are_checked(raw: Any, problem: str | None) -> None:
    if problem is None:
        cv.check_recipe({"model": raw})
        assert isinstance(cv.make_input({"model": raw}, np.random.default_rng(0), {}, True), cm.ModelRecipe)
    else:
        with pytest.raises(cv.RecipeError, match=problem):
            cv.check_recipe({"model": raw})


def test_a_model_recipe_takes_no_modifiers() -> None:
    with pytest.raises(cv.RecipeError, match="takes no dtype"):
        cv.check_recipe({"model": {"arch": "small_cnn"}, "scale": 2})


def test_a_property_cannot_transform_a_model() -> None:
    raw = {**QUESTION, "properties": [{"name": "p", "case": 0, "transform": {"model": {"scale": 2}}}]}
    with pytest.raises(registry.OptionError) as error:
        KIND.load_options(raw)
    assert error.value.key == "properties[0]" and "a model" in str(error.value)


def test_build_is_seeded_and_leaves_the_global_generator_alone() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = cm.build(cm.recipe({"arch": "small_cnn", "seed": 3}))
    assert torch.rand(1).item() == before.item()
    again, other = cm.build({"arch": "small_cnn", "seed": 3}), cm.build({"arch": "small_cnn", "seed": 4})
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), again.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters()))
    assert not first.training
    assert first(torch.zeros(2, 3, 9, 9)).shape == (2, 3)


def test_recipes_travel_as_specs_never_as_modules() -> None:
    model = cm.recipe({"arch": "small_cnn", "seed": 1})
    call = cm.wire_call([model, np.ones(2), {"$model": {"arch": "small_cnn"}}, {"other": 1}])
    assert call["args"][0] is None and call["args"][2] is None and call["args"][3] == {"other": 1}
    assert call["models"] == {"0": model.spec(), "2": {"arch": "small_cnn"}}
    assert cm.shippable([model, 3]) == [{"$model": model.spec()}, 3]
    assert cm.wire_call([1.0]) == {"args": [1.0], "kwargs": {}}
    assert cv.summarize(model).startswith("<small_cnn model")


STUDENTS = [
    ("import torch\ndef class_scores(model, image):\n    return model(image[None])[0].detach()\n", "correct", ""),
    ("import torch\ndef class_scores(model, image):\n    return torch.softmax(model(image[None]), 1)[0].detach()\n",
     "incorrect", "values differ"),
    # retraining or zeroing the model in the child changes nothing outside it
    (("import torch\ndef class_scores(model, image):\n    for p in model.parameters():\n        p.data.zero_()\n"
      "    return model(image[None])[0].detach()\n"), "incorrect", "values differ"),
    ("def class_scores(model, image):\n    return model\n", "incorrect", "returned an object of type"),
]


@pytest.mark.parametrize("source, status, says", STUDENTS, ids=["correct", "softmax", "zeroes-weights", "returns-model"])
def test_the_child_builds_the_same_model(solutions_root: Path, tmp_path: Path, source: str, status: str,
                                         says: str) -> None:
    verdict = grade(solutions_root, tmp_path, source)
    assert verdict.status == status, verdict.feedback
    assert says in verdict.feedback
    if status == "correct":  # the same model, built twice from one seed, in two processes
        assert "small_cnn model" in verdict.cases[0].inputs


def test_released_checks_carry_model_stand_ins(solutions_root: Path, tmp_path: Path) -> None:
    q = Question(id="q", kind="code", points=1, prompt="", answer=ValueSource(solution="class_scores"),
                 options=KIND.load_options(QUESTION))
    cases = KIND.visible_cases(q, Reference(solutions_root, "course.m", "class_scores"))
    assert cases[0]["args"][0] == {"$model": {"arch": "small_cnn", "channels": 3, "classes": 3, "seed": 0,
                                              "width": 8}}
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / "ex.py").write_text("def class_scores(model, image):\n    return model(image[None])[0].detach()\n")
    answer = CodeAnswer(folder, folder / "ex.py", "s1", "ex")
    assert KIND.check_visible(q, answer, cases).status == "correct"
    # a tampered stand-in in a bundle fails that check in the child, not the grader
    bad = [{**cases[0], "args": [{"$model": {"arch": "evil"}}, cases[0]["args"][1]]}]
    verdict = KIND.check_visible(q, answer, bad)
    assert verdict.status == "incorrect" and "a model recipe is" in verdict.feedback
