# f) maxnorm(W, c): columns with L2 norm above c rescaled to norm c, the others unchanged.
import numpy as np
rng = np.random.default_rng(4)
cases = [
    (2.0 * rng.standard_normal((5, 4)), 2.4),
    (0.1 * rng.standard_normal((3, 3)), 10.0),
    (np.array([[0.0, 3.0], [0.0, 4.0]]), 1.0),
    (np.array([[0.6, 0.6, 0.6, 0.6], [0.0, 0.1, 0.2, 0.3]]), 1.0),
    (rng.standard_normal((100, 50)), 10.0),
]
for W, c in cases:
    before = W.copy()
    norms = np.linalg.norm(W, axis=0, keepdims=True)
    expected = W * np.minimum(1.0, c / np.maximum(norms, np.finfo(float).tiny))
    got = np.asarray(maxnorm(W, c), dtype=float)
    assert got.shape == W.shape, f"shape {got.shape}"
    assert np.allclose(got, expected, rtol=1e-6, atol=1e-9), "wrong values"
    assert np.array_equal(W, before), "W was changed"
