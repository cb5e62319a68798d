"""The fork server: pre-imports the heavy libraries once, then serves one job per monitor.

Started by `grader.sandbox.client` as `python -I -c ...` with a scrubbed environment and
single-threaded BLAS/OpenMP settings. It never computes: a process that has run a
multi-threaded torch op leaves its thread pool in a state a forked child can hang on, so
the zygote only imports and forks. It stays single-threaded (a test checks it).

The zygote is a pristine template: it never reads a request, an output or a result, so
nothing of one job can be found in the memory of the processes forked for the next one.
For each job it forks a *monitor* before that job's data arrives. The monitor enters a
fresh PID and IPC namespace and forks the job's process ahead of time (it becomes PID 1
there: it cannot see or signal the grader, the zygote or other jobs, and the SysV IPC
objects it makes die with it); then the monitor reads the request, supervises the job and
answers the grader itself, and exits. The zygote is the subreaper of everything below it
and reaps it; it dies with its parent, and everything below dies with it.

The monitor watches three things with one selector: the job's output pipe (bounded), its
result pipe (bounded) and a pidfd that becomes readable when the job exits; it kills the
job on the wall-clock limit or when a bound is exceeded. It reports the exit status,
rusage and the raw bytes to the grader; it does not decode them (the grader does, strictly).

Wire format on the request/response pipes: 8-byte big-endian length + data. A request is
one JSON message; a response is a JSON header followed by the output and the result bytes.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import signal
import struct
import sys
import time

_LEN = struct.Struct(">Q")
_CHUNK = 1 << 16


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


#: A monitor's exit code when the grader closed the request pipe: the zygote then exits too.
NO_MORE_REQUESTS = 99


def main(preload_names: list[str], driver_modules: list[str]) -> None:
    from grader.sandbox import isolation

    isolation.set_parent_death_signal(signal.SIGKILL)  # never outlive the grader
    isolation.set_child_subreaper()  # orphaned jobs come back to us to be reaped
    request_fd, response_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray prints from libraries go to the log, not the response pipe
    warnings = preload(preload_names + driver_modules)
    import grader.sandbox.child  # noqa: F401  (loaded now so that children need not read it)

    pristine = isolation.snapshot()  # before any job: what every job starts from
    write_message(response_fd, json.dumps({"pid": os.getpid(), "warnings": warnings}).encode())
    while True:
        if isolation.restore(pristine):  # someone lowered our limits for good: let a fresh zygote serve
            print("zygote: cannot restore its first limits; exiting for a fresh one", file=sys.stderr)
            return
        monitor = os.fork()
        if monitor == 0:
            code = 70
            try:
                code = serve_one(request_fd, response_fd, pristine)
            except BaseException:  # a monitor fault: leave a trace in the zygote's log
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        if _wait_for(monitor) == NO_MORE_REQUESTS:
            return


def _wait_for(monitor: int) -> int | None:
    """Reap until the monitor exits (jobs it left behind are reaped on the way); its exit code."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return None
        if pid == monitor:
            return os.WEXITSTATUS(status) if os.WIFEXITED(status) else None


def serve_one(request_fd: int, response_fd: int, pristine: object) -> int:
    """The monitor: a fresh PID+IPC namespace, the job's process forked into it before the
    request arrives (off the clock), then one request served. Returns the exit code."""
    from grader.sandbox import child, isolation

    isolation.set_parent_death_signal(signal.SIGKILL)
    isolation.restore(pristine)  # limits someone set on the zygote do not reach the job
    child.JOB_NAMESPACES = isolation.apply_job_namespaces()
    spare = Spare.fork((request_fd, response_fd))
    message = read_message(request_fd)
    if message is None:
        spare.discard()
        return NO_MORE_REQUESTS
    request = json.loads(message)
    header, output, result = spare.serve(message, request["limits"])
    write_message(response_fd, json.dumps(header).encode())
    write_message(response_fd, output)
    write_message(response_fd, result)
    return 0


class Spare:
    """The job's process, forked ahead of time; it waits for its request, then locks down and runs it."""

    def __init__(self, pid: int, request_w: int, out_r: int, res_r: int) -> None:
        self.pid, self.request_w, self.out_r, self.res_r = pid, request_w, out_r, res_r

    @staticmethod
    def fork(private: tuple[int, ...]) -> "Spare":
        request_r, request_w = os.pipe()
        out_r, out_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                from grader.sandbox import child, isolation

                isolation.set_parent_death_signal(signal.SIGKILL)
                for fd in (*private, request_w, out_r, res_r):
                    os.close(fd)  # above all the grader's pipes: the child must never write to them
                message = read_message(request_r)  # EOF: the monitor is gone, or had no job
                if message is None:
                    os._exit(0)
                child.main(json.loads(message), out_w, res_w)
            finally:
                os._exit(70)
        for fd in (request_r, out_w, res_w):
            os.close(fd)
        return Spare(pid, request_w, out_r, res_r)

    def serve(self, message: bytes, limits: dict) -> tuple[dict, bytes, bytes]:
        started = time.monotonic()
        try:
            write_message(self.request_w, message)
            os.close(self.request_w)
            return supervise(self.pid, self.out_r, self.res_r, limits, started)
        finally:
            os.close(self.out_r)
            os.close(self.res_r)

    def discard(self) -> None:
        try:
            os.close(self.request_w)  # EOF: the spare exits without running anything
        except OSError:
            pass
        os.waitpid(self.pid, 0)


def _complete(result: list[bytes]) -> bool:
    """True once the result channel holds well-formed frames ending in a result or an error."""
    from grader.sandbox import protocol

    frames, broken = protocol.split_frames(b"".join(result))
    return broken is None and len(frames) >= 2 and frames[-1][0] in (b"R", b"E")


def supervise(pid: int, out_r: int, res_r: int, limits: dict, started: float) -> tuple[dict, bytes, bytes]:
    """Watch the child until it exits, or closes both pipes after a complete answer (then it
    is killed and the zygote reaps it: tearing down a torch-sized address space takes ms),
    or hits the wall-clock limit, or sends more than its limits allow."""
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None  # Linux >= 5.3
    selector = selectors.DefaultSelector()
    caps = {out_r: int(limits["output_bytes"]), res_r: int(limits["result_bytes"])}
    buffers: dict[int, list[bytes]] = {out_r: [], res_r: []}
    sizes = {out_r: 0, res_r: 0}
    for fd in (out_r, res_r, pidfd):
        if fd is not None:
            selector.register(fd, selectors.EVENT_READ)
    deadline = started + float(limits["wall_s"])
    killed_for, exited, answered, open_pipes = None, False, False, {out_r, res_r}
    try:
        while killed_for is None and not exited and not answered:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                killed_for = "timeout"
                break
            if pidfd is None:  # no pidfd: poll for the exit without reaping
                exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
                timeout = min(timeout, 0.01)
            for key, _ in selector.select(timeout):
                if key.fd == pidfd:
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
        header = {"killed_for": killed_for, "exit_code": None, "signal": None, "cpu_s": 0.0, "max_rss_kb": 0}
        if exited or killed_for is not None:
            if killed_for is not None:
                os.kill(pid, signal.SIGKILL)
            else:
                _drain(out_r, res_r, caps, buffers, sizes)
            _, status, usage = os.wait4(pid, 0)
            header.update({
                "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss})
        else:  # answered: it has nothing more to say, whatever it would do next
            os.kill(pid, signal.SIGKILL)
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)
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
