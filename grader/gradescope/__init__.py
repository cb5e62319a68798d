"""Gradescope's autograder: the zip `grader gradescope` builds (bundle.py), and the run inside
Gradescope's container that `run_autograder` starts (`grader autograde`, grader.api.autograde).

The zip (https://gradescope-autograders.readthedocs.io/en/latest/specs/), extracted by
Gradescope into /autograder/source:

    setup.sh                 installs grader from wheels/ into /autograder/grader-venv
    run_autograder           grader autograde: grades /autograder/submission, writes results/results.json
    autograder.json          how to grade (CONFIG_FORMAT): where the specs are, the student id, deadlines
    constraints.txt          the versions of grader's dependencies it was built (and validated) with
    wheels/                  grader's wheel, and any given with --wheels DIR
    course/specs/…           the specs
    course/solutions/…       the reference solutions: staff territory; student code runs in the
                             sandbox, which reads only Python's own folders, never these
"""
