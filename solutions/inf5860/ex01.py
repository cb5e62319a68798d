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
