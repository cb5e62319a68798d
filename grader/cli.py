"""The `grader` command: declare the options, call grader.api, print. No logic here.

Errors are caught in one place, `GraderGroup.main` (as click's own `main` does): a
GraderError shows itself and exits with its code, click's usage errors exit 2, anything
else is a bug, reported as `internal error: …` with exit code 3 (no traceback unless
GRADER_DEBUG=1).

Everything printed goes through `_echo`, which shows each character that could steer a
terminal visibly (grader.core.text.terminal_safe): folder names, answers.yaml keys,
answers and file names are the students' choice, and an escape sequence among them must
not clear the instructor's screen or write their clipboard.

Exit codes: 0 success; 1 problems found (a spec that does not prove, with --strict a
submission that could not be graded, a malformed answer in `check`); 2 bad usage or
unusable input; 3 internal error (a bug in grader).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from grader.core.version import __version__
from grader.core.errors import EXIT_INTERNAL, EXIT_PROBLEMS, GraderError, internal_error_report
from grader.core.text import terminal_safe

#: Kept here (not imported) so that `grader --help` does not load the renderers.
EXPORT_FORMATS = ("csv", "gradescope", "canvas", "moodle")
#: grader.intake.gradescope.STUDENT_IDS, kept here for the same reason (tests/test_gradescope.py checks them).
STUDENT_IDS = ("email-name", "email", "gradescope-id")
SPECS = click.argument("specs", nargs=1, type=click.Path(exists=True, path_type=Path))


def _echo(*parts: str | tuple[str, str | None], err: bool = False, lines: bool = False) -> None:
    """The one way this module prints. Each part is made terminal-safe (terminal_safe);
    `lines` keeps its line feeds (for text printed as lines: a table, an error list),
    else a line feed shows as ␊ too, so a student's text cannot forge a line of its own.
    A (text, colour) part is that text, made safe the same way, in grader's colour (the
    only escape codes printed are grader's own)."""
    shown = [click.style(terminal_safe(part[0], lines), fg=part[1], bold=True) if isinstance(part, tuple)
             else terminal_safe(part, lines) for part in parts]
    click.echo("".join(shown), err=err)


@contextlib.contextmanager
def _safe_usage_errors() -> Iterator[None]:
    """click's own usage errors quote what was typed (`unexpected extra arguments (…)`), and
    a shell glob types the students' folder names: they are made safe before click shows them."""
    try:
        yield
    except click.ClickException as error:
        # click declares `message` final; the error is shown once, by click, with this text
        setattr(error, "message", terminal_safe(error.message, newlines=True))
        raise


class GraderGroup(click.Group):
    """The one error boundary of the command line. click's own `main` already turns its
    usage errors into exit 2; this adds grader's: a GraderError shows itself with its exit
    code, anything else is a bug (exit 3). Outside standalone mode callers get the exception."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        except GraderError as error:
            if not standalone_mode:
                raise
            _echo(error.show(), err=True, lines=True)
            sys.exit(error.exit_code)
        except Exception as error:  # a bug: say so, and what to report, instead of a traceback
            if not standalone_mode:
                raise
            _echo(internal_error_report(error, debug=os.environ.get("GRADER_DEBUG") == "1"), err=True, lines=True)
            sys.exit(EXIT_INTERNAL)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _safe_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _safe_usage_errors():
            return super().invoke(ctx)


@click.group(cls=GraderGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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

    Code questions are also proved against decoys: standard wrong versions of the
    reference (negated, transposed, axes_swapped, reversed, plus_one, zeros, constant,
    first_argument, hard_coded, float32, nan; and from its source floor_ceil,
    ceil_division, range_short), each graded in the sandbox as a student's code. A
    decoy, or a known mistake, that earns half the question's points or more fails the
    spec, with the checks that let it through. Mark a decoy that is truly right under
    the question's equivalent_decoys: with the reason.

    \b
    Example:
      grader validate exercises/inf5860
    """
    from grader import api

    course = api.validate(list(specs))
    questions = sum(len(e.questions) for e in course.exercises)
    _echo(f"ok: {len(course.exercises)} exercises, {questions} questions, "
          f"{course.max_score:g} points (specs {course.digest})")


