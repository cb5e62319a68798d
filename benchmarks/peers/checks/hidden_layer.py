# e) hidden_layer(X, W1, b1) = ReLU(X W1 + b1) on the cases of the grader spec; arguments unchanged.
import numpy as np
rng = np.random.default_rng(3)
cases = [
    (rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)),
    (rng.standard_normal((1, 6)), rng.standard_normal((6, 2)), rng.standard_normal(2)),
    (np.array([[1.0, 2.0]]), np.array([[-1.0, -2.0], [-1.0, -0.5]]), np.array([-1.0, 0.0])),
    (rng.standard_normal((64, 10)), 0.3 * rng.standard_normal((10, 32)), rng.standard_normal(32)),
]
for X, W1, b1 in cases:
    copies = [X.copy(), W1.copy(), b1.copy()]
    got = np.asarray(hidden_layer(X, W1, b1), dtype=float)
    assert got.shape == (X.shape[0], W1.shape[1]), f"shape {got.shape}"
    assert np.allclose(got, np.maximum(0.0, X @ W1 + b1), rtol=1e-6, atol=1e-9), "wrong values"
    assert all(np.array_equal(a, b) for a, b in zip(copies, (X, W1, b1))), "an argument was changed"
