"""Answer groups: one question's free-text answers clustered so that one decision can grade many.

Pure and deterministic: the same answers in the same order give the same groups, whatever
the process, the hash seed or the machine. Nothing here names a question kind; a rubric's
hits arrive as plain concept names in `Answer.hits` (read from the results by the caller).

How answers are compared (`analyse`):
- each answer is read as words (lower-cased, stemmed with the Snowball stemmer, the
  negators all read as "not") and as characters (2–4-grams inside word boundaries), and
  both are weighted by TF-IDF over the class's answers and the reference;
- the similarity of two answers is the mean of the word and the character cosines, and,
  when the question has a rubric, mixed with the overlap of the concepts both state
  (`RUBRIC_WEIGHT`), so two answers that state different rubric ideas stand apart;
- near duplicates (`near_duplicates`): the same text once case, spacing and punctuation
  are set aside, or within a few typos (rapidfuzz's normalised Indel ratio ≥ `TYPO_RATIO`),
  with the same numbers, the same negations and the same rubric hits. "does not kill
  gradients" is never a near duplicate of "does kill gradients".

How groups are formed (`cluster`): near duplicates are merged first (they always share a
group), then the merged units are clustered by average linkage until the next merge would
join answers whose mean similarity is below `GROUP_SIMILARITY`. A member whose similarity to
the rest of its group is well below the group's own cohesion, or whose rubric hits differ
from the group's, is flagged as an outlier: it deserves a look of its own.

Cost: for 1,000 answers of a few sentences, 0.4–0.8 s on a busy two-core machine (stemming,
two sparse TF-IDF products, one n×n similarity matrix, rapidfuzz over all pairs, one linkage);
benchmarks/review_effort.py measures it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from grader.parsing import words

GROUP_SIMILARITY = 0.5
"""Average-linkage similarity below which two clusters are not merged."""
RUBRIC_WEIGHT = 0.3
"""Share of the rubric-hit overlap in the similarity of two answers (when there is a rubric)."""
TYPO_RATIO = 90.0
"""rapidfuzz ratio (0–100) of two canonical texts at or above which they are near duplicates."""
OUTLIER_SHARE = 0.6
"""A member is an outlier when its mean similarity to the others is below this share of the group's."""
MAX_ANSWERS = 20_000

