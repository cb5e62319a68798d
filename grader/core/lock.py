"""One writer per output folder: a lock file that a `grader grade` holds while it runs.

Two runs into one `--out` interleave their result files and each writes a gradebook of
its own students, so the last one to finish leaves a grades.csv that lists half of
results/. The second run is refused instead, with who holds the folder.

The lock is `flock` on `<folder>/.grader.lock`: the kernel lets go of it when its holder
dies however it dies (killed, power cut on a local disk), so a lock left behind by a dead
run is simply taken over; the file says which run it was, for the message and the
take-over note. Where the file system has no flock (some network mounts), the pid written
in the file decides instead: a live process on this host holds the folder, anything else
is stale.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from grader.core.errors import GraderError

LOCK_NAME = ".grader.lock"


class FolderBusy(GraderError):
    """Another run holds the folder (exit code 2, as for any unusable input)."""


@dataclass(frozen=True)
class Held:
    """A lock this process holds; `taken_over` describes a stale holder it replaced, if any."""

    path: Path
    taken_over: str = ""


@contextlib.contextmanager
def hold(folder: Path, command: str = "grader grade") -> Iterator[Held]:
    """Hold `folder`'s lock for the `with` block; FolderBusy when another live run holds it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GraderError(f"{folder}: cannot make the output folder ({error.strerror})") from None
    path = folder / LOCK_NAME
    fd, previous = _acquire(path, command)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(_holder(command)) + "\n").encode())
        yield Held(path, _describe(previous) if previous else "")
    finally:
        _release(path, fd)


def running(folder: Path) -> bool:
    """Whether a live run holds `folder` now, judged from its lock file without taking the
    lock: taking it, even for a moment, would refuse a `grade` that starts then. A file left
    by a run that died (its pid is gone) does not count."""
    try:
        fd = os.open(Path(folder) / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        holder = _read(fd)
    finally:
        os.close(fd)
    return bool(holder) and not holder.get("unreadable") and _alive(holder)


def _acquire(path: Path, command: str) -> tuple[int, dict]:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as error:  # a link in its place, a folder that cannot be written
            raise GraderError(f"{path}: cannot open the lock file ({error.strerror}); "
                              "is the folder writable, and is that name a plain file?") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            previous = _read(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise FolderBusy(_busy(path, previous, command)) from None
            if _alive(previous):  # no flock on this file system: the pid decides
                os.close(fd)
                raise FolderBusy(_busy(path, previous, command)) from None
            return fd, previous
        # between open and flock the holder may have removed the file (and a third run made
        # a new one): only the file still at the path counts
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            return fd, _read(fd)
        os.close(fd)


def _release(path: Path, fd: int) -> None:
    # remove the file while still holding it: a run waiting on this inode sees it gone
    with contextlib.suppress(OSError):
        if os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False)):
            os.unlink(path)
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)  # forked workers share the descriptor: let go for all
    os.close(fd)


def _holder(command: str) -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _read(fd: int) -> dict:
    try:
        data = os.pread(fd, 4096, 0)
        found = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (OSError, ValueError):
        return {"unreadable": True}
    return found if isinstance(found, dict) else {"unreadable": True}


def _alive(holder: dict) -> bool:
    pid = holder.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or pid == os.getpid():
        return False
    if holder.get("host") not in (None, socket.gethostname()):
        return True  # another machine's process cannot be asked: assume it is running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _describe(holder: dict) -> str:
    if holder.get("unreadable"):
        return "an unreadable lock file"
    parts = [str(holder.get("command") or "a run")]
    if isinstance(holder.get("pid"), int):
        parts.append(f"pid {holder['pid']}")
    if holder.get("host"):
        parts.append(f"on {holder['host']}")
    if holder.get("since"):
        parts.append(f"since {holder['since']}")
    return " ".join(parts)


def _busy(path: Path, holder: dict, command: str) -> str:
    who = _describe(holder) if holder else "another run"
    return (f"{path.parent} is in use by {who}; wait until it finishes or write to another folder "
            f"(two `{command}` runs into one folder would mix their results). "
            f"If no such run exists any more, remove {path}.")
