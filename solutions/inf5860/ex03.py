"""Reference solutions for INF 5860 Exercise 3: basic neural networks.

Errata honoured: with p the probability of *keeping* a unit (the convention stated in
the question), test-time outputs are scaled by p when training did no scaling.
"""

from __future__ import annotations

import math


def sigmoid_grad_max() -> float:
    """σ'(x) = σ(x)(1 − σ(x)) is largest at x = 0, where it is 1/4."""
    s = 1 / (1 + math.exp(-0.0))
    return s * (1 - s)


def test_time_scale(keep: float) -> float:
    """g) No scaling in training: a unit's expected training output is keep · a, so test-time
    outputs are multiplied by the keep probability p (the seed hint calls it "the dropout
    probability"; the question states the keep convention)."""
    return keep


def inverted_dropout_scale(keep: float) -> float:
    """The mix-up with inverted dropout, which multiplies by 1/p during training."""
    return 1 / keep


def drop_probability(keep: float) -> float:
    """The mix-up of the keep probability with the drop probability."""
    return 1 - keep


def make_reference_model() -> object:
    """model) A two-hidden-layer ReLU network for the 2-D three-class spiral: 2 → 64 → 64 → 3.

    It returns logits (no softmax: the grader trains with cross-entropy). torch is imported
    here, not at the top, so the numeric questions of this module do not pay for it.
    """
    from torch import nn

    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))


# --- code questions: e) hidden layer, f) max-norm, h) momentum ------------------------------


def hidden_layer(X, W1, b1):
    """e) The hidden layer ReLU(X W1 + b1): X (N, D), W1 (D, H), b1 (H,) give (N, H)."""
    import numpy as np

    return np.maximum(0.0, X @ W1 + b1)


def hidden_layer_no_relu(X, W1, b1):
    """The mix-up that forgets the non-linearity."""
    return X @ W1 + b1


def maxnorm(W, c):
    """f) Max-norm: column j of W (D, H) holds the incoming weights of unit j; a column whose
    L2 norm exceeds c is scaled down to norm c, the others are left alone (errata: it is the
    incoming weight vector of each unit that is constrained)."""
    import numpy as np

    norms = np.linalg.norm(W, axis=0, keepdims=True)
    return W * np.minimum(1.0, c / np.maximum(norms, np.finfo(float).tiny))


def maxnorm_rows(W, c):
    """The mix-up that constrains rows (outgoing weights) instead of columns."""
    return maxnorm(W.T, c).T


def maxnorm_every_column(W, c):
    """The mix-up that rescales every column to norm c, also those already inside the ball."""
    import numpy as np

    return W * (c / np.maximum(np.linalg.norm(W, axis=0, keepdims=True), np.finfo(float).tiny))


def momentum_step(x, v, dx, lr, mu):
    """h) One step of SGD with momentum: v ← mu·v − lr·dx, then x ← x + v; returns (x, v)."""
    v_new = mu * v - lr * dx
    return x + v_new, v_new


def momentum_step_ascent(x, v, dx, lr, mu):
    """The sign slip: adding the gradient climbs the loss instead of descending it."""
    v_new = mu * v + lr * dx
    return x + v_new, v_new


# --- sigmoid_grad: the derivative of σ as a formula --------------------------------------------


def _sigmoid(x: object) -> object:
    import sympy

    return 1 / (1 + sympy.exp(-x))


def sigmoid_derivative() -> object:
    """dσ/dx, differentiated by sympy: exp(−x)/(1 + exp(−x))², which is σ(x)(1 − σ(x))."""
    import sympy

    x = sympy.Symbol("x")
    return sympy.diff(_sigmoid(x), x)


def sigmoid_derivative_sign_error() -> object:
    """The chain rule's inner derivative −1 of exp(−x) forgotten: −σ(x)(1 − σ(x))."""
    return -sigmoid_derivative()


def sigmoid_itself() -> object:
    """σ(x) given for its derivative (as for eˣ, but σ is not its own derivative)."""
    import sympy

    return _sigmoid(sympy.Symbol("x"))


def sigmoid_derivative_plus() -> object:
    """σ(x)(1 + σ(x)): the sign inside the bracket slipped."""
    import sympy

    s = _sigmoid(sympy.Symbol("x"))
    return s * (1 + s)
