"""One budget of time and memory for all the work one answer causes in this process.

A formula a student typed can make a CAS work for minutes (`diff(w^w^w^w^w, w, 6)`), and
some of that work has to happen in the grader's own process: building the parsed tree,
carrying out derivatives, printing it for the report. Limits per step do not add up to a
limit per answer (ten steps of 2 s are 20 s), so the engine opens one `Budget` per
question and every step draws on it:

- in-process work runs under a watchdog: an interval timer whose handler raises
  `OverBudget` in the main thread when the time is spent or the process has grown by more
  than the budget's memory. sympy is pure Python, so it is interrupted between two
  bytecodes; one C-level step is never long because the parser bounds sizes first;
- work in child processes (the CAS, form tests) gets what is left: `left()` seconds and
  `child_memory()` bytes of address space;
- a step may try something under a smaller budget inside the current one (`attempt`) and
  fall back to a cheaper way when that runs out.

`OverBudget` derives from BaseException so that library code's `except Exception` cannot
swallow it; whoever opened the budget catches it and turns it into a verdict. In a thread
other than the main one (a Dask worker grades in one) a watcher thread does the same looks
and raises OverBudget in the thread through PyThreadState_SetAsyncExc, which also lands
between two bytecodes. Without SIGALRM in the main thread (Windows) only the cooperative
`check()` calls and the child processes' own limits apply.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterator, TypeVar

try:
    # CPython's C module under `signal`: the same calls without translating handlers into
    # enums, which costs an exception and about 5 µs per call when the handler is a function
    import _signal as _signals
except ImportError:  # pragma: no cover - other interpreters
    _signals = signal

T = TypeVar("T")

TICK = 0.05
"""Seconds between two looks of the watchdog: how far past its end a budget may run."""
DEFAULT_MEMORY = 1024**3
"""Bytes the process may grow by while one answer is checked."""
REPEAT = 0.5
"""Seconds before a spent budget is raised again, in case something swallowed it."""
TOO_COSTLY = "This answer was too costly to check automatically; a teacher will look at it."


class OverBudget(BaseException):
    """The budget of the answer being checked is spent (time or memory)."""

    def __init__(self, budget: Budget, why: str) -> None:
        super().__init__(why)
        self.budget = budget
        self.why = why

    @property
    def message(self) -> str:
        """What the student and the instructor read."""
        return f"{self.budget.message} ({self.why})"


@dataclass
class Budget:
    """Seconds and bytes that the work for one answer may take, counted from its creation."""

    seconds: float
    memory: int = DEFAULT_MEMORY
    message: str = TOO_COSTLY
    """Said to the student when the budget runs out."""
    deadline: float = field(init=False)
    base_memory: int | None = field(init=False, default=None)
    """Measured at the first look that asks, not at creation: reading it costs a system call
    or three, most budgets end before the watchdog's first look, and what is allocated before
    that look (TICK seconds of work) is small."""
    last_raised: float = field(init=False, default=0.0)
    known: dict[Hashable, Any] = field(init=False, default_factory=dict)
    """What the steps for this answer found out and should not pay for twice: the answer is
    compared with the reference and with each known mistake, and the same costly step
    (carrying out a derivative) would be tried every time."""

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def left(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.deadline - time.monotonic())

    def cap(self, seconds: float) -> float:
        """`seconds`, or what is left of the budget if that is less."""
        return min(seconds, self.left())

    def spent(self) -> str | None:
        """Why the budget is spent, or None while it is not."""
        if time.monotonic() >= self.deadline:
            return f"more than {self.seconds:g} s"
        now = resident_memory()
        if self.base_memory is None:
            self.base_memory = now
        if now - self.base_memory > self.memory:
            return f"more than {self.memory // 2**20} MiB"
        return None

    def check(self) -> None:
        """Raise OverBudget when spent: for loops that want to stop between their steps."""
        why = self.spent()
        if why is not None:
            self.last_raised = time.monotonic()
            raise OverBudget(self, why)

    def child_memory(self) -> int:
        """Address space for a child process forked now: what it inherits plus the budget."""
        return virtual_memory() + self.memory


# ----------------------------------------------------------------------------- measuring

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _statm(field_index: int) -> int | None:
    """A field of /proc/self/statm in bytes (read with os.read: a few µs, as the watchdog
    reads it at every look), or None off Linux."""
    try:
        handle = os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        return None
    try:
        return int(os.read(handle, 200).split()[field_index]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None
    finally:
        os.close(handle)


def resident_memory() -> int:
    """Bytes of this process in memory now (the peak where the platform says no more)."""
    current = _statm(1)
    if current is not None:
        return current
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if os.uname().sysname == "Darwin" else peak * 1024


def virtual_memory() -> int:
    """Bytes of address space this process holds (what a forked child starts with)."""
    size = _statm(0)
    return size if size is not None else resident_memory()


# ----------------------------------------------------------------------------- the watchdog

_open: ContextVar[tuple[Budget, ...]] = ContextVar("grader_budgets", default=())
_watching = False
_SHIELDED: set[str] = {__file__, contextlib.__file__}
"""Source files whose frames the watchdog never interrupts (bookkeeping that must finish)."""


def shield_module(path: str) -> None:
    """Never interrupt code of the module at `path`: it bounds its own waiting (it hands
    children the time left) and must always finish its clean-up (killing a child)."""
    _SHIELDED.add(path)


def current() -> Budget | None:
    """The innermost open budget, if any."""
    budgets = _open.get()
    return budgets[-1] if budgets else None


def _tick(signum: int, frame: object) -> None:
    """The watchdog's look: raise the outermost spent budget (an inner one is spent with it)."""
    if frame is not None and getattr(getattr(frame, "f_code", None), "co_filename", "") in _SHIELDED:
        return
    now = time.monotonic()
    for budget in _open.get():
        if budget.spent() is not None:
            if now - budget.last_raised < REPEAT:
                return  # raised a moment ago and being unwound: let it finish
            budget.check()


