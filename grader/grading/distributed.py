"""`grader grade --dask ADDRESS`: grading on a Dask cluster, behind the executor seam.

Nothing is shared but the network. The client packs the course (the spec files and the
solutions folder, grader.authoring) and the run's settings into a worker plugin, which
every worker, also one that joins or restarts later, sets up once: it writes the course
into a private folder of its own and loads it there (the sandbox zygote then starts on
the worker's first code question and serves the rest, as in a pool worker). Each
submission travels as bytes (grader.intake.packed) in a task of its own, keyed by the
submission, and comes back as its result's JSON text; the client alone writes results/
and the reports. Student code still runs only in the worker's sandbox, which cannot read
the worker's copy of the course (it reads only the libraries' folders).

A task whose worker dies is given to another worker by the scheduler; after the
scheduler's `distributed.scheduler.allowed-failures` deaths (3 by default) it gives up
with KilledWorker, and that submission becomes an `executor.Lost` (a grader fault for
that student; the run goes on). The client keeps the first result of each task.

In a worker grading runs in a worker thread, where SIGALRM cannot reach it: the budget's
watcher thread (grader.core.budget) interrupts a formula's in-process work there instead.

`local[:N]` starts a `distributed.LocalCluster` here: N worker processes of one thread
each (default: this machine's cores).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from grader.authoring import solutions, spec
from grader.core.errors import EXIT_USAGE, GraderError
from grader.core.model import Course
from grader.core.version import __version__
from grader.grading import preflight
from grader.grading.executor import Lost
from grader.intake.packed import Packed

R = TypeVar("R")

CONNECT_TIMEOUT_S = 10.0
"""How long to try reaching the scheduler, and to wait for its first worker."""
NO_WORKERS_S = 60.0
"""How long the run waits while the scheduler has no worker at all before it stops."""
POLL_S = 1.0
LOCAL = re.compile(r"local(?::(?P<n>[0-9]{1,4}))?")
INSTALL = "pip install 'grader[dask]'"
COURSE_PREFIX = "grader-course-"


@dataclass(frozen=True)
class CoursePack:
    """The course as bytes: the spec files and the solutions folder, by their names in a copy."""

    files: tuple[tuple[str, bytes], ...]
    roots: tuple[str, ...]
    """What the course is loaded from, in the order given (one spec file or folder each)."""


@dataclass(frozen=True)
class Task:
    """One submission's work on the cluster."""

    submission: Packed
    run: str
    """The run's plugin name: where the worker finds the course and the settings."""

    @property
    def key(self) -> str:
        """The task's name on the cluster: the run and the student (ids are unique in a run;
        names are not: two links may share one)."""
        return f"{self.run}-{self.submission.student}"


def pack_course(course: Course, spec_paths: Iterable[Path]) -> CoursePack:
    """The course's files as bytes: each spec path given under specs/<its number>/ (so the
    copy loads them in the same order, with the same names and digest), and the solutions
    folder as solutions/, where the copied specs find it."""
    files: list[tuple[str, bytes]] = []
    roots: list[str] = []
    for number, given in enumerate(spec_paths):
        entries = spec.spec_entries(given)
        files.extend((f"specs/{number}/{name}", file.read_bytes()) for name, file in entries)
        roots.append(f"specs/{number}" if given.is_dir() else f"specs/{number}/{entries[0][0]}")
    if course.solutions_root is not None:
        files.extend((f"solutions/{name}", file.read_bytes())
                     for name, file in solutions.source_files(course.solutions_root))
    return CoursePack(tuple(files), tuple(roots))


def unpack_course(pack: CoursePack, folder: Path) -> list[Path]:
    """Write the pack into `folder`; the paths to load the course from."""
    for name, data in pack.files:
        path = folder.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return [folder.joinpath(*root.split("/")) for root in pack.roots]