_WORD = re.compile(r"\w+(?:'\w+)?", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_PUNCTUATION = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Answer:
    """One student's answer to the question being grouped."""

    key: str
    """Who wrote it (the student id); unique among the answers of one question."""
    text: str
    hits: frozenset[str] = frozenset()
    """The rubric concepts the answer states (empty when the question has no rubric)."""
    auto: float | None = None
    """The rubric's own score as a share of the points, 0–1 (None without a rubric)."""


@dataclass(frozen=True)
class Task:
    """What is known of the question before any decision: the reference and the points."""

    max_score: float
    reference: str = ""
    prompt: str = ""
    rubric: bool = False
    """Whether the answers carry rubric hits (`Answer.hits`, `Answer.auto`)."""


@dataclass(frozen=True)
class Group:
    """Answers alike enough that one decision may grade them all."""

    id: int
    """0 for the largest group, then by size (ties: the first member's position)."""
    members: tuple[str, ...]
    """Answer keys, the representative first, then in the order the answers came."""
    representative: str
    """The member most like the others (the medoid)."""
    outliers: tuple[str, ...]
    """Members that look unlike the rest of the group."""
    hits: frozenset[str]
    """The rubric concepts most members state (empty without a rubric)."""
    cohesion: float
    """Mean similarity between members, 0–1 (1 for a group of one)."""

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class Analysis:
    """A question's answers compared, once; suggestions are computed from it after each
    decision (grader.grading.suggest). Holds numpy arrays: treat it as read-only."""

    task: Task
    answers: tuple[Answer, ...]
    similarity: np.ndarray
    """n × n similarity of the answers, 0–1, symmetric, 1 on the diagonal."""
    reference: np.ndarray
    """Each answer's similarity to the reference answer, 0–1."""
    centrality: np.ndarray
    """Each answer's mean similarity to the other answers, 0–1."""
    coverage: np.ndarray
    """Share of the reference's content words (stems not in the prompt) that each answer uses, 0–1."""
    groups: tuple[Group, ...]
    group_of: np.ndarray
    """Index into `groups` for each answer."""
    duplicates: np.ndarray
    """Each answer's near-duplicate set: equal numbers for exact and near duplicates."""
    positions: Mapping[str, int]
    """Answer key -> its index in `answers`."""

    def index(self, key: str) -> int:
        return self.positions[key]

    def group(self, key: str) -> Group:
        return self.groups[int(self.group_of[self.index(key)])]


# --- reading text -------------------------------------------------------------------------


def canonical(text: str) -> str:
    """The text with case, spacing, punctuation and accents' forms set aside (NFKC)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCTUATION.sub(" ", text)).strip()


def stems(text: str) -> list[str]:
    """Content words, stemmed (every negator reads "not"); stopwords dropped."""
    return [words.stem(w, "en") for w in _WORD.findall(unicodedata.normalize("NFKC", text).lower())
            if w not in words.STOPWORDS]


def _signature(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What two near duplicates must share: their numbers and their negations, in order."""
    lowered = text.lower().replace("n't", " not")
    negations = tuple(w for w in _WORD.findall(lowered) if w in words.NEGATORS)
    return tuple(_NUMBER.findall(lowered)), negations


# --- comparing ----------------------------------------------------------------------------


def _char_grams(text: str, sizes: tuple[int, int]) -> list[str]:
    """Character n-grams of the canonical text, padded with a space at each end (as
    scikit-learn's char_wb, but across word boundaries and without a Python loop per word)."""
    padded = f" {canonical(text)} "
    return [padded[i:i + n] for n in range(sizes[0], sizes[1] + 1) for i in range(len(padded) - n + 1)]


def _tfidf(documents: Sequence[str], analyzer: str, ngram: tuple[int, int]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyzer == "word":
        vectorizer = TfidfVectorizer(analyzer=stems, ngram_range=(1, 1), sublinear_tf=True, norm="l2")
    else:
        vectorizer = TfidfVectorizer(analyzer=lambda text: _char_grams(text, ngram), sublinear_tf=True, norm="l2")
    try:
        matrix = vectorizer.fit_transform(documents)
    except ValueError:  # no word at all in any document
        return np.zeros((len(documents), len(documents)))
    return np.asarray((matrix @ matrix.T).toarray(), dtype=float)


def _text_similarity(texts: Sequence[str], reference: str) -> tuple[np.ndarray, np.ndarray]:
    """(answers × answers, answers × reference) similarity: mean of word and character cosines."""
    documents = [*texts, reference]
    combined = 0.5 * _tfidf(documents, "word", (1, 1)) + 0.5 * _tfidf(documents, "char", (2, 4))
    np.clip(combined, 0.0, 1.0, out=combined)
    n = len(texts)
    return combined[:n, :n], combined[:n, n]


def _hit_overlap(answers: Sequence[Answer]) -> np.ndarray:
    """Jaccard overlap of the rubric concepts two answers state (1 when neither states any)."""
    concepts = sorted({c for a in answers for c in a.hits})
    if not concepts:
        return np.ones((len(answers), len(answers)))
    column = {c: j for j, c in enumerate(concepts)}
    marks = np.zeros((len(answers), len(concepts)))
    for i, answer in enumerate(answers):
        for concept in answer.hits:
            marks[i, column[concept]] = 1.0
    both = marks @ marks.T
    counts = marks.sum(axis=1)
    either = counts[:, None] + counts[None, :] - both
    return np.where(either > 0, both / np.maximum(either, 1.0), 1.0)


def near_duplicates(answers: Sequence[Answer], similarity: np.ndarray | None = None) -> np.ndarray:
    """A set number for each answer: equal for exact and near duplicates (see the module doc)."""
    n = len(answers)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    texts = [canonical(a.text) for a in answers]
    signatures = [(_signature(a.text), a.hits) for a in answers]
    first: dict[tuple[str, object], int] = {}
    for i, text in enumerate(texts):
        j = first.setdefault((text, signatures[i]), i)
        if j != i:
            union(i, j)
    if n > 1:
        from rapidfuzz import fuzz, process

        ratios = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=TYPO_RATIO, dtype=np.uint8,
                               workers=1)
        rows, cols = np.nonzero(np.triu(ratios, 1))
        for i, j in zip(rows.tolist(), cols.tolist()):
            if signatures[i] == signatures[j] and texts[i] and texts[j]:
                union(i, j)
    return np.array([find(i) for i in range(n)], dtype=int)


# --- grouping -----------------------------------------------------------------------------


def _average_linkage(similarity: np.ndarray, units: list[list[int]], threshold: float) -> list[list[int]]:
    """Merge units (lists of answer indices) by average linkage while the best pair's mean
    similarity is at least `threshold`. Deterministic: ties go to the lowest indices."""
    if len(units) <= 1:
        return units
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    from scipy.sparse import csr_matrix

    m = len(units)
    if m == similarity.shape[0]:
        between = similarity
    else:
        rows = [u for u, indices in enumerate(units) for _ in indices]
        cols = [i for indices in units for i in indices]
        member = csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(m, similarity.shape[0]))
        sizes = np.array([len(indices) for indices in units], dtype=float)
        # mean similarity between units (a unit's own answers are near duplicates: treat as one)
        between = np.asarray(member @ (member @ similarity).T) / np.outer(sizes, sizes)
    distance = np.clip(1.0 - between, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    distance = (distance + distance.T) / 2
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    merged: dict[int, list[int]] = {}
    for u, label in enumerate(labels.tolist()):
        merged.setdefault(label, []).extend(units[u])
    return [sorted(indices) for indices in merged.values()]


def _make_group(indices: list[int], answers: Sequence[Answer], similarity: np.ndarray) -> Group:
    keys = [answers[i].key for i in indices]
    if len(indices) == 1:
        return Group(0, tuple(keys), keys[0], (), answers[indices[0]].hits, 1.0)
    block = similarity[np.ix_(indices, indices)]
    to_others = (block.sum(axis=1) - 1.0) / (len(indices) - 1)
    cohesion = float(to_others.mean())
    medoid = int(np.argmax(to_others))  # first of equals: deterministic
    hit_counts = Counter(answers[i].hits for i in indices)
    common = hit_counts.most_common(1)[0][0]  # ties: the first met (a Counter keeps insertion order)
    outliers = tuple(answers[i].key for pos, i in enumerate(indices)
                     if to_others[pos] < OUTLIER_SHARE * cohesion or answers[i].hits != common)
    ordered = [keys[medoid]] + [k for pos, k in enumerate(keys) if pos != medoid]
    return Group(0, tuple(ordered), keys[medoid], outliers, common, round(cohesion, 6))


def cluster(answers: Sequence[Answer], similarity: np.ndarray, duplicates: np.ndarray,
            threshold: float = GROUP_SIMILARITY) -> tuple[tuple[Group, ...], np.ndarray]:
    """The groups, largest first, and each answer's group index."""
    units_by_set: dict[int, list[int]] = {}
    for i, d in enumerate(duplicates.tolist()):
        units_by_set.setdefault(d, []).append(i)
    units = [units_by_set[d] for d in sorted(units_by_set)]
    clusters = _average_linkage(similarity, units, threshold)
    clusters.sort(key=lambda indices: (-len(indices), indices[0]))
    groups = []
    group_of = np.zeros(len(answers), dtype=int)
    for number, indices in enumerate(clusters):
        group = _make_group(indices, answers, similarity)
        groups.append(Group(number, group.members, group.representative, group.outliers, group.hits,
                            group.cohesion))
        group_of[indices] = number
    return tuple(groups), group_of


def _content_of_reference(task: Task) -> set[str]:
    """The reference's stems that say something the question does not ("question demoting",
    Mohler et al. 2011): an answer that repeats the prompt's words covers nothing. All of the
    reference's stems when the prompt holds every one of them."""
    reference = set(stems(task.reference)) - {"not"}
    return (reference - set(stems(task.prompt))) or reference


def analyse(task: Task, answers: Sequence[Answer], threshold: float = GROUP_SIMILARITY) -> Analysis:
    """Compare a question's answers and group them. ValueError for repeated keys or too many answers."""
    answers = tuple(answers)
    keys = [a.key for a in answers]
    if len(set(keys)) != len(keys):
        repeated = next(k for k, count in Counter(keys).items() if count > 1)
        raise ValueError(f"answer key {repeated!r} is given twice")
    if len(answers) > MAX_ANSWERS:
        raise ValueError(f"{len(answers)} answers to one question; at most {MAX_ANSWERS} are grouped")
    n = len(answers)
    if n == 0:
        empty = np.zeros((0, 0))
        return Analysis(task, answers, empty, np.zeros(0), np.zeros(0), np.zeros(0), (), np.zeros(0, dtype=int),
                        np.zeros(0, dtype=int), {})
    similarity, reference = _text_similarity([a.text for a in answers], task.reference)
    if task.rubric:
        similarity = (1 - RUBRIC_WEIGHT) * similarity + RUBRIC_WEIGHT * _hit_overlap(answers)
    duplicates = near_duplicates(answers)
    # near duplicates are alike whatever the n-grams say
    same = duplicates[:, None] == duplicates[None, :]
    similarity = np.where(same, np.maximum(similarity, 0.95), similarity)
    np.fill_diagonal(similarity, 1.0)
    centrality = (similarity.sum(axis=1) - 1.0) / max(n - 1, 1)
    groups, group_of = cluster(answers, similarity, duplicates, threshold)
    reference_words = _content_of_reference(task)
    coverage = np.array([len(reference_words.intersection(stems(a.text))) / max(len(reference_words), 1)
                         for a in answers])
    return Analysis(task, answers, similarity, reference, centrality, coverage, groups, group_of, duplicates,
                    {key: i for i, key in enumerate(keys)})