def _can_watch() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


_Watch = tuple[float, object, tuple[float, float]]


def _start_watchdog() -> _Watch | None:
    """Start the interval timer, once however deeply budgets nest: (when, the previous
    handler, the previous timer) to put back, or None when it runs already or cannot run."""
    global _watching
    if _watching or not _can_watch():
        return None
    previous_handler = _signals.signal(signal.SIGALRM, _tick)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, TICK, TICK)
    _watching = True
    return time.monotonic(), previous_handler, previous_timer


def _stop_watchdog(watch: _Watch | None) -> None:
    """Stop the timer and put back the handler and timer found (a test runner's, say)."""
    global _watching
    if watch is None:
        return
    started, previous_handler, previous_timer = watch
    signal.setitimer(signal.ITIMER_REAL, 0)
    _watching = False
    # None: a handler set from C, which Python cannot put back; the default is the nearest
    _signals.signal(signal.SIGALRM, signal.SIG_DFL if previous_handler is None else previous_handler)
    value, interval = previous_timer
    if value > 0:
        signal.setitimer(signal.ITIMER_REAL, max(value - (time.monotonic() - started), 1e-3), interval)


# --- the watchdog for other threads (a Dask worker grades in a thread of its own)

_threads: dict[int, tuple[Budget, ...]] = {}
"""Thread ident -> the budgets open in that thread, for threads other than the main one."""
_threads_lock = threading.Lock()
_watcher_pid = 0


class _Interrupted(OverBudget):
    """What the watcher raises in a thread whose budget is spent (PyThreadState_SetAsyncExc
    takes a class): made in that thread, it finds its budget there."""

    def __init__(self) -> None:
        budgets = _threads.get(threading.get_ident(), ())
        spent = [(b, why) for b in budgets if (why := b.spent()) is not None]
        budget, why = spent[0] if spent else (budgets[0] if budgets else Budget(0.0), "time")
        super().__init__(budget, why)


def _raise_in(ident: int, exception: type[BaseException] | None) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                               ctypes.py_object(exception) if exception else ctypes.c_void_p(None))


