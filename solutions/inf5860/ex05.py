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
    """For an image that grows steadily along one axis only (x or y), the gradients inside
    the border point along it: the derivative across is 0 and the one along the ramp one
    positive constant (any finite-difference scale is fine)."""
    import numpy as np

    found = _along_the_ramp(output, image)
    if isinstance(found, str):
        return found
    along, names = found
    if not (np.all(along > 0) and np.allclose(along, along.flat[0], rtol=1e-9)):
        return f"on an image that grows steadily along {names[0]}, {names[2]} must be one positive value"
    return True


def keeps_relative_strength(output: Any, image: Any) -> bool | str:
    """For an image that grows along one axis with slope 1 on its first half and 3 on its
    second, the normalised gradient along it is 3 times as large on the second half as on
    the first (away from the kink and the border), and 0 across: normalising by one
    magnitude for the whole image keeps how strong each edge is, normalising each pixel
    on its own (every gradient of length 1) does not."""
    import numpy as np

    found = _along_the_ramp(output, image)
    if isinstance(found, str):
        return found
    along, names = found
    middle = along.shape[1] // 2
    gentle, steep = along[:, 1:middle - 2], along[:, middle + 2:-1]
    if not (np.all(gentle > 0) and np.allclose(steep, 3 * gentle.mean(), rtol=1e-6)
            and np.allclose(gentle, gentle.mean(), rtol=1e-6)):
        return (f"where the image grows 3 times as fast along {names[0]}, {names[2]} must be 3 times as large: "
                "divide every gradient by one magnitude for the whole image, not each by its own")
    return True


def _along_the_ramp(output: Any, image: Any) -> tuple[Any, tuple[str, str, str]] | str:
    """The derivative along the axis an image changes along (inside the border, with that
    axis last), once the derivative across it is 0; or why the output is not so."""
    import numpy as np

    found = _along_and_across(output, image)
    if isinstance(found, str):
        return found
    along, across, names = found
    if not np.allclose(across, 0, atol=1e-9):
        return f"on an image that changes along {names[0]} only, {names[1]} must be 0 inside the border"
    return along, names


def _along_and_across(output: Any, image: Any) -> tuple[Any, Any, tuple[str, str, str]] | str:
    """The derivatives along and across the axis an image changes along (inside the border,
    with the axis it changes along last), or why the output cannot be read so."""
    import numpy as np

    gradients = np.asarray(output, dtype=float)
    pixels = np.asarray(image, dtype=float)
    if gradients.shape != (2, *pixels.shape):
        return f"the output has shape {gradients.shape}, expected (2, H, W) = {(2, *pixels.shape)}"
    inside = gradients[:, 1:-1, 1:-1]
    if np.allclose(pixels, pixels[:1, :]):  # every row alike: the image changes along x
        return inside[1], inside[0], ("x", "∂I/∂y (the first channel)", "∂I/∂x (the second channel)")
    return inside[0].T, inside[1].T, ("y", "∂I/∂x (the second channel)", "∂I/∂y (the first channel)")


def has_unit_rms(output: Any, image: Any) -> bool | str:
    """The normalised gradients have a root-mean-square magnitude of 1 over the image."""
    import numpy as np

    gradients = np.asarray(output, dtype=float)
    if gradients.ndim != 3 or gradients.shape[0] != 2:
        return f"the output has shape {gradients.shape}, expected (2, H, W)"
    rms = float(np.sqrt(np.mean(np.sum(gradients**2, axis=0))))
    return True if abs(rms - 1) < 1e-6 else f"the root-mean-square gradient magnitude is {rms:.6g}, not 1"
