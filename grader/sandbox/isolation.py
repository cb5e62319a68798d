"""The isolation layers a child applies to itself after the fork, before student code runs.

Each `apply_*` function returns None when the layer is active, or a warning string saying
why it is not (the child then goes on with the other layers). Everything goes through
ctypes and raw syscalls: Python 3.11 has no `os.unshare`, and a hand-written seccomp BPF
program avoids a dependency on libseccomp.

- rlimits: CPU, data segment, address space, file size, open files, core dumps.
- tmpfs: the private directory becomes a size-limited tmpfs in a private mount namespace.
- userns+netns: `unshare(CLONE_NEWUSER | CLONE_NEWNET)`. Even for root this drops every
  capability in the initial namespace (no chown, mount, DAC override, raw sockets) and
  leaves the child with an empty network namespace (not even loopback is up).
- landlock: reads only below the Python and library directories, writes only in the
  private directory, no execve, no TCP bind/connect, no signals to processes outside the
  sandbox, no abstract unix sockets outside it.
- seccomp: an allow-list (`ALLOWED`) of the calls the workload makes; everything else is
  refused (fork, exec, ptrace, sockets, namespaces, mounts, io_uring, memfd, SysV IPC,
  pidfds, setsid, re-limiting, re-nicing or re-pinning anything). Special cases: clone for
  threads only, mmap without shared anonymous memory (it escapes RLIMIT_DATA), signals
  and prlimit towards the child itself only, prctl for thread names and reading state only.
- pidns+ipcns (made by the zygote just before it forks the child, see grader.sandbox.zygote):
  the child is PID 1 of a fresh PID namespace and has its own SysV IPC namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import resource
import signal
import struct
import sys
from dataclasses import dataclass
from typing import Iterable

from grader.sandbox.syscalls import NUMBERS

LINUX = sys.platform.startswith("linux")
_libc = ctypes.CDLL(None, use_errno=True)
if LINUX:
    _libc.syscall.restype = ctypes.c_long
    _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_NOT_LINUX = f"not available on {sys.platform} (Linux only)"

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
CLONE_NEWIPC = 0x08000000
CLONE_THREAD = 0x00010000


def _errno_text() -> str:
    code = ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)} ({os.strerror(code)})"


def set_parent_death_signal(signal_number: int) -> None:
    """Die with `signal_number` when the parent (the zygote, or the grader) dies."""
    if LINUX:
        _libc.prctl(PR_SET_PDEATHSIG, signal_number, 0, 0, 0)


def set_child_subreaper() -> None:
    """Orphans below this process are reparented to it (not to the machine's init), so the
    zygote reaps everything a job leaves behind when no PID namespace holds it."""
    if LINUX:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


# ----------------------------------------------------------------------------- the pristine state

_RLIMITS = tuple(getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_"))


@dataclass(frozen=True)
class Pristine:
    """The process state every job starts from, taken in the zygote before any job ran.
    Whatever a job (or anyone) later does to the zygote's limits, niceness, CPU affinity or
    signal mask, the next job is set back to this."""

    rlimits: tuple[tuple[int, tuple[int, int]], ...]
    niceness: int
    affinity: frozenset[int]
    signal_mask: frozenset[int]
    umask: int


def snapshot() -> Pristine:
    umask = os.umask(0o077)
    os.umask(umask)
    return Pristine(rlimits=tuple((which, resource.getrlimit(which)) for which in _RLIMITS),
                    niceness=os.getpriority(os.PRIO_PROCESS, 0),
                    affinity=frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset(),
                    signal_mask=frozenset(signal.pthread_sigmask(signal.SIG_BLOCK, [])), umask=umask)


def restore(state: object) -> list[str]:
    """Set this process back to `state` (a Pristine). Returns what could not be restored:
    raising a lowered hard limit needs CAP_SYS_RESOURCE, which a container may withhold."""
    if not isinstance(state, Pristine):
        return ["not a pristine state"]
    problems = []
    for which, limits in state.rlimits:
        try:
            resource.setrlimit(which, limits)
        except (ValueError, OSError) as error:
            problems.append(f"rlimit {which}: {error}")
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, state.niceness)
    if state.affinity and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, state.affinity)
    signal.pthread_sigmask(signal.SIG_SETMASK, state.signal_mask)
    os.umask(state.umask)
    return problems


# ----------------------------------------------------------------------------- rlimits


ADDRESS_SPACE_MARGIN = 2 << 30
"""Room above what is mapped at the fork plus `memory_mb`: thread stacks and malloc arenas."""


def _mapped_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def apply_rlimits(cpu_s: float, memory_mb: int, file_bytes: int, gpu: bool = False) -> str | None:
    """RLIMIT_DATA bounds private memory (the ~0.6 GiB torch maps would make RLIMIT_AS alone
    useless); RLIMIT_AS, set well above it, catches what DATA does not count (shared
    anonymous mappings). GPU jobs skip RLIMIT_AS: CUDA reserves huge address ranges."""
    cpu = max(1, int(cpu_s + 0.999))
    memory = memory_mb * 1024 * 1024
    wanted = [
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # soft: SIGXCPU, hard: SIGKILL a second later
        (resource.RLIMIT_DATA, memory, memory),
        (resource.RLIMIT_FSIZE, file_bytes, file_bytes),
        (resource.RLIMIT_NOFILE, 256, 256),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_MEMLOCK, 0, 0),
    ]
    if not gpu and LINUX:
        space = _mapped_bytes() + memory + ADDRESS_SPACE_MARGIN
        wanted.append((resource.RLIMIT_AS, space, space))
    failed = []
    for which, soft, hard in wanted:
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError) as error:
            failed.append(f"{which}: {error}")
    return f"rlimits: could not set {', '.join(failed)}" if failed else None


# ----------------------------------------------------------------------------- namespaces


def apply_job_namespaces() -> str | None:
    """A fresh PID and IPC namespace for the next child: it is PID 1 there and sees no other
    process (no pid of the grader, the zygote or another job to signal, re-limit or open),
    and the SysV shared memory, queues and semaphores it makes die with it. The caller (the
    zygote) moves into the new IPC namespace itself, which it never uses: the next call
    moves it on, so each IPC namespace ends up held by its one job alone. For PID the
    caller stays outside; only the child it forks next is inside, and
    `reset_pid_namespace_for_children` must follow the fork (a second unshare of a PID
    namespace is refused while the first is still pending)."""
    if not LINUX:
        return f"pidns+ipcns: {_NOT_LINUX}; the code can see other processes"
    if _libc.unshare(CLONE_NEWPID | CLONE_NEWIPC) != 0:
        return f"pidns+ipcns: unshare failed: {_errno_text()}; the code can see other processes and IPC objects"
    return None


def own_pid_namespace() -> int | None:
    """A descriptor of this process's PID namespace, to come back to after each job's fork."""
    try:
        return os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def reset_pid_namespace_for_children(own: int | None) -> None:
    """Children forked from now on are born in `own` again (undoing apply_job_namespaces)."""
    if LINUX and own is not None:
        _libc.setns(own, CLONE_NEWPID)


def apply_namespaces() -> str | None:
    if not LINUX:
        return f"userns+netns: {_NOT_LINUX}; the network stays reachable"
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return f"userns+netns: unshare failed: {_errno_text()}; network and capabilities stay as they were"
    return None


# ----------------------------------------------------------------------------- tmpfs

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18


def apply_private_tmpfs(workdir: str, size_bytes: int, keep: dict[str, bytes]) -> str | None:
    """Mount a size-limited tmpfs over `workdir` in a private mount namespace and put `keep`
    back in it: what the code writes is bounded in total (RLIMIT_FSIZE bounds one file only)
    and vanishes with the child. Needs root before the user namespace is entered."""
    if not LINUX:
        return f"tmpfs: {_NOT_LINUX}; the code writes to the disk"
    if os.geteuid() != 0:
        return "tmpfs: needs root to mount; the code writes to the disk (each file bounded, not their sum)"
    if _libc.unshare(CLONE_NEWNS) != 0:
        return f"tmpfs: unshare(CLONE_NEWNS) failed: {_errno_text()}"
    _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    if _libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"tmpfs: making mounts private failed: {_errno_text()}"
    options = f"size={size_bytes},nr_inodes=4096,mode=0700".encode()
    if _libc.mount(b"tmpfs", workdir.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) != 0:
        return f"tmpfs: mount failed: {_errno_text()}"
    os.chdir(workdir)  # the old cwd is the directory now hidden under the mount
    os.mkdir("out")
    for name, data in keep.items():
        with open(name, "wb") as handle:
            handle.write(data)
    return None


# ----------------------------------------------------------------------------- landlock

_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
FS_MAKE_SYM, FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = FS_READ_FILE | FS_READ_DIR
WRITE = (READ | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG
         | FS_MAKE_SYM | FS_MAKE_FIFO | FS_REFER | FS_TRUNCATE)
DEVICE = FS_READ_FILE | FS_WRITE_FILE | FS_IOCTL_DEV


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is missing or disabled."""
    if not LINUX:
        return 0
    version = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(version))


