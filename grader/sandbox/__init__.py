"""Run untrusted student code in an isolated child process and bring back plain data.

The grader never imports student code. A `Job` names a trusted *driver* function inside
the `grader` package (`module:function`); the sandbox knows no question kind: the kinds
announce their driver modules (`sandbox_modules` in the kind contract) and the zygote
preloads what the registry lists. The driver runs in a fresh child, imports the student's module there, does the work and returns JSON-able data
and numpy arrays. Results cross the process boundary as JSON plus `.npy` blobs read with
`allow_pickle=False`: nothing the child produces is ever unpickled or executed.

Children are forked from a *zygote*: a fork server started once per grader process that
pre-imports numpy, torch and matplotlib, so a question costs a fork instead of a 2-second
interpreter start (the zygote forks the next child ahead of time, off the clock). Each
child then locks itself down (see `grader.sandbox.isolation`): rlimits, a size-limited
private tmpfs as its working directory, a user+network namespace with no capabilities,
Landlock file/network/signal rules and a seccomp filter against fork, exec, sockets,
ptrace, shared memory and signals to other processes. A layer the machine lacks is skipped
with a warning; `Outcome.layers` lists those that held. `GRADER_SANDBOX_DISABLE=landlock,...`
switches layers off (also reported as warnings).

Writing a driver: `def my_driver(module, payload: dict) -> result`, in any module under
`grader.` (it is imported in the child *before* the lock-down, so it may import anything
the grader can). `module` is the imported student module, or None when the job has none;
student-code exceptions may propagate (they become `error_kind="exception"` with a trace cut
to the student's lines); raise `grader.sandbox.child.StudentError(kind, message)` for a
failure you diagnosed yourself. Return JSON types, tuples, dicts with str keys, numpy
arrays, CPU torch tensors and bytes; anything else arrives as an `ObjectInfo` describing
its type. Files the driver (or the code) writes under `out/` in the working directory come
back in `Outcome.files` (regular files, at most `file_bytes` together).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

#: Error kinds an Outcome may carry, for checkers that map them to verdicts.
ERROR_KINDS = (
    "timeout",    # wall or CPU time limit
    "memory",     # memory limit (MemoryError, allocator failure)
    "crash",      # killed by a signal (segfault, abort) for another reason
    "exit",       # the code called sys.exit()/os._exit() or ended the process early
    "exception",  # the student's code raised (also: SyntaxError/ImportError on import)
    "missing",    # the module does not define what the driver needs (e.g. the function)
    "output",     # printed more than output_bytes, or a result larger than result_bytes
    "protocol",   # the child's answer was malformed (tampering) or could not be decoded
    "refused",    # the job itself was refused (bad module file, unsafe extra file)
    "sandbox",    # the sandbox failed (zygote died): a grader fault, not the student's
)

DRIVER_NAME = re.compile(r"^grader(\.[A-Za-z_][A-Za-z0-9_]*)+:[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Limits:
    """Per-job resource limits. Defaults suit a small numpy/torch function question."""

    wall_s: float = 10.0
    """Wall-clock time for the whole job (import of the student module included)."""
    cpu_s: float = 20.0
    """CPU seconds (RLIMIT_CPU), summed over the child's threads. Twice the wall time, so
    a busy loop meets the wall limit first and says the same thing on every run."""
    memory_mb: int = 3072
    """RLIMIT_DATA in MiB. Counts the ~0.2 GiB the preloaded libraries already hold."""
    output_bytes: int = 1_000_000
    """What the code may print (stdout and stderr together) before it is stopped."""
    file_bytes: int = 16_000_000
    """RLIMIT_FSIZE: the largest file the code may write in its private directory."""
    threads: int = 4
    """torch intra-op threads; also bounds BLAS/OpenMP thread pools in the child."""
    result_bytes: int = 64_000_000
    """Largest encoded result (JSON + arrays) the child may send back."""
    gpu: bool = False
    """Let the child open GPU devices (/dev/nvidia*, /dev/dri) for `device: auto` models."""


#: What a question may set under `limits:` in a spec, with the bounds a value must lie in.
LIMIT_BOUNDS: dict[str, tuple[float, float]] = {
    "wall_s": (0.1, 3600), "cpu_s": (0.1, 7200), "memory_mb": (256, 65536), "threads": (1, 64),
    "output_bytes": (1_000, 1_000_000_000), "file_bytes": (1_000, 1_000_000_000),
    "result_bytes": (1_000, 1_000_000_000),
}
LIMITS_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "description": "sandbox limits for this question (cpu_s follows wall_s when only wall_s is given)",
    "properties": {key: {"type": "number", "minimum": low, "maximum": high}
                   for key, (low, high) in LIMIT_BOUNDS.items()},
}


class LimitsError(ValueError):
    """A malformed `limits:` mapping; `key` is the dotted path of the offending key."""

    def __init__(self, message: str, key: str = "limits") -> None:
        super().__init__(message)
        self.key = key


def limits_from_spec(raw: Any, default: Limits) -> Limits:
    """`default` with a question's `limits:` mapping applied; LimitsError names a bad key.
    A wall time given without a CPU time allows twice the wall time of CPU (torch threads)."""
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        raise LimitsError("limits must be a mapping such as {wall_s: 20}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in LIMIT_BOUNDS:
            raise LimitsError(f"limits does not take {key} (it takes {', '.join(LIMIT_BOUNDS)})", f"limits.{key}")
        low, high = LIMIT_BOUNDS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise LimitsError(f"limits.{key} must be a number from {low:g} to {high:g}, got {value!r}",
                              f"limits.{key}")
        values[key] = int(value) if isinstance(getattr(default, key), int) else float(value)
    if "wall_s" in values and "cpu_s" not in values:
        values["cpu_s"] = max(default.cpu_s, 2 * values["wall_s"])
    return replace(default, **values)


@dataclass(frozen=True)
class Job:
    """One run of a trusted driver against (optionally) one student module."""

    driver: str
    """`grader.<module>:<function>`; only names inside the grader package are accepted."""
    module: Path | None
    """The student's .py file; copied (never followed through a symlink) into the child's dir."""
    payload: Mapping[str, Any] = field(default_factory=dict)
    """Arguments for the driver: JSON types, tuples, numpy arrays, torch tensors, bytes."""
    limits: Limits = field(default_factory=Limits)
    files: Mapping[str, Path] = field(default_factory=dict)
    """Extra files the student code may read, copied into its directory under these names."""


@dataclass(frozen=True)
class ObjectInfo:
    """Stands in for a returned value that cannot cross the boundary (any other type)."""

    type: str
    """Qualified type name, e.g. `ex03.Cheat` or `numpy.ndarray subclass ex03.Sneaky`."""
    reason: str = ""


@dataclass(frozen=True)
class TensorInfo:
    """A torch tensor as it arrived: its data as a numpy array plus what numpy cannot say."""

    array: Any
    """numpy.ndarray with the tensor's values (None when it could not be read, e.g. meta)."""
    dtype: str
    """torch dtype name, e.g. `torch.float32`."""
    device: str
    shape: tuple[int, ...]
    requires_grad: bool = False


@dataclass(frozen=True)
class Outcome:
    """What came back from a job. `ok` is False whenever `error_kind` is set."""

    ok: bool
    value: Any
    """Decoded result: JSON types, tuples, numpy arrays, TensorInfo, ObjectInfo, bytes."""
    error: str | None
    """A message for the student (what happened, in their terms)."""
    error_kind: str | None
    """One of ERROR_KINDS, or None."""
    stdout: str
    """What the code printed (stdout and stderr interleaved), bounded."""
    layers: tuple[str, ...]
    """Isolation layers that were active in the child, e.g. ("rlimits", "landlock", ...)."""
    warnings: tuple[str, ...]
    wall_s: float
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Regular files the child left under `out/` in its directory (at most file_bytes together)."""
    cpu_s: float = 0.0
    max_rss_mb: float = 0.0


def run(job: Job) -> Outcome:
    """Run a job in a fresh isolated child; never raises for anything the child does."""
    from grader.sandbox import client

    return client.run(job)


def shutdown() -> None:
    """Stop this process's zygote (it is restarted on the next `run`)."""
    from grader.sandbox import client

    client.shutdown()
