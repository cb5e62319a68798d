"""Exercise 1, code questions (demo student s100001: correct)."""

import matplotlib.pyplot as plt


def plot_data(x, y):
    fig, ax = plt.subplots()
    ax.scatter(x, y, label="data")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("The training data")
    return fig
