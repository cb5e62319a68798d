"""What the kinds that run student code share: the answer is the student's module
(`<exercise id>.py`), the reference is a solution function they call themselves, the
sandbox limits a question may set, and the RunRecord of a sandbox run."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, Sequence

from grader.core import registry
from grader.core.model import CodeAnswer, Invalid, Question
from grader.core.results import MAX_SOURCE_CHARS, MAX_STDOUT_CHARS, MAX_TRACE_CHARS, LimitHit, RunRecord
from grader.sandbox import Limits, LimitsError, Outcome, limits_from_spec

#: Error kinds whose message is the student's error with its trace (see grader.sandbox).
_TRACED = ("exception", "memory", "crash", "exit")
_LIMITS: dict[str, LimitHit] = {"timeout": "timeout", "memory": "memory", "output": "output"}


def load_limits(raw: Any, default: Limits) -> Limits:
    """A question's `limits:` applied over `default`, as an OptionError if malformed."""
    try:
        return limits_from_spec(raw, default)
    except LimitsError as exc:
        raise registry.OptionError(str(exc), exc.key) from None


#: torch, which model questions (and code questions on tensors or seeded models) run.
TORCH = registry.Requirement("torch", "torch", "running PyTorch code")


class CodeAnswered:
    """Mixin: parse and parse_reference of a kind answered with code, not in answers.yaml."""

    name: str
    answer_source = "code"
    calls_reference = False

    def parse(self, raw: Any, question: Question) -> CodeAnswer | Invalid:
        if not isinstance(raw, CodeAnswer):
            return Invalid(f"a {self.name} question is answered with code in <exercise>.py, not in answers.yaml")
        return raw

    def parse_reference(self, raw: Any, question: Question) -> Any:
        raise ValueError(f"the answer of a {self.name} question must be {{solution: function}} naming the reference")


def function_stub(name: str, params: Sequence[str], title: str, prompt: str) -> str:
    """The stub a student fills in: the signature, the prompt as its docstring, and a body
    that fails loudly until it is written (what `grader release` ships for code answers)."""
    import textwrap

    text = " ".join(prompt.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    docstring = textwrap.fill(text, 80, initial_indent="    ", subsequent_indent="    ")
    return (f"def {name}({', '.join(params)}):\n    \"\"\"{title}:\n{docstring}\n    \"\"\"\n"
            "    raise NotImplementedError  # the student's function is not written yet")


def run_record(outcome: Outcome, module: Path | None, device: str = "") -> RunRecord:
    """What the report shows of one sandbox run: the code as it ran, its output, its error
    trace, the isolation that held. Also for a failed run: that is when it matters most."""
    trace = outcome.error if outcome.error_kind in _TRACED else ""
    return RunRecord(source=module_text(module), stdout=bounded(outcome.stdout, MAX_STDOUT_CHARS),
                     traceback=bounded(without_grader_paths(trace or ""), MAX_TRACE_CHARS),
                     layers=tuple(outcome.layers), warnings=tuple(outcome.warnings), device=device,
                     limits_hit=_LIMITS.get(outcome.error_kind or "", ""))


def error_text(outcome: Outcome) -> str:
    """The run's error for the feedback, without the sandbox's temporary paths (a syntax
    error names its file by full path): a result depends on the submission alone."""
    return without_grader_paths(outcome.error or "")


def module_text(module: Path | None) -> str:
    """The student's module as text (undecodable bytes replaced), at most MAX_SOURCE_CHARS.
    Read without following a link: the engine refuses links, and a swap since must not
    make the report show another file."""
    if module is None:
        return ""
    try:  # never blocks: a FIFO under the module's name opens at once and is no file
        fd = os.open(module, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        data = os.read(fd, 4 * MAX_SOURCE_CHARS + 4)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return bounded(data.decode("utf-8", errors="replace"), MAX_SOURCE_CHARS)


def bounded(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with a note saying so."""
    if len(text) <= limit:
        return text
    return text[:limit] + "\n… (cut: only the first " + f"{limit:,} characters are kept)"


_JOB_DIR = re.compile(r"[^\s\"':]*grader-job-[\w-]+/")


def without_grader_paths(text: str) -> str:
    """`text` with the sandbox's temporary folders and the grader's own folders removed
    from paths, so a trace names the student's files only (`ex03.py`)."""
    text = _JOB_DIR.sub("", text)
    for folder in (str(Path(__file__).resolve().parents[1]) + os.sep, tempfile.gettempdir().rstrip(os.sep) + os.sep):
        if len(folder) > 1:
            text = text.replace(folder, "")
    return text
