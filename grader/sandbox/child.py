"""What a forked child does: lock itself down, import the student module, run the driver.

Runs in the child only, right after the zygote's fork. Nothing here returns: the child
always leaves through `os._exit`, so the zygote's own state (buffers, atexit) is never run.
Order matters: the trusted driver module and the payload are loaded *before* the
lock-down (the grader package is not readable afterwards); the `S` frame reporting the
active layers is written before any student code runs, so it cannot be forged. What the
student's module rebinds on import in builtins and in the driver's own module is put back
before the driver runs; the driver's result is still only data for the grader to check.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import io
import os
import signal
import stat
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from grader.sandbox import isolation, protocol
from grader.sandbox.jobs import DRIVER_NAME

RESULT_FD = 3
#: Environment variable of the grader (trusted) that switches layers off, e.g. "landlock,seccomp":
#: for machines where a layer misbehaves, and for the tests of degraded mode.
DISABLE_VARIABLE = "GRADER_SANDBOX_DISABLE"
LAYERS = ("pidns+ipcns", "rlimits", "tmpfs", "userns+netns", "landlock", "seccomp")
#: What the zygote's unshare of a PID+IPC namespace for this child said (None: it holds).
JOB_NAMESPACES: str | None = "pidns+ipcns: not entered"
TMPFS_MIN_BYTES = 64 * 1024 * 1024
MAX_OUT_FILES = 32
#: Substrings of allocator errors that mean "out of memory" (torch does not raise MemoryError).
MEMORY_MARKERS = ("can't allocate memory", "cannot allocate memory", "out of memory",
                  "std::bad_alloc", "not enough memory", "failed to allocate")
STUDENT_MODULE_PREFIX = "submission_"


class StudentError(Exception):
    """A failure of the student's code, already turned into (kind, message)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def main(request: dict, out_fd: int, result_fd: int) -> None:
    try:
        _run(request, out_fd, result_fd)
    except BaseException as error:
        try:
            restore_builtins()
            if _state["student_ran"]:  # our code broke after theirs ran: they tampered with it
                message = f"the grader's code in the sandbox failed after yours ran ({_type_name(error)}); " \
                          "did your code patch builtins or modules?"
                _write_frame(b"E", protocol.encode({"kind": "protocol", "message": message}))
            else:  # a sandbox fault before any student code: leave a trace in the output
                traceback.print_exc()
                _flush_output()
        finally:
            os._exit(70)
    os._exit(70)


_state = {"student_ran": False}
_BUILTINS = dict(builtins.__dict__)


def restore_builtins() -> None:
    """Undo patches to builtins (isinstance, len, ...) so the trusted code after a call works."""
    builtins.__dict__.update(_BUILTINS)


def _namespace(driver: Any) -> tuple[dict, dict]:
    """The driver module's namespace and a copy of it, taken before any student code runs."""
    namespace = getattr(driver, "__globals__", None)
    namespace = namespace if type(namespace) is dict else {}
    return namespace, dict(namespace)


def restore_namespace(pristine: tuple[dict, dict]) -> None:
    """Put back what the student's module rebound in the driver's module (`driver._count = ...`):
    the driver runs as written. What the student's code does while the driver runs (it is
    called from there) is not undone: the grader checks what the driver sends back."""
    namespace, copy = pristine
    namespace.update(copy)


def _run(request: dict, out_fd: int, result_fd: int) -> None:
    _wire_fds(out_fd, result_fd)
    workdir = request["dir"]
    os.chdir(workdir)
    _scrub_environment(workdir, int(request["limits"]["threads"]))
    torch = sys.modules.get("torch")
    driver = _resolve_driver(request["driver"])
    pristine = _namespace(driver)
    payload = protocol.decode(Path("payload.bin").read_bytes(),
                              protocol.torch_tensor_maker(torch) if torch else protocol._tensor_info)
    layers, warnings = _lock_down(request)
    if torch is not None:
        torch.set_num_threads(max(1, int(request["limits"]["threads"])))
    _write_frame(b"S", protocol.encode({"layers": layers, "warnings": warnings}))
    sys.path[:] = [workdir] + [p for p in request["read_paths"] if p in sys.path]
    sys.dont_write_bytecode = True
    _state["student_ran"] = True
    try:
        module = _import_student(request.get("module"), workdir)
        restore_builtins()
        restore_namespace(pristine)
        result = driver(module, payload)
        restore_builtins()
        _flush_output()
        files = collect_out(int(request["limits"]["file_bytes"]))
        blob = _encode_result({"value": result, "files": files}, torch)
    except StudentError as error:
        _flush_output()
        _write_frame(b"E", protocol.encode({"kind": error.kind, "message": error.message}))
        _close_and_exit()
    except BaseException as error:  # a student exception escaped the driver
        restore_builtins()
        _flush_output()
        kind, message = describe_exception(error, workdir)
        _write_frame(b"E", protocol.encode({"kind": kind, "message": message}))
        _close_and_exit()
    _write_frame(b"R", blob)
    _close_and_exit()


