"""The fork server: pre-imports the heavy libraries once, then forks one process per job.

Started by `grader.sandbox.client` as `python -I -c ...` with a scrubbed environment and
single-threaded BLAS/OpenMP settings. It never computes: a process that has run a
multi-threaded torch op leaves its thread pool in a state a forked child can hang on, so
the zygote only imports and forks. It stays single-threaded (a test checks it).

The zygote is a pristine template: it never reads a request, an output or a result, so
nothing of one job can be found in the memory of the processes forked for the next one.
It keeps one *spare* ready: a process forked before any job's data exists, into a fresh
PID and IPC namespace (PID 1 there: it cannot see or signal the grader, the zygote or
other jobs, and the SysV IPC objects it makes die with it), blocked on its request pipe.
The spare's pipe ends and a pidfd go to the grader over a Unix socket (SCM_RIGHTS), and
the zygote closes its own copies: the grader writes the request straight to the spare and
watches it (grader.sandbox.monitor); the zygote only learns that the spare was taken, forks
the next one while the job runs (off the clock), reaps the job and reports its exit status
and rusage. One fork per job. The zygote is the subreaper of everything below it; it dies
with its parent, and everything below dies with it.

Wire format on the socket (SOCK_SEQPACKET, one JSON message a packet): zygote to grader
`{"pid", "warnings"}` once, then `{"spare": pid}` with the fds [request, output, result,
pidfd] and `{"exited": pid, "exit_code", "signal", "cpu_s", "max_rss_kb"}`; grader to
zygote `{"take": pid}`. On the request pipe: 8-byte big-endian length + one JSON request.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys

_LEN = struct.Struct(">Q")
MAX_PACKET = 1 << 16


def read_message(fd: int) -> bytes | None:
    header = _read_exactly(fd, _LEN.size)
    if header is None:
        return None
    (size,) = _LEN.unpack(header)
    return _read_exactly(fd, size)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_message(fd: int, data: bytes) -> None:
    view = memoryview(_LEN.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def preload(names: list[str]) -> list[str]:
    """Import the heavy libraries; never run an op (see module docstring). Returns warnings."""
    warnings = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # a missing optional library only costs speed
            warnings.append(f"zygote: could not preload {name}: {type(error).__name__}: {error}")
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)  # no intra-op pool in the zygote; each child sets its own
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        matplotlib.use("Agg")
    return warnings


def main(preload_names: list[str], driver_modules: list[str]) -> None:
    from grader.sandbox import isolation

    isolation.set_parent_death_signal(signal.SIGKILL)  # never outlive the grader
    isolation.set_child_subreaper()  # orphaned jobs come back to us to be reaped
    channel = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray prints from libraries go to the log, not to the grader
    warnings = preload(preload_names + driver_modules)
    import grader.sandbox.child  # noqa: F401  (loaded now so that children need not read it)

    gc.collect()
    gc.freeze()  # the libraries' objects are never scanned again: a child's collections do not
    # write to (and so copy) the pages they share with the zygote
    pristine = isolation.snapshot()  # before any job: what every job starts from
    send(channel, {"pid": os.getpid(), "warnings": warnings})
    Server(channel, pristine).run()


def send(channel: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(channel, [data], fds)
    else:
        channel.send(data)


class Server:
    """The zygote's loop: keep one spare offered, fork the next when it is taken, reap, report."""

    def __init__(self, channel: socket.socket, pristine: object) -> None:
        from grader.sandbox import isolation

        self.channel, self.pristine = channel, pristine
        self.own_pid_namespace = isolation.own_pid_namespace()
        self.jobs: set[int] = set()  # forked and not yet reaped: their status goes to the grader
        self.exhausted = False
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wakeup fd hears it
        signal.set_wakeup_fd(self.wake_w)

    def run(self) -> None:
        self.offer()
        while not (self.exhausted and not self.jobs):
            ready = select.select([self.channel.fileno(), self.wake_r], [], [])[0]
            if self.wake_r in ready:
                self.reap()
            if self.channel.fileno() in ready:
                data = self.channel.recv(MAX_PACKET)
                if not data:
                    return  # the grader is done (or gone): everything below dies with us
                if "take" in json.loads(data):
                    self.offer()

    def offer(self) -> None:
        """Fork the next spare and hand its ends to the grader, unless our limits were lowered
        for good (a fresh zygote must then serve: the grader starts one when we exit)."""
        from grader.sandbox import isolation

        if isolation.restore(self.pristine):
            print("zygote: cannot restore its first limits; exiting for a fresh one", file=sys.stderr)
            self.exhausted = True
            return
        pid, ends = fork_spare(self.pristine, self.own_pid_namespace,
                               (self.channel.fileno(), self.wake_r, self.wake_w))
        self.jobs.add(pid)
        try:
            send(self.channel, {"spare": pid}, ends)
        finally:
            for fd in ends:
                os.close(fd)  # the zygote keeps no way to read or write the job

    def reap(self) -> None:
        while True:
            try:
                os.read(self.wake_r, 4096)
            except BlockingIOError:
                pass
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.jobs:
                self.jobs.discard(pid)
                send(self.channel, {"exited": pid,
                                    "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                                    "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss})


def fork_spare(pristine: object, own_pid_namespace: int | None, private: tuple[int, ...]) -> tuple[int, list[int]]:
    """The next job's process, in its own PID+IPC namespace, forked before its request exists.
    Returns its pid and the grader's ends: [request writer, output reader, result reader, pidfd]."""
    from grader.sandbox import child, isolation

    child.JOB_NAMESPACES = isolation.apply_job_namespaces()
    request_r, request_w = os.pipe()
    out_r, out_w = os.pipe()
    res_r, res_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            isolation.set_parent_death_signal(signal.SIGKILL)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            closing = (*private, request_w, out_r, res_r)
            for fd in (*closing, own_pid_namespace) if own_pid_namespace is not None else closing:
                os.close(fd)  # above all the zygote's socket: the child must never write to it
            isolation.restore(pristine)  # limits, niceness, affinity, mask: from scratch
            message = read_message(request_r)  # EOF: the grader is gone, or had no job
            if message is None:
                os._exit(0)
            child.main(json.loads(message), out_w, res_w)
        finally:
            os._exit(70)
    isolation.reset_pid_namespace_for_children(own_pid_namespace)
    for fd in (request_r, out_w, res_w):
        os.close(fd)
    ends = [request_w, out_r, res_r]
    try:
        ends.append(os.pidfd_open(pid))
    except (AttributeError, OSError):  # Linux < 5.3: the grader polls for the exit status instead
        pass
    return pid, ends