@main.command()
@SPECS
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Folder for results/<student>.json, grades.csv and reports/.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, show_default="1",
              help="Grade in this many parallel processes (results are identical to --jobs 1).")
@click.option("--dask", "dask", default=None, metavar="ADDRESS",
              help="Grade on a Dask cluster: a scheduler's address (tcp://host:8786), or local[:N] for N "
                   "local worker processes (default: one per core). Workers need grader, no shared disk "
                   "(pip install 'grader[dask]').")
@click.option("--no-reports", is_flag=True, help="Skip the HTML reports.")
@click.option("--strict", is_flag=True, help="Exit 1 if any submission could not be graded.")
@click.option("--quiet", "-q", is_flag=True, help="Print no per-student summary.")
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Human decisions to apply (default: overrides.yaml in the specs folder).")
@click.option("--deadline", default=None, metavar="TIME",
              help="Deadline for every exercise, e.g. 2026-12-01T23:59:00+01:00 (overrides the specs').")
@click.option("--late-penalty", "late_penalty", default=None, metavar="POLICY",
              help="Late policy for every exercise, e.g. '{per_day: 0.1, max: 0.5}' (see the README).")
@click.option("--times", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="CSV", help="Upload times as the LMS recorded them (CSV student,submitted_at; "
                                  "times with a zone): they beat the manifests' self-reported times, and a "
                                  "manifest that disagrees is flagged.")
@click.option("--extensions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="CSV", help="Per-student extensions (CSV student,deadline or student,days): moves "
                                  "that student's deadlines.")
@click.option("--canvas-assignment", "canvas_assignment", default=None, metavar="'NAME (ID)'",
              help="The Canvas assignment --format canvas updates, as Canvas names its column "
                   "(default: the specs' canvas: key).")
@click.option("--format", "formats", type=click.Choice(EXPORT_FORMATS), multiple=True,
              help="Also export for an LMS (repeatable): gradescope, canvas, moodle, csv. "
                   "Refused while answers await review (see --allow-pending).")
@click.option("--allow-pending", is_flag=True,
              help="Export even while answers await review: their cells are left blank (not 0).")
def grade(specs: Path, submissions: tuple[Path, ...], out: Path, jobs: int | None, dask: str | None,
          no_reports: bool,
          strict: bool, quiet: bool, overrides: Path | None, deadline: str | None,
          late_penalty: str | None, times: Path | None, extensions: Path | None,
          canvas_assignment: str | None, formats: tuple[str, ...], allow_pending: bool) -> None:
    """Grade submissions against the specs.

    SPECS is a spec file or a folder of them. SUBMISSIONS are submission folders
    (named after the student, holding answers.yaml and code), .zip files of such a
    folder, or folders that hold many of them.

    A zip's manifest time is the student's own word (they can edit it and zip again):
    each result says where its time came from. With --times the LMS's upload times
    are used instead, and a manifest, or a file in the zip, that disagrees with the
    time used is flagged in the result, the report and the gradebook.

    \b
    Examples:
      grader grade exercises/inf5860 examples/class --out out --jobs 2
      grader grade exercises/inf5860 examples/class --out out --dask local:2
      grader grade exercises/inf5860 examples/class/s100002 examples/class/s100003 --out out --deadline 2026-12-01T23:59:00+01:00 --times examples/lms/times.csv --extensions examples/lms/extensions.csv
    """
    from grader import api
    from grader.render import summary

    if dask is not None and jobs is not None:
        raise click.UsageError("--dask and --jobs cannot be used together: the Dask workers grade in parallel")
    policy = api.late_policy(late_penalty)
    total = len(api.pick_submissions(submissions)[0])
    with click.progressbar(length=total, label="grading", file=sys.stderr, show_pos=True) as bar:
        run = api.grade_paths([specs], list(submissions), out, jobs=jobs or 1, dask=dask,
                              on_result=lambda _result: bar.update(1), reports=not no_reports,
                              overrides=overrides, deadline=deadline, late_penalty=policy, formats=formats,
                              allow_pending=allow_pending, times=times, extensions=extensions,
                              canvas_assignment=canvas_assignment)
    for warning in run.all_warnings(limit=20):
        _echo("warning: ", warning, err=True)
    if not quiet:
        _echo(summary.table(run.results), lines=True)
        for line in summary.lateness_lines(run.results) + summary.time_lines(run.results):
            _echo(line)
    _echo(summary.written_line(out, len(run.results), run.written, len(run.listed)))
    for refused in run.refused:
        _echo(("error: ", "red"), refused, err=True)
    if run.refused or (strict and run.exit_code):
        sys.exit(run.exit_code)


