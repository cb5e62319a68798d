"""Reference solutions for INF 5860 Exercise 4: generalization.

The VC dimension of a linear classifier in d dimensions is d + 1: some d + 1 points in
general position can be shattered (every labelling separated), and no d + 2 points can.
`separable` lets tests show both halves for the plane on concrete point sets.
"""

from __future__ import annotations

from itertools import product


def vc_dim(dimensions: int) -> int:
    """vc_dim) A linear classifier sign(w·x + b) in `dimensions` dimensions: d + 1."""
    return dimensions + 1


def separable(points: list[tuple[float, float]], labels: list[int], epochs: int = 1_000) -> bool:
    """Whether a line separates the points labelled 1 from those labelled 0 (strictly).

    The perceptron converges on every linearly separable set and never on any other;
    for the small integer point sets used here it converges in far fewer than `epochs`
    passes, so not converging means not separable."""
    w0, w1, bias = 0.0, 0.0, 0.0
    for _ in range(epochs):
        mistakes = 0
        for (x0, x1), label in zip(points, labels):
            sign = 1 if label else -1
            if sign * (w0 * x0 + w1 * x1 + bias) <= 0:
                w0, w1, bias = w0 + sign * x0, w1 + sign * x1, bias + sign
                mistakes += 1
        if mistakes == 0:
            return True
    return False


def shatters(points: list[tuple[float, float]]) -> bool:
    """Whether lines separate every one of the 2^n labellings of `points`."""
    return all(separable(points, list(labels)) for labels in product((0, 1), repeat=len(points)))
