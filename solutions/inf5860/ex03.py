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