def parse_address(address: str) -> tuple[str | None, int]:
    """(scheduler address, 0), or (None, workers) for `local[:N]`. GraderError (exit 2)
    for `local:` with anything but a number of workers from 1."""
    match = LOCAL.fullmatch(address)
    if match:
        workers = int(match["n"]) if match["n"] else len(os.sched_getaffinity(0))
        if workers < 1:
            raise GraderError("--dask local:N needs at least one worker", EXIT_USAGE)
        return None, workers
    if address.startswith("local:"):
        raise GraderError(f"--dask {address!r}: write local, or local:N with N workers (local:4)", EXIT_USAGE)
    return address, 0


def _require() -> Any:
    """The `distributed` package, or GraderError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise GraderError(f"--dask needs dask and distributed, which are not installed: {INSTALL}",
                          EXIT_USAGE) from None
    return distributed


def _plugin_base() -> type:
    """distributed's WorkerPlugin (it registers only its subclasses), or `object` where dask
    is not installed: this module still imports, and `cluster` says what to install."""
    try:
        from distributed.diagnostics.plugin import WorkerPlugin
    except ImportError:
        return object
    return WorkerPlugin


class RunPlugin(_plugin_base()):  # type: ignore[misc]
    """The run on each worker: the course loaded from its pack, and the settings. Set up
    once per worker, when registered and on every worker that joins afterwards."""

    idempotent = False

    def __init__(self, pack: CoursePack, settings: Any) -> None:
        self.pack = pack
        self.settings = settings
        self.version = __version__
        self.course: Course | None = None
        self.problem = "the worker has not set up the course"
        self.folder: Path | None = None

    def setup(self, worker: Any) -> None:
        """Load the course into a private folder of this worker (removed at teardown; a
        worker that was killed leaves its folder, removed by the next one that starts)."""
        try:
            if self.version != __version__:
                raise GraderError(f"this worker has grader {__version__}, the client {self.version}: install "
                                  "the same version on every worker")
            _sweep_stale()
            self.folder = Path(tempfile.mkdtemp(prefix=f"{COURSE_PREFIX}{os.getpid()}-"))
            self.course = spec.load_course(unpack_course(self.pack, self.folder))
            preflight.ensure_course(self.course, "grade")
            self.problem = ""
        except Exception as exc:
            self.problem = f"worker {getattr(worker, 'address', '?')}: {exc}"
            raise

    def teardown(self, worker: Any) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _sweep_stale() -> None:
    """Course copies of workers on this machine that died without tearing down."""
    for entry in Path(tempfile.gettempdir()).glob(f"{COURSE_PREFIX}*-*"):
        owner = entry.name[len(COURSE_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(entry, ignore_errors=True)


def run_state(run: str) -> tuple[Course, Any]:
    """On a worker: the course and the settings of the run named `run`."""
    from distributed import get_worker

    plugin = get_worker().plugins.get(run)
    if not isinstance(plugin, RunPlugin):
        raise GraderError("this worker has no course for the run (it was not set up)")
    if plugin.course is None:
        raise GraderError(plugin.problem)
    return plugin.course, plugin.settings


class DaskExecutor:
    """The executor seam on a Dask cluster: one task per item, a window of them on the
    cluster at a time (the rest are read when their turn comes), each result yielded as it
    arrives; Lost for an item whose task could not finish."""

    def __init__(self, client: Any, run: str) -> None:
        self.client = client
        self.run = run
        self.window = max(16, 4 * sum(client.nthreads().values()))

    def map(self, fn: Callable[..., R], *iterables: Iterable[Any], chunksize: int = 1) -> Iterator[R | Lost]:
        items = iter(zip(*iterables))
        pending: dict[str, tuple[Any, tuple[Any, ...]]] = {}

        def submit_next() -> None:
            args = next(items, None)
            if args is not None:
                key = getattr(args[0], "key", None) or f"{self.run}-{uuid.uuid4().hex}"
                pending[key] = (self.client.submit(fn, *args, key=key, pure=False), args)

        for _ in range(self.window):
            submit_next()
        while pending:
            for key in self._finished(pending):
                future, args = pending.pop(key)
                yield self._outcome(future, args)
                submit_next()

    def _finished(self, pending: dict[str, tuple[Any, tuple[Any, ...]]]) -> list[str]:
        """Keys of the tasks that have finished, waiting for at least one; GraderError when
        the cluster has had no worker for NO_WORKERS_S."""
        from distributed import wait

        alone_since: float | None = None
        while True:
            try:
                with self.client.as_current():
                    done, _ = wait([future for future, _ in pending.values()], timeout=POLL_S,
                                   return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            if done:
                return [key for key, (future, _) in pending.items() if future in done]
            if self.client.nthreads():
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > NO_WORKERS_S:
                raise GraderError(f"the Dask scheduler has had no worker for {NO_WORKERS_S:g} s; "
                                  f"{len(pending)} submission(s) were not graded")

    def _outcome(self, future: Any, args: tuple[Any, ...]) -> R | Lost:
        from distributed import KilledWorker

        item = args[0] if len(args) == 1 else args
        try:
            return future.result()
        except KilledWorker:
            return Lost(item, "every Dask worker that took it died while grading it; grade it alone "
                              "(--jobs 1) to see why")
        except CancelledError:
            raise GraderError("the Dask scheduler dropped the run's work (was it stopped or restarted?)",
                              EXIT_USAGE) from None
        except Exception as exc:  # a fault on the worker: this item's, the run goes on
            return Lost(item, f"{type(exc).__name__}: {_reason(exc)}")
        finally:
            future.release()

    def shutdown(self, wait: bool = True) -> None:
        """Nothing: `cluster` closes the client (and a local cluster) when the run ends."""
        return None


@contextlib.contextmanager
def cluster(address: str, pack: CoursePack, settings: Any) -> Iterator[DaskExecutor]:
    """An executor on the Dask cluster at `address` (or `local[:N]`), with the course and
    `settings` set up on every worker; the plugin is removed and the client (and a local
    cluster) closed afterwards."""
    scheduler, workers = parse_address(address)
    _require()
    with _quiet(), _client(address, scheduler, workers) as client:
        run = f"grader-{uuid.uuid4().hex[:12]}"
        try:
            client.register_plugin(RunPlugin(pack, settings), name=run)
        except Exception as exc:
            raise GraderError(f"--dask {address}: the workers cannot grade: {_reason(exc)} (each worker needs "
                              f"grader {__version__} installed, with what the specs need: {INSTALL})",
                              EXIT_USAGE) from None
        try:
            yield DaskExecutor(client, run)
        finally:
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(run)


@contextlib.contextmanager
def _client(address: str, scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the scheduler at `scheduler`, or of a local cluster of `workers`
    processes; GraderError (exit 2) when it cannot be reached or has no worker in time."""
    import distributed

    with contextlib.ExitStack() as stack:
        try:
            if scheduler is None:
                local = stack.enter_context(distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR, memory_limit=0))
                client = stack.enter_context(distributed.Client(local, set_as_default=False))
            else:
                client = stack.enter_context(distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S,
                                                                set_as_default=False))
        except (OSError, TimeoutError, ValueError) as exc:
            raise GraderError(f"--dask {address}: cannot reach a Dask scheduler there "
                              f"({_reason(exc)})", EXIT_USAGE) from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise GraderError(f"--dask {address}: the scheduler has no worker (none joined within "
                              f"{CONNECT_TIMEOUT_S:g} s); start one with: dask worker {address}",
                              EXIT_USAGE) from None
        yield client


def _reason(exc: BaseException) -> str:
    """An exception in one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "…"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """distributed's own log lines (a worker that died, a connection retried) are for the
    cluster's logs: the client's terminal shows the progress bar and grader's words."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
