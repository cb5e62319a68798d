"""The Python API: what the CLI calls, and what scripts and notebooks may call directly.

Functions here return values or raise grader.core.errors exceptions; they never print.
Every `grader` command is one function here (validate, grade_paths, review, export,
release, check, submit), so the command line only declares options and forwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from grader.grading import engine, executor as executors, preflight
from grader.core import lock, output, registry, text
from grader.authoring import spec, variants
from grader.intake import open_submission, submission
from grader.core.errors import EXIT_PROBLEMS, EXIT_USAGE, GraderError, Problem, SpecError
from grader.core.model import Course, Exercise, Invalid, Question
from grader.core.results import StudentResult

if TYPE_CHECKING:  # the commands' modules load only when their command runs
    from grader.authoring.extensions import Extensions
    from grader.grading.distributed import Task
    from grader.gradescope.bundle import Built
    from grader.grading.page import ReviewServer
    from grader.grading.review import Decided, Summary
    from grader.intake.times import TrustedTimes
    from grader.render.exports import Exported
    from grader.student.check import CheckReport
    from grader.student.submit import Packaged

VALIDATION_STUDENTS = ("validate-0", "validate-1", "validate-2", "validate-3", "validate-4")


def load(spec_paths: Sequence[Path]) -> Course:
    return spec.load_course(list(spec_paths))


# --- validate -------------------------------------------------------------------------


def validate(spec_paths: Sequence[Path]) -> Course:
    """Prove every spec: it loads, every reference runs and passes its own check (also when
    typed back as a student would), every known mistake fails it, every variant renders.
    Raises SpecError listing every problem; EnvironmentProblem (exit 2) before any proof
    when this Python lacks what the specs need (grader.grading.preflight)."""
    course = load(spec_paths)
    preflight.ensure_course(course, "validate")
    problems: list[Problem] = []
    for exercise in course.exercises:
        students = VALIDATION_STUDENTS if variants.has_draws(exercise.params) else VALIDATION_STUDENTS[:1]
        for student in students:
            params = variants.resolve(exercise.params, student, exercise.id)
            for question in exercise.questions:
                problems.extend(_prove_question(course, exercise, question, params))
    if problems:
        raise SpecError(_unique(problems))
    return course


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _prove_question(course: Course, exercise: Exercise, question: Question, params: dict[str, Any]) -> list[Problem]:
    where = question.location or exercise.location
    assert where is not None

    def problem(message: str) -> Problem:
        return Problem(where, f"{exercise.id}.{question.id}: {message}")

    try:
        variants.render_prompt(question.prompt, params)
    except Exception as exc:
        return [problem(f"prompt does not render: {exc}")]
    try:
        expected = engine.expected_for(course, exercise, question, params)
    except Exception as exc:
        return [problem(f"reference does not compute: {exc}")]
    kind = registry.get(question.kind)
    prove = registry.hook(kind, "prove")
    if prove is not None:  # kinds that run code prove their references themselves
        return [problem(message) for message in prove(question, expected.value)]
    found: list[Problem] = []
    if engine.judge(question, expected.value, expected).status != "correct":
        found.append(problem("the reference answer does not pass its own check"))
    typed = kind.show(expected.value, question)
    reparsed = kind.parse(typed, question)
    if isinstance(reparsed, Invalid):
        found.append(problem(f"the reference typed as {typed!r} does not parse: {reparsed.message}"))
    elif kind.check(question, reparsed, expected.value).status != "correct":
        found.append(problem(f"the reference typed as {typed!r} does not pass the check"))
    for index, mistake_value in enumerate(expected.mistakes):
        if kind.check(question, mistake_value, expected.value).status == "correct":
            found.append(problem(f"mistakes[{index}] passes the check, so it can never be reached"))
    return found


# --- grade ----------------------------------------------------------------------------

_worker_course: Course | None = None


_worker_specs: tuple[Path, ...] = ()


def _init_worker(spec_paths: tuple[Path, ...], course: Course | None = None) -> None:
    """Give this process the course to grade with; a forked worker inherits it loaded."""
    global _worker_course, _worker_specs
    if course is not None:
        _worker_course, _worker_specs = course, spec_paths
    elif _worker_course is None or _worker_specs != spec_paths:
        _worker_course, _worker_specs = load(spec_paths), spec_paths


def grade_path(path: Path, course: Course | None = None, now: datetime | None = None,
               deadline: str | None = None, late_penalty: dict[str, Any] | None = None,
               student: str | None = None, submitted_at: str | None = None,
               times: TrustedTimes | None = None, extensions: Extensions | None = None) -> StudentResult:
    """Grade one submission folder or zip. Never raises for a bad submission.

    `deadline` and `late_penalty` override the specs' (see grader.authoring.lateness);
    `times` (read_times) are the upload times that beat the manifests', `extensions`
    (read_extensions) move students' deadlines. `student` is the id to grade under
    (default: from the folder or zip name); `submitted_at` a trusted submission time (an
    LMS's, ISO with a zone) that replaces the manifest's."""
    course = course or _worker_course
    assert course is not None, "call _init_worker or pass a course"
    try:
        with open_submission(path, student) as opened:
            if submitted_at is not None:
                opened = replace(opened, submitted_at=submitted_at)
            result = engine.grade_submission(course, opened, now)
            return engine.finish(result, opened, course, deadline, late_penalty, times, extensions)
    except Exception as exc:  # a grader fault on one student must not stop the class
        return _grader_fault(student or student_of(path), course, str(exc), f"{type(exc).__name__}: ")


def _grader_fault(student: str, course: Course, detail: str, prefix: str = "") -> StudentResult:
    """The result of a submission that could not be graded through grader's fault: no score,
    and why. The detail may hold a private folder's path (a temporary copy, site-packages):
    not for the student."""
    message = text.valid_unicode(text.without_paths(detail))[:500]
    return StudentResult(student=student, score=0.0, max_score=course.max_score, questions=(),
                         error=f"grader fault: {prefix}{message}", spec_digest=course.digest)


@dataclass(frozen=True)
class _Settings:
    """What grading any submission of a run needs besides the submission and the course."""

    now: datetime
    deadline: str | None = None
    late_penalty: dict[str, Any] | None = None
    decided: Any = None
    prints: Any = None
    times: TrustedTimes | None = None
    extensions: Extensions | None = None


def _graded(path: Path, settings: _Settings, course: Course | None = None,
            student: str | None = None) -> StudentResult:
    """One submission graded, with the human decisions applied over it."""
    from grader.grading import overrides as decisions

    result = grade_path(path, course, now=settings.now, deadline=settings.deadline,
                        late_penalty=settings.late_penalty, student=student, times=settings.times,
                        extensions=settings.extensions)
    return decisions.apply(result, settings.decided, settings.prints)


@dataclass(frozen=True)
class _Batch:
    """A few submissions for one local worker, with everything it needs to finish them:
    grading, human decisions and writing the result files happen in the worker, so the
    parent process only collects (on two cores the parent's JSON writing held the workers
    back). Workers on other machines return their results instead (`_grade_task`)."""

    paths: tuple[Path, ...]
    settings: _Settings
    out: Path


def _grade_batch(batch: _Batch) -> list[tuple[StudentResult, Path]]:
    done = []
    for path in batch.paths:
        result = _graded(path, batch.settings)
        done.append((result, output.write_result(batch.out, result)))
    return done


def _grade_task(task: Task) -> str:
    """On a Dask worker: one submission, from its bytes, with the run's course and settings
    there; its result as JSON text, for the client to write."""
    from grader.grading import distributed
    from grader.intake import packed

    course, settings = distributed.run_state(task.run)
    with packed.unpacked(task.submission) as path:
        return output.result_json(_graded(path, settings, course, task.submission.student))


@dataclass
class GradeRun:
    results: list[StudentResult]
    """This run's results (the summary table, the exit code)."""
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    listed: list[StudentResult] = field(default_factory=list)
    """Every result in the results folder after the run: this run's and those of earlier
    runs into the same folder; the gradebook, the reports and the exports list these."""
    refused: list[str] = field(default_factory=list)
    """Exports asked for (`formats`) and not written, each with why (answers await review)."""

    @property
    def exit_code(self) -> int:
        """EXIT_USAGE when an export was refused (whatever --strict says: what was asked for
        is missing), EXIT_PROBLEMS when a submission could not be graded, else 0."""
        if self.refused:
            return EXIT_USAGE
        return EXIT_PROBLEMS if any(r.error for r in self.results) else 0

    def all_warnings(self, limit: int | None = None) -> list[str]:
        """The run's warnings, then each student's (unknown question ids, lateness not
        assessed…), at most `limit` of them with a count of the rest."""
        found = list(self.warnings) + [f"{r.student}: {w}" for r in self.results for w in r.warnings]
        if limit is None or len(found) <= limit:
            return found
        return found[:limit] + [f"… and {len(found) - limit} more (see the results files)"]


def student_of(path: Path) -> str:
    """The id a submission is graded under: from its real name (a link named otherwise, or
    `.`, is graded as the folder it points to), as open_submission reads it."""
    return submission.student_id_from(path.resolve())


def outside_solutions(paths: Sequence[Path], course: Course) -> tuple[list[Path], list[str]]:
    """The submissions that are not the course's own reference solutions, and a warning for
    each that is: a link in the class folder to solutions/ (or a folder inside it) would be
    graded as a student and earn the reference's points."""
    root = course.solutions_root.resolve() if course.solutions_root else None
    if root is None:
        return list(paths), []
    kept, warnings = [], []
    for path in paths:
        real = path.resolve()
        if real == root or root in real.parents:
            warnings.append(f"{path}: not graded: it is {real}, inside the course's reference solutions "
                            f"({root}); a link to them is no submission")
        else:
            kept.append(path)
    return kept, warnings


def pick_submissions(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """One submission per student; when a student appears twice the newest file wins."""
    chosen: dict[str, Path] = {}
    warnings: list[str] = []
    for path in submission.discover(list(paths)):
        student = student_of(path)
        if student in chosen:
            # `grader submit` zips carry their UTC time in the name; it beats the file time
            older, newer = sorted([chosen[student], path],
                                  key=lambda p: (submission.packaged_time_from(p), p.stat().st_mtime))
            warnings.append(f"{student}: two submissions ({older.name}, {newer.name}); grading the newer")
            chosen[student] = newer
        else:
            chosen[student] = path
    return [chosen[s] for s in sorted(chosen)], warnings


def grade_paths(spec_paths: Sequence[Path], submission_paths: Sequence[Path], out: Path, jobs: int = 1,
                on_result: Callable[[StudentResult], None] | None = None,
                executor: executors.Executor | None = None, now: datetime | None = None,
                reports: bool = True, overrides: Path | None = None, deadline: str | None = None,
                late_penalty: dict[str, Any] | None = None, formats: Sequence[str] = (),
                allow_pending: bool = False, times: Path | None = None, extensions: Path | None = None,
                canvas_assignment: str | None = None, dask: str | None = None) -> GradeRun:
    """Grade every submission under `submission_paths` and write results under `out`.

    `executor` may be any concurrent.futures-shaped executor; by default `jobs` local
    processes; `dask` the address of a Dask scheduler (or `local[:N]`) whose workers grade
    (grader.grading.distributed; only this process writes under `out`). Results are the
    same whatever runs them: each is a pure function of the specs, the submission and
    `now`. The human decisions in `overrides` (by default `overrides.yaml` in the specs
    folder) are applied over the automatic grades.

    `out` is held for the run (grader.core.lock): a second run into it is refused. The
    gradebook, reports and exports list every result in `out/results`, this run's and
    earlier runs' (grading one late student into the class's folder keeps the class).

    Answers that await review are blank in grades.csv (with a warning). The exports in
    `formats` are not written while any await review (`run.refused` says why; the
    results, gradebook and reports are), unless `allow_pending`: then they are written
    with those cells blank, and a warning says how many.

    `times` is a CSV of upload times (`student,submitted_at`, grader.intake.times) that
    takes precedence over the manifests' self-reported times; `extensions` a CSV of
    per-student deadlines (grader.authoring.extensions). Both are read before any work
    (GraderError, exit 2, naming each bad row as file:line). `canvas_assignment` names
    the Canvas column of a `canvas` export (else the specs' `canvas:` key).
    """
    if dask is not None and (jobs != 1 or executor is not None):
        raise GraderError("--dask grades on the Dask cluster: leave out --jobs (the cluster's workers set how "
                          "many run at once)", EXIT_USAGE)
    course = load(spec_paths)
    preflight.ensure_course(course, "grade")
    from grader.grading import overrides as decisions

    decided = decisions.load(overrides or decisions.default_path(spec_paths))
    prints = decisions.fingerprints(course)
    for path in submission_paths:
        if not path.exists():
            raise GraderError(f"{path}: no such file or folder")
    _check_late_rule(deadline, late_penalty)
    trusted, extended = _read_time_files(times, extensions)
    column = _canvas_column(course, canvas_assignment)
    paths, warnings = pick_submissions(submission_paths)
    paths, refused = outside_solutions(paths, course)
    warnings += refused
    if not paths:
        raise GraderError("no submissions found in " + ", ".join(map(str, submission_paths)))
    students = [student_of(path) for path in paths]
    output.unique_file_names(students)  # GraderError before any work if two would share a file
    for table in (trusted, extended):
        if table is not None:
            warnings.extend(table.unknown(set(students)))
    if trusted is not None:
        warnings.extend(trusted.warnings)
    now = now or datetime.now(timezone.utc)
    with lock.hold(out) as held:
        earlier, notes = output.stored_results(out / "results")
        output.refuse_foreign_files(out, students, earlier)
        run = GradeRun([], warnings=warnings + notes)
        if held.taken_over:
            run.warnings.append(f"{out}: took over the lock of {held.taken_over}, which is no longer running")
        settings = _Settings(now, deadline, late_penalty, decided, prints, trusted, extended)
        if dask is not None:
            _grade_on_cluster(dask, course, spec_paths, paths, settings, _Keeper(run, out, on_result))
        else:
            _grade_here(jobs, executor, course, spec_paths, paths, settings, _Keeper(run, out, on_result))
        _refuse_shared_files(run)
        run.results.sort(key=lambda r: r.student)
        run.warnings.extend(decisions.warnings(decided, run.results))
        run.listed = _listed(run, earlier, course)
        run.written.append(write_gradebook(out, run.listed))
        run.written.append(output.write_course(out, course_title(course), course.digest))
        if reports:
            run.written.extend(write_reports(out, run.listed, course))
        _write_exports(run, out, course, formats, allow_pending, column)
    return run


@dataclass(frozen=True)
class _Keeper:
    """Where each result of a run goes as it arrives: the run, and the progress callback."""

    run: GradeRun
    out: Path
    on_result: Callable[[StudentResult], None] | None

    def keep(self, result: StudentResult, written: Path | None = None, text: str | None = None) -> None:
        """`result`, written at `written` already, else here (as `text` when given: the
        JSON a worker wrote, kept byte for byte)."""
        if written is None:
            written = output.write_atomic(output.result_path(self.out, result.student),
                                          text if text is not None else output.result_json(result))
        self.run.results.append(result)
        self.run.written.append(written)
        if self.on_result:
            self.on_result(result)


def _grade_here(jobs: int, executor: executors.Executor | None, course: Course, spec_paths: Sequence[Path],
                paths: list[Path], settings: _Settings, keeper: _Keeper) -> None:
    """Grade in this process, in `jobs` local worker processes, or with `executor`: the
    workers write the result files (they share this disk)."""
    _init_worker(tuple(spec_paths), course)
    work = [_Batch(tuple(b), settings, keeper.out) for b in _batches(paths, jobs)]
    with _executor(jobs, executor, tuple(spec_paths)) as pool:
        for done in pool.map(_grade_batch, work):
            if isinstance(done, executors.Lost):
                for path in done.item.paths:
                    keeper.keep(_grader_fault(student_of(path), course, done.reason))
                continue
            for result, written in done:
                keeper.keep(result, written)


def _grade_on_cluster(address: str, course: Course, spec_paths: Sequence[Path], paths: list[Path],
                      settings: _Settings, keeper: _Keeper) -> None:
    """Grade on the Dask cluster at `address`: each submission goes as bytes, each result
    comes back as JSON text and is written here; one that could not be sent, or whose
    workers all died, is a grader fault for that student."""
    from grader.grading import distributed
    from grader.intake import packed

    with distributed.cluster(address, distributed.pack_course(course, spec_paths), settings) as pool:
        def tasks() -> Iterator[distributed.Task]:
            for path in paths:
                shipped = packed.pack(path)
                if shipped.problem:
                    keeper.keep(_grader_fault(shipped.student, course, shipped.problem))
                else:
                    yield distributed.Task(shipped, pool.run)

        for done in pool.map(_grade_task, tasks()):
            if isinstance(done, executors.Lost):
                keeper.keep(_grader_fault(done.item.submission.student, course, done.reason))
            else:
                keeper.keep(StudentResult.from_dict(json.loads(done)), text=done)


def _write_exports(run: GradeRun, out: Path, course: Course, formats: Sequence[str], allow_pending: bool,
                   column: str | None) -> None:
    """The LMS exports of `grade --format`, held back while answers await review."""
    from grader.render import exports

    pending = exports.pending_reviews(run.listed)
    if pending:
        run.warnings.append(f"{pending.awaiting()} ({pending.examples()}): "
                            "their cells in grades.csv are blank until a human decides (grader review)")
    if formats and pending and not allow_pending:
        try:
            exports.refuse_pending(pending, ", ".join(formats))
        except exports.PendingReviews as refused:
            run.refused.append(str(refused))
        return
    for fmt in formats:
        run.written.extend(write_export(out, run.listed, course, fmt, allow_pending, column, run.warnings.append))
        if pending:
            run.warnings.append(exports.left_blank(pending, fmt))


def _refuse_shared_files(run: GradeRun) -> None:
    """The promise that each submission has a file of its own, checked where it is kept
    (the ids were checked before grading; this catches one graded under another id)."""
    owners: dict[Path, str] = {}
    for result, path in zip(run.results, run.written):
        if path in owners:
            raise GraderError(f"{path}: two submissions ({owners[path]!r}, {result.student!r}) were written to "
                              "this one file; rename one of them and grade again")
        owners[path] = result.student


def _listed(run: GradeRun, earlier: list[tuple[Path, StudentResult]], course: Course) -> list[StudentResult]:
    """Every result in the results folder: this run's, and earlier runs' of other students.
    A file under an older name for a student this run graded is superseded: it is removed
    (with a warning), so the folder holds what the gradebook lists."""
    graded = {r.student for r in run.results}
    written = set(run.written)
    others: list[tuple[Path, StudentResult]] = []
    for path, result in earlier:
        if path in written:
            continue
        if result.student in graded:
            try:
                path.unlink(missing_ok=True)
                run.warnings.append(f"{path}: an older file of {result.student!r}, superseded by this run's; removed")
            except OSError as error:
                run.warnings.append(f"{path}: an older file of {result.student!r}, superseded by this run's "
                                    f"and left out of the gradebook; it could not be removed ({error.strerror})")
        else:
            others.append((path, result))
    kept, notes = output.one_per_student(others)
    run.warnings.extend(notes)
    stale = sorted(r.student for _, r in kept if r.spec_digest and r.spec_digest != course.digest)
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        run.warnings.append(f"{len(stale)} result(s) from earlier runs were graded with other specs ({shown}); "
                            "grade them again to bring them up to date")
    return sorted([*run.results, *(r for _, r in kept)], key=lambda r: r.student)


def _check_late_rule(deadline: str | None, late_penalty: dict[str, Any] | None) -> None:
    from grader.authoring import lateness

    try:
        if deadline is not None:
            lateness.parse_time(deadline)
        if late_penalty is not None:
            lateness.load_policy(late_penalty)
    except ValueError as exc:
        raise GraderError(f"--deadline/--late-penalty: {exc}") from None


def _read_time_files(times: Path | None, extensions: Path | None) -> tuple[TrustedTimes | None, Extensions | None]:
    from grader.authoring.extensions import read_extensions
    from grader.intake.times import read_times

    return (read_times(times) if times else None), (read_extensions(extensions) if extensions else None)


def _canvas_column(course: Course, given: str | None) -> str | None:
    """The Canvas assignment column: `given` (checked), else the specs' `canvas:` key."""
    from grader.render import exports

    return exports.checked_assignment(given, "--canvas-assignment") if given else course.canvas_assignment


def _batches(paths: list[Path], jobs: int) -> list[list[Path]]:
    """Small batches: few enough to keep workers busy, many enough for a live progress bar."""
    size = max(1, min(32, len(paths) // (jobs * 8) or 1))
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def _executor(jobs: int, given: executors.Executor | None, spec_paths: tuple[Path, ...]) -> Any:
    if given is not None:
        import contextlib

        return contextlib.nullcontext(given)
    return executors.local(jobs, _init_worker, (spec_paths,))


def write_gradebook(out: Path, results: Sequence[StudentResult]) -> Path:
    """grades.csv: the grader's gradebook, an answer awaiting review left blank (not 0)."""
    path = out / "grades.csv"
    output.write_atomic(path, output.gradebook_csv(results, blank_pending=True))
    return path


def course_title(course: Course) -> str:
    return ", ".join(e.title for e in course.exercises[:3]) + ("…" if len(course.exercises) > 3 else "")


def write_reports(out: Path, results: Sequence[StudentResult], course: Course) -> list[Path]:
    from grader.render import html

    return html.write_reports(results, out / "reports", course_title(course))


def write_export(out: Path, results: Sequence[StudentResult], course: Course, fmt: str,
                 allow_pending: bool = False, canvas_assignment: str | None = None,
                 warn: Callable[[str], None] | None = None) -> list[Path]:
    """An LMS export (csv, gradescope, canvas, moodle) beside the results, as `grader export`
    writes it, titled as the reports are."""
    from grader.render import exports

    return exports.export(results, fmt, exports.default_target(out, fmt), course_title(course), allow_pending,
                          exports.autograder_tests(course),
                          canvas_assignment=canvas_assignment or course.canvas_assignment, warn=warn)


def late_policy(text: str | None) -> dict[str, Any] | None:
    """`--late-penalty` text as a late_penalty mapping; GraderError (exit 2) when it is not one."""
    if text is None:
        return None
    from grader.authoring import lateness

    try:
        return lateness.policy_from_text(text)
    except ValueError as exc:
        raise GraderError(f"--late-penalty: {exc}") from None


# --- the other commands -----------------------------------------------------------------


def review(spec_paths: Sequence[Path], out_dir: Path, ask: Callable[[str], str], say: Callable[[str], None],
           by: str, overrides: Path | None = None, again: bool = False) -> Summary:
    """`grader review`: walk the answers marked review in out_dir/results (see grader.grading.review)."""
    from grader.grading import review as reviewing

    return reviewing.review(spec_paths, out_dir, ask=ask, say=say, by=by, overrides_path=overrides, again=again)


def decide(spec_paths: Sequence[Path], out_dir: Path, student: str, question: str, score: str, comment: str,
           by: str, overrides: Path | None = None, rubric: Sequence[str] | None = None) -> Decided:
    """`grader review --student ID --question QID --score N [--rubric ITEM …]`: one decision on
    any graded answer; `rubric` names the items of its rubric judged present."""
    from grader.grading import review as reviewing

    return reviewing.decide(spec_paths, out_dir, student, question, score, comment, by, overrides_path=overrides,
                            rubric=rubric)


def review_page(spec_paths: Sequence[Path], out_dir: Path, by: str, overrides: Path | None = None,
                port: int = 0) -> ReviewServer:
    """`grader review --serve`: the review page's server, bound to 127.0.0.1 and not yet
    serving (call `serve_forever`; `url` holds the address with its token)."""
    from grader.grading import page

    return page.server(page.Board.load(spec_paths, out_dir, by, overrides), port)


def export(out_dir: Path, fmt: str, to: Path | None = None, title: str = "",
           allow_pending: bool = False, canvas_assignment: str | None = None, roster: Path | None = None,
           warn: Callable[[str], None] | None = None) -> Exported:
    """`grader export`: the results that `grade` wrote under out_dir, for an LMS, titled as
    `grade` titled them unless `title` is given. Refused (PendingReviews, exit 2) while
    answers await review, unless `allow_pending` (see grader.render.exports). For canvas:
    `canvas_assignment` (`Name (ID)`) names the column, `roster` (a Canvas gradebook
    export) fills the student columns, `warn` hears rows Canvas would not match."""
    from grader.render import exports

    return exports.export_results(out_dir, fmt, to, title, allow_pending, canvas_assignment, roster, warn)


@dataclass(frozen=True)
class Released:
    files: list[Path]
    bundles: int
    """How many bundles: one per student named, else one for everyone."""
    note: str | None = None
    """For one bundle for everyone when params are drawn per student: what it marks, and how
    to give each student their own values (grader.student.release.class_bundle_note)."""


def release(spec_paths: Sequence[Path], to: Path, students: Sequence[str] = (), roster: Path | None = None,
            with_notebook: bool = False) -> Released:
    """`grader release`: the student bundle, one per student named (directly or in a roster)."""
    from grader.student import release as releasing

    ids = list(students) + (releasing.read_roster(roster) if roster else [])
    course = load(spec_paths)
    preflight.ensure_course(course, "release")  # visible checks run the references
    files = releasing.release(course, to, ids or None, with_notebook=with_notebook)
    return Released(files, len(ids) or 1, None if ids else releasing.class_bundle_note(course))


def check(specs: Path, submission_path: Path) -> CheckReport:
    """`grader check`: the student's self-check against a released bundle (grader.student.check)."""
    from grader.student import check as checking

    return checking.run_check(specs, submission_path)


def submit(folder: Path, to: Path, specs: Path | None = None, student: str | None = None,
           force: bool = False) -> Packaged:
    """`grader submit`: check and package a submission (grader.student.submit)."""
    from grader.student import submit as packaging

    return packaging.submit(folder, to, specs, student, force)


# --- Gradescope -------------------------------------------------------------------------


def gradescope(spec_paths: Sequence[Path], to: Path, wheels: Path | None = None, student_id: str = "email-name",
               deadline: str = "spec", late_penalty: dict[str, Any] | None = None) -> Built:
    """`grader gradescope`: the autograder zip for these specs (grader.gradescope.bundle).
    The specs must load and this Python must have what they need; proving them is
    `validate`'s (it can take minutes, and the instructor has run it already)."""
    from grader.gradescope import bundle

    course = load(spec_paths)
    preflight.ensure_course(course, "grade")
    config = bundle.Config(student_id=student_id, deadline=deadline, late_penalty=late_penalty)
    return bundle.build(course, spec_paths, to, config, wheels)


def autograde(root: Path | None = None, source: Path | None = None) -> Path:
    """`grader autograde`, which the zip's run_autograder runs in Gradescope's container: grade
    `root`/submission (root: $AUTOGRADER_ROOT, else /autograder) with the specs in `source`
    (root/source) and write root/results/results.json. Gradescope's submission_metadata.json
    gives the student id and the trusted submission time (and its due date where the settings
    say). Never raises: a fault of the grader writes a results.json that says so."""
    import json
    import time

    from grader.core.output import write_atomic
    from grader.intake import gradescope as gs

    started = time.monotonic()
    root = gs.root_folder(root)
    target = root / "results" / "results.json"
    try:
        data = _autograded(root, source or root / "source", started)
    except Exception as exc:  # the one place a fault becomes a page the student can read
        data = _autograder_fault(exc, time.monotonic() - started)
    write_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return target


def _autograded(root: Path, source: Path, started: float) -> dict[str, Any]:
    import time

    from grader.gradescope import bundle
    from grader.intake import gradescope as gs
    from grader.render import exports

    config = bundle.read_config(source)
    course = load([source / config.specs])
    preflight.ensure_course(course, "grade")
    meta = gs.read_metadata(root, config.student_id)
    use_due_date = config.deadline == "gradescope" or not any(e.deadline for e in course.exercises)
    deadline = meta.due_date if use_due_date else None
    path = gs.find_submission(root / "submission")
    # without Gradescope's user (a trial run), the name of the one folder or zip handed in
    student = meta.student or (student_of(path) if path != root / "submission" else "student")
    result = grade_path(path, course, deadline=deadline, late_penalty=config.late_penalty, student=student,
                        submitted_at=meta.submitted_at)
    result = replace(result, warnings=(*result.warnings, *meta.notes))
    return exports.gradescope_results(result, exports.autograder_tests(course), time.monotonic() - started)


def _autograder_fault(exc: Exception, elapsed: float) -> dict[str, Any]:
    """results.json for a run that could not grade: score 0 and what went wrong, in words a
    student can pass on (no grader paths), as plain text (nothing here is rendered)."""
    message = text.valid_unicode(text.without_paths(str(exc)))[:1000]
    kind = "" if isinstance(exc, GraderError) else f"{type(exc).__name__}: "
    return {"score": 0, "execution_time": max(0, round(elapsed)), "output_format": "text",
            "output": "The autograder could not grade this submission, so it got no score yet. Please tell "
                      f"the course staff.\n\n{kind}{message}",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
