"""Reference solutions for INF 5860 Exercise 9: visualisation and adversarial training.

References for the occlusion_map and saliency code questions. Both take a classifier
`model` (a torch module mapping a batch (N, C, H, W) to class scores (N, K)), an image
(C, H, W) and the index of the target class.
"""

from __future__ import annotations

from typing import Any


def occlusion_map(model: Any, image: Any, target: int, patch: int, stride: int) -> Any:
    """How much the softmax probability of `target` drops when a patch × patch square of
    the image is set to zero, for every position of the square (top-left corner at
    multiples of `stride`). Returns a numpy array of shape
    ((H − patch) // stride + 1, (W − patch) // stride + 1); large values mark the
    regions the classification depends on."""
    import torch

    picture = torch.as_tensor(image, dtype=torch.float32)
    _channels, height, width = picture.shape
    if not (0 < patch <= min(height, width)) or stride < 1:
        raise ValueError("patch must fit in the image and stride must be at least 1")
    rows = range(0, height - patch + 1, stride)
    cols = range(0, width - patch + 1, stride)
    occluded = picture.repeat(len(rows) * len(cols), 1, 1, 1)
    for index, (top, left) in enumerate((r, c) for r in rows for c in cols):
        occluded[index, :, top:top + patch, left:left + patch] = 0
    model.eval()
    with torch.no_grad():
        base = torch.softmax(model(picture[None]), dim=1)[0, target]
        probabilities = torch.softmax(model(occluded), dim=1)[:, target]
    return (base - probabilities).reshape(len(rows), len(cols)).numpy()


def saliency(model: Any, image: Any, target: int) -> Any:
    """The saliency map of Simonyan et al.: the largest absolute gradient of the target
    class score (before softmax) with respect to each pixel, over the channels. A numpy
    array of shape (H, W)."""
    import torch

    picture = torch.as_tensor(image, dtype=torch.float32).clone().requires_grad_(True)
    model.eval()
    score = model(picture[None])[0, target]
    (gradient,) = torch.autograd.grad(score, picture)
    return gradient.abs().amax(dim=0).numpy()


# --- known mistakes of the occlusion_map and saliency questions -------------------------------


def occlusion_probability(model: Any, image: Any, target: int, patch: int, stride: int) -> Any:
    """The slip of returning the target's probability with each patch occluded instead of
    how much it drops from the unoccluded image's."""
    import torch

    with torch.no_grad():
        base = torch.softmax(model(torch.as_tensor(image, dtype=torch.float32)[None]), dim=1)[0, target]
    return float(base) - occlusion_map(model, image, target, patch, stride)


def saliency_of_probability(model: Any, image: Any, target: int) -> Any:
    """The slip of differentiating the softmax probability of the target instead of its
    score: the other classes' scores then leak into the map."""
    import torch

    picture = torch.as_tensor(image, dtype=torch.float32).clone().requires_grad_(True)
    model.eval()
    probability = torch.softmax(model(picture[None]), dim=1)[0, target]
    (gradient,) = torch.autograd.grad(probability, picture)
    return gradient.abs().amax(dim=0).numpy()
