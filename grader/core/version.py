"""The grader version, in core so that any layer can name it without importing the package
root (whose `grader.check` reaches up to the student tools)."""

__version__ = "0.1.0"
