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

from grader.sandbox.jobs import (
    DRIVER_NAME, ERROR_KINDS, LIMIT_BOUNDS, LIMITS_SCHEMA, Job, Limits, LimitsError, ObjectInfo, Outcome,
    Prepared, TensorInfo, limits_from_spec,
)

__all__ = [
    "DRIVER_NAME", "ERROR_KINDS", "LIMIT_BOUNDS", "LIMITS_SCHEMA", "Job", "Limits", "LimitsError", "ObjectInfo",
    "Outcome", "Prepared", "TensorInfo", "limits_from_spec", "prepare", "run", "run_prepared", "shutdown",
]


def run(job: Job) -> Outcome:
    """Run a job in a fresh isolated child; never raises for anything the child does."""
    from grader.sandbox import client

    return client.run(job)


def prepare(job: Job) -> Prepared | Outcome:
    """The job read and checked as `run` would (files, links, sizes, the payload encoded):
    a `Prepared` whose `key` names exactly what the child would see, or the refused
    Outcome. A caller that keeps outcomes keys them on `Prepared.key`, so a cached outcome
    is never reused for a job the sandbox would refuse."""
    from grader.sandbox import client

    return client.prepare(job)


def run_prepared(job: Prepared) -> Outcome:
    """Run a prepared job in a fresh isolated child; never raises for anything the child does."""
    from grader.sandbox import client

    return client.run_prepared(job)


def shutdown() -> None:
    """Stop this process's zygote (it is restarted on the next `run`)."""
    from grader.sandbox import client

    client.shutdown()
