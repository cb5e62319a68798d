# h) momentum_step(x, v, dx, lr, mu): v <- mu v - lr dx, x <- x + v; returns (x, v), arguments unchanged.
import numpy as np
rng = np.random.default_rng(5)
cases = [
    (rng.standard_normal(5), np.zeros(5), rng.standard_normal(5), 0.1, 0.9),
    (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), 0.01, 0.5),
    (np.array([1.0, 2.0]), np.array([5.0, 5.0]), np.array([1.0, -1.0]), 0.5, 0.0),
    (rng.standard_normal((50, 20)), rng.standard_normal((50, 20)), rng.standard_normal((50, 20)), 0.001, 0.99),
]
for x, v, dx, lr, mu in cases:
    copies = [x.copy(), v.copy(), dx.copy()]
    new_x, new_v = momentum_step(x, v, dx, lr, mu)
    v_expected = mu * v - lr * dx
    assert np.allclose(np.asarray(new_v, dtype=float), v_expected, rtol=1e-6, atol=1e-9), "wrong velocity"
    assert np.allclose(np.asarray(new_x, dtype=float), x + v_expected, rtol=1e-6, atol=1e-9), "wrong parameters"
    assert all(np.array_equal(a, b) for a, b in zip(copies, (x, v, dx))), "an argument was changed"
