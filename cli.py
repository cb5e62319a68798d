"""The `grader` command: parse arguments, call grader.api, print. No grading logic here.

Exit codes: 0 success; 1 problems found (a spec that does not prove, or with --strict a
submission that could not be graded); 2 bad usage or unusable input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader import __version__
from grader.errors import EXIT_PROBLEMS, GraderError

SPECS = click.argument("specs", nargs=1, type=click.Path(exists=True, path_type=Path))


def _fail(error: GraderError) -> None:
    click.echo(error.show(), err=True)
    sys.exit(error.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Auto-grade math-and-code exercises against reference solutions.

    \b
    Typical use:
      grader validate exercises/inf5860
      grader grade exercises/inf5860 examples/class --out out --jobs 2
    """


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate(specs: tuple[Path, ...]) -> None:
    """Prove exercise specs and their reference solutions.

    SPECS are spec files or folders of them. Every spec must load, every reference
    solution must run, every reference answer must pass its own check (also typed back
    as a student would type it), every listed mistake must fail it, and every variant
    must render. Problems are printed as file:line: message; the exit code is 1 if any.

    \b
    Example:
      grader validate exercises/inf5860
    """
    from grader import api

    try:
        course = api.validate(list(specs))
    except GraderError as error:
        _fail(error)
    questions = sum(len(e.questions) for e in course.exercises)
    click.echo(f"ok: {len(course.exercises)} exercises, {questions} questions, "
               f"{course.max_score:g} points (specs {course.digest})")


@main.command()
@SPECS
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Folder for results/<student>.json, grades.csv and reports/.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Grade in this many parallel processes (results are identical to --jobs 1).")
@click.option("--no-reports", is_flag=True, help="Skip the HTML reports.")
@click.option("--strict", is_flag=True, help="Exit 1 if any submission could not be graded.")
@click.option("--quiet", "-q", is_flag=True, help="Print no per-student summary.")
def grade(specs: Path, submissions: tuple[Path, ...], out: Path, jobs: int, no_reports: bool,
          strict: bool, quiet: bool) -> None:
    """Grade submissions against the specs.

    SPECS is a spec file or a folder of them. SUBMISSIONS are submission folders
    (named after the student, holding answers.yaml and code), .zip files of such a
    folder, or folders that hold many of them.

    \b
    Example:
      grader grade exercises/inf5860 examples/class --out out --jobs 2
    """
    from grader import api

    total = len(api.pick_submissions(submissions)[0])
    try:
        with click.progressbar(length=total, label="grading", file=sys.stderr,
                               show_pos=True) as bar:
            run = api.grade_paths([specs], list(submissions), out, jobs=jobs,
                                  on_result=lambda _result: bar.update(1), reports=not no_reports)
    except GraderError as error:
        _fail(error)
    for warning in run.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        click.echo(_summary(run.results))
    click.echo(f"wrote {out / 'results'}/ ({len(run.results)} results), {out / 'grades.csv'}"
               + (f", {out / 'reports' / 'index.html'}" if not no_reports and (out / "reports").exists() else ""))
    if strict and any(r.error for r in run.results):
        sys.exit(EXIT_PROBLEMS)


def _summary(results: list) -> str:
    from grader.summary import table

    return table(results)


@main.command()
def schema() -> None:
    """Print the JSON Schema of an exercise spec, for editors that validate YAML.

    \b
    Example:
      grader schema > spec.schema.json
    """
    import json

    from grader.schema import spec_schema

    click.echo(json.dumps(spec_schema(), indent=2))


if __name__ == "__main__":
    main()
