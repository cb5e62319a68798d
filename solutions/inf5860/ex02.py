"""Reference solutions for INF 5860 Exercise 2: logistic classification.

h(x) = σ(W·x + b); the decision boundary is where h(x) = 0.5, i.e. W·x + b = 0.
Errata honoured: a sample is class 1 when h(x) >= 0.5 (W·x + b >= 0), not when h(x) > 0.
"""

from __future__ import annotations


def boundary_x(W: float, b: float) -> float:
    """a) The x where W·x + b = 0."""
    return -b / W


def predict(X: list[list[float]], W: list[float], b: float) -> list[int]:
    """Reference for the `predict` code question: labels 1 where h(x) = σ(X·W + b) >= 0.5,
    which is where X·W + b >= 0 (the boundary itself belongs to class 1)."""
    import numpy as np

    features = np.atleast_2d(np.asarray(X, dtype=float))
    weights = np.atleast_1d(np.asarray(W, dtype=float))
    return [int(v) for v in (features @ weights + float(b) >= 0)]


# --- a) the decision boundary as an equation --------------------------------------------------


def boundary_equation(W: float, b: float) -> object:
    """a) The boundary W·x + b = 0 (where h(x) = σ(W·x + b) = 0.5), as a sympy equation."""
    import sympy

    x = sympy.Symbol("x")
    return sympy.Eq(sympy.Rational(str(W)) * x + sympy.Rational(str(b)), 0)


def boundary_equation_sign_error(W: float, b: float) -> object:
    """The slip of moving b across without changing its sign: W·x = b."""
    import sympy

    x = sympy.Symbol("x")
    return sympy.Eq(sympy.Rational(str(W)) * x, sympy.Rational(str(b)))


# --- the predict code question ------------------------------------------------------------------


def predict_labels(X: object, W: object, b: float) -> object:
    """`predict` as a numpy array of int labels, the form the code question asks for."""
    import numpy as np

    return np.asarray(predict(X, W, b), dtype=np.int64)


def predict_strict(X: object, W: object, b: float) -> object:
    """The slip of h(x) > 0.5: a sample exactly on the boundary goes to class 0."""
    import numpy as np

    scores = np.atleast_2d(np.asarray(X, dtype=float)) @ np.atleast_1d(np.asarray(W, dtype=float)) + float(b)
    return (scores > 0).astype(np.int64)


def predict_hint(X: object, W: object, b: float) -> object:
    """The hint's rule h(x) > 0: σ is always positive, so every sample is class 1."""
    import numpy as np

    return np.ones(len(np.atleast_2d(np.asarray(X, dtype=float))), dtype=np.int64)
