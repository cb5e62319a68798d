"""Words in free text: tokens with offsets, stems, phrase matching with simple negation,
and regular expressions that are safe to run on student text.

Stemming uses the Snowball stemmers (the `snowballstemmer` package: pure Python, no
dependencies, English and Norwegian among its languages), so "kills", "killing" and
"killed" all meet the rubric's "kill", and "gradientene" meets "gradient". Negation is a
look-back over the few words before a match inside the same clause: "does not kill
gradients" and "dreper ikke gradientene" do not count as "kills gradients".

Speed (a class of a thousand answers to a dozen rubrics of ~35 terms each): an answer is
normalised, tokenised and stemmed once (`Text`, stems cached per word by `stem`), and
searched only for the terms whose first word and other stems it contains: `PhraseIndex`
files a rubric's terms by first stem (or `prefix*`), and `Text` keeps a stem -> positions
index and the positions of each prefix asked for, so no term scans the answer token by
token. Skipping the other terms changes nothing: `find` would have found no match.
`normalise` skips its per-character filter when the text has no control characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, NamedTuple, Sequence

#: Language codes a rubric may use, mapped to the Snowball algorithm that stems them.
LANGUAGES: dict[str, str] = {
    "en": "english", "no": "norwegian", "nb": "norwegian", "nn": "norwegian",
    "sv": "swedish", "da": "danish", "de": "german", "fr": "french", "es": "spanish",
}

# Words that negate what follows them, in every language a rubric may use. A match is
# negated when one stands among the NEGATION_WINDOW words before it in the same clause.
NEGATORS = frozenset({
    "not", "no", "never", "without", "cannot", "neither", "nor", "none", "nothing", "hardly", "n't",
    "ikke", "ikkje", "ingen", "intet", "inga", "aldri", "uten", "utan", "verken", "hverken",
})
# "not only …" and "ikke bare …" add rather than negate.
NOT_NEGATING_NEXT = frozenset({"only", "just", "merely", "bare", "berre", "kun"})
NEGATION_WINDOW = 3

# Words that end a clause (as punctuation does): "not zero-centred but kills gradients".
CLAUSE_WORDS = frozenset({"but", "however", "although", "though", "whereas", "while", "yet",
                          "men", "mens", "derimot", "likevel"})

# Common words dropped before matching, so "kills the gradients" meets "kills gradients".
STOPWORDS = frozenset({
    "the", "a", "an", "of", "to", "is", "are", "was", "be", "been", "it", "its", "this", "that",
    "these", "those", "and", "or", "in", "on", "at", "for", "by", "with", "as", "very", "so",
    "en", "et", "ei", "den", "det", "de", "som", "er", "var", "og", "eller", "til", "av", "på",
    "i", "med", "å", "seg", "sin", "sitt", "sine", "veldig",
})

MAX_GAP = 2
"""Content words allowed between two words of a phrase: "kills (local) gradients"."""

# Conjunctions that bound a negation's reach and a phrase's gaps: in "does not saturate and
# kills gradients" the "not" belongs to "saturate" only.
BARRIERS = frozenset({"and", "or", "og", "eller", "so", "så", "then"})

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_TOKEN = re.compile(r"[^\W_]+(?=n['’]t\b)|n['’]t\b|[^\W_]+")
_TERM_TOKEN = re.compile(r"[^\W_]+(?=n['’]t\b)|n['’]t\b|[^\W_]+\*?")
_CLAUSE_BREAK = re.compile(r"[.;:!?,()\[\]\n]")
# A word (group 1) or a clause break: one scan finds both, as no break character can
# stand inside a word.
_TOKEN_OR_BREAK = re.compile(f"({_TOKEN.pattern})|{_CLAUSE_BREAK.pattern}")


class Token(NamedTuple):
    """A word of an answer (a tuple: answers have hundreds of them, built once each)."""

    word: str
    """Lower-cased, NFKC-normalised word (`n't` becomes `not`)."""
    start: int
    end: int
    clause: int
    """Index of the clause the word stands in; negation never crosses a clause."""


_new_tuple = tuple.__new__


def normalise(text: str) -> str:
    """NFKC, without terminal escape sequences and control or format characters (newline
    and tab stay). Token offsets refer to this normalised text."""
    text = unicodedata.normalize("NFKC", text)
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    # isprintable() is False for every category C character (and for separators other
    # than the space), so a True here means the filter below would keep every character.
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def tokenize(text: str) -> list[Token]:
    """Words of `text` (already normalised) with their offsets and clause numbers."""
    tokens: list[Token] = []
    append = tokens.append
    clause, broken = 0, False
    for match in _TOKEN_OR_BREAK.finditer(text):
        word = match.group(1)
        if word is None:  # breaks between two words start one new clause, however many
            broken = True
            continue
        if broken:
            clause += 1
            broken = False
        word = word.lower()
        if word in ("n't", "n’t"):
            word = "not"
        if word in CLAUSE_WORDS:
            clause += 1
        append(_new_tuple(Token, (word, match.start(), match.end(), clause)))  # Token(...) without a frame
    return tokens


_BRITISH = (
    (re.compile(r"^(\w{3,})is(e|es|ed|ing|ation|ations|er|ers)$"), r"\1iz\2"),
    (re.compile(r"^(\w{2,})tre(s?)$"), r"\1ter\2"),
    (re.compile(r"^(\w{2,})tr(ed|ing)$"), r"\1ter\2"),
)


def americanise(word: str) -> str:
    """British spellings to American ones, so "normalise"/"centred" meet "normalize"/"centered"."""
    for pattern, replacement in _BRITISH:
        word = pattern.sub(replacement, word)
    return word


@lru_cache(maxsize=None)
def _stemmer(language: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(LANGUAGES[language])


@lru_cache(maxsize=65_536)
def stem(word: str, language: str) -> str:
    """The word's stem; every negator stems to "not", so a rubric's "no fully connected"
    also meets "not fully connected" and "without fully connected"."""
    if word in NEGATORS:
        return "not"
    if language == "en":
        word = americanise(word)
    return _stemmer(language).stemWord(word)


@dataclass(frozen=True)
class Phrase:
    """A rubric term ready for matching: its content words, each a stem or a `prefix*`."""

    text: str
    """The term as the rubric wrote it."""
    language: str
    words: tuple[str, ...]
    prefixes: tuple[bool, ...]
    """True where the word was written `prefix*`: it matches any word starting so."""


def phrase(term: str, language: str) -> Phrase:
    """Compile a rubric term; ValueError when nothing but common words is left."""
    words: list[str] = []
    prefixes: list[bool] = []
    for raw in _TERM_TOKEN.findall(normalise(term)):
        word = raw.lower().rstrip("*")
        if word in ("n't", "n’t"):
            word = "not"
        if word in STOPWORDS:
            continue
        is_prefix = raw.endswith("*")
        words.append(word if is_prefix else stem(word, language))
        prefixes.append(is_prefix)
    if not words:
        raise ValueError(f"term {term!r} has no words to match (only common words such as 'the', 'is')")
    return Phrase(term, language, tuple(words), tuple(prefixes))


class Text:
    """An answer prepared for matching: tokens, and per language the content-word stems."""

    def __init__(self, raw: str) -> None:
        self.text = normalise(raw)
        self.tokens = tokenize(self.text)
        self._content = [i for i, t in enumerate(self.tokens) if t.word not in STOPWORDS]
        self._stems: dict[str, list[str]] = {}
        self._index: dict[str, dict[str, list[int]]] = {}
        self._by_word: dict[str, list[int]] | None = None
        self._prefixed: dict[str, list[int]] = {}

    def stems(self, language: str) -> list[str]:
        if language not in self._stems:
            self._stems[language] = [stem(self.tokens[i].word, language) for i in self._content]
        return self._stems[language]

    def stem_index(self, language: str) -> dict[str, list[int]]:
        """Content-word stem -> its positions among the content words, in order."""
        if language not in self._index:
            index: dict[str, list[int]] = {}
            for position, word in enumerate(self.stems(language)):
                index.setdefault(word, []).append(position)
            self._index[language] = index
        return self._index[language]

    def distinct_words(self) -> dict[str, list[int]]:
        """Content word -> its positions among the content words, in order."""
        if self._by_word is None:
            self._by_word = {}
            for position, index in enumerate(self._content):
                self._by_word.setdefault(self.tokens[index].word, []).append(position)
        return self._by_word

    def prefix_positions(self, prefix: str) -> list[int]:
        """Positions of the content words that start with `prefix` (a rubric's `prefix*`),
        found over the distinct words rather than every token."""
        if prefix not in self._prefixed:
            found = [p for word, positions in self.distinct_words().items() if word.startswith(prefix)
                     for p in positions]
            self._prefixed[prefix] = sorted(found)
        return self._prefixed[prefix]

    def find(self, compiled: Phrase) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Character spans where the phrase occurs: (affirmed, negated)."""
        stems = self.stems(compiled.language)
        affirmed: list[tuple[int, int]] = []
        negated: list[tuple[int, int]] = []
        single = len(compiled.words) == 1
        for start in self._starts(compiled, stems):
            # A start is where the first word matches, so a one-word phrase has matched.
            positions = [start] if single else self._match_from(compiled, stems, start)
            if positions is None:
                continue
            first, last = self._content[positions[0]], self._content[positions[-1]]
            span = (self.tokens[first].start, self.tokens[last].end)
            own = {self._content[p] for p in positions}
            (negated if self._negated(first, last, own) else affirmed).append(span)
        return affirmed, negated

    def _starts(self, compiled: Phrase, stems: Sequence[str]) -> list[int]:
        """Positions where the phrase's first word stands (an index, not a scan, per stem)."""
        if compiled.prefixes[0]:
            return self.prefix_positions(compiled.words[0])
        return self.stem_index(compiled.language).get(compiled.words[0], [])

    def _word_matches(self, compiled: Phrase, index: int, stems: Sequence[str], position: int) -> bool:
        if compiled.prefixes[index]:
            return self.tokens[self._content[position]].word.startswith(compiled.words[index])
        return stems[position] == compiled.words[index]

    def _match_from(self, compiled: Phrase, stems: Sequence[str], start: int) -> list[int] | None:
        if not self._word_matches(compiled, 0, stems, start):
            return None
        positions = [start]
        clause = self.tokens[self._content[start]].clause
        for index in range(1, len(compiled.words)):
            following = range(positions[-1] + 1, min(len(stems), positions[-1] + 2 + MAX_GAP))
            found = next((p for p in following if self.tokens[self._content[p]].clause == clause
                          and self._word_matches(compiled, index, stems, p)
                          and not self._gap_crosses_barrier(positions[-1], p)), None)
            if found is None:
                return None
            positions.append(found)
        return positions

    def _gap_crosses_barrier(self, before: int, after: int) -> bool:
        """A gap with words in it may not cross "and"/"or": "not X and zero-centred" is no
        "not zero-centred". ("again and again", with no word skipped, still matches.)"""
        if after == before + 1:
            return False
        first, last = self._content[before], self._content[after]
        return any(self.tokens[i].word in BARRIERS for i in range(first + 1, last))

    def _negated(self, first: int, last: int, own: set[int]) -> bool:
        """A negator in the window before the match (not reaching past "and"/"or" or the
        clause), or inside the match (other than the phrase's own "not")."""
        clause = self.tokens[first].clause
        inside = any(i not in own and self._is_negator(i) for i in range(first, last + 1))
        for i in range(first - 1, max(-1, first - 1 - NEGATION_WINDOW), -1):
            token = self.tokens[i]
            if token.clause != clause or token.word in BARRIERS:
                break
            if self._is_negator(i):
                return True
        return inside

    def _is_negator(self, index: int) -> bool:
        if self.tokens[index].word not in NEGATORS:
            return False
        after = self.tokens[index + 1].word if index + 1 < len(self.tokens) else ""
        return after not in NOT_NEGATING_NEXT

    def regex_spans(self, pattern: re.Pattern[str]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Where a (checked) pattern matches, run clause by clause: (affirmed, negated)."""
        affirmed: list[tuple[int, int]] = []
        negated: list[tuple[int, int]] = []
        for chunk_start, chunk_end in self._sentences():
            for match in pattern.finditer(self.text, chunk_start, chunk_end):
                if match.end() == match.start():
                    continue
                span = (match.start(), match.end())
                (negated if self._negated_at(match.start(), match.end()) else affirmed).append(span)
        return affirmed, negated

    def _negated_at(self, start: int, end: int) -> bool:
        inside = [i for i, t in enumerate(self.tokens) if t.start >= start and t.end <= end]
        if not inside:
            return False
        first, last = inside[0], inside[-1]
        own = {i for i in inside if self.tokens[i].word in NEGATORS}  # a pattern may spell its own "not"
        return self._negated(first, last, own)

    def _sentences(self) -> Iterable[tuple[int, int]]:
        """Sentence spans, none longer than MAX_CHUNK, so no pattern sees a long run of text."""
        start = 0
        for match in re.finditer(r"[.!?\n]+", self.text):
            yield from _capped(start, match.end())
            start = match.end()
        yield from _capped(start, len(self.text))


class PhraseIndex:
    """A rubric's phrases filed by first word: which of them an answer can contain at all.

    A phrase matches only where its first word stands and where each of its other stems
    stands too, so a phrase whose first stem (or `prefix*`) or any other stem is not in the
    answer cannot match, and `find` need not run for it."""

    def __init__(self, phrases: Sequence[Phrase]) -> None:
        self._language_of = [p.language for p in phrases]
        self._required = [frozenset(w for w, prefix in zip(p.words, p.prefixes) if not prefix) for p in phrases]
        self._by_stem: dict[str, dict[str, list[int]]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        for number, compiled in enumerate(phrases):
            first = compiled.words[0]
            if compiled.prefixes[0]:
                self._by_prefix.setdefault(first, []).append(number)
            else:
                self._by_stem.setdefault(compiled.language, {}).setdefault(first, []).append(number)
        self._prefix_lengths = sorted({len(prefix) for prefix in self._by_prefix})
        self._languages = sorted({p.language for p in phrases})

    def candidates(self, text: Text) -> set[int]:
        """Numbers (in the order given) of the phrases whose first word and stems occur in `text`."""
        starting: set[int] = set()
        for language, table in self._by_stem.items():
            index = text.stem_index(language)
            for first, numbers in table.items():
                if first in index:
                    starting.update(numbers)
        if self._by_prefix:
            # A word starts with a prefix exactly when its first len(prefix) letters are it:
            # a few look-ups per distinct word instead of a scan per prefix.
            for word in text.distinct_words():
                for length in self._prefix_lengths:
                    found = self._by_prefix.get(word[:length])
                    if found is not None:
                        starting.update(found)
        stems = {language: text.stem_index(language).keys() for language in self._languages}
        return {n for n in starting if stems[self._language_of[n]] >= self._required[n]}


MAX_CHUNK = 500


def _capped(start: int, end: int) -> Iterable[tuple[int, int]]:
    while end - start > MAX_CHUNK:
        yield start, start + MAX_CHUNK
        start += MAX_CHUNK
    if end > start:
        yield start, end


# --- regular expressions from a spec ----------------------------------------------------

MAX_PATTERN = 300


def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile a rubric regex, refusing those that can backtrack catastrophically.

    Refused: back-references and conditionals, and any repetition (`*`, `+`, `{n,m}` with
    m > 1) of something that itself repeats or alternates, such as `(a+)+` or `(a|ab)*`:
    the shapes whose matching time explodes on a long answer. Patterns run on at most
    MAX_CHUNK characters at a time (one sentence), which bounds what is left.
    """
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("a regex must be non-empty text")
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"regex is longer than {MAX_PATTERN} characters")
    import re._parser as sre_parse

    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"regex {pattern!r} does not compile: {exc}") from None
    problem = _risky(list(parsed), under_repeat=False)
    if problem:
        raise ValueError(f"regex {pattern!r} is refused: {problem}")
    return re.compile(pattern, re.IGNORECASE)


