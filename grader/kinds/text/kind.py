"""`text`: free text scored by a keyword rubric, confirmed by a human.

The rubric is a list of concepts, each worth some points and recognised by the ways
people say it: terms (words, stems `satur*`, phrases), regular expressions, and terms in
other languages (`languages: {no: [...]}`). A concept counts when one of them occurs in
the answer and is not negated ("does not kill gradients" is not "kills gradients").

By default (`auto_score: false`) the verdict is `review` with no points yet: the rubric
score is a suggestion, kept in the verdict's details, that `grader review` shows to the
instructor. With `auto_score: true` the rubric score is the score.

    - id: a
      kind: text
      points: 2
      prompt: What are the problems with the sigmoid activation function?
      answer: "It saturates and kills gradients, and its output is not zero-centred."
      rubric:
        - concept: kills gradients
          points: 1
          terms: [kills gradients, vanishing gradient, saturat*]
          languages: {"no": [dreper gradienter, forsvinnende gradient]}
        - concept: not zero-centred
          points: 1
          terms: [not zero-centered, always positive]
          regex: ['non[- ]?zero[- ]cent(?:ered|red)']

Speed: `analyse` prepares an answer once (words.Text) for all concepts, and runs `find`
only for the terms whose words the answer contains (words.PhraseIndex, built once per
rubric and kept by `_phrase_index`). The verdicts are those of trying every term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from grader.core import registry
from grader.core.model import Invalid, Question, Verdict
from grader.core.results import JSON, Status
from grader.parsing import words
from grader.core.suggest import did_you_mean, one_of

MAX_LENGTH = 5_000
"""Default bound on an answer's length in characters; longer answers are refused, not cut."""
MAX_LENGTH_LIMIT = 50_000
MAX_TERMS = 200
CONCEPT_KEYS = ("concept", "points", "terms", "regex", "languages")
SNIPPET = 60

_STRINGS = {"type": "array", "items": {"type": "string"}}
RUBRIC_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["concept"],
        "properties": {
            "concept": {"type": "string", "description": "the idea, in the words feedback uses"},
            "points": {"type": "number", "minimum": 0, "description": "rubric points (default 1)"},
            "terms": {**_STRINGS, "description": "English words, stems (`satur*`) or phrases"},
            "regex": {**_STRINGS, "description": "regular expressions (no nested repetition)"},
            "languages": {"type": "object", "additionalProperties": _STRINGS,
                          "description": "language code (no, sv, de, …) -> terms in that language"},
        },
    },
}


@dataclass(frozen=True)
class Concept:
    concept: str
    points: float
    phrases: tuple[words.Phrase, ...]
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class TextOptions:
    rubric: tuple[Concept, ...]
    auto_score: bool = False
    full_marks_at: float = 0.0
    """Rubric points that earn full marks (the whole rubric unless the spec says fewer)."""
    max_length: int = MAX_LENGTH


@dataclass(frozen=True)
class Hit:
    concept: Concept
    found: str | None
    """The words of the answer that matched, or None."""
    negated: tuple[str, ...]
    """Places where the answer said it, negated (not counted)."""


def _snippet(text: str, span: tuple[int, int]) -> str:
    start, end = span
    piece = text[start:end]
    return piece if len(piece) <= SNIPPET else piece[:SNIPPET] + "…"


