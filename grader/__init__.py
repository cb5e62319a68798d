"""grader: an auto-grader for math-and-code exercises in machine learning courses.

The package never prints or exits: `cli.py` is the only place that talks to a terminal.
Heavy libraries (numpy, sympy, torch) are imported lazily inside the modules that need them.
"""

__version__ = "0.1.0"
