"""Canvas's gradebook CSV conventions that specs, exports and the command line share.

Canvas names each assignment column of its gradebook export `Assignment Name (ID)`: the
number in parentheses is the assignment's id, and an import whose column header carries
it updates that assignment; a header without it is taken as a new assignment (a second
column of the same name). So a column grader writes for Canvas must have the id.
"""

from __future__ import annotations

import re

#: `Name (ID)`: any name, a space, the numeric assignment id in parentheses, nothing after.
ASSIGNMENT = re.compile(r"(?P<name>\S.*?)\s+\((?P<id>\d+)\)")
ASSIGNMENT_EXAMPLE = "Exercise set 1 (123456)"


def assignment_problem(text: object) -> str | None:
    """Why `text` is not a Canvas assignment column header `Name (ID)`; None when it is one."""
    if not isinstance(text, str) or not text.strip():
        return f"expected a Canvas assignment as `Name (ID)`, such as {ASSIGNMENT_EXAMPLE!r}, got {text!r}"
    if any(ord(c) < 32 for c in text) or len(text) > 300:
        return "a Canvas assignment name is one line of at most 300 characters"
    if not ASSIGNMENT.fullmatch(text.strip()):
        return (f"{text!r} does not end in the assignment's id in parentheses, as Canvas's own export names it "
                f"(such as {ASSIGNMENT_EXAMPLE!r}; the id is the number at the end of the assignment's address, "
                ".../assignments/123456); without it Canvas imports the column as a new assignment")
    return None
