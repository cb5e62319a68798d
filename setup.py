"""What pyproject.toml cannot say: the packages found under grader/ plus the report templates.

templates/ stays at the repository root, where instructors look for it, and installs as the
package data `grader/templates/*.j2` (grader.render.html looks there first, then beside the
package in a checkout). The wheel holds `grader` and nothing else at the top level.
Everything else about the project is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["grader", "grader.*"]), "grader.templates"],
    package_dir={"grader.templates": "templates"},
    package_data={"grader.templates": ["*.j2"], "grader.gradescope": ["setup.sh", "run_autograder"]},
)
