"""The one seam for parallel grading: anything shaped like concurrent.futures.Executor.

`grader grade --jobs N` uses local processes; `--dask ADDRESS` a Dask cluster
(grader.grading.distributed); any executor with the same `map` shape can be passed to
`api.grade_paths` instead, without touching the checkers. An engine that can lose an
item's work (a cluster whose workers die) yields `Lost` for it in place of its result.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Lost:
    """An item whose work an engine gave up on (every worker that took it died): the
    caller turns it into that item's fault, and the run goes on."""

    item: Any
    reason: str


class Executor(Protocol):
    def map(self, fn: Callable[..., R], *iterables: Iterable[Any], chunksize: int = 1) -> Iterator[R | Lost]: ...

    def shutdown(self, wait: bool = True) -> None: ...


class SerialExecutor:
    """Runs in this process, in order: the reference that parallel runs must equal."""

    def map(self, fn: Callable[..., R], *iterables: Iterable[Any], chunksize: int = 1) -> Iterator[R]:
        return map(fn, *iterables)

    def shutdown(self, wait: bool = True) -> None:
        return None


def _pool_context() -> Any:
    """fork while this process has one thread: workers then start at once, with the specs,
    solutions and libraries already loaded. Once a thread exists (a sandbox client, a
    torch pool) a forked child can deadlock on a lock that thread held, so spawn instead.
    Workers only grade; student code never runs in them (it runs in the sandbox)."""
    import multiprocessing
    import threading

    method = "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


@contextlib.contextmanager
def local(jobs: int, initializer: Callable[..., None] | None = None,
          initargs: tuple[Any, ...] = ()) -> Iterator[Executor]:
    """A serial executor for one job, else a pool of `jobs` worker processes."""
    if jobs <= 1:
        if initializer:
            initializer(*initargs)
        yield SerialExecutor()
        return
    context = _pool_context()
    pool = futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                       initializer=_worker_start, initargs=(initializer, initargs))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """A worker dies with the grader that started it (`kill -9` of `grader grade` included),
    and its zygote and jobs die with it in turn: nothing a run started outlives it."""
    import os
    import signal

    from grader.sandbox import isolation

    isolation.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() == 1:  # the grader died before the signal was armed
        os._exit(1)
    if initializer:
        initializer(*initargs)
