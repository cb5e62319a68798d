"""The one seam for parallel grading: anything shaped like concurrent.futures.Executor.

`grader grade --jobs N` uses local processes; a distributed engine (a Dask or Ray client
exposes the same `submit`/`map` shape) can be passed to `api.grade_paths` instead,
without touching the checkers.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map(self, fn: Callable[..., R], *iterables: Iterable[Any], chunksize: int = 1) -> Iterator[R]: ...

    def shutdown(self, wait: bool = True) -> None: ...


class SerialExecutor:
    """Runs in this process, in order: the reference that parallel runs must equal."""

    def map(self, fn: Callable[..., R], *iterables: Iterable[Any], chunksize: int = 1) -> Iterator[R]:
        return map(fn, *iterables)

    def shutdown(self, wait: bool = True) -> None:
        return None


@contextlib.contextmanager
def local(jobs: int, initializer: Callable[..., None] | None = None,
          initargs: tuple[Any, ...] = ()) -> Iterator[Executor]:
    """A serial executor for one job, else a pool of `jobs` worker processes."""
    if jobs <= 1:
        if initializer:
            initializer(*initargs)
        yield SerialExecutor()
        return
    import multiprocessing

    # spawn, not fork: workers must not inherit threads (torch) or open files of the parent.
    context = multiprocessing.get_context("spawn")
    pool = futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                       initializer=initializer, initargs=initargs)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
