"""Plain data, errors, the kind contract and safe file formats: imports nothing else of grader."""
