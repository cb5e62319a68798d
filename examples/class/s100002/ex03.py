"""Exercise 3, code questions (demo student s100002: a linear model, too simple for a spiral)."""

from torch import nn


def make_model():
    return nn.Linear(2, 3)