def _watch_threads() -> None:
    """Every TICK: raise in each thread whose outermost spent budget was not raised a moment
    ago, unless it runs shielded code. Like a signal handler, it lands between two bytecodes."""
    while True:
        time.sleep(TICK)
        with _threads_lock:
            if not _threads:
                continue
            frames = sys._current_frames()
            now = time.monotonic()
            for ident, budgets in _threads.items():
                frame = frames.get(ident)
                if frame is None or frame.f_code.co_filename in _SHIELDED:
                    continue
                spent = next((b for b in budgets if b.spent() is not None), None)
                if spent is not None and now - spent.last_raised >= REPEAT:
                    spent.last_raised = now
                    _raise_in(ident, _Interrupted)


def _enter_thread(budgets: tuple[Budget, ...]) -> None:
    global _watcher_pid
    with _threads_lock:
        _threads[threading.get_ident()] = budgets
        if _watcher_pid != os.getpid():  # first use here, or a forked child (threads do not survive a fork)
            _watcher_pid = os.getpid()
            threading.Thread(target=_watch_threads, name="grader-budget-watcher", daemon=True).start()


def _leave_thread(budgets: tuple[Budget, ...]) -> None:
    ident = threading.get_ident()
    with _threads_lock:
        if budgets:
            _threads[ident] = budgets
            return
        _raise_in(ident, None)  # nothing raised after the last budget closed: clear what is pending
        _threads.pop(ident, None)


class enforced:  # noqa: N801 - a context manager used as a function: `with enforced(budget):`
    """Run the body under `budget` (and under every budget already open around it).

    A class rather than a generator: it is entered for every comparison made on its own,
    and this way costs a few µs less each time."""

    __slots__ = ("budget", "_token", "_watch", "_thread")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def __enter__(self) -> Budget:
        self._thread = not _can_watch() and threading.current_thread() is not threading.main_thread()
        self._watch = None if self._thread else _start_watchdog()
        self._token = _open.set((*_open.get(), self.budget))
        if self._thread:
            _enter_thread(_open.get())
        if self.budget.left() <= 0:
            self.__exit__()
            self.budget.check()
        return self.budget

    def __exit__(self, *exc_info: object) -> None:
        _open.reset(self._token)
        if self._thread:
            _leave_thread(_open.get())
        _stop_watchdog(self._watch)


@contextlib.contextmanager
def enforced_if(budget: Budget | None) -> Iterator[Budget | None]:
    """`enforced(budget)`, or nothing for work that has no budget (a kind without one)."""
    if budget is None:
        yield None
        return
    with enforced(budget):
        yield budget


def bounded(seconds: float, work: Callable[[], T], over: Callable[[OverBudget], T]) -> T:
    """work() under the open budget, or, when none is open (a direct call, a test), under
    a budget of its own of `seconds`, whose overrun `over` turns into a result. Within an
    open budget an overrun goes on up to whoever opened it."""
    if current() is not None:
        return work()
    own = Budget(seconds)
    try:
        with enforced(own):
            return work()
    except OverBudget as exc:
        if exc.budget is not own:
            raise
        return over(exc)


def attempt(seconds: float, work: Callable[[], T]) -> T | None:
    """work() under a budget of `seconds` inside the open ones; None when that runs out
    (the caller has a cheaper way). An outer budget running out is raised as usual."""
    outer = current()
    inner = Budget(outer.cap(seconds) if outer else seconds, outer.memory if outer else DEFAULT_MEMORY)
    try:
        with enforced(inner):
            return work()
    except OverBudget as exc:
        if exc.budget is not inner:
            raise
        return None


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), once per open budget for each key (every time where none is open)."""
    budget = current()
    if budget is None:
        return compute()
    if key not in budget.known:
        budget.known[key] = compute()
    return budget.known[key]


def remaining(seconds: float) -> float:
    """`seconds`, capped by what is left of the open budget."""
    budget = current()
    return budget.cap(seconds) if budget else seconds


def child_memory(default: int) -> int:
    """Address space for a child forked now: the open budget's, else `default`."""
    budget = current()
    return budget.child_memory() if budget else virtual_memory() + default
