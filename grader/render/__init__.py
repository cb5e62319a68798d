"""Renderers: HTML feedback reports and gradebook exports, built from results only.

Nothing here grades: every function reads `StudentResult` objects (or their JSON) and
writes files atomically. Import the submodules' functions from here.
"""

from __future__ import annotations

from grader.render.exports import FORMATS, export
from grader.core.output import safe_file_name
from grader.render.html import render_overview, render_student, write_reports

__all__ = [
    "FORMATS", "export", "render_overview", "render_student", "safe_file_name", "write_reports",
]
