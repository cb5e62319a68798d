"""The overrides file: a human's score and reason for one student's answer to one question.

One YAML file per course (by default `overrides.yaml` in the specs folder), keyed by
student and question id, sorted, so that it reads well in a diff:

    s100001:
      ex03.a:
        score: 1.5
        comment: Names both problems; the explanation of saturation is thin.
        rubric: ["kills gradients", "not zero-centred"]
        by: alice
        at: '2026-11-27T06:40:12+00:00'
        spec: 9c1e0b7a52d4

`rubric` (optional) lists the rubric items the reviewer judged present in the answer, by
the rubric's names for them (grader.grading.rubric checks them when a decision is made);
`rubric: []` says none is, and a decision without the key says nothing of the rubric (as
every decision made before ticking existed). `spec` is the fingerprint of the question as it stood when the decision was made. After
grading, `apply` puts every decision over the automatic verdict; a decision whose
question has changed since (points, prompt, rubric, answer) is marked stale and not
applied, so nobody's score silently rests on a review of a different question.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from grader.core import output, yamlsafe
from grader.core.errors import Problem, SpecError
from grader.core.model import Course, Location, Question
from grader.core.results import QuestionResult, Review, Status, StudentResult
from grader.grading import rubric as rubrics

FILE_NAME = "overrides.yaml"
ENTRY_KEYS = ("score", "comment", "rubric", "by", "at", "spec")
MAX_COMMENT = 2_000
HEADER = ("# Human decisions over the automatic grades (written by `grader review`; edit with care).\n"
          "# student -> question id -> score, comment, rubric (items judged present), by, at,\n"
          "# spec (fingerprint of the question).\n")


@dataclass(frozen=True)
class Override:
    score: float
    comment: str
    by: str
    at: str
    """When it was decided, ISO 8601 with time zone."""
    spec: str
    """Fingerprint of the question spec the decision was made on (see `fingerprint`)."""
    rubric: tuple[str, ...] | None = None
    """The rubric items the reviewer judged present, by the rubric's names, in its order;
    () when none is; None when the decision says nothing of the rubric."""


Overrides = Mapping[str, Mapping[str, Override]]
"""student id -> question id (`ex03.a`) -> decision."""


def default_path(spec_paths: Sequence[Path]) -> Path:
    """`overrides.yaml` in the specs folder (or beside the first spec file)."""
    first = spec_paths[0]
    return (first if first.is_dir() else first.parent) / FILE_NAME


# --- fingerprints ---------------------------------------------------------------------


def fingerprint(question: Question) -> str:
    """A short hash of what decides a question's grading: kind, points, prompt, answer,
    kind options and mistakes. (Not the text of a reference function: a change there
    shows in the course digest instead.)"""
    data = {
        "kind": question.kind, "points": question.points, "prompt": question.prompt,
        "answer": _source(question.answer),
        "options": _stable_repr(question.options),
        "mistakes": [[_source(m.answer), m.feedback, m.credit] for m in question.mistakes],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _source(source: Any) -> Any:
    if source is None:
        return None
    return {"solution": source.solution} if source.is_solution else {"literal": _stable_repr(source.literal)}


def _stable_repr(value: Any) -> str:
    """A text that is the same in every process for equal settings: sets sorted (their order
    follows the hash seed), dataclasses by field, memory addresses left out."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(_canonical(value, 0)))


def _canonical(value: Any, depth: int) -> Any:
    if depth > 20:
        return repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, [[f.name, _canonical(getattr(value, f.name), depth + 1)]
                                       for f in dataclasses.fields(value)]]
    if isinstance(value, Mapping):
        return sorted(([repr(k), _canonical(v, depth + 1)] for k, v in value.items()), key=lambda kv: kv[0])
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_canonical(v, depth + 1)) for v in value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v, depth + 1) for v in value]
    if isinstance(value, re.Pattern):
        return ["re", value.pattern, int(value.flags)]
    return value


def fingerprints(course: Course) -> dict[str, str]:
    return {f"{e.id}.{q.id}": fingerprint(q) for e in course.exercises for q in e.questions}


# --- reading and writing ----------------------------------------------------------------


def load(path: Path) -> dict[str, dict[str, Override]]:
    """The decisions in `path`; none when the file does not exist. SpecError (file:line)
    for a file that cannot be read or has a bad entry."""
    if not path.exists():
        return {}
    try:
        document = yamlsafe.loads(path.read_bytes())
    except OSError as exc:
        raise SpecError([Problem(Location(str(path)), f"cannot read: {exc.strerror}")]) from None
    except yamlsafe.YamlError as exc:
        raise SpecError([Problem(Location(str(path), exc.line, exc.key_path), exc.message)]) from None
    return _entries(path, document)


