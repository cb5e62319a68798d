"""The student's self-check: does each answer parse, has it the right shape, does the code
import and pass the visible checks? Never a reference value, never a hidden check.

It reads either a released bundle (`specs/*.yaml` marked `grader_public_spec`), or the
instructor's specs, from which it builds the same public view in memory (through
grader.student.release), so both give the same answers. Student code runs only in grader.sandbox.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from grader.core.budget import OverBudget, enforced_if
from grader.authoring import spec
from grader.core import registry, yamlsafe
from grader.core.errors import GraderError
from grader.core.model import CodeAnswer, Invalid, Question
from grader.intake import open_submission
from grader.intake.submission import Submission, code_module, student_id_from
from grader.student import release

CheckStatus = str
"""ok | missing | invalid | passed | failed | error | unchecked"""
PROBLEM_STATUSES = ("invalid", "error")
"""Statuses that stop `grader submit` (a wrong answer may be handed in; a malformed one not)."""
NPY_NAME = re.compile(r"[A-Za-z0-9_.-]+\.npy")
IMPORT_DRIVER = "grader.student.check:defined_names"


@dataclass(frozen=True)
class PublicQuestion:
    exercise: str
    question: Question
    """answer is None; options are None when the public keys did not suffice to load them."""
    format: str
    shape: tuple[int, ...] | None = None
    file: str | None = None
    """The code module a code question is answered in."""
    checks: str | None = None
    """The visible checks' file in the bundle (decoded only when the code is there to run)."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The public spec's mapping, for keys the kind could not load without its hidden ones."""
    read: Callable[[str], bytes] | None = None

    def cases(self) -> list[Mapping[str, Any]]:
        """Visible checks: {"name"?, "args", "kwargs", "expected"}. Arguments are decoded as
        the student's function takes them (torch tensors only where a check has them:
        importing torch costs seconds); the expected value as grading compares it, in the
        sandbox's wire format (tensors as TensorInfo, tuples, numpy scalars kept)."""
        if not self.checks or self.read is None:
            return []
        read = self.read
        return [{**case, "args": decode_value(case.get("args", []), read, tensors=True),
                 "kwargs": decode_value(case.get("kwargs", {}), read, tensors=True),
                 "expected": decode_expected(case.get("expected"), read)}
                for case in json.loads(read(self.checks)) if isinstance(case, dict)]

    @property
    def id(self) -> str:
        return f"{self.exercise}.{self.question.id}"


@dataclass(frozen=True)
class PublicCourse:
    questions: tuple[PublicQuestion, ...]
    exercise_ids: tuple[str, ...]
    digest: str = ""
    student: str | None = None
    """The student a bundle was released for (variants), if any."""


@dataclass(frozen=True)
class CheckRow:
    id: str
    status: CheckStatus
    message: str


@dataclass
class CheckReport:
    rows: list[CheckRow]
    warnings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[CheckRow]:
        return [row for row in self.rows if row.status in PROBLEM_STATUSES]


# --- loading the public view -----------------------------------------------------------------


def _spec_folder(path: Path) -> Path:
    return path / "specs" if path.is_dir() and (path / "specs").is_dir() else path


def _is_public_file(file: Path) -> bool:
    try:
        data = yamlsafe.loads(file.read_bytes()).data
    except (OSError, yamlsafe.YamlError):
        return False
    return isinstance(data, dict) and "grader_public_spec" in data


def load_public(path: Path, student: str | None = None) -> PublicCourse:
    """The public view from a bundle, or built from instructor specs for `student`'s variant."""
    folder = _spec_folder(path)
    files = spec.spec_files([folder])
    if not files:
        raise GraderError(f"{path}: no specs (*.yaml) found")
    if all(_is_public_file(f) for f in files):
        root = folder.parent if folder.name == "specs" else folder
        try:
            datas = [yamlsafe.loads(f.read_bytes()).data for f in files]
            return _from_public(datas, lambda name: _read_check_file(root, name))
        except (yamlsafe.YamlError, KeyError, TypeError, ValueError) as exc:
            raise GraderError(f"{folder}: not a usable bundle spec ({type(exc).__name__}: {exc}); "
                              "release the bundle again") from None
    course = spec.load_course([path])
    produced: dict[str, str | bytes] = {}
    datas = [release.public_exercise(course, e, student, produced) for e in course.exercises]

    def reader(name: str) -> bytes:
        content = produced[name]
        return content.encode() if isinstance(content, str) else content

    return _from_public(datas, reader)


def _read_check_file(root: Path, name: str) -> bytes:
    target = (root / name).resolve()
    if not str(name).startswith("checks/") or root.resolve() not in target.parents:
        raise GraderError(f"{name}: a check file must lie under checks/ in the bundle")
    return target.read_bytes()


