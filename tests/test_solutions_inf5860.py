"""The INF 5860 reference solutions: checked against independent computations (torch,
numpy, brute force), and a reference submission graded to full marks."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "solutions"))

ex02 = importlib.import_module("inf5860.ex02")
ex03 = importlib.import_module("inf5860.ex03")
ex03b = importlib.import_module("inf5860.ex03b")
ex04 = importlib.import_module("inf5860.ex04")
ex05 = importlib.import_module("inf5860.ex05")
ex06 = importlib.import_module("inf5860.ex06")
ex08 = importlib.import_module("inf5860.ex08")
ex09 = importlib.import_module("inf5860.ex09")
ex12 = importlib.import_module("inf5860.ex12")

torch = pytest.importorskip("torch")


# --- ex02 predict ------------------------------------------------------------------------


def test_predict_matches_the_sigmoid_threshold() -> None:
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(50, 3)), rng.normal(size=3), 0.3
    expected = (1 / (1 + np.exp(-(X @ W + b))) >= 0.5).astype(int)
    assert ex02.predict(X.tolist(), W.tolist(), b) == expected.tolist()


@pytest.mark.parametrize("x, label", [(-0.5, 1), (-0.51, 0), (3, 1), (-10, 0)])
def test_predict_single_feature_boundary_is_class_1(x: float, label: int) -> None:
    assert ex02.predict([[x]], [2], 1) == [label]


# --- ex03 and ex03b --------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.6, 0.75, 0.8, 0.9])
def test_test_time_scale_matches_the_expected_training_output(keep: float) -> None:
    rng = np.random.default_rng(1)
    activation = 3.0
    kept = rng.random(200_000) < keep
    assert ex03.test_time_scale(keep) * activation == pytest.approx(np.mean(kept * activation), rel=0.01)
    assert ex03.inverted_dropout_scale(keep) != ex03.test_time_scale(keep) != ex03.drop_probability(keep)


def test_add_multiply_gradients_by_hand() -> None:
    x, y, z = -2.0, 5.0, -4.0
    assert ex03b.add_multiply_gradients(x, y, z) == [z, z, x + y]


def test_neuron_gradients_by_hand() -> None:
    w, inputs = [2.0, -3.0, -3.0], [-1.0, -2.0]
    s = w[0] * inputs[0] + w[1] * inputs[1] + w[2]
    local = (1 / (1 + math.exp(-s))) * (1 - 1 / (1 + math.exp(-s)))
    expected = [inputs[0] * local, inputs[1] * local, local, w[0] * local, w[1] * local]
    assert ex03b.neuron_gradients(w, inputs) == pytest.approx(expected)


# --- ex04 VC dimension ---------------------------------------------------------------------------


def test_vc_dimension_of_a_line_is_three() -> None:
    assert ex04.vc_dim(2) == 3
    assert ex04.shatters([(0, 0), (1, 0), (0, 1)])
    assert not ex04.shatters([(0, 0), (1, 1), (1, 0), (0, 1)])  # XOR
    assert not ex04.shatters([(0, 0), (4, 0), (0, 4), (1, 1)])  # one inside the triangle
    assert not ex04.shatters([(0, 0), (1, 0), (2, 0)])  # collinear


# --- ex05 image gradients --------------------------------------------------------------------------


def test_image_gradients_of_a_ramp() -> None:
    image = np.add.outer(2.0 * np.arange(5), 3.0 * np.arange(6))
    gy, gx = ex05.image_gradients(image)
    assert np.allclose(gy, 2.0) and np.allclose(gx, 3.0)


def test_gradients_ignore_brightness_and_normalised_ones_ignore_contrast() -> None:
    image = np.random.default_rng(2).random((8, 9))
    assert np.allclose(ex05.image_gradients(image + 40), ex05.image_gradients(image))
    assert np.allclose(ex05.normalised_gradients(5 * image + 40), ex05.normalised_gradients(image))
    assert not np.allclose(ex05.image_gradients(5 * image), ex05.image_gradients(image))


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((1, 5)), np.zeros((2, 2, 2))])
def test_image_gradients_refuses_what_is_no_image(bad: Any) -> None:
    with pytest.raises(ValueError):
        ex05.image_gradients(bad)


# --- ex06 shapes and fields of view -----------------------------------------------------------------


@pytest.mark.parametrize("shape, out, kernel, stride, padding, dilation", [
    ((5, 32, 32), 1, 5, 1, 0, 1), ((3, 28, 31), 8, 3, 2, 1, 1), ((1, 17, 17), 4, 3, 1, 0, 2),
    ((2, 10, 12), 3, 4, 3, 2, 1), ((1, 7, 7), 1, 7, 1, 0, 1),
])
def test_conv_output_shape_matches_torch(shape: tuple[int, int, int], out: int, kernel: int, stride: int,
                                         padding: int, dilation: int) -> None:
    conv = torch.nn.Conv2d(shape[0], out, kernel, stride=stride, padding=padding, dilation=dilation)
    actual = tuple(conv(torch.zeros(1, *shape)).shape[1:])
    assert ex06.conv_output_shape(shape, out, kernel, stride, padding, dilation) == actual


def test_receptive_field_matches_autograd() -> None:
    layers = [torch.nn.Conv2d(1, 1, 3, dilation=d, bias=False) for d in (1, 2, 4)]
    for layer in layers:
        torch.nn.init.constant_(layer.weight, 1.0)
    image = torch.zeros(1, 1, 40, 40, requires_grad=True)
    output = image
    for layer in layers:
        output = layer(output)
    output[0, 0, output.shape[2] // 2, output.shape[3] // 2].backward()
    rows = torch.nonzero(image.grad[0, 0].abs().sum(dim=1))
    assert ex06.receptive_field() == 15 == int(rows.max() - rows.min() + 1)
    assert ex06.receptive_field((3, 3, 3), (1, 1, 1)) == 7


# --- ex08 IoU -----------------------------------------------------------------------------------


@pytest.mark.parametrize("a, b, expected", [
    ([0, 0, 2, 2], [0, 0, 2, 2], 1.0),
    ([0, 0, 2, 2], [1, 0, 3, 2], 1 / 3),
    ([0, 0, 4, 4], [1, 1, 2, 2], 1 / 16),
    ([0, 0, 1, 1], [2, 2, 3, 3], 0.0),
    ([0, 0, 1, 1], [1, 0, 2, 1], 0.0),
    ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),
    ([0.5, 0.5, 1.5, 2.5], [1, 1, 2, 2], 0.5 / 2.5),
])
def test_iou(a: list[float], b: list[float], expected: float) -> None:
    assert ex08.iou(a, b) == pytest.approx(expected)
    assert ex08.iou(b, a) == pytest.approx(expected)


def test_iou_refuses_inverted_boxes() -> None:
    with pytest.raises(ValueError):
        ex08.iou([2, 2, 0, 0], [0, 0, 1, 1])


# --- ex09 occlusion and saliency -----------------------------------------------------------------


class CornerModel(torch.nn.Module):
    """Class 0's score is the sum of the top-left 4×4 pixels; class 1's is 0."""

    def forward(self, batch: Any) -> Any:
        corner = batch[:, :, :4, :4].sum(dim=(1, 2, 3))
        return torch.stack([corner, torch.zeros_like(corner)], dim=1)


def small_cnn() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(16, 3))


def test_occlusion_map_marks_the_region_the_class_depends_on() -> None:
    image = torch.ones(1, 12, 12)
    heat = ex09.occlusion_map(CornerModel(), image, target=0, patch=4, stride=4)
    assert heat.shape == (3, 3)
    assert heat[0, 0] == pytest.approx(0.5, abs=1e-4) and np.allclose(np.delete(heat.ravel(), 0), 0.0)


def test_occlusion_map_shape_and_no_drop_without_occlusion_effect() -> None:
    image = torch.rand(3, 10, 10, generator=torch.Generator().manual_seed(3))
    heat = ex09.occlusion_map(small_cnn(), image, target=1, patch=3, stride=2)
    assert heat.shape == (4, 4) and np.isfinite(heat).all()


def test_saliency_of_a_linear_model_is_its_weights() -> None:
    torch.manual_seed(1)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 5 * 5, 3))
    image = torch.rand(2, 5, 5)
    expected = linear[1].weight[2].detach().reshape(2, 5, 5).abs().amax(dim=0).numpy()
    assert np.allclose(ex09.saliency(linear, image, target=2), expected)
    assert ex09.saliency(small_cnn(), torch.rand(3, 8, 8), target=0).shape == (8, 8)


# --- ex12 PCA ---------------------------------------------------------------------------------


def test_pca_matches_the_covariance_eigenvectors() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4)) @ np.diag([5.0, 2.0, 1.0, 0.1]) + 3
    mean, components = ex12.pca_fit(X, 2)
    values, vectors = np.linalg.eigh(np.cov(X, rowvar=False))
    top = vectors[:, np.argsort(values)[::-1][:2]].T
    assert np.allclose(np.abs(components @ top.T), np.eye(2), atol=1e-8)
    assert np.allclose(components @ components.T, np.eye(2))
    new = rng.normal(size=(5, 4))
    assert np.allclose(ex12.pca(X, 2, new), (new - X.mean(axis=0)) @ components.T)
    assert np.allclose(ex12.pca_transform(X, mean, components).mean(axis=0), 0)


@pytest.mark.parametrize("k", [0, 5])
def test_pca_refuses_impossible_k(k: int) -> None:
    with pytest.raises(ValueError):
        ex12.pca_fit(np.zeros((10, 4)), k)


# --- the whole sheet, answered by the references ---------------------------------------------------


def test_reference_submission_earns_full_marks(tmp_path: Path) -> None:
    """Every auto-graded answers.yaml question, answered with its reference typed as a
    student would, is correct; every text question awaits review with a full suggestion."""
    from grader import api
    from grader.grading import engine
    from grader.core import registry
    from grader.authoring import variants

    course = api.load([ROOT / "exercises" / "inf5860"])
    answers: dict[str, dict[str, str]] = {}
    graded_here: set[str] = set()
    for exercise in course.exercises:
        params = variants.resolve(exercise.params, "sref", exercise.id)
        for question in exercise.questions:
            kind = registry.get(question.kind)
            if kind.answer_source != "answers" or not kind.calls_reference:
                continue
            expected = engine.expected_for(course, exercise, question, params)
            answers.setdefault(exercise.id, {})[question.id] = kind.show(expected.value, question)
            graded_here.add(f"{exercise.id}.{question.id}")
    (tmp_path / "sref").mkdir()
    (tmp_path / "sref" / "answers.yaml").write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    result = api.grade_path(tmp_path / "sref", course)
    checked = [q for q in result.questions if q.id in graded_here]
    assert len(checked) >= 50
    for question in checked:
        if question.kind == "text":
            assert question.status == "review" and question.details["suggested"] == 1.0, question.id
        else:
            assert question.status == "correct", (question.id, question.feedback)
