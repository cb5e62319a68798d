"""The student's side: release, self-check, submit."""
