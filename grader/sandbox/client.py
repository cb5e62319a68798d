"""The grader's side of the sandbox: one zygote per grader process, jobs in, Outcomes out.

The zygote is a child of the grader; each job's child is a child of the zygote, so a
student process that kills its parent can at worst kill the zygote (Landlock and seccomp
stop even that where they are active): the grader sees the pipe close, reports the job as
a sandbox error and starts a fresh zygote for the next job. Worker processes forked from
the grader (`--jobs N`) notice the pid change and start their own zygote.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from grader.core import registry
from grader.sandbox import monitor, protocol
from grader.sandbox.jobs import DRIVER_NAME, Job, Limits, Outcome, Prepared
from grader.sandbox.zygote import MAX_PACKET

DISABLE_VARIABLE = "GRADER_SANDBOX_DISABLE"
"""Comma-separated layers to switch off (see grader.sandbox.child.LAYERS); each shows as a warning."""

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The folder that holds the `grader` package (the project root; never readable by children)."""
PRELOAD = ["numpy", "torch", "matplotlib", "matplotlib.pyplot"]
MAX_MODULE_BYTES = 1_000_000
STARTUP_TIMEOUT_S = 180.0
GRACE_S = 15.0
_SYSTEM_LIBS = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib")
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}")
_CHILD_KINDS = {"exception", "memory", "exit", "protocol", "missing"}


class SandboxFault(RuntimeError):
    """The zygote failed or died: a grader fault, not the student's."""


class _Zygote:
    def __init__(self) -> None:
        self.owner = os.getpid()
        self.log = tempfile.TemporaryFile()
        self.spare: monitor.Spare | None = None  # offered by the zygote, not yet taken
        self.statuses: dict[int, dict] = {}  # exit statuses that arrived before they were asked for
        bootstrap = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
                     "from grader.sandbox import zygote; zygote.main(json.loads(sys.argv[2]), json.loads(sys.argv[3]))")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp"),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-c", bootstrap, str(PACKAGE_ROOT), json.dumps(PRELOAD),
                 json.dumps(registry.sandbox_modules())],
                stdin=theirs.fileno(), stdout=self.log, stderr=self.log, env=env,
                start_new_session=True, close_fds=True)
        finally:
            theirs.close()
        info, _ = self.read(time.monotonic() + STARTUP_TIMEOUT_S)
        self.pid = int(info["pid"])
        self.warnings = tuple(info.get("warnings", ()))

    def read(self, deadline: float) -> tuple[dict, list[int]]:
        """The zygote's next message and the descriptors that came with it."""
        timeout = deadline - time.monotonic()
        if timeout <= 0 or not select.select([self.channel], [], [], timeout)[0]:
            raise SandboxFault("the sandbox did not answer in time")
        data, fds, _, _ = socket.recv_fds(self.channel, MAX_PACKET, 8)
        if not data:
            for fd in fds:
                os.close(fd)
            raise SandboxFault(f"the sandbox process died{self._log_tail()}")
        return json.loads(data), fds

    def _next(self, deadline: float) -> None:
        """Read one message: a spare is kept for the next job, an exit status until asked for."""
        message, fds = self.read(deadline)
        if "spare" in message and len(fds) in (3, 4) and self.spare is None:
            pidfd = fds[3] if len(fds) == 4 else None
            self.spare = monitor.Spare(int(message["spare"]), fds[0], fds[1], fds[2], pidfd)
            return
        for fd in fds:
            os.close(fd)
        if "exited" in message:
            self.statuses[int(message["exited"])] = message
        else:
            raise SandboxFault(f"the sandbox sent an unexpected message: {sorted(message)}")

    def take(self, deadline: float) -> monitor.Spare:
        """A live spare (the zygote forks the next one while this job runs). A spare that died
        while it waited (killed from outside) ran nothing: the next one takes its place."""
        while True:
            while self.spare is None:
                self._next(deadline)
            spare, self.spare = self.spare, None
            try:
                self.channel.send(json.dumps({"take": spare.pid}).encode())
            except OSError as error:
                spare.kill()
                spare.close()
                raise SandboxFault(f"the sandbox process is gone ({error})") from None
            if spare.alive() and spare.pid not in self.statuses:
                self.statuses.clear()  # of jobs nobody waits for any more (killed once they had answered)
                return spare
            spare.close()

    def status(self, pid: int, timeout: float) -> dict | None:
        """The exit status of job `pid` once the zygote has reaped it; None if not within `timeout`."""
        deadline = time.monotonic() + timeout
        while pid not in self.statuses:
            if not select.select([self.channel], [], [], max(0.0, deadline - time.monotonic()))[0]:
                return None
            self._next(deadline + 1.0)
        return self.statuses.pop(pid)

    def request(self, message: dict, timeout: float) -> tuple[dict, bytes, bytes]:
        spare = self.take(time.monotonic() + timeout)
        return monitor.serve(spare, json.dumps(message).encode(), message["limits"], self.status, GRACE_S)

    def _log_tail(self) -> str:
        try:
            self.log.seek(0)
            tail = self.log.read()[-1500:].decode(errors="replace").strip()
        except OSError:
            return ""
        return f": {tail}" if tail else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait()
        if self.spare is not None:
            self.spare.close()
        self.channel.close()
        self.log.close()


