"""Reference solutions for INF 5860 Exercise 1: linear regression.

The model is h(x) = w·x + b with the loss J(w, b) = 1/(2m) Σ (w·x_i + b − y_i)².
Errata honoured: one gradient step from w = b = 0 with learning rate 1 gives
w = +13/3 and b = +2 (the seed hint drops the minus sign of the update).
"""

from __future__ import annotations

import numpy as np


def loss(w: float, b: float, x: list[float], y: list[float]) -> float:
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.sum((w * xs + b - ys) ** 2) / (2 * len(xs)))


def gradient(w: float, b: float, x: list[float], y: list[float]) -> tuple[float, float]:
    """(dJ/dw, dJ/db) at (w, b)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    residual = w * xs + b - ys
    return float(np.mean(residual * xs)), float(np.mean(residual))


def initial_loss(x: list[float], y: list[float]) -> float:
    """e) J(0, 0) = 1/6 (1.5² + 2² + 2.5²) = 12.5/6."""
    return loss(0.0, 0.0, x, y)


def initial_loss_without_mean(x: list[float], y: list[float]) -> float:
    """The classic slip: the sum of squared errors without the 1/(2m)."""
    return loss(0.0, 0.0, x, y) * 2 * len(x)


def one_step(x: list[float], y: list[float], learning_rate: float = 1.0) -> list[float]:
    """f) [w, b] after one gradient-descent step from w = b = 0: θ ← θ − ε ∂J/∂θ."""
    dw, db = gradient(0.0, 0.0, x, y)
    return [0.0 - learning_rate * dw, 0.0 - learning_rate * db]


def one_step_sign_error(x: list[float], y: list[float], learning_rate: float = 1.0) -> list[float]:
    """The seed hint's answer: the step taken up the gradient instead of down."""
    return [-v for v in one_step(x, y, learning_rate)]


def plot_data(x: list[float], y: list[float]) -> object:
    """d) A scatter plot of the data with labelled axes; returns the Figure.

    matplotlib is imported here, not at the top: the grader imports this module for the
    numeric questions and should not pay for matplotlib there.
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 3))
    axes.scatter(x, y)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_title("Training data")
    return figure


# --- symbolic questions: a) the loss, dJdw and dJdb as formulas in w and b ------------------


def _symbolic_loss(x: list[float], y: list[float], scale: object = None) -> object:
    """J(w, b) = 1/(2m) Σ (w·xᵢ + b − yᵢ)² built with sympy from the data (exact decimals)."""
    import sympy

    w, b = sympy.symbols("w b")
    xs = [sympy.Rational(str(v)) for v in x]
    ys = [sympy.Rational(str(v)) for v in y]
    total = sum(((w * xi + b - yi) ** 2 for xi, yi in zip(xs, ys)), sympy.Integer(0))
    return total * (sympy.Rational(1, 2 * len(xs)) if scale is None else scale)


def loss_expression(x: list[float], y: list[float]) -> object:
    """a) The loss J(w, b) for the sheet's data, as an expression in w and b."""
    return _symbolic_loss(x, y)


def loss_expression_without_mean(x: list[float], y: list[float]) -> object:
    """The slip of e) in formula form: the sum of squared errors without the 1/(2m)."""
    return _symbolic_loss(x, y, scale=1)


def loss_expression_mean_only(x: list[float], y: list[float]) -> object:
    """The mean squared error 1/m Σ (...)²: the 1/2 of the convention forgotten."""
    import sympy

    return _symbolic_loss(x, y, scale=sympy.Rational(1, len(x)))


def gradient_w_expression(x: list[float], y: list[float]) -> object:
    """dJdw = 1/m Σ (w·xᵢ + b − yᵢ)·xᵢ, differentiated from the loss by sympy."""
    import sympy

    return sympy.diff(_symbolic_loss(x, y), sympy.Symbol("w"))


def gradient_b_expression(x: list[float], y: list[float]) -> object:
    """dJdb = 1/m Σ (w·xᵢ + b − yᵢ), differentiated from the loss by sympy."""
    import sympy

    return sympy.diff(_symbolic_loss(x, y), sympy.Symbol("b"))


def gradient_w_sign_error(x: list[float], y: list[float]) -> object:
    """The residual taken as yᵢ − h(xᵢ) without the minus of the chain rule: −dJdw."""
    return -gradient_w_expression(x, y)


def gradient_b_sign_error(x: list[float], y: list[float]) -> object:
    """The same sign slip for b: −dJdb."""
    return -gradient_b_expression(x, y)


def gradient_w_without_inner(x: list[float], y: list[float]) -> object:
    """The chain rule's inner derivative xᵢ forgotten: 1/m Σ (w·xᵢ + b − yᵢ), which is dJdb."""
    return gradient_b_expression(x, y)


def gradient_w_half(x: list[float], y: list[float]) -> object:
    """The 2 of the square not brought down: 1/(2m) Σ (w·xᵢ + b − yᵢ)·xᵢ."""
    return gradient_w_expression(x, y) / 2


def gradient_b_half(x: list[float], y: list[float]) -> object:
    """The 2 of the square not brought down for b: 1/(2m) Σ (w·xᵢ + b − yᵢ)."""
    return gradient_b_expression(x, y) / 2
