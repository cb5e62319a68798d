"""`grader review`: walk an instructor through the answers that need a human.

Question by question across the class (every student's answer to ex03.a, then ex03.b …),
it shows the prompt, the answer, the rubric's hits, the answer's group and a suggested
score with its confidence, and asks for a score (Enter accepts the suggestion, `s` skips,
`q` quits) and a comment. Each decision goes to the overrides file at once, atomically,
so quitting or a crash loses nothing.

Where the answer has rubric items (grader.grading.rubric), the decision also records
which of them the reviewer judges present: the ticks start as the rubric's own hits, and
at the score prompt `r 2` (or `r 1 3`) ticks or unticks items by their numbers, the same
numbers as their `Missing: …` comments in the comment bank.

Within a question the answers are compared once (grader.grading.groups) and, after each
decision, the suggestions learn from every decision so far, earlier sessions' included
(grader.grading.suggest). The next answer shown is the one whose decision teaches the most;
after a decision the walk offers to give the same score and comment to the rest of the
answer's group (not its outliers), one confirmation for all of them, each recorded in the
overrides file as its own decision.

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
from grader.grading import groups, overrides, suggest
from grader.grading import rubric as rubrics
from grader.authoring import spec
from grader.core.errors import GraderError
from grader.core.model import Course, Invalid
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
    """Decisions recorded, those given to a whole group included."""
    grouped: int = 0
    """Of those, decisions given to the rest of a group along with the answer shown."""
    skipped: int = 0
    left: int = 0
    """Items not reached because the reviewer quit."""
    path: Path | None = None

    def text(self) -> str:
        where = f" in {self.path}" if self.path else ""
        left = f", {self.left} left for later" if self.left else ""
        if not (self.decided or self.skipped or self.left):
            return "Nothing to review: no answer is marked review without a decision."
        grouped = f" ({self.grouped} with their group)" if self.grouped else ""
        return (f"{self.decided} decided{grouped}, {self.skipped} skipped{left}; decisions are saved{where}. "
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
    """The score the kind itself suggests (a rubric's), when it says one."""
    value = question.details.get("suggested_score") if question.details else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def answer_for(item: Item) -> groups.Answer:
    """What grouping reads of a result: the answer's text, and a rubric's hits and share when
    the kind reports them in its details (`rubric`: [{concept, found}], `suggested`: 0–1)."""
    details = item.question.details or {}
    hits = frozenset(rubrics.hits(item.question))
    share = details.get("suggested")
    auto = float(share) if isinstance(share, (int, float)) and not isinstance(share, bool) else None
    return groups.Answer(item.student, item.question.answer or "", hits, auto)


def task_for(items: Sequence[Item], reference: str = "") -> groups.Task:
    first = items[0].question
    rubric = any(isinstance((i.question.details or {}).get("rubric"), list) for i in items)
    return groups.Task(first.max_score, reference or first.expected or "", first.prompt, rubric)


def shown_score(score: float, max_score: float) -> float:
    """A suggested score as the walk offers it: to the half point (quarter below 2 points)."""
    step = 0.5 if max_score >= 2 else 0.25
    return min(max(round(score / step) * step, 0.0), max_score)


def describe(item: Item, number: int, total: int, advice: suggest.Suggestion | None = None,
             group: groups.Group | None = None, others: int = 0, ticked: tuple[str, ...] | None = None) -> str:
    """The answer as the walk shows it; `ticked`: the rubric items ticked as present so far."""
    q = item.question
    heading = f"[{number}/{total}] {shown_line(q.id, 100)} · {shown_line(item.student, 100)} · {q.max_score:g} points"
    lines = [f"─── {heading} ───",
             shown(q.prompt), "", "Answer:"]
    lines.extend("  " + line for line in shown(q.answer or "(none)").splitlines() or ["(empty)"])
    listed = rubrics.entries(q)
    if listed:
        lines += ["", "Rubric:"]
        for index, entry in enumerate(listed, 1):
            mark = "✓" if entry.found else "✗"
            worth = f" ({entry.points:g})" if entry.points is not None else ""
            line = f"  {index}. {mark} {shown_line(entry.concept, 200)}{worth}"
            if entry.matched:
                line += f"  “{shown_line(entry.matched, 80)}”"
            if entry.negated:
                line += "  negated: " + "; ".join(f"“{shown_line(n, 80)}”" for n in entry.negated[:3])
            lines.append(line)
        if ticked is not None:
            lines.append(ticks_line(q, ticked))
    elif q.feedback:
        lines += ["", "Feedback: " + shown(q.feedback, 1000)]
    rubric_says = suggestion(q)
    if rubric_says is not None:
        lines.append(f"Rubric suggests: {rubric_says:g} of {q.max_score:g}")
    if group is not None and group.size > 1:
        line = f"Group: {group.size} answers alike" + (f", {others} more not yet decided" if others else "")
        if item.student in group.outliers:
            line += "; this one looks unlike the rest: judge it on its own"
        lines.append(line)
    if advice is not None:
        source = "learned from the decisions so far" if advice.basis == "learned" else "from the rubric and reference"
        lines.append(f"Suggested: {shown_score(advice.score, q.max_score):g} of {q.max_score:g} "
                     f"(confidence {advice.confidence:.0%}, {source})")
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


@dataclass(frozen=True)
class Answered:
    """What the reviewer answered at the score prompt."""

    reply: float | str
    """The score given, or "s" (skip) or "q" (quit)."""
    ticked: tuple[str, ...] | None = None
    """The rubric items ticked as present by then; None for an answer without rubric items."""


_TICKS = re.compile(r"\s*r[\d\s,+]*", re.IGNORECASE)
"""A reply that ticks or unticks rubric items: `r 2`, `r 1 3`, `r1,3`."""


def ask_decision(item: Item, ask: Ask, say: Say, suggested: float | None = None,
                 ticked: tuple[str, ...] | None = None) -> Answered:
    """The score the reviewer gives, or "s" (skip) or "q" (quit); Enter takes `suggested`.
    With `ticked` (the rubric items ticked so far), `r 1 3` ticks or unticks items first."""
    max_score = item.question.max_score
    default = f"Enter = {suggested:g}, " if suggested is not None else ""
    tick = "r 1 = tick item 1, " if ticked is not None else ""
    while True:
        reply = ask(f"Score 0–{max_score:g} [{default}{tick}s = skip, q = quit]").strip()
        if reply.lower() in ("s", "q"):
            return Answered(reply.lower(), ticked)
        if _TICKS.fullmatch(reply):
            changed = toggled(reply, item.question, ticked)
            if isinstance(changed, str):
                say(changed)
            else:
                ticked = changed
                say(ticks_line(item.question, ticked))
            continue
        if not reply:
            if suggested is not None:
                return Answered(suggested, ticked)
            say("type a score, s to skip or q to quit")
            continue
        score = parse_score(reply, max_score)
        if isinstance(score, str):
            say(score)
            continue
        return Answered(score, ticked)


def starting_ticks(question: QuestionResult) -> tuple[str, ...] | None:
    """The ticks a decision starts from: the rubric's own hits (None without rubric items)."""
    return rubrics.hits(question) if rubrics.entries(question) else None


def toggled(reply: str, question: QuestionResult, ticked: tuple[str, ...] | None) -> tuple[str, ...] | str:
    """The ticks after `r 1 3`: items 1 and 3 ticked where they were not, unticked where they
    were; or what is wrong with the reply."""
    listed = rubrics.entries(question)
    if ticked is None or not listed:
        return "this answer has no rubric items to tick"
    numbers = [int(n) for n in re.findall(r"\d+", reply)]
    if not numbers:
        return f"type r and the numbers of the items to tick or untick (1–{len(listed)}), e.g. r 1 3"
    wrong = next((n for n in numbers if not 1 <= n <= len(listed)), None)
    if wrong is not None:
        return f"no rubric item {wrong}: the items are numbered 1–{len(listed)}"
    chosen = set(ticked)
    for number in dict.fromkeys(numbers):
        chosen ^= {listed[number - 1].concept}
    return tuple(name for name in rubrics.concepts(question) if name in chosen)


def ticks_line(question: QuestionResult, ticked: tuple[str, ...]) -> str:
    """The items ticked as present, by number, with how to change them."""
    return f"Judged present: {_numbers(question, ticked)}  (r 2 ticks or unticks item 2; the decision records them)"


BANK_SIZE = 9
"""Reusable comments offered per question, one digit each."""
_PICKS = re.compile(r"\s*[1-9](?:\s*[+, ]\s*[1-9])*\s*")


def comment_bank(questions: Sequence[QuestionResult], earlier: Sequence[str] = ()) -> list[str]:
    """The comments offered, one keystroke each, for a question: one per rubric concept
    (`Missing: <concept>.`, in the rubric's order, so a digit means the same throughout the
    question), then the comments given before to this question, most used first (ties: the
    latest first), each once; at most `BANK_SIZE`."""
    bank: list[str] = []
    for question in questions[:1]:
        for entry in rubrics.entries(question):
            bank.append(typed_comment(f"Missing: {entry.concept.strip()}."))
    counts: dict[str, tuple[int, int]] = {}
    for position, comment in enumerate(earlier):
        comment = comment.strip()
        if comment and comment not in bank:
            counts[comment] = (counts.get(comment, (0, 0))[0] + 1, position)
    bank += sorted(counts, key=lambda c: (-counts[c][0], -counts[c][1]))
    return bank[:BANK_SIZE]


def picked_comment(reply: str, bank: Sequence[str]) -> str | None:
    """The comment a reply picks from the bank (`2`, or `1+3` for two joined), or None when the
    reply is a comment of its own."""
    if not _PICKS.fullmatch(reply):
        return None
    picks = [int(d) for d in re.findall(r"[1-9]", reply)]
    if any(p > len(bank) for p in picks):
        return None
    return typed_comment(" ".join(bank[p - 1] for p in dict.fromkeys(picks)))


def ask_comment(bank: Sequence[str], ask: Ask, say: Say) -> str:
    """A comment typed, or picked from the bank with one digit (`1+3` joins two)."""
    if bank:
        say("Comments: " + "   ".join(f"[{n}] {shown_line(text, 80)}" for n, text in enumerate(bank, 1)))
    hint = f"Comment (Enter for none, 1–{len(bank)} picks one, 1+2 joins)" if bank else "Comment (Enter for none)"
    reply = ask(hint).strip()
    picked = picked_comment(reply, bank)
    return picked if picked is not None else typed_comment(reply)


def earlier_comments(decided: overrides.Overrides) -> dict[str, list[str]]:
    """Question id -> the comments of the decisions on it, oldest first."""
    found: dict[str, list[tuple[str, str]]] = {}
    for questions in decided.values():
        for qid, decision in questions.items():
            if decision.comment.strip():
                found.setdefault(qid, []).append((decision.at, decision.comment.strip()))
    return {qid: [c for _, c in sorted(pairs)] for qid, pairs in found.items()}


def _by_question(items: Sequence[Item]) -> dict[str, list[Item]]:
    found: dict[str, list[Item]] = {}
    for item in items:
        found.setdefault(item.question.id, []).append(item)
    return found


def session(items: Sequence[Item], path: Path, by: str, ask: Ask, say: Say,
            now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
            known: Mapping[str, Sequence[tuple[Item, float]]] | None = None,
            references: Mapping[str, str] | None = None,
            comments: Mapping[str, Sequence[str]] | None = None) -> Summary:
    """Ask for a decision on each item, question by question, in the order that teaches most;
    write each one to `path` as soon as it is made. `known`: per question id, answers decided
    before (with their scores), which the suggestions learn from; `references`: per question
    id, the reference answer's text; `comments`: per question id, the comments given before
    (offered again, one keystroke away, with the rubric's concepts: `comment_bank`)."""
    summary = Summary(path=path)
    total = len(items)
    for qid, waiting in _by_question(items).items():
        earlier = list((known or {}).get(qid, ()))
        everyone = {item.student: item for item in [*waiting, *(i for i, _ in earlier)]}
        analysis = groups.analyse(task_for(waiting, (references or {}).get(qid, "")),
                                  [answer_for(item) for item in everyone.values()])
        waiting_keys = {item.student for item in waiting}
        decisions = {item.student: score for item, score in earlier if item.student not in waiting_keys}
        decided_comments = list((comments or {}).get(qid, ()))
        skipped: set[str] = set()
        while True:
            round_ = suggest.suggest(analysis, decisions, skipped)
            if round_.next is None:
                break
            item = everyone[round_.next]
            advice = round_.by_key()[item.student]
            others = [k for k in round_.proposal[1:] if k in waiting_keys]
            number = summary.decided + summary.skipped + 1
            ticked = starting_ticks(item.question)
            say(describe(item, number, total, advice, analysis.group(item.student), len(others), ticked))
            offer = shown_score(advice.score, item.question.max_score)
            answered = ask_decision(item, ask, say, offer, ticked)
            decision, ticked = answered.reply, answered.ticked
            if decision == "q":
                summary.left = total - summary.decided - summary.skipped
                return summary
            if decision == "s":
                summary.skipped += 1
                skipped.add(item.student)
                continue
            score = float(decision)
            bank = comment_bank([item.question], decided_comments)
            comment = ask_comment(bank, ask, say)
            _save(path, item, score, comment, by, now, ticked)
            present = "" if ticked is None else f"; judged present: {_numbers(item.question, ticked)}"
            say(f"saved {shown_line(item.question.id, 100)} for {shown_line(item.student, 100)}: "
                f"{score:g} of {item.question.max_score:g}{present}")
            decisions[item.student] = score
            if comment:
                decided_comments.append(comment)
            summary.decided += 1
            if others and _confirm_group(everyone, others, score, ask, say, ticked is not None):
                for key in others:
                    _save(path, everyone[key], score, comment, by, now, ticked)
                    decisions[key] = score
                summary.decided += len(others)
                summary.grouped += len(others)
                say(f"saved {score:g} for {len(others)} more answer{'s' if len(others) > 1 else ''} of the group")
    return summary


def _numbers(question: QuestionResult, ticked: tuple[str, ...]) -> str:
    numbers = [str(n) for n, entry in enumerate(rubrics.entries(question), 1) if entry.concept in ticked]
    return ", ".join(numbers) if numbers else "none"


def _save(path: Path, item: Item, score: float, comment: str, by: str, now: Callable[[], datetime],
          ticked: tuple[str, ...] | None = None) -> None:
    at = now().isoformat(timespec="seconds")
    overrides.record(path, item.student, item.question.id, overrides.Override(score, comment, by, at,
                                                                            item.fingerprint, ticked))


GROUP_SHOWN = 10


def _confirm_group(everyone: Mapping[str, Item], others: Sequence[str], score: float, ask: Ask, say: Say,
                   ticks: bool = False) -> bool:
    """Show the rest of the group and ask once whether the decision is theirs too."""
    lines = [f"The rest of its group ({len(others)}):"]
    for key in others[:GROUP_SHOWN]:
        text = " ".join((everyone[key].question.answer or "").split())
        lines.append(f"  {shown_line(key, 60)}: {shown_line(text, 100)}")
    if len(others) > GROUP_SHOWN:
        lines.append(f"  … and {len(others) - GROUP_SHOWN} more")
    say("\n".join(lines))
    what = f"{score:g}, the comment and the ticked items" if ticks else f"{score:g} and the comment"
    reply = ask(f"Give {what} to all {len(others)} of them too? [y/N]").strip().lower()
    return reply in ("y", "yes")


def review(spec_paths: Sequence[Path], folder: Path, ask: Ask, say: Say, by: str,
           overrides_path: Path | None = None, again: bool = False) -> Summary:
    """The whole workflow: load specs and results, walk the pending answers."""
    if not by.strip():
        raise GraderError("say who is reviewing with --by NAME (or set $USER)")
    course = spec.load_course(list(spec_paths))
    results = output.read_results(results_folder(folder))  # GraderError when unreadable or empty
    path = overrides_path or overrides.default_path(spec_paths)
    decided = overrides.load(path)
    prints = overrides.fingerprints(course)
    items = pending(results, decided, prints, again)
    return session(items, path, by.strip(), ask, say, known=earlier(results, decided, prints, items),
                   references=references(course), comments=earlier_comments(decided))


def earlier(results: Sequence[StudentResult], decided: overrides.Overrides, prints: Mapping[str, str],
            items: Sequence[Item]) -> dict[str, list[tuple[Item, float]]]:
    """For each question with answers to review, the other answers that have a current decision
    (the suggestions learn from them)."""
    asked = {item.question.id for item in items}
    waiting = {(item.student, item.question.id) for item in items}
    found: dict[str, list[tuple[Item, float]]] = {}
    for result in results:
        for question in result.questions:
            if question.id not in asked or (result.student, question.id) in waiting:
                continue
            existing = decided.get(result.student, {}).get(question.id)
            if existing is not None and existing.spec == prints.get(question.id) and question.answer:
                found.setdefault(question.id, []).append((Item(result.student, question, existing.spec),
                                                          existing.score))
    return found


def references(course: Course) -> dict[str, str]:
    """Question id -> the reference answer's text, where the spec gives it literally."""
    found: dict[str, str] = {}
    for exercise in course.exercises:
        for question in exercise.questions:
            source = question.answer
            if source is not None and not source.is_solution and isinstance(source.literal, str):
                found[f"{exercise.id}.{question.id}"] = source.literal
    return found


# --- one decision, without the walk ------------------------------------------------------


@dataclass(frozen=True)
class Decided:
    """One decision recorded by `decide` (`grader review --student … --question … --score …`)."""

    student: str
    question: str
    score: float
    max_score: float
    path: Path
    previous: overrides.Override | None
    """The decision it replaced, if any."""
    status: str
    """The question's status in the results before this decision (`review`, `correct` …)."""
    rubric: tuple[str, ...] | None = None
    """The rubric items recorded as judged present; None when none were given."""

    def text(self) -> str:
        """What the command says it did."""
        replaced = (f", replacing {self.previous.score:g} by {shown_line(self.previous.by or 'someone', 100)}"
                    if self.previous else "")
        present = ("" if self.rubric is None else "; rubric items judged present: "
                   + ("; ".join(shown_line(name, 100) for name in self.rubric) or "none"))
        return (f"saved {shown_line(self.question, 100)} for {shown_line(self.student, 100)}: {self.score:g} of "
                f"{self.max_score:g} (was {self.status}{replaced}) in {self.path}{present}. Grade again to apply it.")


def decide(spec_paths: Sequence[Path], folder: Path, student: str, question_id: str, score: str | float,
           comment: str, by: str, overrides_path: Path | None = None,
           now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
           rubric: Sequence[str] | None = None) -> Decided:
    """Record one decision on any graded answer (auto-graded ones too, e.g. after a regrade
    request), no fingerprint needed: the student and question must be in `folder`'s results
    and the question in the specs; the score is from 0 to the question's points; `rubric`
    names the items of the answer's rubric judged present (by their names; case and spacing
    aside). GraderError (exit 2) otherwise. The next `grade` applies it."""
    if not by.strip():
        raise GraderError("say who is deciding with --by NAME (or set $USER)")
    course = spec.load_course(list(spec_paths))
    results = {r.student: r for r in output.read_results(results_folder(folder))}
    result = results.get(student)
    if result is None:
        raise GraderError(f"no results for student {shown_line(student, 100)!r} in {results_folder(folder)} "
                          f"({len(results)} students graded there)")
    question = next((q for q in result.questions if q.id == question_id), None)
    prints = overrides.fingerprints(course)
    if question is None or question_id not in prints:
        known = ", ".join(sorted(prints)[:8]) + (" …" if len(prints) > 8 else "")
        raise GraderError(f"no question {shown_line(question_id, 100)!r} for {shown_line(student, 100)} "
                          f"(question ids look like exercise.question: {known})")
    parsed = parse_score(str(score), question.max_score) if not isinstance(score, float) else score
    if isinstance(parsed, str) or not 0 <= parsed <= question.max_score:
        reason = parsed if isinstance(parsed, str) else f"the score must be from 0 to {question.max_score:g}"
        raise GraderError(f"--score {shown_line(str(score), 40)}: {reason} ({question_id} is worth "
                          f"{question.max_score:g} point{'' if question.max_score == 1 else 's'})")
    try:
        ticked = None if rubric is None else rubrics.checked(rubric, question)
    except rubrics.UnknownItem as unknown:
        raise GraderError(f"--rubric: {unknown}") from None
    path = overrides_path or overrides.default_path(spec_paths)
    previous = overrides.load(path).get(student, {}).get(question_id)
    at = now().isoformat(timespec="seconds")
    overrides.record(path, student, question_id, overrides.Override(
        float(parsed), typed_comment(comment), by.strip(), at, prints[question_id], ticked))
    return Decided(student, question_id, float(parsed), question.max_score, path, previous, question.status, ticked)
