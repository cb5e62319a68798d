"""The sandbox against hostile submissions: each ends with an exact error kind, nothing leaks,
the grader and its zygote survive, and the next job still works."""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import Job, Limits, ObjectInfo, Outcome, TensorInfo, client, isolation, protocol, run

DRIVER = "grader.kinds.code.driver:call_function"
SECRET = "TOP-SECRET-REFERENCE-7f3a9"
FAST = Limits(wall_s=5.0, cpu_s=5.0)


@pytest.fixture()
def secret(tmp_path: Path) -> Path:
    """A stand-in for solutions/: a file outside the child's directory."""
    folder = tmp_path / "solutions"
    folder.mkdir()
    path = folder / "ex03.py"
    path.write_text(f"ANSWER = '{SECRET}'\n")
    return path


def run_code(folder: Path, source: str, calls: list[list] | None = None, limits: Limits = FAST,
             function: str = "f", files: dict[str, Path] | None = None) -> Outcome:
    submission = folder / "s123"
    submission.mkdir(exist_ok=True)
    module = submission / "ex03.py"
    module.write_text(textwrap.dedent(source))
    payload = {"function": function, "calls": [{"args": args} for args in (calls or [[]])],
               "return_inputs": True}
    return run(Job(DRIVER, module, payload, limits, files or {}))


def first(outcome: Outcome) -> dict:
    assert outcome.ok, (outcome.error_kind, outcome.error, outcome.stdout)
    return outcome.value[0]


def no_leak(outcome: Outcome) -> None:
    assert SECRET not in repr(outcome)