_lock = threading.Lock()
_zygote: _Zygote | None = None
JOB_PREFIX = "grader-job-"


def _sweep_stale() -> None:
    """Queue the job folders of grader processes that died before cleaning up (killed hard)."""
    for entry in Path(tempfile.gettempdir()).glob(f"{JOB_PREFIX}*-*"):
        owner = entry.name[len(JOB_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and not Path(f"/proc/{owner}").exists():
            _sweeper.add(entry)


def _get_zygote() -> _Zygote:
    global _zygote
    if _zygote is not None and (_zygote.owner != os.getpid() or not _zygote.alive()):
        if _zygote.owner == os.getpid():
            _zygote.kill()
        _zygote = None  # a forked worker must not share its parent's pipes
    if _zygote is None:
        _sweep_stale()
        _zygote = _Zygote()
    return _zygote


def shutdown() -> None:
    global _zygote
    _sweeper.flush()
    with _lock:
        if _zygote is not None and _zygote.owner == os.getpid():
            _zygote.kill()
        _zygote = None


atexit.register(shutdown)


def zygote_pid() -> int:
    """Pid of this process's zygote, starting it if needed (for tests and benchmarks)."""
    with _lock:
        return _get_zygote().pid


# ----------------------------------------------------------------------------- jobs


def run(job: Job) -> Outcome:
    prepared = prepare(job)
    return prepared if isinstance(prepared, Outcome) else run_prepared(prepared)


def prepare(job: Job) -> Prepared | Outcome:
    """Read and check everything the job hands the child; a refused job (a link, a file
    that is too big, a bad name) is the Outcome saying so."""
    started = time.monotonic()
    try:
        return _prepare(job)
    except _Refused as refused:
        return _failure("refused", str(refused), started)


def run_prepared(job: Prepared) -> Outcome:
    """Run a prepared job in a fresh child; never raises for anything the child does."""
    started = time.monotonic()
    try:
        workdir = _materialise(job)
    except OSError as error:  # disk full, unwritable temp folder: the grader's problem
        return _failure("sandbox", f"the sandbox could not prepare the job: {error}", started)
    try:
        request = {"dir": str(workdir), "driver": job.driver, "module": job.module_name,
                   "files": sorted(n for n in job.sources if n != job.module_name),
                   "limits": asdict(job.limits), "read_paths": read_paths(), "disable": list(job.disable)}
        with _lock:
            for attempt in (1, 2):
                try:
                    zygote = _get_zygote()
                    header, output, result = zygote.request(request, job.limits.wall_s + GRACE_S)
                    break
                except (SandboxFault, OSError, ValueError) as fault:
                    exited = _discard_zygote()
                    # a zygote that ended before answering (it could not restore its limits)
                    # ran nothing: the job goes to a fresh one, once
                    if attempt == 2 or not exited or time.monotonic() - started > GRACE_S:
                        return _failure("sandbox", f"the sandbox failed: {fault}", started)
    finally:
        _remove(workdir)
    return _interpret(header, output, result, job.limits, started)


def _discard_zygote() -> bool:
    """Kill and forget this process's zygote; True when it had already exited by itself."""
    global _zygote
    exited = False
    if _zygote is not None:
        try:
            _zygote.process.wait(timeout=0.5)  # its pipes close as it exits: give it a moment
            exited = True
        except subprocess.TimeoutExpired:
            pass
        _zygote.kill()
    _zygote = None
    return exited


class _Refused(ValueError):
    pass


def _prepare(job: Job) -> Prepared:
    if not DRIVER_NAME.match(job.driver):
        raise _Refused(f"driver {job.driver!r} is not inside the grader package")
    module_name = None
    sources: dict[str, bytes] = {}
    if job.module is not None:
        module_name = Path(job.module).name
        if not module_name.endswith(".py") or not module_name[:-3].isidentifier():
            raise _Refused(f"{module_name} is not a Python module name")
        sources[module_name] = _read_untrusted(Path(job.module), MAX_MODULE_BYTES)
    for name, path in job.files.items():
        if not _FILE_NAME.fullmatch(name) or name in sources or name in ("payload.bin", "out"):
            raise _Refused(f"extra file name {name!r} is not allowed")
        sources[name] = _read_untrusted(Path(path), job.limits.file_bytes)
    payload = protocol.encode(dict(job.payload), sys.modules.get("torch"), strict=True)
    disable = tuple(name.strip() for name in os.environ.get(DISABLE_VARIABLE, "").split(",") if name.strip())
    return Prepared(job.driver, module_name, sources, payload, job.limits, disable)


def _materialise(job: Prepared) -> Path:
    """The job's private folder: payload.bin, the student's files, an empty out/."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{JOB_PREFIX}{os.getpid()}-"))
    try:
        (workdir / "payload.bin").write_bytes(job.payload)
        for name, data in job.sources.items():
            (workdir / name).write_bytes(data)
        (workdir / "out").mkdir()
    except OSError:
        _remove(workdir)
        raise
    return workdir


def _read_untrusted(path: Path, limit: int) -> bytes:
    """Read a file handed in by a student: a regular file, never through a symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if os.path.islink(path):
            raise _Refused(f"{path.name} is a symbolic link; hand in the file itself") from None
        raise _Refused(f"{path.name} cannot be read: {error.strerror}") from None
    info = os.fstat(fd)  # before fdopen, which raises IsADirectoryError (a grader fault) for a folder
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _Refused(f"{path.name} is a folder, not a file; hand in the file itself" if stat.S_ISDIR(info.st_mode)
                       else f"{path.name} is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        if info.st_nlink > 1:
            raise _Refused(f"{path.name} is a hard link to another file; hand in a plain copy")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _Refused(f"{path.name} is larger than {limit} bytes")
    return data


def installed() -> bool:
    """Whether grader runs from a site-packages folder (a wheel) rather than a checkout."""
    return PACKAGE_ROOT.name in ("site-packages", "dist-packages")


def _library_folder(entry: str) -> bool:
    """A folder of installed libraries: site-packages, or the standard library of this Python."""
    libs = {os.path.join(os.path.realpath(prefix), "lib") for prefix in (sys.prefix, sys.base_prefix)}
    return "-packages" in entry or any(entry == lib or entry.startswith(lib + os.sep) for lib in libs)


def read_paths() -> list[str]:
    """Directories the child may read: Python's own and system libraries, never the project.
    Installed, the folder that holds grader is site-packages, which holds the libraries the
    child needs too: only a checkout (where solutions and specs may live) is kept out."""
    root = os.path.realpath(PACKAGE_ROOT)
    paths = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        entry = os.path.realpath(entry)
        if installed():  # libraries only: not the current folder, where a course may live
            if _library_folder(entry):
                paths.append(entry)
            continue
        if root == entry or root.startswith(entry.rstrip(os.sep) + os.sep):
            continue  # the project root or a folder above it: solutions and specs live there
        if entry.startswith(root + os.sep) and "-packages" not in entry:
            continue  # project folders (tests/, solutions/) that a test runner put on sys.path
        paths.append(entry)
    paths += [p for p in _SYSTEM_LIBS if os.path.isdir(p) and p not in paths]
    return paths


def _remove_now(workdir: Path) -> None:
    def unlock(function: Any, path: str, _: Any) -> None:
        os.chmod(os.path.dirname(path), 0o700)
        function(path)

    shutil.rmtree(workdir, onerror=unlock)


class _Sweeper:
    """Removes finished job folders off the critical path: rmdir of a folder a Landlock
    domain was bound to costs milliseconds. The folders are private (0700) meanwhile."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.owner = 0
        self.guard = threading.Lock()

    def add(self, workdir: Path) -> None:
        with self.guard:
            if self.owner != os.getpid():  # first use, or a forked worker: no thread here yet
                self.queue, self.owner = queue.SimpleQueue(), os.getpid()
                threading.Thread(target=self._work, args=(self.queue,), name="grader-sandbox-sweeper",
                                 daemon=True).start()
        self.queue.put(workdir)

    @staticmethod
    def _work(items: queue.SimpleQueue) -> None:
        while True:
            item = items.get()
            if isinstance(item, threading.Event):
                item.set()
            else:
                _remove_now(item)

    def flush(self) -> None:
        """Wait until every folder queued so far is gone."""
        if self.owner == os.getpid():
            done = threading.Event()
            self.queue.put(done)
            done.wait(timeout=30)


_sweeper = _Sweeper()


def _remove(workdir: Path) -> None:
    _sweeper.add(workdir)


# ----------------------------------------------------------------------------- outcomes


def _failure(kind: str, message: str, started: float, **extra: Any) -> Outcome:
    return Outcome(ok=False, value=None, error=message, error_kind=kind, stdout=extra.get("stdout", ""),
                   layers=extra.get("layers", ()), warnings=extra.get("warnings", ()),
                   wall_s=time.monotonic() - started)


def _interpret(header: dict, output: bytes, result: bytes, limits: Limits, started: float) -> Outcome:
    stdout = output[:limits.output_bytes].decode("utf-8", errors="replace")
    frames, broken = protocol.split_frames(result)
    setup = _setup(frames)
    kind, message = _failure_of(header, frames, broken, limits, setup is _NO_SETUP)
    failed = Outcome(ok=False, value=None, error=message, error_kind=kind, stdout=stdout, layers=setup[0],
                     warnings=setup[1], wall_s=time.monotonic() - started, cpu_s=float(header.get("cpu_s", 0.0)),
                     max_rss_mb=float(header.get("max_rss_kb", 0)) / 1024)
    if kind is not None:
        return failed
    try:
        value, files = _result(frames[1][1])
    except protocol.ProtocolError as error:
        return replace(failed, error=f"the result could not be read: {error}", error_kind="protocol")
    return replace(failed, ok=True, value=value, error=None, error_kind=None, files=files)


def _result(blob: bytes) -> tuple[Any, dict[str, bytes]]:
    """The R frame: {"value": the driver's result, "files": {name: bytes} from out/}."""
    decoded = protocol.decode(blob)
    if type(decoded) is not dict or set(decoded) != {"value", "files"} or type(decoded["files"]) is not dict:
        raise protocol.ProtocolError("the result frame is not {value, files}")
    files = decoded["files"]
    if not all(type(v) is bytes for v in files.values()):
        raise protocol.ProtocolError("out/ files must arrive as bytes")
    return decoded["value"], files


_NO_SETUP: tuple[tuple[str, ...], tuple[str, ...]] = ((), ("sandbox: the child never reported its setup",))


def _setup(frames: list[tuple[bytes, bytes]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not frames or frames[0][0] != b"S":
        return _NO_SETUP
    try:
        info = protocol.decode(frames[0][1])
        return tuple(info["layers"]), tuple(info["warnings"])
    except (protocol.ProtocolError, KeyError, TypeError):
        return _NO_SETUP


def _failure_of(header: dict, frames: list, broken: str | None, limits: Limits,
                no_setup: bool) -> tuple[str | None, str | None]:
    """(error kind, message) for a job that did not return a value, or (None, None)."""
    killed_for, sig, code = header.get("killed_for"), header.get("signal"), header.get("exit_code")
    if killed_for == "timeout":
        return "timeout", f"did not finish within {limits.wall_s:g} s (wall-clock limit); an endless loop?"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and header.get("cpu_s", 0) >= limits.cpu_s - 0.05):
        return "timeout", f"used more than {limits.cpu_s:g} s of CPU time; an endless loop?"
    if killed_for == "output" or header.get("output_bytes", 0) > limits.output_bytes:
        return "output", f"printed more than {limits.output_bytes:,} bytes; print less"
    if killed_for == "result":
        return "output", f"returned more than {limits.result_bytes:,} bytes of results"
    if no_setup:
        return "sandbox", "the sandbox could not start the code" + (f" ({broken})" if broken else "")
    if broken is not None or len(frames) != 2 or frames[1][0] not in (b"R", b"E"):
        if sig is not None:
            return _signal_failure(sig, header, limits)
        if broken is None and len(frames) == 1 and code is not None:
            return "exit", f"the code ended the process (exit status {code}) before returning a result"
        return "protocol", "the code wrote to the grader's result channel (tampering?)"
    if frames[1][0] == b"E":
        return _child_error(frames[1][1])
    return None, None


def _signal_failure(sig: int, header: dict, limits: Limits) -> tuple[str, str]:
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
    if header.get("max_rss_kb", 0) >= 0.8 * limits.memory_mb * 1024:
        return "memory", f"ran out of memory (limit {limits.memory_mb} MiB; killed by {name})"
    return "crash", f"the process crashed (killed by signal {name})"


def _child_error(data: bytes) -> tuple[str, str]:
    try:
        info = protocol.decode(data)
        kind, message = info["kind"], info["message"]
    except (protocol.ProtocolError, KeyError, TypeError):
        return "protocol", "the error report from the code could not be read (tampering?)"
    if kind not in _CHILD_KINDS or type(message) is not str:
        return "protocol", "the code sent an unexpected error report (tampering?)"
    return kind, message[:5000]
