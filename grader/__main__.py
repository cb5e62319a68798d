"""`python -m grader …` is the `grader` command (grader.cli)."""

from grader.cli import main

if __name__ == "__main__":
    main()