def _risky(items: list[Any], under_repeat: bool) -> str | None:
    from re._constants import (ASSERT, ASSERT_NOT, ATOMIC_GROUP, BRANCH, GROUPREF, GROUPREF_EXISTS,
                               MAX_REPEAT, MAXREPEAT, MIN_REPEAT, POSSESSIVE_REPEAT, SUBPATTERN)

    for op, av in items:
        if op in (GROUPREF, GROUPREF_EXISTS):
            return "back-references are not allowed"
        if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT):
            low, high, body = av
            repeats = high is MAXREPEAT or high > 1
            if repeats and under_repeat:
                return "a repetition inside a repetition can take exponential time on a long answer"
            problem = _risky(list(body), under_repeat or repeats)
        elif op is BRANCH:
            if under_repeat:
                return "an alternation inside a repetition can take exponential time on a long answer"
            problem = next((p for branch in av[1] if (p := _risky(list(branch), under_repeat))), None)
        elif op is SUBPATTERN:
            problem = _risky(list(av[3]), under_repeat)
        elif op in (ASSERT, ASSERT_NOT):
            problem = _risky(list(av[1]), under_repeat)
        elif op is ATOMIC_GROUP:
            problem = _risky(list(av), under_repeat)
        else:
            problem = None
        if problem:
            return problem
    return None