def apply_landlock(rules: Iterable[tuple[str, int]]) -> str | None:
    """Allow only `rules` (path, access bits); everything else the ABI covers is denied."""
    abi = landlock_abi()
    if abi < 1:
        return "landlock: not available in this kernel; file access is not restricted"
    handled_fs = _FS_BY_ABI[max(k for k in _FS_BY_ABI if k <= abi)]
    handled_net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("=QQQ", handled_fs, handled_net, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr),
                            ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"landlock: create_ruleset failed: {_errno_text()}"
    try:
        for path, access in rules:
            problem = _add_path_rule(int(ruleset), path, access & handled_fs)
            if problem:
                return problem
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"landlock: no_new_privs failed: {_errno_text()}"
        if _libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            return f"landlock: restrict_self failed: {_errno_text()}"
    finally:
        os.close(ruleset)
    return None


def _add_path_rule(ruleset: int, path: str, access: int) -> str | None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return None  # a path that does not exist needs no rule
    try:
        if not os.path.isdir(path):
            access &= _FILE_ONLY
        rule = struct.pack("=Qi", access, fd)
        if _libc.syscall(_SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                         ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH), ctypes.c_char_p(rule),
                         ctypes.c_uint32(0)) != 0:
            return f"landlock: add_rule {path} failed: {_errno_text()}"
    finally:
        os.close(fd)
    return None