def _ask(text: str) -> str:
    """One line from the reviewer; end of input (or Ctrl-C) means quit."""
    try:
        return click.prompt(terminal_safe(text), default="", show_default=False)
    except click.Abort:
        _echo()
        return "q"


@main.command()
@SPECS
@click.argument("out_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File the decisions go to (default: overrides.yaml in the specs folder).")
@click.option("--by", default=lambda: os.environ.get("USER", ""), show_default="$USER",
              help="Who is reviewing; recorded with each decision.")
@click.option("--again", is_flag=True, help="Also show answers that already have a decision.")
@click.option("--student", default=None, metavar="ID",
              help="Decide one answer without the walk: this student's (with --question and --score).")
@click.option("--question", "question", default=None, metavar="QID",
              help="The question of that one decision, as exercise.question (e.g. ex01.e).")
@click.option("--score", default=None, metavar="N",
              help="The points given (0 to the question's points; 1.5, 1,5 and 3/4 are read).")
@click.option("--comment", default="", metavar="TEXT", help="What the student is told with that decision.")
@click.option("--rubric", "rubric", multiple=True, metavar="ITEM",
              help="A rubric item judged present in that answer, by its name (repeat for each; "
                   "checked against the question's rubric).")
@click.option("--serve", is_flag=True, help="Review in the browser instead: a local page (see above).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default="any free port",
              help="Port of the review page on 127.0.0.1 (with --serve).")
