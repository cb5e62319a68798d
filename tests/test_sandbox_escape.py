"""The sandbox, round two: no way out, no way across, no way to take the batch down.

Each attack class of the hostile-submission review: re-limiting or signalling the grader,
outliving the run, meeting the next job through SysV IPC, reading the previous job out of
the zygote, limits left on the zygote, and syscalls nobody listed. Each test asserts that
the attack fails, what the student is told, and that the next job is served normally.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox import Job, Limits, Outcome, client, isolation, run

DRIVER = "grader.kinds.code.driver:call_function"
FAST = Limits(wall_s=10.0, cpu_s=10.0)
ROOT = Path(__file__).resolve().parents[1]


def run_code(folder: Path, source: str, limits: Limits = FAST) -> Outcome:
    folder.mkdir(parents=True, exist_ok=True)
    module = folder / "ex03.py"
    module.write_text(textwrap.dedent(source))
    payload = {"function": "f", "calls": [{"args": []}], "return_inputs": False}
    return run(Job(DRIVER, module, payload, limits))


def value(outcome: Outcome) -> object:
    assert outcome.ok, (outcome.error_kind, outcome.error, outcome.stdout)
    first = outcome.value[0]
    assert first["ok"], first
    return first["value"]


def healthy(tmp_path: Path) -> None:
    assert value(run_code(tmp_path / "next", "def f():\n    return 41 + 1\n")) == 42


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (tolerating processes that exit while we look)."""
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        try:  # a process may exit between the listing and the reads: ESRCH or ENOENT
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            tasks = []
        for task in tasks:
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


# --- 1. the grader cannot be seen, re-limited or signalled -------------------------------------


def test_the_job_is_pid_1_and_sees_no_other_process(tmp_path: Path) -> None:
    got = value(run_code(tmp_path, """
        import os
        def f():
            seen = []
            for pid in range(2, 4096):
                try:
                    os.kill(pid, 0)
                    seen.append(pid)
                except OSError:
                    pass
            return [os.getpid(), os.getppid(), seen]
        """))
    assert got == [1, 0, []]


@pytest.mark.parametrize("attack, needle", [
    ("import resource, os\n    resource.prlimit(os.getppid() or 2, resource.RLIMIT_CPU, (1, 1))", "Error"),
    ("import resource\n    resource.prlimit({grader}, resource.RLIMIT_CPU, (1, 1))", "Error"),
    ("import os\n    os.setpriority(os.PRIO_PROCESS, {grader}, 19)", "Error"),
    ("import os\n    os.sched_setaffinity({grader}, {{0}})", "Error"),
    ("import os\n    os.pidfd_open({grader})", "Error"),
    ("import os\n    os.kill({grader}, 9)", "Error"),
    ("import os\n    os.setsid()", "PermissionError"),
])
def test_the_grader_cannot_be_re_limited_or_signalled(tmp_path: Path, attack: str, needle: str) -> None:
    grader = os.getpid()
    before = resource.prlimit(grader, resource.RLIMIT_CPU)
    outcome = run_code(tmp_path, "def f():\n    " + attack.format(grader=grader) + "\n    return 'done'\n")
    assert outcome.ok and not outcome.value[0]["ok"] and needle in outcome.value[0]["error"], outcome.value
    assert resource.prlimit(grader, resource.RLIMIT_CPU) == before
    healthy(tmp_path)


def test_a_job_may_read_and_lower_its_own_limits(tmp_path: Path) -> None:
    got = value(run_code(tmp_path, """
        import resource
        def f():
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft // 2, hard))
            return resource.getrlimit(resource.RLIMIT_NOFILE)[0] == soft // 2
        """))
    assert got is True


# --- 2. nothing outlives the run ---------------------------------------------------------------


def test_clearing_the_parent_death_signal_is_refused(tmp_path: Path) -> None:
    outcome = run_code(tmp_path, """
        import ctypes
        def f():
            libc = ctypes.CDLL(None, use_errno=True)
            return [libc.prctl(1, 0, 0, 0, 0), ctypes.get_errno(), libc.prctl(15, b"worker", 0, 0, 0)]
        """)
    result, error, named = value(outcome)
    assert result == -1 and error == 1 and named == 0  # EPERM; naming a thread still works


KILLED_RUN = """
import sys, threading, time
sys.path.insert(0, {root!r})
from pathlib import Path
from grader.sandbox import Job, Limits, client, run
print(client.zygote_pid(), flush=True)
job = Job("grader.kinds.code.driver:call_function", Path({module!r}),
          {{"function": "f", "calls": [{{"args": []}}], "return_inputs": False}}, Limits(wall_s=60, cpu_s=60))
threading.Thread(target=run, args=(job,), daemon=True).start()
time.sleep(3)
print("running", flush=True)
time.sleep(60)
"""


