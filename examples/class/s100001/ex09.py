"""Exercise 9, code questions (demo student s100001: correct)."""

import torch


def occlusion_map(model, image, target, patch, stride):
    _, height, width = image.shape
    rows = list(range(0, height - patch + 1, stride))
    cols = list(range(0, width - patch + 1, stride))
    heat = torch.zeros(len(rows), len(cols))
    with torch.no_grad():
        base = torch.softmax(model(image.unsqueeze(0)), dim=1)[0, target]
        for i, top in enumerate(rows):
            for j, left in enumerate(cols):
                occluded = image.clone()
                occluded[:, top:top + patch, left:left + patch] = 0
                heat[i, j] = base - torch.softmax(model(occluded.unsqueeze(0)), dim=1)[0, target]
    return heat.numpy()


def saliency(model, image, target):
    x = image.clone().unsqueeze(0).requires_grad_(True)
    score = model(x)[0, target]
    score.backward()
    return x.grad[0].abs().max(dim=0).values.numpy()
