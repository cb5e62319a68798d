"""grader.core.lock: one run holds an output folder; a live holder refuses the next, a dead
one's lock is taken over."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core import lock
from grader.core.errors import EXIT_USAGE, GraderError

HOLD = """
import sys, time
from pathlib import Path
from grader.core import lock
with lock.hold(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_lock(folder: Path, pid: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / lock.LOCK_NAME
    path.write_text(json.dumps({"pid": pid, "host": os.uname().nodename, "command": "grader grade",
                                "since": "2026-01-01T00:00:00+00:00"}))
    return path


def test_a_held_folder_refuses_a_second_holder_and_is_free_after(tmp_path: Path) -> None:
    with lock.hold(tmp_path / "out") as held:
        assert held.path.is_file() and held.taken_over == ""
        assert json.loads(held.path.read_text())["pid"] == os.getpid()
        with pytest.raises(lock.FolderBusy) as refused:
            with lock.hold(tmp_path / "out"):
                pass
        assert refused.value.exit_code == EXIT_USAGE
        assert f"pid {os.getpid()}" in str(refused.value) and "wait until it finishes" in str(refused.value)
    assert not (tmp_path / "out" / lock.LOCK_NAME).exists()
    with lock.hold(tmp_path / "out"):
        pass


def test_a_folder_held_by_another_process_is_refused(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(lock.FolderBusy, match=f"pid {holder.pid}"):
            with lock.hold(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with lock.hold(tmp_path) as held:  # killed: the kernel let go of its lock
        assert f"pid {holder.pid}" in held.taken_over


def test_a_stale_lock_of_a_dead_pid_is_taken_over(tmp_path: Path) -> None:
    pid = dead_pid()
    write_lock(tmp_path, pid)
    with lock.hold(tmp_path) as held:
        assert f"pid {pid}" in held.taken_over
        assert json.loads(held.path.read_text())["pid"] == os.getpid()
    assert not held.path.exists()


@pytest.mark.parametrize("content", ["", "garbage", "[1]", '{"pid": "x"}'])
def test_an_unreadable_lock_file_is_taken_over(tmp_path: Path, content: str) -> None:
    (tmp_path / lock.LOCK_NAME).write_text(content)
    with lock.hold(tmp_path):
        pass


def test_without_flock_the_pid_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_flock(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "no locks on this file system")

    monkeypatch.setattr(lock.fcntl, "flock", no_flock)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(tmp_path, sleeper.pid)
        with pytest.raises(lock.FolderBusy, match=f"pid {sleeper.pid}"):
            with lock.hold(tmp_path):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    pid = dead_pid()
    write_lock(tmp_path, pid)
    with lock.hold(tmp_path) as held:
        assert f"pid {pid}" in held.taken_over


def test_a_linked_lock_file_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / lock.LOCK_NAME).symlink_to(target)
    with pytest.raises(GraderError, match="cannot open the lock file"):
        with lock.hold(tmp_path / "out"):
            pass
    assert target.read_text() == "keep"



def test_running_tells_a_live_run_from_its_file(tmp_path: Path) -> None:
    """`running` (the review page asks it on every request) only reads the lock file, so a
    `grade` starting meanwhile is never refused because of it."""
    assert lock.running(tmp_path / "out") is False  # no folder, no file
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert lock.running(tmp_path) is True
        with pytest.raises(lock.FolderBusy):  # still held by the other process: nothing was taken
            with lock.hold(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert (tmp_path / lock.LOCK_NAME).exists() and lock.running(tmp_path) is False  # a dead run's file
    write_lock(tmp_path, dead_pid())
    assert lock.running(tmp_path) is False
    (tmp_path / lock.LOCK_NAME).write_text("{half")
    assert lock.running(tmp_path) is False