def review(specs: Path, out_dir: Path, overrides: Path | None, by: str, again: bool, student: str | None,
           question: str | None, score: str | None, comment: str, rubric: tuple[str, ...], serve: bool,
           port: int) -> None:
    """Review the answers marked `review` in DIR/results, question by question.

    For each answer it shows the prompt, the answer, its group of similar answers, the
    rubric's hits and a suggested score. Type a score (Enter accepts the suggestion, s
    skips, q quits, r 2 ticks or unticks rubric item 2 as present) and a comment (a digit
    picks one of the reusable comments shown: the rubric's concepts and the comments given
    before); the walk offers to give the same decision to the rest of the group. Each
    decision, with the rubric items judged present, is saved at once to the overrides
    file. Grade again to apply the decisions.

    With --student, --question and --score it records that one decision and exits: any
    graded answer may be decided so, auto-graded ones too (a regrade request); --rubric
    ITEM (repeated) records the rubric items judged present.

    With --serve it serves the review page instead, on 127.0.0.1 only, at a URL with a
    secret token that it prints (`grader review exercises/inf5860 out --serve`); the
    page's keys are digits for the score, c for a comment, r for the rubric's checkboxes,
    Enter to save, n for next, u to undo; it follows a `grade` run again into DIR. Ctrl-C
    stops it.

    \b
    Examples:
      grader review exercises/inf5860 out --by alice
      grader review exercises/inf5860 out --student s100002 --question ex01.e --score 1 --comment "Regrade: the rounding is fine." --by alice
      grader review exercises/inf5860 out --student s100002 --question ex03.a --score 1 --rubric "it saturates and kills gradients" --by alice
    """
    from grader import api

    one = (student, question, score)
    if any(v is not None for v in one) or comment or rubric:
        if serve or again or None in one:
            raise click.UsageError("one decision takes --student, --question and --score together "
                                   "(and --comment, --rubric), without --serve or --again")
        assert student is not None and question is not None and score is not None
        done = api.decide([specs], out_dir, student, question, score, comment, by, overrides=overrides,
                          rubric=list(rubric) if rubric else None)
        _echo(done.text())
        return
    if port and not serve:
        raise click.UsageError("--port goes with --serve")
    if serve:
        server = api.review_page([specs], out_dir, by, overrides=overrides, port=port)
        _echo(f"Review page: {server.url}")
        _echo("Open it in a browser on this machine (the token in it is the key); Ctrl-C stops.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            _echo("")
        finally:
            server.server_close()
        _echo(f"stopped; decisions are saved in {server.board.path}. Grade again to apply them.")
        return
    summary = api.review([specs], out_dir, ask=_ask, say=lambda text: _echo(text, lines=True), by=by,
                         overrides=overrides, again=again)
    _echo(summary.text())


@main.command()
@click.argument("out_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True,
              help="csv: the gradebook; gradescope: results.json per student; canvas, moodle: "
                   "CSVs their gradebooks import.")
@click.option("--to", "to", type=click.Path(path_type=Path), default=None,
              help="File (or folder, for gradescope) to write. Default: beside DIR/results.")
@click.option("--title", default="",
              help="Assignment column name for canvas and moodle (default: the course title, as `grade` names it).")
@click.option("--allow-pending", is_flag=True,
              help="Export even while answers await review: their cells are left blank (not 0).")
@click.option("--canvas-assignment", "canvas_assignment", default=None, metavar="'NAME (ID)'",
              help="canvas: the assignment to update, as Canvas's export names its column, e.g. "
                   "'Exercise set 1 (123456)' (the id makes the import update it, not add a new one).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="CSV", help="canvas: the course's Canvas gradebook export, to fill Student, ID, SIS User "
                                  "ID, SIS Login ID and Section (a student id matches SIS Login ID, else SIS "
                                  "User ID).")
def export(out_dir: Path, fmt: str, to: Path | None, title: str, allow_pending: bool,
           canvas_assignment: str | None, roster: Path | None) -> None:
    """Export the results that `grader grade` wrote under DIR (DIR/results/*.json).

    Refused (exit 2) while answers await review, as each would count 0 points: review
    them first (grader review), or pass --allow-pending to leave their cells blank.

    \b
    Examples:
      grader export out --format canvas --title "Exercise set 1" --allow-pending
      grader export out --format canvas --roster examples/lms/canvas-gradebook.csv --canvas-assignment "Exercise set 1 (123456)" --allow-pending
    """
    from grader import api

    exported = api.export(out_dir, fmt, to, title, allow_pending, canvas_assignment, roster,
                          warn=lambda text: _echo("warning: ", text, err=True))
    note = exported.note()
    if note:
        _echo("warning: ", note, err=True)
    paths = exported.paths
    if not paths:
        _echo("wrote nothing: every student has answers awaiting review")
        return
    _echo(f"wrote {paths[0]}" + (f" and {len(paths) - 1} more" if len(paths) > 1 else ""))


@main.command()
@SPECS
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the bundle into (one sub-folder per student with --student/--roster).")
@click.option("--student", "students", multiple=True, metavar="ID",
              help="Release this student's variant (repeatable).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A file of student ids (one per line, or the first CSV column): one bundle each.")
@click.option("--notebook", is_flag=True,
              help="Also write answers.ipynb, a Jupyter template: a code cell per answer (ex01_e = ...), "
                   "the code stubs, and a last cell that runs grader.check().")
def release(specs: Path, to: Path, students: tuple[str, ...], roster: Path | None, notebook: bool) -> None:
    """Write the student bundle: exercise sheet, answer template, code stubs, public specs.

    The bundle holds prompts, points, answer formats and the visible checks (inputs with
    precomputed outputs). It never holds solutions, reference answers, known mistakes,
    hidden checks or params. Params drawn per student: with --student or --roster each
    bundle shows that student's values; one bundle for the whole class shows them as
    ‹name: drawn per student› and tells students to ask for their own.

    \b
    Examples:
      grader release exercises/inf5860 --to bundle
      grader release exercises/inf5860 --to bundles --roster roster.csv --notebook
    """
    from grader import api

    released = api.release([specs], to, students, roster, with_notebook=notebook)
    if released.note:
        _echo("note: ", released.note, err=True)
    plural = "s" if released.bundles > 1 else ""
    _echo(f"wrote {released.bundles} bundle{plural} ({len(released.files)} files) under {to}")


_CHECK_COLOURS = {"ok": "green", "passed": "green", "missing": "yellow", "unchecked": "cyan",
                  "invalid": "red", "failed": "red", "error": "red"}


@main.command()
@click.argument("specs", type=click.Path(exists=True, path_type=Path), metavar="BUNDLE_OR_SPECS")
@click.argument("submission", type=click.Path(exists=True, path_type=Path), default=Path("."))
def check(specs: Path, submission: Path) -> None:
    """Check your answers: do they parse, and does your code pass the visible checks?

    BUNDLE_OR_SPECS is the released bundle (or its specs/ folder). SUBMISSION is your
    folder (default: the current one). Nothing here reveals a right answer: a question
    that reads well may still be wrong. Exit code 1 when an answer is malformed.

    Answers in a Jupyter notebook (answers.ipynb from `release --notebook`, or an nbgrader
    notebook) are read from the saved file. Inside the notebook, `import grader;
    grader.check()` (or grader.check("ex01.e")) shows the same rows as a table.

    \b
    Example:
      grader check . .
    """
    from grader import api

    report = api.check(specs, submission)
    ids = [terminal_safe(row.id, limit=100) for row in report.rows]
    width = max([len(shown) for shown in ids] + [8])
    for shown, row in zip(ids, report.rows):
        lines = row.message.splitlines() or [""]
        _echo(f"{shown:<{width}}  ", (f"{row.status:<9}", _CHECK_COLOURS.get(row.status)), f"  {lines[0]}")
        for line in lines[1:]:
            _echo(f"{'':<{width}}  {'':<9}  {line}")
    for warning in report.warnings:
        _echo("warning: ", warning, err=True)
    counts = {s: sum(r.status == s for r in report.rows) for s in _CHECK_COLOURS}
    _echo(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if report.problems:
        sys.exit(EXIT_PROBLEMS)


@main.command()
@click.argument("submission", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."))
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write <student>-<UTC time>.zip into.")
@click.option("--specs", type=click.Path(exists=True, path_type=Path), default=None,
              help="The bundle's specs (default: specs/ beside the submission).")
@click.option("--student", default=None, metavar="ID", help="Your student id (default: the bundle's, or the folder name).")
@click.option("--force", is_flag=True, help="Package even when problems are found.")
def submit(submission: Path, to: Path, specs: Path | None, student: str | None, force: bool) -> None:
    """Check and package your submission as a zip with a manifest.

    Refuses, listing every problem, when an answer is malformed, code does not import,
    or the folder holds files that are not part of a submission (unless --force).

    \b
    Example:
      grader submit . --to ~/handin
    """
    from grader import api

    packaged = api.submit(submission, to, specs, student, force)
    for warning in packaged.warnings:
        _echo("warning: ", warning, err=True)
    for problem in packaged.problems:
        _echo(("problem: ", "red"), problem, err=True)
    if packaged.path is None:
        _echo("not packaged: fix the problems above (or use --force)", err=True)
        sys.exit(EXIT_PROBLEMS)
    _echo(f"wrote {packaged.path} ({', '.join(packaged.files)})")


@main.command()
@SPECS
@click.option("--to", "to", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The autograder zip to write.")
@click.option("--wheels", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A folder of wheels to put in the zip and install: grader-*.whl (when grader is installed "
                   "from a wheel), a course's own packages.")
@click.option("--student-id", "student_id", type=click.Choice(STUDENT_IDS), default="email-name",
              show_default=True, help="Which field of the Gradescope user is the student id: the e-mail "
                                      "before the @, the whole e-mail, or Gradescope's user id.")
@click.option("--deadline", type=click.Choice(("spec", "gradescope")), default="spec", show_default=True,
              help="spec: the specs' deadlines (Gradescope's due date when no spec sets one); gradescope: "
                   "the assignment's due date in Gradescope for every exercise.")
@click.option("--late-penalty", "late_penalty", default=None, metavar="POLICY",
              help="Late policy for every exercise, e.g. '{per_day: 0.1, max: 0.5}' (default: the specs').")
def gradescope(specs: Path, to: Path, wheels: Path | None, student_id: str, deadline: str,
               late_penalty: str | None) -> None:
    """Build an autograder zip for Gradescope (a programming assignment's "Autograder").

    The specs must load (prove them first with grader validate). The zip holds setup.sh, which installs
    grader and its dependencies at the versions installed here (grader's wheel and any
    --wheels from the zip, the rest from PyPI, torch's CPU build), and run_autograder, which
    grades the student's upload (answers.yaml and code, a notebook, or a zip from grader
    submit) with the same engine and sandbox as grade, and writes results.json: one test per
    question, hidden checks in a test shown after the due date, feedback as HTML. The
    submission time and the student id come from Gradescope, not from the upload. The specs
    and solutions go in the zip; student code never sees them (the sandbox). Upload the zip
    under the assignment's Configure Autograder; choose a base image with Python 3.11 or newer
    (setup.sh installs python3.11 where there is none).

    --wheels DIR adds the wheels in DIR to the zip, installed by setup.sh: grader's own
    (grader-*.whl; without one it is built from this checkout with pip wheel) and a course's
    packages. Gradescope's due date is the deadline of every exercise with
    --deadline gradescope.

    \b
    Example:
      grader gradescope exercises/inf5860 --to autograder.zip --late-penalty '{per_day: 0.1, max: 0.5}'
    """
    from grader import api

    built = api.gradescope([specs], to, wheels, student_id, deadline, api.late_policy(late_penalty))
    _echo(f"wrote {built.path} ({built.size / 1e6:.1f} MB; {len(built.files)} files; "
          f"wheels: {', '.join(built.wheels)})")


@main.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The autograder folder (default: $AUTOGRADER_ROOT, else /autograder).")
@click.option("--source", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The unpacked autograder zip (default: ROOT/source).")
def autograde(root: Path | None, source: Path | None) -> None:
    """Grade as Gradescope's autograder: ROOT/submission into ROOT/results/results.json.

    The zip's run_autograder runs this in Gradescope's container. To try an autograder before
    uploading it, unpack the zip into ROOT/source, put a submission in ROOT/submission (a
    student's folder or zip in it is graded under its name; or write Gradescope's
    submission_metadata.json into ROOT) and run it. A results.json is always
    written, also when grading fails; the exit code is 0 when it was written.

    \b
    Example:
      grader autograde --root autograder-trial
    """
    from grader import api

    _echo(f"wrote {api.autograde(root, source)}")


@main.command()
@click.option("--results", "of_results", is_flag=True,
              help="Print the schema of a results file (DIR/results/<student>.json) instead.")
def schema(of_results: bool) -> None:
    """Print the JSON Schema of an exercise spec, for editors that validate YAML; with
    --results, of a results file, for tools that read grades.

    \b
    Examples:
      grader schema > spec.schema.json
      grader schema --results > results.schema.json
    """
    import json

    from grader.authoring.schema import spec_schema
    from grader.core.results_schema import results_schema

    _echo(json.dumps(results_schema() if of_results else spec_schema(), indent=2), lines=True)


if __name__ == "__main__":
    main()
