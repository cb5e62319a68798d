"""Reference solutions for INF 5860 Exercise 2: logistic classification.

h(x) = σ(W·x + b); the decision boundary is where h(x) = 0.5, i.e. W·x + b = 0.
Errata honoured: a sample is class 1 when h(x) >= 0.5 (W·x + b >= 0), not when h(x) > 0.
"""

from __future__ import annotations


def boundary_x(W: float, b: float) -> float:
    """a) The x where W·x + b = 0."""
    return -b / W
