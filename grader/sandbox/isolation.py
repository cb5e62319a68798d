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
- seccomp: no fork/vfork/clone3/non-thread clone (RLIMIT_NPROC does not bind root), no
  sockets, no ptrace, no execve, no namespace/mount/kernel-keyring/bpf/io_uring calls, and
  kill/tgkill/sigqueue only towards the child itself, no shared anonymous memory or memfd
  (both escape RLIMIT_DATA).
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
    zygote reaps every job, also one whose monitor left it behind."""
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


def restore(state: object) -> None:
    """Set this process back to `state` (a Pristine); needs the privileges the zygote had."""
    if not isinstance(state, Pristine):
        return
    for which, limits in state.rlimits:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, limits)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, state.niceness)
    if state.affinity and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, state.affinity)
    signal.pthread_sigmask(signal.SIG_SETMASK, state.signal_mask)
    os.umask(state.umask)


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
    monitor) stays outside; only the child it forks next is inside."""
    if not LINUX:
        return f"pidns+ipcns: {_NOT_LINUX}; the code can see other processes"
    if _libc.unshare(CLONE_NEWPID | CLONE_NEWIPC) != 0:
        return f"pidns+ipcns: unshare failed: {_errno_text()}; the code can see other processes and IPC objects"
    return None


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
# Calls refused with EPERM; per architecture (aarch64 has no fork/vfork syscalls).
_DENY = {
    "x86_64": dict(
        fork=57, vfork=58, execve=59, execveat=322, ptrace=101, process_vm_readv=310,
        process_vm_writev=311, unshare=272, setns=308, mount=165, umount2=166, pivot_root=155,
        chroot=161, open_tree=428, move_mount=429, fsopen=430, fsconfig=431, fsmount=432,
        fspick=433, mount_setattr=442, keyctl=250, add_key=248, request_key=249, bpf=321,
        perf_event_open=298, userfaultfd=323, io_uring_setup=425, io_uring_enter=426,
        io_uring_register=427, kexec_load=246, kexec_file_load=320, init_module=175,
        finit_module=313, delete_module=176, reboot=169, swapon=167, swapoff=168, acct=163,
        pidfd_send_signal=424, pidfd_getfd=438, name_to_handle_at=303, open_by_handle_at=304,
        kcmp=312, process_madvise=440, memfd_create=319, memfd_secret=447),
    "aarch64": dict(
        execve=221, execveat=281, ptrace=117, process_vm_readv=270, process_vm_writev=271,
        unshare=97, setns=268, mount=40, umount2=39, pivot_root=41, chroot=51, open_tree=428,
        move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442,
        keyctl=219, add_key=217, request_key=218, bpf=280, perf_event_open=241, userfaultfd=282,
        io_uring_setup=425, io_uring_enter=426, io_uring_register=427, kexec_load=104,
        kexec_file_load=294, init_module=105, finit_module=273, delete_module=106, reboot=142,
        swapon=224, swapoff=225, acct=89, pidfd_send_signal=424, pidfd_getfd=438,
        name_to_handle_at=264, open_by_handle_at=265, kcmp=272, process_madvise=440, memfd_create=279,
        memfd_secret=447),
}
_SPECIAL = {  # clone: threads only; signals: to ourselves only; sockets: none
    "x86_64": dict(clone=56, clone3=435, kill=62, tkill=200, tgkill=234,
                   rt_sigqueueinfo=129, rt_tgsigqueueinfo=297, socket=41, mmap=9),
    "aarch64": dict(clone=220, clone3=435, kill=129, tkill=130, tgkill=131,
                    rt_sigqueueinfo=138, rt_tgsigqueueinfo=240, socket=198, mmap=222),
}
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K, _AND_K = 0x20, 0x15, 0x35, 0x45, 0x06, 0x54
MAP_SHARED, MAP_ANONYMOUS = 0x01, 0x20


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


def seccomp_program(pid: int, arch: str | None = None) -> bytes:
    arch = arch or platform.machine()
    deny, special = _DENY[arch], _SPECIAL[arch]
    code: list[tuple] = [
        (_LD_W_ABS, 4, None, None),                                 # seccomp_data.arch
        (_JEQ_K, _AUDIT_ARCH[arch], "arch_ok", "kill"),
        ("label", "arch_ok"),
        (_LD_W_ABS, 0, None, None),                                 # seccomp_data.nr
    ]
    if arch == "x86_64":  # the x32 ABI would reach the same calls under other numbers
        code.append((_JGE_K, 0x40000000, "enosys", None))
    code += [(_JEQ_K, nr, "eperm", None) for nr in deny.values()]
    code += [
        (_JEQ_K, special["clone"], "clone", None),
        (_JEQ_K, special["clone3"], "enosys", None),  # flags live in memory: make glibc use clone
        (_JEQ_K, special["socket"], "eacces", None),
        (_JEQ_K, special["mmap"], "mmap", None),
    ]
    code += [(_JEQ_K, special[name], "signal", None)
             for name in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")]
    code += [
        (_RET_K, _RET_ALLOW, None, None),
        ("label", "clone"),
        (_LD_W_ABS, 16, None, None),                                # low word of args[0]: flags
        (_JSET_K, CLONE_THREAD, "allow", "eperm"),
        ("label", "mmap"),  # shared anonymous memory escapes RLIMIT_DATA: refuse it
        (_LD_W_ABS, 16 + 3 * 8, None, None),                        # args[3]: flags
        (_AND_K, MAP_SHARED | MAP_ANONYMOUS, None, None),
        (_JEQ_K, MAP_SHARED | MAP_ANONYMOUS, "enomem", "allow"),
        ("label", "signal"),
        (_LD_W_ABS, 16, None, None),                                # args[0]: pid / tgid
        (_JEQ_K, pid, "allow", "eperm"),
        ("label", "allow"), (_RET_K, _RET_ALLOW, None, None),
        ("label", "eperm"), (_RET_K, _RET_ERRNO | errno.EPERM, None, None),
        ("label", "eacces"), (_RET_K, _RET_ERRNO | errno.EACCES, None, None),
        ("label", "enomem"), (_RET_K, _RET_ERRNO | errno.ENOMEM, None, None),
        ("label", "enosys"), (_RET_K, _RET_ERRNO | errno.ENOSYS, None, None),
        ("label", "kill"), (_RET_K, _RET_KILL_PROCESS, None, None),
    ]
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