def _from_public(datas: Sequence[Any], read: Callable[[str], bytes]) -> PublicCourse:
    questions: list[PublicQuestion] = []
    digests, students, ids = set(), set(), []
    for data in datas:
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            raise GraderError("a bundle spec must be a mapping with a list of questions")
        exercise = str(data["id"])
        ids.append(exercise)
        digests.add(str(data.get("spec_digest", "")))
        if data.get("student"):
            students.add(str(data["student"]))
        questions.extend(_public_question(exercise, raw, read) for raw in data["questions"])
    return PublicCourse(tuple(questions), tuple(ids), digest=",".join(sorted(digests)),
                        student=students.pop() if len(students) == 1 else None)


def _public_question(exercise: str, raw: Mapping[str, Any], read: Callable[[str], bytes]) -> PublicQuestion:
    kind = registry.get(str(raw["kind"]))
    try:
        options = kind.load_options(raw)
    except Exception:  # the public keys may not be all the kind needs: parse is then skipped
        options = None
    question = Question(id=str(raw["id"]), kind=kind.name, points=float(raw.get("points", 1)),
                        prompt=str(raw.get("prompt", "")), answer=None, options=options)
    checks = str(raw["checks"]) if raw.get("checks") else None
    shape = tuple(raw["shape"]) if isinstance(raw.get("shape"), list) else None
    return PublicQuestion(exercise, question, str(raw.get("format", "")), shape, raw.get("file"), checks,
                          dict(raw), read)


def decode_expected(value: Any, read: Callable[[str], bytes]) -> Any:
    """A visible check's expected value as grading compares it, from the sandbox's tagged
    wire format (strict; .npy parts load with allow_pickle=False). Bundles released before
    held plain JSON and .npy: their tensors become TensorInfo, so `returns: same` still
    tells numpy from torch."""
    if not (isinstance(value, dict) and "$received" in value):
        return decode_value(value, read, tensors=False)
    from grader.sandbox import protocol

    names = value.get("parts")
    if not isinstance(names, list) or not all(isinstance(n, str) and NPY_NAME.fullmatch(n) for n in names):
        raise GraderError("a visible check names bad data files; release the bundle again")
    try:
        return protocol.decode_tagged(value["$received"], [read(f"checks/{name}") for name in names])
    except protocol.ProtocolError as exc:
        raise GraderError(f"a visible check's expected value is malformed ({exc}); release the bundle again") from None


def decode_value(value: Any, read: Callable[[str], bytes], tensors: bool = True) -> Any:
    """Inverse of grader.student.release.encode_value; .npy files load with allow_pickle=False.
    With `tensors` False, torch tensors become TensorInfo, as the sandbox hands them back
    (enough to compare with, and no torch import)."""
    if isinstance(value, list):
        return [decode_value(v, read, tensors) for v in value]
    if isinstance(value, dict) and "$npy" in value:
        import numpy as np

        name = str(value["$npy"])
        if not NPY_NAME.fullmatch(name):
            raise GraderError(f"{name!r} is not a check data file name")
        array = np.load(io.BytesIO(read(f"checks/{name}")), allow_pickle=False)
        if value.get("torch") and tensors:
            import torch

            return torch.from_numpy(array)
        if value.get("torch"):
            from grader.sandbox import TensorInfo

            return TensorInfo(array, f"torch.{array.dtype}", "cpu", tuple(array.shape))
        return array
    if isinstance(value, dict):
        return {k: decode_value(v, read, tensors) for k, v in value.items()}
    return value


# --- checking -------------------------------------------------------------------------------


def check_submission(public: PublicCourse, submission: Submission) -> CheckReport:
    """One row per question (and one per module handed in twice, differently), from the
    Submission that open_submission gave, the very one `grader grade` reads."""
    if submission.error:
        return CheckReport([CheckRow("submission", "error", submission.error)])
    report = CheckReport([CheckRow(c.module, "invalid", c.message) for c in submission.conflicts],
                         list(submission.warnings))
    if public.student and public.student != submission.student:
        report.warnings.append(f"these specs are {public.student}'s variant, but the folder is named "
                               f"{submission.student}: the values in the prompts may differ")
    known = {q.id for q in public.questions}
    for exercise, answers in submission.answers.items():
        for question_id in answers:
            if f"{exercise}.{question_id}" not in known:
                report.warnings.append(f"answers.yaml: {exercise}.{question_id} is not a question in these specs")
    imports: dict[str, CheckRow] = {}
    for question in public.questions:
        if question.file:
            report.rows.append(_check_code(question, submission, imports))
        else:
            report.rows.append(_check_answer(question, submission.answers.get(question.exercise, {})
                                             .get(question.question.id)))
    return report


