"""Reference solutions for INF 5860 "Exercise 3: A simple network" (ex03b).

The sheet's figure is lost (see the errata in PRODUCT.md), so the exercise builds two
small computation graphs and the references backpropagate through them with torch
autograd: the answer is whatever autograd says, not a hand derivation.
"""

from __future__ import annotations


def _grads(function, values: list[float]) -> list[float]:  # type: ignore[no-untyped-def]
    import torch

    leaves = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in values]
    function(*leaves).backward()
    return [float(leaf.grad) for leaf in leaves]


def add_multiply(x: float, y: float, z: float) -> float:
    """f = (x + y) · z, evaluated forward."""
    return (x + y) * z


def add_multiply_gradients(x: float, y: float, z: float) -> list[float]:
    """a) [∂f/∂x, ∂f/∂y, ∂f/∂z] for f = (x + y) · z: [z, z, x + y]."""
    return _grads(lambda a, b, c: (a + b) * c, [x, y, z])


def add_multiply_forgot_upstream(x: float, y: float, z: float) -> list[float]:
    """The slip of backpropagating through the add gate with gradient 1 instead of z."""
    return [1.0, 1.0, x + y]


def neuron_gradients(w: list[float], inputs: list[float]) -> list[float]:
    """b) For f = σ(w0·x0 + w1·x1 + w2): [∂f/∂w0, ∂f/∂w1, ∂f/∂w2, ∂f/∂x0, ∂f/∂x1]."""
    import torch

    return _grads(lambda w0, w1, w2, x0, x1: torch.sigmoid(w0 * x0 + w1 * x1 + w2), [*w, *inputs])


def neuron_forgot_sigmoid(w: list[float], inputs: list[float]) -> list[float]:
    """The slip of leaving out the sigmoid's local gradient σ(s)(1 − σ(s))."""
    return [inputs[0], inputs[1], 1.0, w[0], w[1]]