def _strings(raw: Any, key: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise registry.OptionError(f"{key} must be a list of text", key)
    if len(raw) > MAX_TERMS:
        raise registry.OptionError(f"{key} has more than {MAX_TERMS} entries", key)
    return raw


def _concept(raw: Any, path: str) -> Concept:
    if not isinstance(raw, dict) or not isinstance(raw.get("concept"), str) or not raw["concept"].strip():
        raise registry.OptionError("a rubric entry needs `concept`: the idea, in words", path)
    for key in raw:
        if key not in CONCEPT_KEYS:
            raise registry.OptionError(f"unknown key {key!r}{did_you_mean(key, CONCEPT_KEYS)}", f"{path}.{key}")
    points = raw.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= 1000:
        raise registry.OptionError(f"points must be a number from 0 to 1000, got {points!r}", f"{path}.points")
    terms = [("en", term) for term in _strings(raw.get("terms"), f"{path}.terms")]
    languages = raw.get("languages") or {}
    if not isinstance(languages, dict):
        raise registry.OptionError("languages must map a language code to a list of terms", f"{path}.languages")
    for code, listed in languages.items():
        if code in ("False", "false"):
            raise registry.OptionError('write the language code in quotes, "no": YAML reads a bare no as false',
                                       f"{path}.languages")
        if code not in words.LANGUAGES:
            raise registry.OptionError(f"language {code!r} is not one of {one_of(words.LANGUAGES)}",
                                       f"{path}.languages.{code}")
        terms.extend((code, term) for term in _strings(listed, f"{path}.languages.{code}"))
    try:
        phrases = tuple(words.phrase(term, code) for code, term in terms)
        patterns = tuple(words.compile_regex(p) for p in _strings(raw.get("regex"), f"{path}.regex"))
    except ValueError as exc:
        raise registry.OptionError(str(exc), path) from None
    if not phrases and not patterns:
        raise registry.OptionError(f"concept {raw['concept']!r} needs terms, regex or languages to be found by",
                                   path)
    return Concept(raw["concept"].strip(), float(points), phrases, patterns)


_INDEXES: dict[int, tuple[tuple[Concept, ...], words.PhraseIndex]] = {}
_MAX_INDEXES = 512


def _phrase_index(rubric: tuple[Concept, ...]) -> words.PhraseIndex:
    """The rubric's terms, numbered in order, filed by first word. Kept by the rubric's id
    (hashing a rubric costs more than the search it saves); the entry holds the rubric, so
    the id cannot be reused while it is kept."""
    entry = _INDEXES.get(id(rubric))
    if entry is None or entry[0] is not rubric:
        if len(_INDEXES) >= _MAX_INDEXES:
            _INDEXES.clear()
        entry = (rubric, words.PhraseIndex([p for concept in rubric for p in concept.phrases]))
        _INDEXES[id(rubric)] = entry
    return entry[1]


def analyse(text: str, rubric: tuple[Concept, ...]) -> list[Hit]:
    """Which concepts the text states (first affirmed match) and where it negates them."""
    prepared = words.Text(text)
    possible = _phrase_index(rubric).candidates(prepared)
    number = 0
    hits = []
    for concept in rubric:
        found: str | None = None
        negated: list[str] = []
        # The phrases left out lack a word in this answer, so they would find nothing.
        results = [prepared.find(p) for n, p in enumerate(concept.phrases, number) if n in possible]
        number += len(concept.phrases)
        results.extend(prepared.regex_spans(p) for p in concept.patterns)
        for affirmed, denied in results:
            if affirmed and found is None:
                found = _snippet(prepared.text, affirmed[0])
            negated.extend(_snippet(prepared.text, span) for span in denied)
        hits.append(Hit(concept, found, tuple(dict.fromkeys(negated))))
    return hits


def _feedback(hits: list[Hit]) -> str:
    found = [h.concept.concept for h in hits if h.found]
    missing = [h.concept.concept for h in hits if not h.found]
    negated = [h.concept.concept for h in hits if not h.found and h.negated]
    parts = [f"Found: {'; '.join(found)}." if found else "None of the rubric's ideas were found."]
    if missing:
        parts.append(f"Missing: {'; '.join(missing)}.")
    if negated:
        parts.append(f"Stated as negated, so not counted: {'; '.join(negated)}.")
    return " ".join(parts)


class TextKind:
    name = "text"
    option_keys = {
        "rubric": RUBRIC_SCHEMA,
        "auto_score": {"type": "boolean", "description": "score by the rubric alone (default: a human reviews)"},
        "full_marks_at": {"type": "number", "minimum": 0, "description": "rubric points that earn full marks"},
        "max_length": {"type": "integer", "minimum": 1, "maximum": MAX_LENGTH_LIMIT,
                       "description": f"longest answer read, in characters (default {MAX_LENGTH})"},
    }
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = False
    graded_later = "read against a rubric (or by a person)"

    def load_options(self, raw: Mapping[str, Any]) -> TextOptions:
        rubric_raw = raw.get("rubric")
        if not isinstance(rubric_raw, list) or not rubric_raw:
            raise registry.OptionError("a text question needs a rubric: a list of {concept, points, terms}",
                                       "rubric")
        rubric = tuple(_concept(item, f"rubric[{i}]") for i, item in enumerate(rubric_raw))
        total = sum(c.points for c in rubric)
        if total <= 0:
            raise registry.OptionError("the rubric's points add up to 0", "rubric")
        auto = raw.get("auto_score", False)
        if not isinstance(auto, bool):
            raise registry.OptionError("auto_score must be true or false", "auto_score")
        full = raw.get("full_marks_at", total)
        if isinstance(full, bool) or not isinstance(full, (int, float)) or not 0 < full <= total:
            raise registry.OptionError(f"full_marks_at must be above 0 and at most the rubric's {total:g} points",
                                       "full_marks_at")
        length = raw.get("max_length", MAX_LENGTH)
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_LENGTH_LIMIT:
            raise registry.OptionError(f"max_length must be a whole number from 1 to {MAX_LENGTH_LIMIT}",
                                       "max_length")
        return TextOptions(rubric, auto, float(full), length)

    def parse(self, raw: Any, question: Question) -> str | Invalid:
        options: TextOptions = question.options
        if isinstance(raw, list) and all(isinstance(item, (str, int, float)) for item in raw):
            raw = "\n".join(str(item) for item in raw)  # a YAML list of points, one per line
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            return Invalid("expected text: write the answer as a sentence or a few")
        text = str(raw)
        if len(text) > options.max_length:
            return Invalid(f"the answer is {len(text)} characters long; at most {options.max_length} are read: "
                           "shorten it")
        text = words.normalise(text).strip()
        if not text:
            return Invalid("the answer has no readable text")
        return text

    def parse_reference(self, raw: Any, question: Question) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("the model answer of a text question must be non-empty text")
        return words.normalise(raw).strip()

    def check(self, question: Question, value: str, expected: str) -> Verdict:
        options: TextOptions = question.options
        hits = analyse(value, options.rubric)
        earned = sum(h.concept.points for h in hits if h.found)
        fraction = min(1.0, earned / options.full_marks_at)
        details: dict[str, JSON] = {
            "rubric": [{"concept": h.concept.concept, "points": h.concept.points, "found": h.found is not None,
                        "matched": h.found, "negated": list(h.negated)} for h in hits],
            "rubric_score": earned,
            "rubric_max": options.full_marks_at,
            "suggested": round(fraction, 6),
            "suggested_score": round(fraction * question.points, 6),
            "auto_score": options.auto_score,
        }
        feedback = _feedback(hits)
        if not options.auto_score:
            suggestion = f"{details['suggested_score']:g} of {question.points:g} points"
            # "Awaiting review" is the status's to say (and a decision's to replace), not the feedback's.
            return Verdict("review", 0.0, f"The rubric suggests {suggestion}; an instructor decides. "
                           + feedback, details)
        status: Status = "correct" if fraction >= 1 else "partial" if fraction > 0 else "incorrect"
        return Verdict(status, fraction, feedback, details)

    def answer_format(self, question: Question) -> str:
        return "free text (use | and indented lines for several lines)"

    def show(self, value: str, question: Question) -> str:
        return value

    def prove(self, question: Question, expected: Any) -> list[str]:
        """The model answer must parse and earn full marks on the rubric with nothing negated."""
        parsed = self.parse(expected, question)
        if isinstance(parsed, Invalid):
            return [f"the model answer does not parse: {parsed.message}"]
        hits = analyse(parsed, question.options.rubric)
        earned = sum(h.concept.points for h in hits if h.found)
        problems = []
        if earned < question.options.full_marks_at:
            missing = ", ".join(repr(h.concept.concept) for h in hits if not h.found)
            problems.append(f"the model answer earns {earned:g} of {question.options.full_marks_at:g} rubric "
                            f"points; the rubric does not find {missing} in it")
        return problems


registry.register(TextKind())
