"""Seeded data recipes for model questions: validated at load time, identical on every run."""

from __future__ import annotations

import numpy as np
import pytest

from grader.kinds.model import datasets
from grader.kinds.model.datasets import Recipe, generate, load_recipe


@pytest.mark.parametrize("raw, shape, labels", [
    ({"name": "spiral"}, (300, 2), 3),
    ({"name": "spiral", "classes": 5, "points": 40, "test_points": 10}, (200, 2), 5),
    ({"name": "blobs", "classes": 4, "points": 25, "dim": 6}, (100, 6), 4),
    ({"name": "blobs", "dim": 1}, (300, 1), 3),
    ({"name": "moons", "points": 50}, (100, 2), 2),
    ({"name": "manifold", "dim": 12, "latent": 3, "points": 64}, (64, 12), None),
])
def test_recipes_generate_both_splits(raw: dict, shape: tuple, labels: int | None) -> None:
    data = generate(load_recipe(raw))
    assert data.x_train.shape == shape and data.x_train.dtype == np.float32
    assert data.x_test.shape[1:] == shape[1:]
    assert np.isfinite(data.x_train).all() and np.isfinite(data.x_test).all()
    if labels is None:
        assert data.y_train is None and data.y_test is None
    else:
        assert data.y_train.dtype == np.int64
        assert sorted(set(data.y_train.tolist())) == list(range(labels))
        assert len(data.y_test) == len(data.x_test)
    assert raw["name"] in data.describe()


def test_same_recipe_same_arrays_and_splits_differ() -> None:
    first, second = generate(load_recipe({"name": "spiral", "seed": 7})), generate(load_recipe({"name": "spiral", "seed": 7}))
    assert np.array_equal(first.x_train, second.x_train) and np.array_equal(first.x_test, second.x_test)
    assert not np.array_equal(first.x_train, first.x_test)  # independent noise, not a copy
    other = generate(load_recipe({"name": "spiral", "seed": 8}))
    assert not np.array_equal(first.x_train, other.x_train)


def test_spiral_is_the_cs231n_spiral() -> None:
    data = generate(load_recipe({"name": "spiral", "noise": 0.0, "classes": 3}))
    radius = np.linalg.norm(data.x_train, axis=1)
    assert radius.max() <= 1.0 + 1e-6
    # noise-free: the angle follows the radius along each arm, θ = 4 (j + r) in sin/cos form
    for j in range(3):
        arm = data.x_train[data.y_train == j]
        r = np.linalg.norm(arm, axis=1)
        expected = np.stack([r * np.sin(4 * (j + r)), r * np.cos(4 * (j + r))], axis=1)
        assert np.allclose(arm, expected, atol=1e-5)


def test_a_linear_boundary_cannot_separate_the_spiral() -> None:
    """The point of the ex03 model question: least squares on one-hot targets stays near chance."""
    data = generate(load_recipe({"name": "spiral", "points": 200}))
    design = np.c_[data.x_train, np.ones(len(data.x_train))]
    weights, *_ = np.linalg.lstsq(design, np.eye(3)[data.y_train], rcond=None)
    accuracy = (np.c_[data.x_test, np.ones(len(data.x_test))] @ weights).argmax(1) == data.y_test
    assert accuracy.mean() < 0.7


@pytest.mark.parametrize("raw, message", [
    (None, "must be a mapping"),
    ("spiral", "must be a mapping"),
    ({}, "data.name must be one of"),
    ({"name": "mnist"}, "data.name must be one of"),
    ({"name": "spiral", "classes": 1}, "classes must be a whole number from 2"),
    ({"name": "spiral", "classes": True}, "classes must be a whole number"),
    ({"name": "spiral", "points": 0}, "points must be a whole number from 1"),
    ({"name": "spiral", "points": 10**9}, "points must be a whole number"),
    ({"name": "spiral", "points": 2.5}, "points must be a whole number"),
    ({"name": "spiral", "seed": -1}, "seed must be a whole number"),
    ({"name": "spiral", "noise": "lots"}, "noise must be a number"),
    ({"name": "spiral", "noise": float("nan")}, "noise must be a number"),
    ({"name": "spiral", "dim": 3}, "does not take dim"),
    ({"name": "moons", "classes": 3}, "does not take classes"),
    ({"name": "manifold", "dim": 4, "latent": 4}, "latent (4) must be smaller than dim (4)"),
    ({"name": "blobs", "classes": 20, "points": 20_000, "dim": 1024}, "more than"),
])
def test_bad_recipes_are_refused_with_the_key(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_recipe(raw)


def test_recipe_is_hashable_for_caching_and_schema_lists_every_recipe() -> None:
    assert hash(load_recipe({"name": "moons"})) == hash(load_recipe({"name": "moons"}))
    assert load_recipe({"name": "moons"}) == Recipe(name="moons", classes=2, noise=0.1)
    assert set(datasets.RECIPE_SCHEMA["properties"]["name"]["enum"]) == set(datasets.RECIPE_NAMES)