def proc_state(pid: int | str) -> str | None:
    """The state letter of /proc/<pid>/stat, or None for a process that is gone. A process
    may exit between any two reads: its files vanish (FileNotFoundError), or a read while
    it is being torn down fails with ESRCH (ProcessLookupError), or returns nothing."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # OSError covers FileNotFoundError and ProcessLookupError
        return None


def children_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def live_children(pid: int, expected: int = 1) -> list[str]:
    """The zygote's children that are not zombies; waits (up to 5 s) for those killed after
    they answered to finish tearing down, so that only the idle spare remains."""
    deadline = time.monotonic() + 5
    while True:
        live = []
        for child in children_of(pid):
            state = proc_state(child)
            if state is not None and state not in ("Z", "X"):
                live.append(child)
        if len(live) <= expected or time.monotonic() > deadline:
            return live
        time.sleep(0.05)


def assert_healthy(tmp_path: Path) -> None:
    """The batch goes on: the same zygote serves a normal job and has no children left."""
    pid = client.zygote_pid()
    outcome = run_code(tmp_path / "next", "def f(x):\n    return x + 1\n", [[41]])
    assert first(outcome)["value"] == 42
    assert client.zygote_pid() == pid
    assert len(live_children(pid)) <= 1


@pytest.fixture(autouse=True)
def _folder(tmp_path: Path) -> None:
    (tmp_path / "next").mkdir()


# ----------------------------------------------------------------------------- baseline


def test_plain_call_returns_values_layers_and_stdout(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, """
        import numpy as np
        def f(x):
            print("hi")
            return x * 2, np.float32(1.5), {"k": [1, None]}, b"png"
        """, [[np.arange(3.0)]])
    got = first(outcome)
    value = got["value"]
    assert np.array_equal(value[0], [0.0, 2.0, 4.0]) and value[0].dtype == np.float64
    assert value[1] == np.float32(1.5) and value[1].dtype == np.float32
    assert value[2] == {"k": [1, None]} and value[3] == b"png"
    assert np.array_equal(got["inputs"][0], [0.0, 1.0, 2.0])
    assert outcome.stdout == "hi\n"
    assert outcome.layers == ("pidns+ipcns", "rlimits", "tmpfs", "userns+netns", "landlock", "seccomp"), outcome.warnings


def test_torch_tensors_cross_with_dtype_and_device(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    outcome = run_code(tmp_path, """
        import torch
        def f(x):
            return x.to(torch.float16) * 2, torch.ones(2, requires_grad=True)
        """, [[torch.arange(3.0)]])
    half, ones = first(outcome)["value"]
    assert isinstance(half, TensorInfo) and half.dtype == "torch.float16" and half.device == "cpu"
    assert np.array_equal(half.array, [0, 2, 4]) and ones.requires_grad


def test_the_grader_never_unpickles(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, """
        import numpy as np
        def f():
            return np.array([object()], dtype=object)
        """)
    value = first(outcome)["value"]
    assert isinstance(value, ObjectInfo) and "dtype object" in value.reason


# ----------------------------------------------------------------------------- time


def test_infinite_loop_times_out(tmp_path: Path) -> None:
    started = time.monotonic()
    outcome = run_code(tmp_path, "def f():\n    while True:\n        pass\n", limits=Limits(wall_s=1.0, cpu_s=10))
    assert outcome.error_kind == "timeout" and "1 s" in outcome.error
    assert time.monotonic() - started < 8  # the 1 s limit and the sandbox's start, well before cpu_s
    assert_healthy(tmp_path)


def test_cpu_limit_stops_a_busy_loop(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "def f():\n    while True:\n        pass\n", limits=Limits(wall_s=10, cpu_s=1))
    assert outcome.error_kind == "timeout" and "CPU" in outcome.error


def test_sleeping_forever_times_out(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "import time\ndef f():\n    time.sleep(100)\n", limits=Limits(wall_s=1))
    assert outcome.error_kind == "timeout"


def test_loop_at_import_time_times_out(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "while True:\n    pass\n", limits=Limits(wall_s=1))
    assert outcome.error_kind == "timeout"


# ----------------------------------------------------------------------------- processes


@pytest.mark.parametrize("source", [
    "import os\ndef f():\n    while True:\n        os.fork()\n",
    "import subprocess\ndef f():\n    subprocess.run(['sh', '-c', 'echo hi'])\n",
    "import multiprocessing\ndef f():\n    p = multiprocessing.Process(target=print)\n    p.start()\n",
    "import os\ndef f():\n    os.execv('/bin/sh', ['sh'])\n",
], ids=["fork-bomb", "subprocess", "multiprocessing", "exec"])
def test_fork_bomb_and_friends_are_refused(tmp_path: Path, source: str) -> None:
    got = first(run_code(tmp_path, source))
    assert got["ok"] is False and got["kind"] == "exception"
    assert any(word in got["error"] for word in ("PermissionError", "Operation not permitted", "BlockingIOError",
                                                  "OSError"))
    assert "pwned" not in got["error"]
    assert_healthy(tmp_path)


def test_os_system_runs_nothing(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "import os\ndef f():\n    return os.system('echo pwned')\n")
    assert first(outcome)["value"] != 0 and "pwned" not in outcome.stdout


def test_threads_still_work(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, """
        import threading
        def f():
            out = []
            threads = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]
            for t in threads: t.start()
            for t in threads: t.join()
            return sorted(out)
        """))
    assert got["value"] == [0, 1, 2, 3]


def test_killing_the_parent_is_refused(tmp_path: Path) -> None:
    pid = client.zygote_pid()
    got = first(run_code(tmp_path, "import os\ndef f():\n    os.kill(os.getppid(), 9)\n"))
    assert got["kind"] == "exception" and "PermissionError" in got["error"]
    assert client.zygote_pid() == pid
    assert_healthy(tmp_path)


def test_signalling_the_grader_is_refused(tmp_path: Path) -> None:
    # signal 0 only probes permission, so a failure here cannot hurt the test run
    got = first(run_code(tmp_path, f"import os\ndef f():\n    os.kill({os.getpid()}, 0)\n"))
    assert got["kind"] == "exception" and "PermissionError" in got["error"]


def test_grader_survives_a_dead_zygote(tmp_path: Path) -> None:
    zygote = client.zygote_pid()
    os.kill(zygote, 9)
    deadline = time.monotonic() + 30  # dead, not dying: a dying zygote's spare may still serve
    while proc_state(zygote) not in (None, "Z", "X") and time.monotonic() < deadline:
        time.sleep(0.01)
    outcome = run_code(tmp_path, "def f():\n    return 1\n")
    assert outcome.error_kind == "sandbox" or first(outcome)["value"] == 1
    assert_healthy(tmp_path)


def test_sys_exit_before_returning(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, "import sys\ndef f():\n    sys.exit(0)\n"))
    assert got["kind"] == "exit" and "sys.exit" in got["error"]


def test_os_exit_before_returning(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "import os\ndef f():\n    os._exit(0)\n")
    assert outcome.error_kind == "exit" and "exit status 0" in outcome.error
    assert_healthy(tmp_path)


def test_a_nul_byte_in_the_module_is_reported_with_its_line(tmp_path: Path) -> None:
    """Python's "source code string cannot contain null bytes" names no line."""
    outcome = run_code(tmp_path, "def f():\n    return 1\n# pasted\x00here\n")
    assert outcome.error_kind == "exception" and "null bytes" in outcome.error
    assert "importing ex03.py failed" in outcome.error and "(the first is on line 3)" in outcome.error


