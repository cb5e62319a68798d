"""Reference solutions for INF 5860 Exercise 5: representations.

`image_gradients` is the reference for the image_gradients code question, which is
graded by properties: the gradients do not change when a constant is added to the image
(brightness), and the magnitude-normalised gradients do not change when the image is
multiplied by a positive constant (contrast).
"""

from __future__ import annotations

from typing import Any


def image_gradients(image: Any) -> Any:
    """The (2, H, W) array [∂I/∂y, ∂I/∂x] of a 2-D grey-level image: central differences
    inside, one-sided differences at the border (numpy.gradient)."""
    import numpy as np

    pixels = np.asarray(image, dtype=float)
    if pixels.ndim != 2 or min(pixels.shape) < 2:
        raise ValueError("image_gradients takes a 2-D image of at least 2×2 pixels")
    d_rows, d_cols = np.gradient(pixels)
    return np.stack([d_rows, d_cols])


def normalised_gradients(image: Any, eps: float = 1e-8) -> Any:
    """The image gradients divided by their root-mean-square magnitude over the image:
    an added constant leaves them unchanged (brightness), and so does multiplying the
    image by a positive constant (contrast), since both numerator and divisor scale."""
    import numpy as np

    gradients = image_gradients(image)
    magnitude = float(np.sqrt(np.mean(np.sum(gradients**2, axis=0))))
    return gradients / (magnitude + eps)
