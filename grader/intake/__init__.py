"""What students hand in, and the one way to open it: `open_submission(path)`.

intake imports nothing from grader.student, grader.grading or the kinds: the commands
that read submissions depend on it, never the other way round.
"""

from grader.intake.open import open_submission
from grader.intake.submission import Submission

__all__ = ["Submission", "open_submission"]