def test_segfault_is_a_crash(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "import ctypes\ndef f():\n    ctypes.string_at(0)\n")
    assert outcome.error_kind == "crash" and "SIGSEGV" in outcome.error
    assert_healthy(tmp_path)


# ----------------------------------------------------------------------------- memory, output


@pytest.mark.parametrize("source, kind, needle", [
    ("import numpy as np\ndef f():\n    return np.ones(50 * 10**9 // 8).sum()\n", "memory", "out of memory"),
    ("def f():\n    return len(bytearray(50 * 10**9))\n", "memory", "out of memory"),
    ("import torch\ndef f():\n    return torch.ones(50 * 10**9 // 4).sum()\n", "memory", "out of memory"),
    ("def f():\n    x = []\n    while True:\n        x.append(bytearray(10**8))\n", "memory", "out of memory"),
    ("import mmap\ndef f():\n    return len(mmap.mmap(-1, 50 * 10**9))\n", "memory", "out of memory"),
    ("import mmap\ndef f():\n    return len(mmap.mmap(-1, 4 * 10**9))\n", "memory", "out of memory"),
    ("import os\ndef f():\n    return os.memfd_create('x')\n", "exception", "PermissionError"),
], ids=["numpy-50GB", "bytearray-50GB", "torch-50GB", "growing-list", "shared-mmap-50GB", "shared-mmap-4GB",
        "memfd"])
def test_allocating_50_gb_is_a_memory_error(tmp_path: Path, source: str, kind: str, needle: str) -> None:
    got = first(run_code(tmp_path, source, limits=Limits(wall_s=20, memory_mb=1536)))
    assert got["ok"] is False and got["kind"] == kind and needle in got["error"], got
    assert_healthy(tmp_path)


@pytest.mark.parametrize("source", [
    "def f():\n    for _ in range(1000):\n        print('x' * 10**6)\n",
    "import os\ndef f():\n    for _ in range(1000):\n        os.write(1, b'x' * 10**6)\n",
    "import sys\ndef f():\n    for _ in range(1000):\n        sys.stderr.write('x' * 10**6)\n",
], ids=["print", "os.write", "stderr"])
def test_printing_a_gigabyte_is_an_output_error(tmp_path: Path, source: str) -> None:
    started = time.monotonic()
    outcome = run_code(tmp_path, source, limits=Limits(wall_s=20))
    assert outcome.error_kind == "output" and "printed more than" in outcome.error
    assert len(outcome.stdout) <= Limits().output_bytes
    assert time.monotonic() - started < 10
    assert_healthy(tmp_path)


def test_huge_result_is_an_output_error(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "import numpy as np\ndef f():\n    return np.zeros(10**6)\n",
                       limits=Limits(result_bytes=100_000))
    assert outcome.error_kind == "output" and "returned more than" in outcome.error


