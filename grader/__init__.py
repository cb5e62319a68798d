"""grader: an auto-grader for math-and-code exercises in machine learning courses.

The package never prints or exits: `cli.py` is the only place that talks to a terminal,
and `grader.check()` (the self-check inside a Jupyter notebook) shows its table as the
notebook's output. Heavy libraries (numpy, sympy, torch) are imported lazily inside the
modules that need them, and so is `check`: `import grader` loads nothing else.
"""

from typing import Any

from grader.core.version import __version__

__all__ = ["__version__", "check"]


def __getattr__(name: str) -> Any:
    """`grader.check`, imported on first use (grader.student.jupyter)."""
    if name == "check":
        from grader.student.jupyter import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
