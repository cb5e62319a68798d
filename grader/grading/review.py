"""`grader review`: walk an instructor through the answers that need a human.

Question by question across the class (every student's answer to ex03.a, then ex03.b …),
it shows the prompt, the answer, the rubric's hits and its suggested score, and asks for
a score (Enter accepts the suggestion, `s` skips, `q` quits) and a comment. Each decision
goes to the overrides file at once, atomically, so quitting or a crash loses nothing.

The terminal is reached only through the `ask` and `say` functions the caller passes in
(cli.py passes click's), so the session runs the same under a test. What the students
wrote is shown through grader.core.text.terminal_safe: an escape sequence in an answer is
shown as `␛[2J`, never obeyed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

from grader.core import output
from grader.grading import overrides
from grader.authoring import spec
from grader.core.errors import GraderError
from grader.core.model import Invalid
from grader.core.results import QuestionResult, StudentResult
from grader.core.text import terminal_safe
from grader.parsing.numbers import parse_number

Ask = Callable[[str], str]
Say = Callable[[str], None]

MAX_SHOWN = 5_000


@dataclass(frozen=True)
class Item:
    """One answer awaiting a decision."""

    student: str
    question: QuestionResult
    fingerprint: str


@dataclass
class Summary:
    decided: int = 0
    skipped: int = 0
    left: int = 0
    """Items not reached because the reviewer quit."""
    path: Path | None = None

    def text(self) -> str:
        where = f" in {self.path}" if self.path else ""
        left = f", {self.left} left for later" if self.left else ""
        if not (self.decided or self.skipped or self.left):
            return "Nothing to review: no answer is marked review without a decision."
        return (f"{self.decided} decided, {self.skipped} skipped{left}; decisions are saved{where}. "
                "Grade again to apply them to the results and reports.")


def results_folder(folder: Path) -> Path:
    """`folder/results` when `folder` is a grading output, else `folder` itself."""
    return folder / "results" if (folder / "results").is_dir() else folder


def pending(results: Sequence[StudentResult], decided: overrides.Overrides, prints: Mapping[str, str],
            again: bool = False) -> list[Item]:
    """Answers marked review, grouped by question in course order, then by student.

    Skipped: questions no longer in the specs, and answers that already have a current
    (not stale) decision in the overrides file. With `again`, answers decided before
    (also those a regrade has already scored by the decision) come back too."""
    order = {qid: index for index, qid in enumerate(prints)}
    items: list[Item] = []
    for result in results:
        for question in result.questions:
            current = prints.get(question.id)
            reviewed = again and question.review is not None
            if (question.status != "review" and not reviewed) or current is None:
                continue
            existing = decided.get(result.student, {}).get(question.id)
            if existing is not None and existing.spec == current and not again:
                continue
            items.append(Item(result.student, question, current))
    return sorted(items, key=lambda item: (order[item.question.id], item.student))


def shown(text: str, limit: int = MAX_SHOWN) -> str:
    """Student text (an answer, a prompt's params, feedback) as lines for the terminal:
    each character that could steer it shown visibly (grader.core.text.terminal_safe)."""
    return terminal_safe(text, newlines=True, limit=limit)


def shown_line(text: str, limit: int) -> str:
    """`shown` for a one-line field (an id, a rubric phrase): a line feed shows as ␊."""
    return terminal_safe(text, limit=limit)


def typed_comment(text: str) -> str:
    """The reviewer's comment as it is kept: without control or format characters."""
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text[:overrides.MAX_COMMENT]


def suggestion(question: QuestionResult) -> float | None:
    value = question.details.get("suggested_score") if question.details else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def describe(item: Item, number: int, total: int) -> str:
    q = item.question
    heading = f"[{number}/{total}] {shown_line(q.id, 100)} · {shown_line(item.student, 100)} · {q.max_score:g} points"
    lines = [f"─── {heading} ───",
             shown(q.prompt), "", "Answer:"]
    lines.extend("  " + line for line in shown(q.answer or "(none)").splitlines() or ["(empty)"])
    rubric = q.details.get("rubric") if q.details else None
    if isinstance(rubric, list) and rubric:
        lines += ["", "Rubric:"]
        for entry in rubric:
            if not isinstance(entry, dict):
                continue
            mark = "✓" if entry.get("found") else "✗"
            points = entry.get("points")
            worth = f" ({points:g})" if isinstance(points, (int, float)) and not isinstance(points, bool) else ""
            line = f"  {mark} {shown_line(str(entry.get('concept', '')), 200)}{worth}"
            if entry.get("matched"):
                line += f"  “{shown_line(str(entry['matched']), 80)}”"
            negated = entry.get("negated")
            if isinstance(negated, list) and negated:
                line += "  negated: " + "; ".join(f"“{shown_line(str(n), 80)}”" for n in negated[:3])
            lines.append(line)
    elif q.feedback:
        lines += ["", "Feedback: " + shown(q.feedback, 1000)]
    suggested = suggestion(q)
    if suggested is not None:
        lines.append(f"Suggested: {suggested:g} of {q.max_score:g}")
    return "\n".join(lines)


def parse_score(text: str, max_score: float) -> float | str:
    """A typed score (`1.5`, `1,5`, `3/4`) in 0..max_score, or a message saying what is wrong."""
    if re.fullmatch(r"\s*\d+,\d+\s*", text):
        text = text.replace(",", ".")  # a decimal comma, as Norwegian keyboards type it
    parsed = parse_number(text)
    if isinstance(parsed, Invalid):
        return f"not a score: {parsed.message}"
    value = parsed.value
    if not 0 <= value <= max_score:
        return f"the score must be from 0 to {max_score:g}"
    return round(value, 6)


def ask_decision(item: Item, ask: Ask, say: Say) -> float | str:
    """The score the reviewer gives, or "s" (skip) or "q" (quit)."""
    max_score = item.question.max_score
    suggested = suggestion(item.question)
    default = f"Enter = {suggested:g}, " if suggested is not None else ""
    while True:
        reply = ask(f"Score 0–{max_score:g} [{default}s = skip, q = quit]").strip()
        if reply.lower() in ("s", "q"):
            return reply.lower()
        if not reply:
            if suggested is not None:
                return suggested
            say("type a score, s to skip or q to quit")
            continue
        score = parse_score(reply, max_score)
        if isinstance(score, str):
            say(score)
            continue
        return score


def session(items: Sequence[Item], path: Path, by: str, ask: Ask, say: Say,
            now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Summary:
    """Ask for a decision on each item; write each one to `path` as soon as it is made."""
    summary = Summary(path=path)
    for number, item in enumerate(items, 1):
        say(describe(item, number, len(items)))
        decision = ask_decision(item, ask, say)
        if decision == "q":
            summary.left = len(items) - number + 1
            break
        if decision == "s":
            summary.skipped += 1
            continue
        comment = typed_comment(ask("Comment (Enter for none)").strip())
        at = now().isoformat(timespec="seconds")
        overrides.record(path, item.student, item.question.id,
                         overrides.Override(float(decision), comment, by, at, item.fingerprint))
        say(f"saved {shown_line(item.question.id, 100)} for {shown_line(item.student, 100)}: "
            f"{float(decision):g} of {item.question.max_score:g}")
        summary.decided += 1
    return summary


def review(spec_paths: Sequence[Path], folder: Path, ask: Ask, say: Say, by: str,
           overrides_path: Path | None = None, again: bool = False) -> Summary:
    """The whole workflow: load specs and results, walk the pending answers."""
    if not by.strip():
        raise GraderError("say who is reviewing with --by NAME (or set $USER)")
    course = spec.load_course(list(spec_paths))
    results = output.read_results(results_folder(folder))  # GraderError when unreadable or empty
    path = overrides_path or overrides.default_path(spec_paths)
    items = pending(results, overrides.load(path), overrides.fingerprints(course), again)
    return session(items, path, by.strip(), ask, say)