def test_big_file_write_fails_inside_the_child(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, "def f():\n    open('big', 'wb').write(b'x' * 10**6)\n",
                         limits=Limits(file_bytes=1000)))
    assert got["kind"] == "exception" and "File too large" in got["error"]


# ----------------------------------------------------------------------------- files


def test_reading_a_solutions_file_by_absolute_path(tmp_path: Path, secret: Path) -> None:
    got = first(run_code(tmp_path, f"def f():\n    return open({str(secret)!r}).read()\n"))
    assert got["kind"] == "exception" and "PermissionError" in got["error"]
    no_leak(run_code(tmp_path, f"def f():\n    return open({str(secret)!r}).read()\n"))


def test_reading_the_real_solutions_and_specs_folders(tmp_path: Path) -> None:
    for folder in ("solutions", "exercises", "grader"):
        got = first(run_code(tmp_path, f"import os\ndef f():\n    return os.listdir({str(client.PACKAGE_ROOT / folder)!r})\n"))
        assert got["kind"] == "exception" and "PermissionError" in got["error"], folder


def test_reading_a_solutions_file_through_dotdot(tmp_path: Path, secret: Path) -> None:
    source = f"""
        import os
        def f():
            up = '../' * (os.getcwd().count('/'))
            return open(up + {str(secret).lstrip('/')!r}).read()
        """
    outcome = run_code(tmp_path, source)
    got = first(outcome)
    assert got["kind"] == "exception" and "PermissionError" in got["error"]
    no_leak(outcome)


def test_reading_through_a_symlink_in_the_submission(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "s123").mkdir()
    (tmp_path / "s123" / "notes.txt").symlink_to(secret)
    source = f"def f():\n    return open({str(tmp_path / 's123' / 'notes.txt')!r}).read()\n"
    outcome = run_code(tmp_path, source)
    assert first(outcome)["kind"] == "exception"
    no_leak(outcome)


def test_a_symlinked_module_is_refused(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "s9").mkdir()
    link = tmp_path / "s9" / "ex03.py"
    link.symlink_to(secret)
    outcome = run(Job(DRIVER, link, {"function": "f", "calls": []}))
    assert outcome.error_kind == "refused" and "symbolic link" in outcome.error
    no_leak(outcome)


@pytest.mark.parametrize("make, needle", [
    (lambda path: path.mkdir(), "is a folder, not a file"),
    (lambda path: os.mkfifo(path), "is not a regular file"),
])
def test_a_module_that_is_a_folder_or_a_fifo_is_refused_by_name(tmp_path: Path, make, needle: str) -> None:
    """A folder under the module's name once reached the grader as IsADirectoryError (a
    grader fault); a FIFO must never block the read."""
    (tmp_path / "s9").mkdir()
    module = tmp_path / "s9" / "ex03.py"
    make(module)
    started = time.monotonic()
    outcome = run(Job(DRIVER, module, {"function": "f", "calls": []}))
    assert outcome.error_kind == "refused" and f"ex03.py {needle}" in outcome.error
    assert time.monotonic() - started < 30


def test_a_symlinked_extra_file_is_refused(tmp_path: Path, secret: Path) -> None:
    link = tmp_path / "data.txt"
    link.symlink_to(secret)
    outcome = run_code(tmp_path, "def f():\n    return 1\n", files={"data.txt": link})
    assert outcome.error_kind == "refused"
    no_leak(outcome)


def test_a_symlink_made_inside_the_sandbox_does_not_help(tmp_path: Path, secret: Path) -> None:
    source = f"import os\ndef f():\n    os.symlink({str(secret)!r}, 'x')\n    return open('x').read()\n"
    outcome = run_code(tmp_path, source)
    assert first(outcome)["kind"] == "exception"
    no_leak(outcome)


def test_filling_the_disk_stops_at_the_private_tmpfs(tmp_path: Path) -> None:
    source = """
        def f():
            for i in range(1000):
                with open(f'chunk{i}', 'wb') as handle:
                    handle.write(b'x' * 10**6)
        """
    got = first(run_code(tmp_path, source, limits=Limits(file_bytes=2_000_000)))
    assert got["kind"] == "exception" and "No space left on device" in got["error"]


