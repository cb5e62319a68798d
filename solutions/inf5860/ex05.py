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


# --- trusted checks of the image_gradients and normalised_gradients questions -------------------


def follows_the_ramp(output: Any, image: Any) -> bool | str:
    """For an image that grows along x only, the gradients inside the border point along x:
    ∂I/∂y is 0 and ∂I/∂x one positive constant (any finite-difference scale is fine)."""
    import numpy as np

    gradients = np.asarray(output, dtype=float)
    if gradients.shape != (2, *np.shape(image)):
        return f"the output has shape {gradients.shape}, expected (2, H, W) = {(2, *np.shape(image))}"
    d_rows, d_cols = gradients[0, 1:-1, 1:-1], gradients[1, 1:-1, 1:-1]
    if not np.allclose(d_rows, 0, atol=1e-9):
        return "on an image that changes along x only, ∂I/∂y (the first channel) must be 0 inside the border"
    if not (np.all(d_cols > 0) and np.allclose(d_cols, d_cols.flat[0], rtol=1e-9)):
        return "on an image that grows steadily along x, ∂I/∂x (the second channel) must be one positive value"
    return True


def has_unit_rms(output: Any, image: Any) -> bool | str:
    """The normalised gradients have a root-mean-square magnitude of 1 over the image."""
    import numpy as np

    gradients = np.asarray(output, dtype=float)
    if gradients.ndim != 3 or gradients.shape[0] != 2:
        return f"the output has shape {gradients.shape}, expected (2, H, W)"
    rms = float(np.sqrt(np.mean(np.sum(gradients**2, axis=0))))
    return True if abs(rms - 1) < 1e-6 else f"the root-mean-square gradient magnitude is {rms:.6g}, not 1"
