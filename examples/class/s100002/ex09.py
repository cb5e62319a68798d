"""Exercise 9 (demo student s100002: occludes the caller's image; saliency of the probability)."""

import numpy as np
import torch


def occlusion_map(model, image, target, patch, stride):
    _, h, w = image.shape
    with torch.no_grad():
        base = torch.softmax(model(image[None]), dim=1)[0, target].item()
        out = []
        for top in range(0, h - patch + 1, stride):
            row = []
            for left in range(0, w - patch + 1, stride):
                saved = image[:, top:top + patch, left:left + patch].clone()
                image[:, top:top + patch, left:left + patch] = 0
                row.append(base - torch.softmax(model(image[None]), dim=1)[0, target].item())
                image[:, top:top + patch, left:left + patch] = saved * 0.999  # "restore" (not quite)
            out.append(row)
    return np.array(out)


def saliency(model, image, target):
    x = image.clone().requires_grad_(True)
    probability = torch.softmax(model(x[None]), dim=1)[0, target]
    probability.backward()
    return x.grad.abs().amax(dim=0).numpy()