def test_extra_files_are_readable(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("1,2\n")
    got = first(run_code(tmp_path, "def f():\n    return open('data.csv').read()\n", files={"data.csv": data}))
    assert got["value"] == "1,2\n"


@pytest.mark.parametrize("target", ["/tmp/grader-escape.txt", "{home}/escape.txt", "../escape.txt"])
def test_writing_outside_its_directory(tmp_path: Path, target: str) -> None:
    target = target.format(home=tmp_path)
    got = first(run_code(tmp_path, f"def f():\n    open({target!r}, 'w').write('x')\n"))
    assert got["kind"] == "exception" and "PermissionError" in got["error"]
    assert not Path("/tmp/grader-escape.txt").exists() and not (tmp_path / "escape.txt").exists()


def test_writing_inside_its_directory_works_and_is_cleaned(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, """
        import os
        def f():
            open('scratch.txt', 'w').write('ok')
            open('out/figure.png', 'wb').write(b'PNG')
            return os.getcwd()
        """)
    workdir = first(outcome)["value"]
    assert outcome.files == {"figure.png": b"PNG"}
    client._sweeper.flush()
    assert not os.path.exists(workdir)


def test_other_jobs_directories_are_invisible(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "import os, tempfile\ndef f():\n    return os.listdir(os.path.dirname(os.getcwd()))\n")
    assert first(outcome)["kind"] == "exception"


def test_environment_is_scrubbed(tmp_path: Path) -> None:
    os.environ["GRADER_TEST_SECRET"] = SECRET
    try:
        got = first(run_code(tmp_path, "import os, sys\ndef f():\n    return dict(os.environ), sys.flags.isolated\n"))
    finally:
        del os.environ["GRADER_TEST_SECRET"]
    env, isolated = got["value"]
    assert SECRET not in repr(env) and set(env) >= {"HOME", "TMPDIR"} and isolated == 1


# ----------------------------------------------------------------------------- network


def test_opening_a_network_socket_is_refused(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    try:
        got = first(run_code(tmp_path, f"""
            import socket
            def f():
                socket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'{SECRET}')
            """))
        assert got["kind"] == "exception" and "PermissionError" in got["error"]
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


@pytest.mark.parametrize("family", ["AF_UNIX", "AF_INET6", "AF_NETLINK"])
def test_no_socket_family_is_allowed(tmp_path: Path, family: str) -> None:
    got = first(run_code(tmp_path, f"import socket\ndef f():\n    socket.socket(socket.{family})\n"))
    assert got["kind"] == "exception" and "PermissionError" in got["error"]


# ----------------------------------------------------------------------------- values


def test_object_whose_eq_is_always_true_does_not_cross(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, """
        class Cheat:
            def __eq__(self, other): return True
            __hash__ = object.__hash__
        def f():
            return Cheat()
        """))
    assert isinstance(got["value"], ObjectInfo) and got["value"].type.endswith("Cheat")


@pytest.mark.parametrize("base", ["float", "int", "list", "tuple", "str"])
def test_builtin_subclasses_do_not_cross_as_the_builtin(tmp_path: Path, base: str) -> None:
    got = first(run_code(tmp_path, f"class Sneaky({base}):\n    def __eq__(self, o): return True\ndef f():\n    return Sneaky()\n"))
    assert isinstance(got["value"], ObjectInfo) and got["value"].type.endswith("Sneaky")


def test_ndarray_subclass_is_reported_as_such(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, """
        import numpy as np
        class Sneaky(np.ndarray):
            def __eq__(self, other): return np.ones(np.shape(other), bool)
        def f():
            return np.zeros(3).view(Sneaky)
        """))
    assert isinstance(got["value"], ObjectInfo) and got["value"].type.startswith("numpy.ndarray subclass")


