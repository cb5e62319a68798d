"""The grader's watch over one job: request in, bounded output and result out, limits kept.

Runs in the grader's process, which holds the job's data anyway; the zygote hands over the
spare's pipe ends and a pidfd and never sees a byte of the job (grader.sandbox.zygote).
One selector watches the job's output pipe (bounded), its result pipe (bounded) and its
pidfd, readable once the job exits; the job is killed on the wall-clock limit or when a
bound is exceeded. Exit status and rusage come from the zygote, the only process that can
reap the job. The raw bytes are returned undecoded: the caller decodes them, strictly.
"""

from __future__ import annotations

import os
import select
import selectors
import signal
import time
from dataclasses import dataclass
from typing import Callable

from grader.sandbox import protocol
from grader.sandbox.zygote import write_message

_CHUNK = 1 << 16
#: How often to ask for the exit status where the kernel gives no pidfd (Linux < 5.3).
_POLL_S = 0.01

#: Asks the zygote for a job's exit status, waiting at most `timeout` seconds (0: just look).
StatusOf = Callable[[int, float], "dict | None"]


@dataclass(frozen=True)
class Spare:
    """A job's process forked ahead of time, and the grader's ends of its pipes."""

    pid: int
    request_w: int
    out_r: int
    res_r: int
    pidfd: int | None

    def close(self, request: bool = True) -> None:
        """Close the grader's ends (each exactly once: a number closed twice may by then be
        another file's). `request=False`: the request end was closed when the request was in."""
        for fd in (self.request_w if request else None, self.out_r, self.res_r, self.pidfd):
            if fd is not None:
                os.close(fd)

    def alive(self) -> bool:
        """False once the process has exited (where there is no pidfd: not known, so True)."""
        return self.pidfd is None or not select.select([self.pidfd], [], [], 0)[0]

    def kill(self) -> None:
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)  # not yet reaped, so the pid is still this job's
        except ProcessLookupError:
            pass


def serve(spare: Spare, message: bytes, limits: dict, status_of: StatusOf,
          grace_s: float) -> tuple[dict, bytes, bytes]:
    """Hand the request to the spare and watch it to the end; the header describes how it ended."""
    started = time.monotonic()
    try:
        try:
            write_message(spare.request_w, message)
        except BrokenPipeError:
            pass  # it died before reading: the supervision below sees the exit
        finally:
            os.close(spare.request_w)  # EOF after the request: it reads exactly one
        return supervise(spare, limits, started, status_of, grace_s)
    finally:
        spare.close(request=False)


def _complete(result: list[bytes]) -> bool:
    """True once the result channel holds well-formed frames ending in a result or an error."""
    frames, broken = protocol.split_frames(b"".join(result))
    return broken is None and len(frames) >= 2 and frames[-1][0] in (b"R", b"E")


def supervise(spare: Spare, limits: dict, started: float, status_of: StatusOf,
              grace_s: float) -> tuple[dict, bytes, bytes]:
    """Watch the child until it exits, or closes both pipes after a complete answer (then it
    is killed and the zygote reaps it: tearing down a torch-sized address space takes ms),
    or hits the wall-clock limit, or sends more than its limits allow."""
    out_r, res_r = spare.out_r, spare.res_r
    selector = selectors.DefaultSelector()
    caps = {out_r: int(limits["output_bytes"]), res_r: int(limits["result_bytes"])}
    buffers: dict[int, list[bytes]] = {out_r: [], res_r: []}
    sizes = {out_r: 0, res_r: 0}
    for fd in (out_r, res_r, spare.pidfd):
        if fd is not None:
            selector.register(fd, selectors.EVENT_READ)
    deadline = started + float(limits["wall_s"])
    killed_for, status, answered, open_pipes = None, None, False, {out_r, res_r}
    try:
        while killed_for is None and status is None and not answered:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                killed_for = "timeout"
                break
            if spare.pidfd is None:  # no pidfd: poll for the exit
                status = status_of(spare.pid, 0.0)
                timeout = min(timeout, _POLL_S)
            exited = False
            for key, _ in selector.select(timeout):
                if key.fd == spare.pidfd:
                    exited = True
                    continue
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fd)
                    open_pipes.discard(key.fd)
                    answered = not open_pipes and _complete(buffers[res_r])
                    continue
                sizes[key.fd] += len(chunk)
                if sizes[key.fd] > caps[key.fd]:
                    killed_for = "output" if key.fd == out_r else "result"
                    break
                buffers[key.fd].append(chunk)
            if (exited or status is not None) and killed_for is None:
                _drain(out_r, res_r, caps, buffers, sizes)
                status = status or status_of(spare.pid, grace_s) or {}
    finally:
        selector.close()
    header: dict = {"killed_for": killed_for, "exit_code": None, "signal": None, "cpu_s": 0.0, "max_rss_kb": 0}
    if killed_for is not None:
        spare.kill()
        status = status_of(spare.pid, grace_s)
    elif answered:  # it has nothing more to say, whatever it would do next
        spare.kill()
    if status:
        header.update({key: status[key] for key in ("exit_code", "signal", "cpu_s", "max_rss_kb")})
    header.update({"wall_s": time.monotonic() - started, "output_bytes": sizes[out_r]})
    return header, b"".join(buffers[out_r]), b"".join(buffers[res_r])


def _drain(out_r: int, res_r: int, caps: dict, buffers: dict, sizes: dict) -> None:
    """Read what the exited child left in its pipes (it had no children to hold them open)."""
    for fd in (out_r, res_r):
        os.set_blocking(fd, False)
        while sizes[fd] <= caps[fd]:
            try:
                chunk = os.read(fd, _CHUNK)
            except BlockingIOError:
                break
            if not chunk:
                break
            sizes[fd] += len(chunk)
            buffers[fd].append(chunk)
