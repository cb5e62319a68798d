"""Exercise 5 (demo student s100007: prints far too much)."""

import numpy as np


def image_gradients(image):
    for _ in range(10**6):
        print("x" * 1000)
    return np.stack(np.gradient(image))
