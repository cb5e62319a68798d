"""Run a CAS computation with a hard time limit, in a forked child that is killed on time.

sympy is pure Python: a `simplify` that runs away cannot be interrupted from a thread. A
forked child inherits the expressions without any serialisation, computes, writes one
short JSON value to a pipe and exits; the parent waits at most `seconds` and then kills
it. The child also gets memory and CPU limits. Nothing the child sends back is unpickled.

Inside an answer's budget (grader.core.budget) the child gets what is left of it: no more
seconds than remain, and the inherited address space plus the budget's memory. This
module's own frames are shielded from the budget's watchdog: its waiting is already
bounded by the time it hands the child, and killing and reaping the child must finish.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from typing import Any, Callable

from grader.core import budget

MEMORY_LIMIT = 2 * 1024**3
"""Address space a child may add to what it inherits, outside any answer's budget."""

budget.shield_module(__file__)


class TimedOut(Exception):
    """The computation did not finish in time (or the platform cannot fork)."""


def run_limited(fn: Callable[[], Any], seconds: float) -> Any:
    """fn() computed in a child process; its JSON-serialisable result, or TimedOut.
    `seconds` is capped by what is left of the open budget."""
    seconds = budget.remaining(seconds)
    memory = budget.child_memory(MEMORY_LIMIT)
    if not hasattr(os, "fork") or seconds <= 0:
        raise TimedOut("no time left" if seconds <= 0 else "cannot fork on this platform")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        _child(fn, write_end, seconds, memory)
    os.close(write_end)
    try:
        return _collect(pid, read_end, seconds)
    finally:
        os.close(read_end)


def _child(fn: Callable[[], Any], write_end: int, seconds: float, memory: int) -> None:
    code = 0
    try:
        import resource

        if hasattr(signal, "SIGALRM"):  # the parent's watchdog has no business here
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    except (ImportError, ValueError, OSError):
        pass
    try:
        payload = json.dumps({"ok": fn()})
    except BaseException as exc:  # noqa: BLE001 - anything in the child is reported, never raised
        payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"[:500]})
        code = 1
    try:
        os.write(write_end, payload.encode())
    finally:
        os._exit(code)


def _collect(pid: int, read_end: int, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimedOut(f"no answer within {seconds:g} s")
            ready, _, _ = select.select([read_end], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        _reap(pid)
    try:
        message = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        raise TimedOut("the computation ended without an answer") from None
    if "ok" not in message:
        raise TimedOut(message.get("error", "the computation ended without an answer"))
    return message["ok"]


def _reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