def test_kill_9_of_the_grader_leaves_no_process_behind(tmp_path: Path) -> None:
    module = tmp_path / "ex03.py"
    module.write_text("import time\ndef f():\n    time.sleep(50)\n")
    script = KILLED_RUN.format(root=str(ROOT), module=str(module))
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        zygote = int(grader.stdout.readline())
        assert grader.stdout.readline().strip() == "running"
        started = {zygote, *descendants(zygote)}
        assert len(started) >= 3  # zygote, job, the next spare
        grader.kill()
        grader.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if alive(pid)]
    finally:
        if grader.poll() is None:
            grader.kill()


# --- 3. jobs do not meet through SysV IPC -------------------------------------------------------


def sysv_objects() -> int:
    return sum(len(Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]) for kind in ("shm", "msg", "sem"))


def test_sysv_ipc_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    before = sysv_objects()
    outcome = run_code(tmp_path, """
        import ctypes
        def f():
            libc = ctypes.CDLL(None, use_errno=True)
            made = [libc.shmget(0, 1 << 20, 0o1666), libc.msgget(0, 0o1666), libc.semget(0, 1, 0o1666)]
            return [made, ctypes.get_errno()]
        """)
    made, error = value(outcome)
    assert made == [-1, -1, -1] and error == 1
    assert sysv_objects() == before


# --- 4. the zygote holds nothing of the previous job ------------------------------------------


def test_the_next_job_cannot_read_the_previous_jobs_output(tmp_path: Path) -> None:
    secret = "PREVIOUS-STUDENT-" + os.urandom(6).hex()
    first = run_code(tmp_path / "a", f"def f():\n    print({secret!r} * 50)\n    return {secret!r}\n")
    assert secret in first.stdout
    got = value(run_code(tmp_path / "b", f"""
        import gc, sys
        def f():
            needle = {secret[:9]!r} + {secret[9:]!r}
            found = [o for o in gc.get_objects() if isinstance(o, (str, bytes)) and needle in str(o)
                     and o is not needle]
            frame, frames = sys._getframe(), 0
            while frame is not None:
                found += [k for k, v in frame.f_locals.items() if needle in repr(v)[:100000] and v is not needle]
                frame, frames = frame.f_back, frames + 1
            memory = 0
            with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
                for line in maps:
                    start, end = (int(x, 16) for x in line.split()[0].split("-"))
                    if "r" not in line.split()[1] or end - start > 1 << 30:
                        continue
                    try:
                        mem.seek(start)
                        memory += mem.read(end - start).count(needle.encode())
                    except OSError:
                        pass
            return [len(found), memory]
        """))
    # the needle itself lives in this job's code and constants, nowhere from the first job
    found, memory = got
    assert found == 0 and memory <= 4


# --- 5. limits set on the zygote do not reach the next job ------------------------------------


def test_limits_set_on_the_zygote_are_not_inherited(tmp_path: Path) -> None:
    healthy(tmp_path)
    zygote = client.zygote_pid()
    try:
        resource.prlimit(zygote, resource.RLIMIT_NOFILE, (8, 8))
        resource.prlimit(zygote, resource.RLIMIT_STACK, (1 << 17, 1 << 17))
        resource.prlimit(zygote, resource.RLIMIT_SIGPENDING, (0, 0))
        resource.prlimit(zygote, resource.RLIMIT_MSGQUEUE, (0, 0))
        os.setpriority(os.PRIO_PROCESS, zygote, 19)
        os.sched_setaffinity(zygote, {min(os.sched_getaffinity(0))})
        got = value(run_code(tmp_path / "after", """
            import os, resource
            def f():
                return [resource.getrlimit(resource.RLIMIT_STACK)[0], resource.getrlimit(resource.RLIMIT_SIGPENDING)[0],
                        os.getpriority(os.PRIO_PROCESS, 0), len(os.sched_getaffinity(0))]
            """))
        stack, pending, niceness, cpus = got
        assert stack > 1 << 17 and pending > 0 and niceness < 19 and cpus == len(os.sched_getaffinity(0))
    finally:
        client.shutdown()  # the next test gets a fresh zygote
    healthy(tmp_path)


def test_the_pristine_state_is_restored_in_this_process() -> None:
    state = isolation.snapshot()
    isolation.restore(state)
    assert isolation.snapshot() == state


# --- 6. a call nobody listed is refused ---------------------------------------------------------


@pytest.mark.parametrize("call", ["libc.syscall(161, b'/')", "libc.syscall(155, b'/', b'/')", "libc.syscall(434, 1, 0)",
                                  "libc.syscall(425, 1, 0)", "libc.syscall(310, 1, 0, 0, 0, 0, 0)"])
def test_calls_off_the_allow_list_are_refused(tmp_path: Path, call: str) -> None:
    if os.uname().machine != "x86_64":
        pytest.skip("syscall numbers of x86_64")
    got = value(run_code(tmp_path, f"""
        import ctypes
        def f():
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            return [{call}, ctypes.get_errno()]
        """))
    assert got == [-1, 1]  # chroot, pivot_root, pidfd_open, io_uring_setup, process_vm_readv: EPERM
