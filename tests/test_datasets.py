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
    ({"name": "digits", "classes": 11}, "classes must be a whole number from 2 to 10 for digits"),
    ({"name": "digits", "points": 150, "test_points": 50}, "(per class) must be at most 174, got 150"),
    ({"name": "digits", "noise": 0.1}, "does not take noise"),
    ({"name": "digits", "size": 16}, "does not take size"),
    ({"name": "shapes", "classes": 4}, "does not take classes"),
    ({"name": "shapes", "size": 4}, "size must be a whole number from 8 to 64, got 4"),
    ({"name": "shapes", "size": 16.0}, "size must be a whole number"),
    ({"name": "shapes", "size": 64, "points": 200, "test_points": 100}, "more than 2,000,000 numbers"),
    ({"name": "spiral", "size": 16}, "does not take size"),
])
def test_bad_recipes_are_refused_with_the_key(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_recipe(raw)


def test_recipe_is_hashable_for_caching_and_schema_lists_every_recipe() -> None:
    assert hash(load_recipe({"name": "moons"})) == hash(load_recipe({"name": "moons"}))
    assert load_recipe({"name": "moons"}) == Recipe(name="moons", classes=2, noise=0.1)
    assert set(datasets.RECIPE_SCHEMA["properties"]["name"]["enum"]) == set(datasets.RECIPE_NAMES)


# ----------------------------------------------------------------------------- images


@pytest.mark.parametrize("raw, train, test", [
    ({"name": "digits"}, (1200, 1, 8, 8), (500, 1, 8, 8)),
    ({"name": "digits", "classes": 3, "points": 10, "test_points": 164}, (30, 1, 8, 8), (492, 1, 8, 8)),
    ({"name": "shapes"}, (300, 1, 16, 16), (300, 1, 16, 16)),
    ({"name": "shapes", "size": 28, "points": 20, "test_points": 5}, (60, 1, 28, 28), (15, 1, 28, 28)),
    ({"name": "shapes", "size": 8, "points": 3, "noise": 0}, (9, 1, 8, 8), (300, 1, 8, 8)),
])
def test_image_recipes_give_one_channel_images_in_0_1(raw: dict, train: tuple, test: tuple) -> None:
    recipe = load_recipe(raw)
    data = generate(recipe)
    assert recipe.image and recipe.example_shape == train[1:]
    assert data.x_train.shape == train and data.x_test.shape == test
    for x in (data.x_train, data.x_test):
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    classes = recipe.classes
    # stratified: every class has exactly its share in both splits
    assert np.bincount(data.y_train, minlength=classes).tolist() == [train[0] // classes] * classes
    assert np.bincount(data.y_test, minlength=classes).tolist() == [test[0] // classes] * classes
    assert data.y_train.dtype == np.int64 and data.y_test.dtype == np.int64
    side = train[-1]
    assert f"({side}×{side} images)" in data.describe()


def test_digits_are_scikit_learns_and_the_split_keeps_them_apart() -> None:
    from sklearn.datasets import load_digits

    bundled = load_digits()
    images, labels = datasets._digits_file()
    assert np.array_equal(images, bundled.images) and np.array_equal(labels, bundled.target)
    data = generate(load_recipe({"name": "digits", "points": 100, "test_points": 74}))
    # scaled from 0..16; every image comes from the set, and no image is in both splits
    assert data.x_train.max() == 1.0 and set(np.unique(data.x_train * 16).tolist()) <= set(range(17))
    rows = {bytes(row) for row in (bundled.images / 16.0).astype(np.float32).reshape(len(bundled.images), -1)}
    train = {bytes(row) for row in data.x_train.reshape(len(data.x_train), -1)}
    test = {bytes(row) for row in data.x_test.reshape(len(data.x_test), -1)}
    assert train <= rows and test <= rows
    assert not train & test  # (the set has a few duplicate images; none of them lands on both sides here)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        matches = {bytes(row): label for row, label in zip(
            (bundled.images / 16.0).astype(np.float32).reshape(len(bundled.images), -1), bundled.target)}
        assert all(matches[bytes(row)] == label for row, label in zip(x.reshape(len(x), -1), y))


@pytest.mark.parametrize("name", ["digits", "shapes"])
def test_image_recipes_are_deterministic_per_seed(name: str) -> None:
    first, again = generate(load_recipe({"name": name, "seed": 3})), generate(load_recipe({"name": name, "seed": 3}))
    assert np.array_equal(first.x_train, again.x_train) and np.array_equal(first.y_test, again.y_test)
    assert np.array_equal(first.x_test, again.x_test)
    other = generate(load_recipe({"name": name, "seed": 4}))
    assert not np.array_equal(first.x_train, other.x_train)


def test_shapes_are_what_their_labels_say() -> None:
    """Noise-free: a circle's bright pixels lie at one distance from their centre, a square's
    at one Chebyshev distance, and stripes cover about half of the image, edge to edge."""
    data = generate(load_recipe({"name": "shapes", "noise": 0, "points": 20, "size": 32}))
    centres = np.arange(32) + 0.5
    for image, label in zip(data.x_train[:, 0], data.y_train):
        ys, xs = np.nonzero(image > 0.5 * image.max())
        if label == 2:
            assert 0.3 < (image > 0.5 * image.max()).mean() < 0.7
            continue
        cx, cy = (centres[xs].min() + centres[xs].max()) / 2, (centres[ys].min() + centres[ys].max()) / 2
        dx, dy = centres[xs] - cx, centres[ys] - cy
        distance = np.hypot(dx, dy) if label == 0 else np.maximum(np.abs(dx), np.abs(dy))
        assert distance.max() - distance.min() < 3.5, label  # a thin outline, not a filled shape
        assert image[0].max() == 0 and image[-1].max() == 0  # wholly inside the canvas


def test_a_linear_model_cannot_tell_the_shapes_apart() -> None:
    """The point of the ex06 cnn question: least squares on the pixels stays far from 0.93."""
    data = generate(load_recipe({"name": "shapes", "points": 150, "test_points": 100}))
    flat = data.x_train.reshape(len(data.x_train), -1)
    design = np.c_[flat, np.ones(len(flat))]
    weights, *_ = np.linalg.lstsq(design, np.eye(3)[data.y_train], rcond=1e-3)
    test = data.x_test.reshape(len(data.x_test), -1)
    accuracy = ((np.c_[test, np.ones(len(test))] @ weights).argmax(1) == data.y_test).mean()
    assert accuracy < 0.85


def test_generating_images_is_fast() -> None:
    """Vectorised: the largest shapes set a question may ask for is drawn in well under a second."""
    import time

    started = time.perf_counter()
    generate(load_recipe({"name": "shapes", "size": 28, "points": 700, "test_points": 100}))
    assert time.perf_counter() - started < 3.0