def test_tensor_on_the_meta_device(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    got = first(run_code(tmp_path, "import torch\ndef f():\n    return torch.ones(2, 3, device='meta')\n"))
    value = got["value"]
    assert isinstance(value, TensorInfo) and value.device == "meta" and value.array is None
    assert value.shape == (2, 3)


def test_nan_crosses_as_nan(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, "import numpy as np\ndef f():\n    return float('nan'), np.array([np.nan, np.inf])\n"))
    scalar, array = got["value"]
    assert np.isnan(scalar) and np.isnan(array[0]) and np.isinf(array[1])


@pytest.mark.parametrize("patch", [
    "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
    "np.asarray = lambda *a, **k: 1.0\n",
    "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\n",
    "import torch\ntorch.allclose = lambda *a, **k: True\ntorch.Tensor.numpy = lambda self: 42\n",
], ids=["numpy", "builtins", "torch"])
def test_monkeypatching_stays_in_the_child(tmp_path: Path, patch: str) -> None:
    outcome = run_code(tmp_path, patch + "import numpy as np\ndef f():\n    return np.zeros(2) + 0.5\n")
    assert np.array_equal(first(outcome)["value"], [0.5, 0.5])
    assert not np.allclose(np.zeros(2), np.ones(2)) and abs(-1) == 1 and not isinstance(1, str)


def test_names_the_module_rebinds_in_the_driver_are_put_back(tmp_path: Path) -> None:
    """A module that rebinds the driver's helpers on import: the driver runs as written."""
    outcome = run_code(tmp_path, """
        import sys
        driver = sys.modules["grader.kinds.code.driver"]
        driver._student_function = lambda module, name: (lambda *args: "faked")
        def f():
            return "real"
        """)
    assert first(outcome)["value"] == "real"


def test_importing_grader_cannot_fake_a_verdict(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, """
        import grader.sandbox
        def f():
            return grader.sandbox.Outcome(True, 1, None, None, "", (), (), 0.0)
        """))
    assert isinstance(got["value"], ObjectInfo) and got["value"].type.endswith("Outcome")
    outcome = run_code(tmp_path, "import grader.core.model\ndef f():\n    return grader.core.model.Verdict('correct', 1.0)\n")
    assert outcome.error_kind == "exception"
    assert "ModuleNotFoundError" in outcome.error or "PermissionError" in outcome.error
    got = first(run_code(tmp_path, "def f():\n    import grader.kinds.numeric\n"))
    assert got["kind"] == "exception"


def test_writing_a_fake_result_frame_is_tampering(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, """
        import os
        def f():
            os.write(3, b'R' + (10**6).to_bytes(8, 'big') + b'{"verdict": "correct"}')
            os._exit(0)
        """)
    assert outcome.error_kind == "protocol" and "tampering" in outcome.error


def test_a_forged_error_kind_is_tampering(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, """
        import os
        from grader.sandbox import protocol
        def f():
            os.write(3, protocol.frame(b'E', protocol.encode({'kind': 'sandbox', 'message': 'grader fault'})))
            os._exit(0)
        """)
    assert outcome.error_kind == "protocol"


# ----------------------------------------------------------------------------- exceptions


@pytest.mark.parametrize("source, kind, needle", [
    ("def f():\n    raise ValueError('bad shape')\n", "exception", "ValueError: bad shape"),
    ("def f():\n    return 1 / 0\n", "exception", "ZeroDivisionError"),
    ("def f():\n    raise KeyboardInterrupt\n", "exception", "KeyboardInterrupt"),
    ("def f():\n    raise GeneratorExit\n", "exception", "GeneratorExit"),
    ("class Odd(BaseException):\n    pass\ndef f():\n    raise Odd('x')\n", "exception", "Odd: x"),
    ("class Bad(Exception):\n    def __str__(self): raise RuntimeError\ndef f():\n    raise Bad()\n",
     "exception", "Bad"),
    ("class Bad(Exception):\n    def __str__(self): return 42\ndef f():\n    raise Bad()\n", "exception", "Bad"),
    ("def f():\n    raise ValueError('x' * 10**7)\n", "exception", "ValueError"),
    ("def f():\n    return f()\n", "exception", "RecursionError"),
    ("def f():\n    raise SystemExit('bye')\n", "exit", "sys.exit"),
    ("def f():\n    raise MemoryError\n", "memory", "memory"),
    ("import numpy as np\ndef f():\n    return np.ones((2, 3)) @ np.ones((2, 3))\n", "exception", "matmul"),
], ids=["value", "zerodiv", "keyboard", "generatorexit", "baseexception", "str-raises", "str-not-str",
        "huge-message", "recursion", "systemexit", "memoryerror", "numpy"])
