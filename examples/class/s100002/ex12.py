"""Exercise 12 (demo student s100002: centres the new points on their own mean; a linear autoencoder)."""

import numpy as np
from torch import nn


def pca(X, k, new_points):
    _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    return (new_points - new_points.mean(axis=0)) @ vt[:k].T


def make_autoencoder():
    class Linear(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(8, 2)
            self.decoder = nn.Linear(2, 8)

        def forward(self, x):
            return self.decoder(self.encoder(x))

    return Linear()
