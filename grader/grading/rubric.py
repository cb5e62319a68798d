"""The rubric items of a graded answer, read from its result as plain data, and the items a
reviewer ticks, checked against them.

A kind that reads answers against a rubric lists in `details["rubric"]` each item with what
its automatic reading made of the answer (`{concept, found, points, matched, negated}`).
Nothing here knows which kind that is: a result whose details hold such a list has rubric
items a reviewer may tick as present; any other has none. The walk, the one-decision
command, the review page and `overrides.apply` all read the items through `entries`, so a
number, a checkbox and a name mean the same item everywhere.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Iterable

from grader.core.errors import GraderError
from grader.core.results import QuestionResult, RubricTick

MAX_ITEMS = 100
"""Most items a decision may tick (a rubric has a handful)."""
MAX_CONCEPT = 300
"""Longest item name kept in a decision."""


@dataclass(frozen=True)
class Entry:
    """One rubric item of an answer, as the result reports it."""

    concept: str
    """The item's name, as the rubric spells it (what a decision records)."""
    found: bool
    """The automatic reading found it in the answer."""
    points: float | None
    """What it is worth, when the result says."""
    matched: str
    """The words of the answer that matched it, "" when none."""
    negated: tuple[str, ...]
    """Mentions of it that were negated ("does not kill gradients")."""


class UnknownItem(GraderError):
    """A tick for an item the question's rubric does not have (exit 2)."""


def entries(question: QuestionResult) -> tuple[Entry, ...]:
    """The answer's rubric items in the rubric's order; none when its details list none.
    Entries that are not objects, or have no name, are left out (a result file is input)."""
    listed = (question.details or {}).get("rubric")
    if not isinstance(listed, list):
        return ()
    found: list[Entry] = []
    for raw in listed:
        if not isinstance(raw, dict) or not str(raw.get("concept", "")).strip():
            continue
        points = raw.get("points")
        negated = raw.get("negated")
        found.append(Entry(
            concept=str(raw["concept"]), found=bool(raw.get("found")),
            points=float(points) if isinstance(points, (int, float)) and not isinstance(points, bool) else None,
            matched=str(raw.get("matched") or ""),
            negated=tuple(str(n) for n in negated) if isinstance(negated, list) else ()))
    return tuple(found)


def concepts(question: QuestionResult) -> tuple[str, ...]:
    """The names of the answer's rubric items, in order, each once."""
    return tuple(dict.fromkeys(entry.concept for entry in entries(question)))


def hits(question: QuestionResult) -> tuple[str, ...]:
    """The items the automatic reading found: where a reviewer's ticks start."""
    return tuple(dict.fromkeys(entry.concept for entry in entries(question) if entry.found))


def _folded(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def checked(given: Iterable[str], question: QuestionResult) -> tuple[str, ...]:
    """The items `given`, named as the rubric names them (case and spacing aside), in the
    rubric's order, each once. UnknownItem naming the first that is not one of its items:
    a tick is never kept for an item the question does not have."""
    known = concepts(question)
    by_fold: dict[str, str] = {}
    for name in known:
        by_fold.setdefault(_folded(name), name)
    chosen: set[str] = set()
    for name in given:
        match = name if name in known else by_fold.get(_folded(name))
        if match is None:
            raise UnknownItem(unknown_message(name, question.id, known))
        chosen.add(match)
    return tuple(name for name in known if name in chosen)


def unknown_message(name: str, question_id: str, known: tuple[str, ...]) -> str:
    shown = _shown(name)
    if not known:
        return f"{question_id} has no rubric items to tick (asked to tick {shown})"
    listed = ", ".join(_shown(k) for k in known[:12]) + (" …" if len(known) > 12 else "")
    return f"no rubric item {shown} in {question_id} (its items: {listed})"


def _shown(name: str) -> str:
    """A name for a message: quoted, on one line, cut when long."""
    text = " ".join(name.split())
    return repr(text if len(text) <= 80 else text[:80] + "…")


def ticks(question: QuestionResult, ticked: tuple[str, ...] | None) -> tuple[RubricTick, ...]:
    """The answer's rubric items with what the reviewer ticked beside the automatic
    reading, for the result's review; none when the decision ticked nothing (`None`).
    A ticked name the answer's rubric does not list is left out (`overrides.warnings`
    names it)."""
    if ticked is None:
        return ()
    chosen = set(ticked)
    first: dict[str, Entry] = {}
    for entry in entries(question):
        first.setdefault(entry.concept, entry)  # a name listed twice is one item (as in `concepts`)
    return tuple(RubricTick(entry.concept, entry.concept in chosen, entry.found) for entry in first.values())