def _entries(path: Path, document: yamlsafe.Document) -> dict[str, dict[str, Override]]:
    data = document.data
    problems: list[Problem] = []

    def problem(key_path: str, message: str) -> None:
        problems.append(Problem(Location(str(path), document.line(key_path), key_path), message))

    if data is None:
        return {}
    if not isinstance(data, dict):
        problem("", "an overrides file maps student id -> question id -> {score, comment, by, at, spec}")
        raise SpecError(problems)
    entries: dict[str, dict[str, Override]] = {}
    for student, questions in data.items():
        if not isinstance(questions, dict):
            problem(student, f"{student}: expected question id -> decision")
            continue
        for qid, raw in questions.items():
            where = yamlsafe.join(student, qid)
            decision = _override(raw)
            if isinstance(decision, _Bad):
                problem(yamlsafe.join(where, decision.key) if decision.key else where, f"{student} {qid}: {decision}")
            else:
                entries.setdefault(str(student), {})[str(qid)] = decision
    if problems:
        raise SpecError(problems)
    return entries


@dataclass(frozen=True)
class _Bad:
    """Why an entry was refused, and the key below the entry it is about ("" for the entry)."""

    message: str
    key: str = ""

    def __str__(self) -> str:
        return self.message


def _override(raw: Any) -> Override | _Bad:
    if not isinstance(raw, dict):
        return _Bad("expected a mapping with score, comment, by, at and spec")
    unknown = [k for k in raw if k not in ENTRY_KEYS]
    if unknown:
        return _Bad(f"unknown key {unknown[0]!r} (keys are {', '.join(ENTRY_KEYS)})")
    score = raw.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1000:
        return _Bad(f"score must be a number from 0 to 1000, got {score!r}", "score")
    texts = {key: raw.get(key, "") for key in ("comment", "by", "at", "spec")}
    for key, value in texts.items():
        if not isinstance(value, str):
            return _Bad(f"{key} must be text", key)
    if not texts["spec"]:
        return _Bad("spec (the question's fingerprint) is missing")
    ticked = _rubric(raw.get("rubric"))
    if isinstance(ticked, _Bad):
        return ticked
    return Override(float(score), texts["comment"], texts["by"], texts["at"], texts["spec"], ticked)


def _rubric(raw: Any) -> tuple[str, ...] | None | _Bad:
    """The `rubric` of an entry: a list of item names, each once; None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        return _Bad(f"rubric must be a list of the rubric items judged present, got {_brief(raw)}", "rubric")
    if len(raw) > rubrics.MAX_ITEMS:
        return _Bad(f"rubric lists {len(raw)} items; at most {rubrics.MAX_ITEMS}", "rubric")
    seen: set[str] = set()
    for index, name in enumerate(raw):
        where = f"rubric[{index}]"
        if not isinstance(name, str) or not name.strip():
            return _Bad(f"rubric item {index + 1} must be the name of a rubric item (text), got {_brief(name)}",
                        where)
        if len(name) > rubrics.MAX_CONCEPT:
            return _Bad(f"rubric item {index + 1} is over {rubrics.MAX_CONCEPT} characters", where)
        if name in seen:
            return _Bad(f"rubric lists {name!r} twice", where)
        seen.add(name)
    return tuple(raw)


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


def dump(entries: Overrides) -> str:
    """The file's text: sorted, one key per line, every text quoted. Written by hand (JSON
    strings are YAML double-quoted scalars) because a YAML emitter takes seconds on a big
    class, and the file is rewritten after every decision."""
    lines = [HEADER.rstrip("\n")]
    for student, questions in sorted(entries.items()):
        if not questions:
            continue
        lines.append(f"{_key(student)}:")
        for qid, o in sorted(questions.items()):
            lines += [f"  {_key(qid)}:", f"    score: {_number(o.score)}", f"    comment: {_quoted(o.comment)}"]
            if o.rubric is not None:
                lines.append(f"    rubric: [{', '.join(_quoted(name) for name in o.rubric)}]")
            lines += [f"    by: {_quoted(o.by)}", f"    at: {_quoted(o.at)}", f"    spec: {_quoted(o.spec)}"]
    return "\n".join(lines) + "\n"


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.@-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


def _key(text: str) -> str:
    """A key left plain when YAML reads it back as the same text, quoted otherwise."""
    plain = _PLAIN_KEY.fullmatch(text) and text.lower() not in _YAML_WORDS
    return text if plain else _quoted(text)


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes, plus escapes for what YAML may not hold raw
    (line and paragraph separators, NEL, other non-printable characters)."""
    body = json.dumps(text, ensure_ascii=False)
    return "".join(ch if ch.isprintable() else (f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
                   for ch in body)


def _number(score: float) -> str:
    return str(int(score)) if float(score).is_integer() else repr(float(score))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside the file, so two reviewers never lose each other's writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a") as handle:
        try:
            import fcntl
        except ImportError:  # no POSIX locks (Windows): the atomic rename still protects the file
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# What this process last wrote to each file, so that a review session does not re-read a
# large file after every decision: (inode, mtime, size) of the file as written, and its entries.
_written: dict[Path, tuple[tuple[int, int, int], dict[str, dict[str, Override]]]] = {}


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def record(path: Path, student: str, question_id: str, decision: Override) -> None:
    """Add or replace one decision: read (unless this process wrote the file last and nobody
    has touched it since), update, write to a temporary file, rename."""
    key = path.resolve()
    with _locked(path):
        entries = {s: dict(questions) for s, questions in current(path).items()}
        entries.setdefault(student, {})[question_id] = decision
        output.write_atomic(path, dump(entries))
        stamp = _stamp(path)
        if stamp is not None:
            _written[key] = (stamp, entries)


def restore(path: Path, student: str, question_id: str, previous: Override | None,
            unless_changed_from: Override | None = None) -> bool:
    """Put back what one entry was before a decision (`previous`; None removes the entry), as
    an undo does. With `unless_changed_from`, only while the entry is still that decision
    (nobody has decided it again since); False when it was left as it is."""
    key = path.resolve()
    with _locked(path):
        entries = {s: dict(q) for s, q in current(path).items()}
        now = entries.get(student, {}).get(question_id)
        if unless_changed_from is not None and now != unless_changed_from:
            return False
        if previous is None:
            entries.get(student, {}).pop(question_id, None)
        else:
            entries.setdefault(student, {})[question_id] = previous
        output.write_atomic(path, dump(entries))
        stamp = _stamp(path)
        if stamp is not None:
            _written[key] = (stamp, entries)
    return True


def current(path: Path) -> dict[str, dict[str, Override]]:
    """`load`, without reading the file again while it is as this process last read or wrote
    it (a review page asks after every keystroke's decision; the file may hold a class)."""
    key = path.resolve()
    stamp = _stamp(path)
    cached = _written.get(key)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1]
    entries = load(path)
    if stamp is not None and stamp == _stamp(path):
        _written[key] = (stamp, entries)
    return entries


