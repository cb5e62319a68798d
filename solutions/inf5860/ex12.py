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