def test_exceptions_of_every_kind(tmp_path: Path, source: str, kind: str, needle: str) -> None:
    got = first(run_code(tmp_path, source))
    assert got["ok"] is False and got["kind"] == kind and needle in got["error"], got
    assert len(got["error"]) < 10_000
    assert "grader" not in got["error"].split("\n", 1)[-1], "trace must be cut to the student's lines"


def test_trace_points_at_the_students_line(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, "def helper():\n    raise ValueError('deep')\n\ndef f():\n    return helper()\n"))
    assert 'File "ex03.py", line 2, in helper' in got["error"] and 'line 5, in f' in got["error"]


@pytest.mark.parametrize("source, needle", [
    ("def f(:\n", "SyntaxError"),
    ("import no_such_module_xyz\n", "ModuleNotFoundError"),
    ("raise RuntimeError('at import')\n", "RuntimeError: at import"),
])
def test_errors_at_import_time(tmp_path: Path, source: str, needle: str) -> None:
    outcome = run_code(tmp_path, source)
    assert outcome.error_kind == "exception" and "importing ex03.py failed" in outcome.error
    assert needle in outcome.error


def test_missing_function(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "def g():\n    pass\n")
    assert outcome.error_kind == "missing" and "does not define f()" in outcome.error


def test_one_failing_call_keeps_the_others(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, "def f(x):\n    return 1 / x\n", [[1], [0], [4]])
    assert [c["ok"] for c in outcome.value] == [True, False, True]


def test_input_mutation_is_visible(tmp_path: Path) -> None:
    got = first(run_code(tmp_path, "def f(x):\n    x[0] = 99\n    return x.sum()\n", [[np.zeros(3)]]))
    assert got["inputs"][0][0] == 99


# ----------------------------------------------------------------------------- degraded mode