# ----------------------------------------------------------------------------- seccomp

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

#: The calls the numpy/torch/matplotlib workload makes, measured by tracing every job of the
#: test suite after its lock-down (strace -f over the zygote), plus their plain relatives
#: (the `at` and vectored forms, timers, epoll) that libraries pick between. Everything
#: else is refused with EPERM: a call nobody listed is refused by default. Calls an
#: architecture lacks (aarch64 has no open, stat, fork…) are skipped there.
ALLOWED = tuple("""
read write readv writev pread64 pwrite64 preadv pwritev preadv2 pwritev2 open openat openat2 creat close
close_range lseek stat fstat lstat newfstatat statx statfs fstatfs access faccessat faccessat2 readlink
readlinkat getdents64 dup dup2 dup3 fcntl flock fsync fdatasync ftruncate truncate fallocate fadvise64 sendfile
copy_file_range splice mkdir mkdirat rmdir unlink unlinkat rename renameat renameat2 symlink symlinkat link
linkat chmod fchmod fchmodat utimensat utime utimes futimesat getcwd chdir fchdir umask getxattr lgetxattr
fgetxattr listxattr llistxattr flistxattr brk munmap mremap mprotect madvise mincore msync membarrier mlock
munlock mlockall munlockall pipe pipe2 poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl
epoll_wait epoll_pwait epoll_pwait2 eventfd eventfd2 timerfd_create timerfd_settime timerfd_gettime futex
futex_waitv set_robust_list get_robust_list set_tid_address rseq arch_prctl sched_yield sched_getaffinity
sched_getparam sched_getscheduler sched_get_priority_max sched_get_priority_min sched_rr_get_interval getcpu
getpriority rt_sigaction rt_sigprocmask rt_sigreturn rt_sigtimedwait rt_sigpending rt_sigsuspend sigaltstack
restart_syscall pause alarm setitimer getitimer timer_create timer_settime timer_gettime timer_getoverrun
timer_delete nanosleep clock_nanosleep clock_gettime clock_getres gettimeofday time times getrusage sysinfo
uname getrandom getpid getppid gettid getuid geteuid getgid getegid getgroups getresuid getresgid getpgrp
getpgid getsid capget exit exit_group wait4 waitid ioctl getrlimit setrlimit
""".split())
#: prctl options a library may use on itself (thread names, VMA names, reading state); the
#: rest (no parent-death signal, no dumpable, no seccomp or capability changes) is refused.
PRCTL_ALLOWED = (2, 3, 15, 16, 21, 23, 30, 39, 0x53564D41)
_SIGNALS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K, _AND_K = 0x20, 0x15, 0x35, 0x45, 0x06, 0x54
MAP_SHARED, MAP_ANONYMOUS = 0x01, 0x20
_NR, _ARCH, _ARG0, _ARG3 = 0, 4, 16, 16 + 3 * 8  # offsets in struct seccomp_data (low words)


