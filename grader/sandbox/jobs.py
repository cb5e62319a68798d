"""What a sandbox job is and what comes back: plain frozen dataclasses and the limits.

Kept apart from `grader.sandbox` (the package) so that the client, the child and the wire
protocol import these types without importing the package that imports them back.
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
    what: str = ""
    """What it is in the student's words, when the sender knew (`a numpy string (numpy.str_)`)."""


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


@dataclass(frozen=True)
class Prepared:
    """A job as its child will see it, every refusal check passed: the student's files as
    read (regular files, not links, within their limits), the payload as encoded, the
    limits. `key` is a digest of exactly that, so an outcome kept under it is reused only
    for a job the code could not tell apart (same bytes, same inputs, same limits)."""

    driver: str
    module_name: str | None
    """The student module's file name in the child's folder (`ex03.py`), or None."""
    sources: Mapping[str, bytes]
    """File name -> bytes: the module and the extra files, as the child's folder holds them."""
    payload: bytes
    """The driver's arguments, encoded for the wire."""
    limits: Limits
    disable: tuple[str, ...] = ()
    """Isolation layers switched off for this job (GRADER_SANDBOX_DISABLE)."""

    @property
    def key(self) -> str:
        import hashlib
        import json
        from dataclasses import asdict

        digest = hashlib.sha256()
        head = [self.driver, self.module_name, sorted(self.sources), asdict(self.limits), list(self.disable)]
        for part in (json.dumps(head, sort_keys=True).encode(), self.payload, *(self.sources[n] for n in sorted(self.sources))):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.hexdigest()
