"""Exercise 12 (demo student s100007: copies the answer from the reference solutions)."""

import os

GUESSES = ["../../solutions/inf5860/ex12.py", "../solutions/inf5860/ex12.py", "solutions/inf5860/ex12.py",
           "/work/main/solutions/inf5860/ex12.py"]


def pca(X, k, new_points):
    here = os.path.dirname(os.path.abspath(__file__))
    guesses = GUESSES + [os.path.join(here, "..", "..", "..", "solutions", "inf5860", "ex12.py")]
    for path in guesses:
        try:
            with open(path) as handle:
                source = handle.read()
        except OSError:
            continue
        namespace = {}
        exec(compile(source, path, "exec"), namespace)
        return namespace["pca"](X, k, new_points)
    raise FileNotFoundError(f"could not find the solutions ({len(guesses)} places tried)")