def _close_and_exit() -> None:
    """Close the pipes first: the zygote answers on EOF, not after the slow address-space teardown."""
    for fd in (1, 2, RESULT_FD):
        try:
            os.close(fd)
        except OSError:
            pass
    os._exit(0)


def _wire_fds(out_fd: int, result_fd: int) -> None:
    """stdin from /dev/null, stdout+stderr into the output pipe, result pipe on fd 3, no others."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.dup2(result_fd, RESULT_FD)
    os.closerange(RESULT_FD + 1, 1 << 16)  # every zygote pipe, including the grader's
    for name in ("stdout", "stderr"):
        stream = io.TextIOWrapper(io.FileIO(1 if name == "stdout" else 2, "w", closefd=False),
                                  encoding="utf-8", errors="backslashreplace", line_buffering=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.stdin = stdin
    setattr(sys, "__stdin__", stdin)  # typeshed calls it Final; the child replaces it all the same


def _scrub_environment(workdir: str, threads: int) -> None:
    os.environ.clear()
    os.environ.update({
        "HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
        "MPLCONFIGDIR": os.path.join(workdir, ".matplotlib"), "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": str(threads), "PYTHONHASHSEED": "0",
    })
    import tempfile

    tempfile.tempdir = workdir


def _resolve_driver(name: str) -> Callable[[ModuleType | None, Any], Any]:
    if not DRIVER_NAME.match(name):
        raise ValueError(f"refusing driver {name!r}: drivers must live in the grader package")
    module_name, function_name = name.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        raise ValueError(f"driver {name!r} is not callable")
    return function


def _lock_down(request: dict) -> tuple[list[str], list[str]]:
    limits = request["limits"]
    layers, warnings = [], []
    steps = [
        ("rlimits", lambda: isolation.apply_rlimits(limits["cpu_s"], limits["memory_mb"], limits["file_bytes"],
                                                    bool(limits.get("gpu")))),
        ("tmpfs", lambda: isolation.apply_private_tmpfs(request["dir"], _tmpfs_bytes(limits), _kept_files(request))),
        ("userns+netns", isolation.apply_namespaces),
        ("landlock", lambda: isolation.apply_landlock(_landlock_rules(request))),
        ("seccomp", isolation.apply_seccomp),
    ]
    disabled = set(request.get("disable", ()))
    if JOB_NAMESPACES is None:
        layers.append("pidns+ipcns")
    else:
        warnings.append(JOB_NAMESPACES)
    for name, step in steps:
        problem = f"{name}: switched off by {DISABLE_VARIABLE}" if name in disabled else step()
        if problem is None:
            layers.append(name)
        else:
            warnings.append(problem)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write fails with EFBIG instead
    return layers, warnings


def _tmpfs_bytes(limits: dict) -> int:
    return max(TMPFS_MIN_BYTES, 4 * int(limits["file_bytes"]))


def _kept_files(request: dict) -> dict[str, bytes]:
    """The module and extra files, read before the tmpfs hides the folder they are in."""
    names = ([request["module"]] if request.get("module") else []) + list(request.get("files", []))
    kept = {}
    for name in names:
        with open(name, "rb") as handle:
            kept[name] = handle.read()
    return kept


def collect_out(limit: int) -> dict[str, bytes]:
    """Regular files the code left in out/, up to `limit` bytes together (read in the child:
    the grader never opens a file the student's code could have written)."""
    files, total = {}, 0
    try:
        names = sorted(os.listdir("out"))[:MAX_OUT_FILES]
    except OSError:
        return {}
    for name in names:
        try:
            fd = os.open(os.path.join("out", name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                continue
            data = handle.read(limit - total + 1)
        if total + len(data) > limit:
            break
        files[name] = data
        total += len(data)
    return files


def _landlock_rules(request: dict) -> list[tuple[str, int]]:
    rules = [(path, isolation.READ) for path in request["read_paths"]]
    rules += [(request["dir"], isolation.WRITE), ("/dev/null", isolation.READ | isolation.FS_WRITE_FILE)]
    rules += [(path, isolation.READ) for path in (
        "/dev/zero", "/dev/urandom", "/dev/random", "/proc/self", "/proc/cpuinfo", "/proc/meminfo",
        "/sys/devices/system/cpu", "/etc/ld.so.cache", "/etc/localtime", "/usr/share/zoneinfo")]
    if request["limits"].get("gpu"):
        rules += [(path, isolation.READ) for path in ("/proc/driver", "/sys")]
        rules += [(path, isolation.DEVICE) for path in _gpu_devices()]
    return rules


def _gpu_devices() -> list[str]:
    names = [n for n in os.listdir("/dev") if n.startswith("nvidia")] if os.path.isdir("/dev") else []
    return [f"/dev/{n}" for n in names] + ["/dev/dri"]


def _import_student(filename: str | None, workdir: str) -> ModuleType | None:
    if filename is None:
        return None
    path = os.path.join(workdir, filename)
    name = STUDENT_MODULE_PREFIX + Path(filename).stem
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{filename} is not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException as error:
        kind, message = describe_exception(error, workdir)
        raise StudentError(kind, f"importing {filename} failed: {message}{_nul_line(path, error)}") from None
    return module


def _nul_line(path: str, error: BaseException) -> str:
    """Where the first NUL byte is, for Python's "source code string cannot contain null
    bytes", which names no line: a binary file, or one NUL pasted into a text file."""
    if not isinstance(error, SyntaxError) or type(error.lineno) is int:
        return ""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return ""
    at = data.find(b"\0")
    if at < 0:
        return ""
    line = data.count(b"\n", 0, at) + 1
    return f" (the first is on line {line})"


def _encode_result(result: Any, torch: Any) -> bytes:
    try:
        return protocol.encode(result, torch)
    except BaseException as error:
        raise StudentError("protocol", f"the result could not be sent back: {_safe_str(error)}") from None


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _write_frame(kind: bytes, data: bytes) -> None:
    view = memoryview(protocol.frame(kind, data))
    while view:
        written = os.write(RESULT_FD, view)
        view = view[written:]


# ----------------------------------------------------------------------------- exceptions


def _safe_str(error: BaseException, limit: int = 2000) -> str:
    """str(error) without trusting it: student exceptions may override __str__."""
    try:
        text = BaseException.__str__(error)
    except BaseException:
        text = "<unprintable>"
    text = text if type(text) is str else "<unprintable>"
    return text if len(text) <= limit else text[:limit] + " …"


def _type_name(error: BaseException) -> str:
    try:
        name = type(error).__qualname__
        return name if type(name) is str else "Exception"
    except BaseException:
        return "Exception"


def describe_exception(error: BaseException, workdir: str) -> tuple[str, str]:
    """(error kind, message) with the traceback cut to the frames in the student's files."""
    try:  # free what the failed call held (after a MemoryError: the memory we need to report it)
        traceback.clear_frames(error.__traceback__)
    except BaseException:
        pass
    if isinstance(error, SystemExit):
        return "exit", "the code called sys.exit() (or exit/quit) instead of returning a value"
    if isinstance(error, SyntaxError):
        return "exception", _syntax_error(error)
    message = f"{_type_name(error)}: {_safe_str(error)}"
    lowered = message.lower()
    if isinstance(error, MemoryError) or any(marker in lowered for marker in MEMORY_MARKERS):
        return "memory", f"ran out of memory ({message})"
    if isinstance(error, RecursionError):
        return "exception", f"{message} (infinite recursion?)" + _student_trace(error, workdir)
    return "exception", message + _student_trace(error, workdir)


def _syntax_error(error: SyntaxError) -> str:
    """A syntax error as Python prints it, without the sandbox's folder: the message, then
    the file's name, the line and column, the line itself and a caret under the column.
    (`str()` of one is the args tuple with the full temporary path.) Every attribute is
    read defensively: a student may raise a SyntaxError of their own making."""
    try:
        name, msg, line, column = _type_name(error), error.msg, error.lineno, error.offset
        filename, text = error.filename, error.text
        msg = msg if type(msg) is str else _safe_str(error)
        where = []
        if type(filename) is str and filename:
            where.append(Path(filename).name)
        if type(line) is int:
            where.append(f"line {line}")
        if type(column) is int and column > 0:
            where.append(f"column {column}")
        head = f"{name}: {msg[:500]}" + (f" ({', '.join(where)})" if where else "")
        if type(text) is not str or not text.strip():
            return head
        source = text.rstrip("\r\n").expandtabs(1)
        indent = len(source) - len(source.lstrip())
        shown = source.strip()[:300]
        caret = ""
        if type(column) is int and indent < column <= indent + len(shown) + 1:
            caret = "\n    " + " " * (column - 1 - indent) + "^"
        return f"{head}\n    {shown}{caret}"
    except BaseException:
        return "SyntaxError: the code does not parse"


def _student_trace(error: BaseException, workdir: str) -> str:
    try:
        frames = traceback.extract_tb(error.__traceback__)
        lines = []
        for frame in frames:
            if frame.filename.startswith(workdir + os.sep):
                lines.append(f"  File \"{Path(frame.filename).name}\", line {frame.lineno}, in {frame.name}")
                if frame.line:
                    lines.append(f"    {frame.line.strip()}")
        return ("\n" + "\n".join(lines[-20:])) if lines else ""
    except BaseException:
        return ""