def version(path: Path) -> str:
    """A text that changes whenever the file does (for a page that polls for others' decisions)."""
    stamp = _stamp(path)
    return "none" if stamp is None else "-".join(str(part) for part in stamp)


# --- applying -----------------------------------------------------------------------------


def status_for(score: float, max_score: float) -> Status:
    if score >= max_score:
        return "correct"
    return "partial" if score > 0 else "incorrect"


def apply_one(question: QuestionResult, decision: Override, current: str | None,
              keep: float = 1.0) -> QuestionResult:
    """The question with the decision over it; a stale decision is shown but not applied.

    The human judges the answer: the status follows their score, and a late penalty on
    the exercise (`keep`, the share the lateness policy keeps) still scales the points."""
    review = Review(score=decision.score, comment=decision.comment, by=decision.by, at=decision.at,
                    rubric=rubrics.ticks(question, decision.rubric))
    if current != decision.spec:
        return replace(question, review=replace(review, stale=True))
    score = min(decision.score, question.max_score)
    return replace(question, score=round(score * keep, 6), status=status_for(score, question.max_score),
                   review=review, fault="")


def apply(result: StudentResult, entries: Overrides, prints: Mapping[str, str]) -> StudentResult:
    """`result` with this student's decisions applied and the total recomputed. Pure."""
    decisions = entries.get(result.student, {})
    if not decisions:
        return result
    kept = {record.exercise: 1 - record.penalty for record in getattr(result, "lateness", ())}
    questions = tuple(apply_one(q, decisions[q.id], prints.get(q.id), kept.get(q.id.split(".", 1)[0], 1.0))
                      if q.id in decisions else q for q in result.questions)
    return replace(result, questions=questions, score=round(sum(q.score for q in questions), 6))


def warnings(entries: Overrides, results: Sequence[StudentResult]) -> list[str]:
    """Stale decisions, and decisions for students or questions that were not graded."""
    found: list[str] = []
    graded = {r.student: {q.id for q in r.questions} for r in results}
    for result in results:
        for question in result.questions:
            if question.review and question.review.stale:
                found.append(f"{result.student} {question.id}: the question changed since the review of "
                             f"{question.review.at} by {question.review.by}; that override was not applied "
                             "(review it again)")
    for student, decisions in sorted(entries.items()):
        for qid in sorted(decisions):
            if student in graded and qid not in graded[student]:
                found.append(f"{student} {qid}: override for a question that is not in the specs")
    found += _unknown_ticks(entries, results)
    return found


def _unknown_ticks(entries: Overrides, results: Sequence[StudentResult]) -> list[str]:
    """Ticked rubric items that the answer's rubric does not list (a hand-edited file: a
    decision is checked when made, and a changed rubric makes it stale). They are left out
    of the result, and said so here."""
    found: list[str] = []
    for result in results:
        decisions = entries.get(result.student, {})
        for question in result.questions:
            decision = decisions.get(question.id)
            if decision is None or not decision.rubric or not question.review or question.review.stale:
                continue
            known = set(rubrics.concepts(question))
            for name in decision.rubric:
                if name not in known:
                    found.append(f"{result.student} {question.id}: the override ticks {name!r}, which is not an "
                                 "item of the answer's rubric; that tick is left out")
    return found
