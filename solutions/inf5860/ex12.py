"""Reference solutions for INF 5860 Exercise 12: unsupervised learning.

References for the pca code question: fit a PCA on data, then transform new points with
the same projection (what t-SNE cannot do, see question 2).
"""

from __future__ import annotations

from typing import Any


def pca_fit(X: Any, k: int) -> tuple[Any, Any]:
    """(mean, components): the data mean (d,) and the k principal directions as the rows
    of a (k, d) array, unit length, ordered by decreasing variance. Each direction's sign
    is fixed so that its largest-magnitude entry is positive, so the result is unique."""
    import numpy as np

    data = np.asarray(X, dtype=float)
    if data.ndim != 2 or not 1 <= k <= min(data.shape):
        raise ValueError("pca_fit takes an (n, d) array and 1 <= k <= min(n, d)")
    mean = data.mean(axis=0)
    _u, _s, vt = np.linalg.svd(data - mean, full_matrices=False)
    components = vt[:k]
    signs = np.sign(components[np.arange(k), np.argmax(np.abs(components), axis=1)])
    return mean, components * signs[:, None]


def pca_transform(X: Any, mean: Any, components: Any) -> Any:
    """The coordinates (n, k) of points X (n, d) along the fitted components."""
    import numpy as np

    return (np.asarray(X, dtype=float) - mean) @ np.asarray(components).T


def pca(X: Any, k: int, new_points: Any) -> Any:
    """Fit on X and transform `new_points`: the whole pca code question in one call."""
    mean, components = pca_fit(X, k)
    return pca_transform(new_points, mean, components)


def pca_up_to_sign(output: Any, X: Any, k: int, new_points: Any) -> bool | str:
    """Trusted check of the pca question: the coordinates of `new_points` match the
    reference's, where each component (a column of the output) may have either sign."""
    import numpy as np

    got = np.asarray(output, dtype=float)
    want = pca(X, k, new_points)
    if got.shape != want.shape:
        return f"the output has shape {got.shape}, expected (number of new points, k) = {want.shape}"
    for column in range(want.shape[1]):
        if not any(np.allclose(sign * got[:, column], want[:, column], rtol=1e-6, atol=1e-8) for sign in (1, -1)):
            return (f"the coordinates along component {column + 1} are wrong (even allowing for the sign of the "
                    "component): fit the mean and directions on X, then project the centred new points")
    return True


# --- the autoencoder model question ------------------------------------------------------------


def make_autoencoder() -> Any:
    """An autoencoder for 8-D points near a curved 2-D surface: 8 → 32 → 2 → 32 → 8 with
    tanh, and `encode` giving the 2-D code (the bottleneck the grader measures)."""
    from torch import nn

    class Autoencoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 2))
            self.decoder = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 8))

        def encode(self, x: Any) -> Any:
            return self.encoder(x)

        def forward(self, x: Any) -> Any:
            return self.decoder(self.encoder(x))

    return Autoencoder()