def _bpf(instructions: list[tuple]) -> bytes:
    """Assemble (op, k, jump-if-true label, jump-if-false label) / ("label", name) tuples."""
    program: list[tuple] = []
    labels: dict[str, int] = {}
    for item in instructions:
        if item[0] == "label":
            labels[item[1]] = len(program)
        else:
            program.append(item)
    out = []
    for index, (op, k, jt, jf) in enumerate(program):
        offsets = [0 if j is None else labels[j] - index - 1 for j in (jt, jf)]
        if not all(0 <= o < 256 for o in offsets):
            raise ValueError("seccomp program jump out of range")
        out.append(struct.pack("=HBBI", op, offsets[0], offsets[1], k & 0xFFFFFFFF))
    return b"".join(out)


def _ret(value: int) -> tuple:
    return (_RET_K, value, None, None)


def _errno(code: int) -> tuple:
    return _ret(_RET_ERRNO | code)


def _when(nr: int, name: str, body: list[tuple]) -> list[tuple]:
    """If the call is `nr`, run `body` (which ends in a return); else go on after it."""
    return [(_JEQ_K, nr, None, f"{name}_no"), *body, ("label", f"{name}_no")]


def _arg_in(offset: int, values: Iterable[int], name: str) -> list[tuple]:
    """Allow when the argument at `offset` is one of `values`, else EPERM."""
    tests = [(_JEQ_K, value, f"{name}_yes", None) for value in values]
    return [(_LD_W_ABS, offset, None, None), *tests, _errno(errno.EPERM),
            ("label", f"{name}_yes"), _ret(_RET_ALLOW)]


def seccomp_program(pid: int, arch: str | None = None) -> bytes:
    arch = arch or platform.machine()
    numbers = NUMBERS[arch]
    code: list[tuple] = [
        (_LD_W_ABS, _ARCH, None, None),
        (_JEQ_K, _AUDIT_ARCH[arch], "arch_ok", None), _ret(_RET_KILL_PROCESS), ("label", "arch_ok"),
        (_LD_W_ABS, _NR, None, None),
    ]
    if arch == "x86_64":  # the x32 ABI would reach the same calls under other numbers
        code += [(_JGE_K, 0x40000000, None, "native"), _errno(errno.ENOSYS), ("label", "native")]
    code += _when(numbers["clone"], "clone", [  # threads only: no new processes
        (_LD_W_ABS, _ARG0, None, None), (_JSET_K, CLONE_THREAD, "thread", None), _errno(errno.EPERM),
        ("label", "thread"), _ret(_RET_ALLOW)])
    code += _when(numbers["clone3"], "clone3", [_errno(errno.ENOSYS)])  # its flags live in memory: use clone
    code += _when(numbers["socket"], "socket", [_errno(errno.EACCES)])
    code += _when(numbers["mmap"], "mmap", [  # shared anonymous memory escapes RLIMIT_DATA
        (_LD_W_ABS, _ARG3, None, None), (_AND_K, MAP_SHARED | MAP_ANONYMOUS, None, None),
        (_JEQ_K, MAP_SHARED | MAP_ANONYMOUS, None, "private"), _errno(errno.ENOMEM),
        ("label", "private"), _ret(_RET_ALLOW)])
    for name in _SIGNALS:  # signals to ourselves only
        code += _when(numbers[name], name, _arg_in(_ARG0, (pid,), name))
    code += _when(numbers["prctl"], "prctl", _arg_in(_ARG0, PRCTL_ALLOWED, "prctl"))
    code += _when(numbers["prlimit64"], "prlimit", _arg_in(_ARG0, (0, pid), "prlimit"))
    allowed = sorted({numbers[name] for name in ALLOWED if name in numbers})
    for chunk in range(0, len(allowed), 200):  # a BPF jump reaches at most 255 instructions ahead
        code += [(_JEQ_K, nr, f"allow_{chunk}", None) for nr in allowed[chunk:chunk + 200]]
        code += [(_JGE_K, 0, f"next_{chunk}", None),  # always true: no match, jump over the allow
                 ("label", f"allow_{chunk}"), _ret(_RET_ALLOW),
                 ("label", f"next_{chunk}")]
    code.append(_errno(errno.EPERM))
    return _bpf(code)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def apply_seccomp() -> str | None:
    arch = platform.machine()
    if not LINUX:
        return f"seccomp: {_NOT_LINUX}; fork and sockets are not blocked"
    if arch not in _AUDIT_ARCH:
        return f"seccomp: no filter for architecture {arch}; fork and sockets are not blocked"
    program = seccomp_program(os.getpid(), arch)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"seccomp: no_new_privs failed: {_errno_text()}"
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        return f"seccomp: installing the filter failed: {_errno_text()}"
    return None