def test_without_landlock_seccomp_still_blocks_sockets_and_warns(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(client.DISABLE_VARIABLE, "landlock")
    outcome = run_code(tmp_path, "import socket\ndef f():\n    socket.socket()\n")
    assert "landlock" not in outcome.layers and "seccomp" in outcome.layers
    assert any("landlock" in warning for warning in outcome.warnings)
    assert first(outcome)["kind"] == "exception" and "PermissionError" in first(outcome)["error"]


def test_without_seccomp_landlock_still_blocks_files_and_signals(tmp_path: Path, secret: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(client.DISABLE_VARIABLE, "seccomp,userns+netns,tmpfs")
    outcome = run_code(tmp_path, f"import os\ndef f():\n    os.kill(os.getppid(), 0)\n    return open({str(secret)!r}).read()\n")
    assert outcome.layers == ("pidns+ipcns", "rlimits", "landlock") and len(outcome.warnings) == 3
    assert first(outcome)["kind"] == "exception" and "PermissionError" in first(outcome)["error"]
    no_leak(outcome)


# ----------------------------------------------------------------------------- zygote


def test_zygote_stays_single_threaded_after_parallel_jobs(tmp_path: Path) -> None:
    """The fork-after-threaded-op trap: a zygote that ran a parallel op hangs its children."""
    pytest.importorskip("torch")
    source = """
        import torch
        def f():
            x = torch.randn(512, 512)
            return float((x @ x).sum() + torch.nn.functional.relu(x).sum()), torch.get_num_threads()
        """
    for _ in range(3):
        got = first(run_code(tmp_path, source, limits=Limits(wall_s=20, threads=2)))
        assert got["ok"] and got["value"][1] == 2
    pid = client.zygote_pid()
    assert len(os.listdir(f"/proc/{pid}/task")) == 1


def test_a_child_that_runs_parallel_ops_after_a_previous_child_did_does_not_hang(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    source = "import torch\ndef f():\n    return float(torch.ones(2_000_000).mul(2).sum())\n"
    for _ in range(2):
        assert first(run_code(tmp_path, source, limits=Limits(wall_s=10, threads=2)))["value"] == 4_000_000.0


def test_forked_workers_get_their_own_zygote(tmp_path: Path) -> None:
    parent_zygote = client.zygote_pid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            outcome = run_code(tmp_path, "def f():\n    return 7\n")
            os.write(write, f"{client.zygote_pid()} {outcome.value[0]['value']}".encode())
            client.shutdown()
        finally:
            os._exit(0)
    os.close(write)
    child_zygote, value = os.read(read, 100).decode().split()
    os.waitpid(pid, 0)
    assert value == "7" and int(child_zygote) != parent_zygote


def test_a_dead_spare_child_is_replaced(tmp_path: Path) -> None:
    pid = client.zygote_pid()
    spares = live_children(pid)
    for spare in spares:
        os.kill(int(spare), 9)
    deadline = time.monotonic() + 30
    while any(proc_state(spare) not in (None, "Z", "X") for spare in spares) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first(run_code(tmp_path, "def f():\n    return 5\n"))["value"] == 5
    assert client.zygote_pid() == pid


def test_concurrent_threads_share_the_zygote_safely(tmp_path: Path) -> None:
    results: list[int] = []

    def work(i: int) -> None:
        folder = tmp_path / f"t{i}"
        folder.mkdir()
        results.append(first(run_code(folder, f"def f():\n    return {i}\n"))["value"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2, 3]


# ----------------------------------------------------------------------------- units


def test_drivers_outside_the_grader_package_are_refused(tmp_path: Path) -> None:
    for name in ("os:system", "solutions.inf5860.ex03:hidden_layer", "grader.kinds.code.driver"):
        outcome = run(Job(name, None, {}))
        assert outcome.error_kind == "refused"


@pytest.mark.parametrize("name", ["", "..", ".hidden", "a/b", "payload.bin", "out", "x" * 200])
def test_unsafe_extra_file_names_are_refused(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data.txt"
    data.write_text("1")
    assert run_code(tmp_path, "def f():\n    return 1\n", files={name: data}).error_kind == "refused"


def test_payloads_that_cannot_cross_are_the_callers_bug() -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.encode({"x": object()}, strict=True)


@pytest.mark.parametrize("blob", [
    b"", b"\x00" * 8, b"\x00\x00\x00\x00\x00\x00\x00\x05{\"a\":", b"\x00\x00\x00\x00\x00\x00\x00\x02[]",
    protocol.encode(1)[:-1] + b"x" * 3,
])
def test_decoding_garbage_raises_protocol_error(blob: bytes) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(blob)


def test_decoding_refuses_pickled_arrays() -> None:
    import io
    import json
    import struct

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    header = json.dumps({"value": {"$": "ndarray", "part": 0}, "parts": [len(buffer.getvalue())]}).encode()
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(struct.pack(">Q", len(header)) + header + buffer.getvalue())


def test_round_trip() -> None:
    value = {"a": (1, 2.5, None, "s"), "b": [np.arange(4).reshape(2, 2), np.float32(2)], "c": b"\x00"}
    back = protocol.decode(protocol.encode(value))
    assert back["a"] == (1, 2.5, None, "s") and np.array_equal(back["b"][0], [[0, 1], [2, 3]])
    assert back["b"][1].dtype == np.float32 and back["c"] == b"\x00"


def test_seccomp_program_assembles_for_both_architectures() -> None:
    for arch in ("x86_64", "aarch64"):
        program = isolation.seccomp_program(1234, arch)
        assert len(program) % 8 == 0 and len(program) // 8 < 256