def _check_answer(public: PublicQuestion, raw: Any) -> CheckRow:
    kind = registry.get(public.question.kind)
    if raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []:
        return CheckRow(public.id, "missing", f"no answer yet ({public.format})")
    if public.question.options is None and kind.option_keys:
        later = registry.attribute(kind, "graded_later", "checked")
        return CheckRow(public.id, "unchecked", f"answered; it is {later} when graded")
    try:
        with enforced_if(registry.answer_budget(kind, public.question)):
            return _read_answer(kind, public, raw)
    except OverBudget as exc:
        return CheckRow(public.id, "unchecked", exc.message)


def _read_answer(kind: registry.QuestionKind, public: PublicQuestion, raw: Any) -> CheckRow:
    """How the answer reads, as the grader will read it (within the kind's budget)."""
    try:
        value = kind.parse(raw, public.question)
    except Exception as exc:  # a parser fault must not hide the other questions
        return CheckRow(public.id, "error", f"could not be checked: {type(exc).__name__}")
    if isinstance(value, Invalid):
        return CheckRow(public.id, "invalid", f"{value.pointed()}\n(expected {public.format})")
    shape = getattr(value, "shape", None)
    if public.shape is not None and shape is not None and tuple(shape) != public.shape:
        return CheckRow(public.id, "invalid", f"the answer has {_shape(tuple(shape))}; "
                                              f"the question asks for {_shape(public.shape)}")
    try:
        shown = kind.show(value, public.question)
    except Exception:
        shown = str(raw)
    return CheckRow(public.id, "ok", f"reads as {_short(shown)}")


def _check_code(public: PublicQuestion, submission: Submission, imports: dict[str, CheckRow]) -> CheckRow:
    module = code_module(submission.folder, str(public.file))
    if module is None:
        return CheckRow(public.id, "missing", f"{public.file} is not there yet")
    kind = registry.get(public.question.kind)
    hook = registry.hook(kind, "check_visible")
    answer = CodeAnswer(submission.folder, module, submission.student, public.exercise)
    try:
        imported = _import_row(public, module, imports)
        if imported.status != "ok":
            return imported
        cases = public.cases()
        if hook is not None and cases and public.question.options is not None:
            verdict = hook(public.question, answer, cases)
            status = {"correct": "passed", "error": "error", "invalid": "invalid"}.get(verdict.status, "failed")
            return CheckRow(public.id, status, verdict.feedback or status)
        return imported  # only kinds with check_visible ship visible cases
    except ImportError as exc:
        return CheckRow(public.id, "unchecked", f"the sandbox is not available here ({exc})")


def _import_row(public: PublicQuestion, module: Path, imports: dict[str, CheckRow]) -> CheckRow:
    """Does the module import (once per module) and define the question's function?
    A function not written yet is `missing`, not a problem: partial work may be handed in."""
    if str(module) not in imports:
        imports[str(module)] = import_check(module)
    row = imports[str(module)]
    if row.status != "ok":
        return CheckRow(public.id, row.status, row.message)
    name = release.student_function(public.question, public.raw)
    if name and name not in row.message.split():
        return CheckRow(public.id, "missing", f"{public.file} does not define {name}() yet")
    return CheckRow(public.id, "ok", f"{public.file} imports" + (f" and defines {name}()" if name else ""))


def import_check(module: Path) -> CheckRow:
    """Import a student module in the sandbox; message: the functions it defines."""
    from grader import sandbox

    outcome = sandbox.run(sandbox.Job(IMPORT_DRIVER, module, {}, sandbox.Limits(wall_s=20.0, cpu_s=20.0)))
    if not outcome.ok:
        return CheckRow(module.name, "error", f"{module.name} does not import: {outcome.error}")
    return CheckRow(module.name, "ok", " ".join(str(name) for name in outcome.value))


def defined_names(module: Any, payload: Mapping[str, Any]) -> list[str]:
    """Sandbox driver: the public callables a student module defines (runs in the child)."""
    if module is None:
        return []
    return sorted(name for name, value in vars(module).items() if callable(value) and not name.startswith("_"))


def _shape(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"{shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"
    return "a single number" if not shape else "a " + "×".join(str(s) for s in shape) + " array"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def ensure_environment(public: PublicCourse, doing: str) -> None:
    """Stop (exit 2) with the install command when this Python lacks what the questions need:
    a missing library is no mistake in the student's code (grader.grading.preflight)."""
    from grader.grading import preflight

    preflight.ensure([(f"{q.exercise}.{q.question.id}", q.question) for q in public.questions], doing)


def run_check(specs: Path, submission_path: Path) -> CheckReport:
    """`grader check`: open the submission (folder or zip) as grading does, and check it."""
    public = load_public(specs, student_id_from(submission_path.resolve()))
    ensure_environment(public, "check your answers")
    with open_submission(submission_path) as opened:
        return check_submission(public, opened)
