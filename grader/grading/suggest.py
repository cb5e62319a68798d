"""Suggested scores that learn from the decisions made so far, and the next answer to show.

Pure and deterministic, over a grader.grading.groups.Analysis (one question's answers
compared once) and the decisions made so far (answer key -> score).

The model is a Gaussian process over the answers, in shares of the points (0–1):
- its prior mean is what is known before any decision: the rubric's score when the
  question has a rubric, mixed with how close the answer is to the reference and to what
  the class wrote (`prior`); with no decision at all, that is the suggestion;
- its covariance says that alike answers earn alike scores: `OFFSET` (every answer of a
  question moves with the question's difficulty) plus `SCALE` × similarity ^ `POWER`,
  with `NOISE` for how much two careful people differ on one answer;
- each decision moves the suggestions of the answers like it, and the less an answer is
  like anything decided, the lower the confidence.

The next answer shown is the one whose decision teaches the most: the one whose decision
would most reduce the uncertainty left over all the answers not yet decided (its own
uncertainty times how many uncertain answers it is like — least certain × largest group),
and the group proposed with it is its group's members not yet decided, less the outliers.

The constants are the same for every question and course; they were chosen on half of
the development questions of the short-answer corpus and checked on the other half
(benchmarks/review_effort.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Literal, Mapping

import numpy as np

from grader.grading.groups import Analysis

OFFSET = 0.02
"""Prior variance shared by all answers of a question (its difficulty), in squared shares."""
SCALE = 0.08
"""Prior variance shared in proportion to similarity ^ POWER."""
POWER = 1.0
NOISE = 0.015
"""Variance of one decision around the answer's 'true' score (two careful people differ)."""
PRIOR_BASE = 0.4
PRIOR_SLOPE = 1.1
"""Prior share = PRIOR_BASE + PRIOR_SLOPE × closeness (0–1) to the reference and the class."""
RUBRIC_TRUST = 0.85
"""Share of the rubric's own score in the prior, when the question has a rubric (an instructor's
rubric says more than word overlap; not measured: the corpus has no rubrics)."""

FEATURES = ("gp", "prior", "reference", "coverage", "centrality", "nearest_similarity", "nearest_score",
            "neighbours_score", "decided_mean", "confidence", "covered")
"""What the learned suggestion reads for an answer no decision has reached (`features`): the
Gaussian process's mean, the prior and its parts, how alike the nearest decided answer is and
its score, the similarity-weighted score of the three nearest decided answers, the mean
decided score, the process's confidence, and the share of the class decided so far."""
CALIBRATION: tuple[float, ...] = (0.0187, 0.5036, -0.0906, -0.0983, 0.0654, 0.2274, 0.0145, 0.0708, 0.4305,
                                  -0.1516, 0.0922, 0.067)
"""Intercept, then one weight per FEATURES entry: a median (least absolute deviation) linear
fit of the human share on these features, for the answers no decision had reached, over the
review-effort protocol at 10, 20 and 30% on the development half of the short-answer corpus
(`python benchmarks/review_effort.py --data …/mohler-dev.csv --fit` prints it). A median
because the grades are judged by absolute error and are skewed (most answers earn nearly
full points). Fitted on either half of the questions and measured on the other (a held-out
check), it gives 0.419 at 10% and 0.329 at 20% (`--fit-on '^[135]\\.'`) and 0.437 and 0.340
(`--fit-on '^[246]\\.'`)."""

LEARNED_AFTER = 3
"""Decisions a question needs before the learned suggestion counts in full (see `learned`)."""

Basis = Literal["decided", "learned", "prior"]


@dataclass(frozen=True)
class Suggestion:
    """A suggested score for one answer."""

    key: str
    score: float
    """In points, 0 to the question's max score."""
    confidence: float
    """0–1: 1 for a decision, near 0 for an answer like nothing decided yet."""
    basis: Basis
    """decided: a person decided it; learned: from decisions on answers like it; prior:
    from the rubric and the reference alone (no decision yet)."""
    group: int
    """The answer's group (grader.grading.groups.Group.id)."""
    outlier: bool
    """Whether the answer looks unlike the rest of its group."""


@dataclass(frozen=True)
class Round:
    """What the decisions so far lead to: a suggestion for every answer, and what to show next."""

    suggestions: tuple[Suggestion, ...]
    """One per answer, in the order the answers came."""
    next: str | None
    """The answer to show next (None when every answer is decided)."""
    proposal: tuple[str, ...]
    """The answers the next decision should also grade: `next` first, then the other undecided,
    not outlying members of its group."""
    teach: tuple[float, ...]
    """How much deciding each answer would teach (0 for decided ones), in `suggestions` order."""

    def by_key(self) -> dict[str, Suggestion]:
        return {s.key: s for s in self.suggestions}


def prior(analysis: Analysis) -> np.ndarray:
    """The share of the points each answer is expected to earn before any decision."""
    n = len(analysis.answers)
    if n == 0:
        return np.zeros(0)
    closeness = sum(_closeness_parts(analysis)) / 3
    share = np.clip(PRIOR_BASE + PRIOR_SLOPE * closeness, 0.0, 1.0)
    if analysis.task.rubric:
        auto = np.array([a.auto if a.auto is not None else float(s) for a, s in zip(analysis.answers, share)])
        share = RUBRIC_TRUST * auto + (1 - RUBRIC_TRUST) * share
    return share


def _closeness_parts(analysis: Analysis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closeness to the reference, coverage of its words, and to the class (the reference again
    for a class of one), each relative to the class's highest: what the prior is made of."""
    reference = _relative(analysis.reference)
    centrality = _relative(analysis.centrality) if len(analysis.answers) > 1 else reference
    return reference, _relative(analysis.coverage), centrality


def _relative(values: np.ndarray) -> np.ndarray:
    """Values as shares of the class's highest (each question's scale of similarity differs)."""
    return values / max(float(values.max()), 1e-9)


def covariance(analysis: Analysis) -> np.ndarray:
    return OFFSET + SCALE * np.power(analysis.similarity, POWER)


@dataclass(frozen=True)
class _Process:
    """The Gaussian process after the decisions: everything the suggestions are made of."""

    mean0: np.ndarray
    mean: np.ndarray
    posterior: np.ndarray
    variance: np.ndarray
    confidence: np.ndarray
    decided: list[int]
    known: np.ndarray

    def features(self, analysis: Analysis) -> np.ndarray:
        return features(analysis, self.mean, self.confidence, self.decided, self.known, self.mean0)


def _process(analysis: Analysis, decisions: Mapping[str, float]) -> _Process:
    answers = analysis.answers
    top = analysis.task.max_score if analysis.task.max_score > 0 else 1.0
    mean0 = prior(analysis)
    cov = covariance(analysis)
    decided = sorted(analysis.index(k) for k in decisions if k in analysis.positions)
    known = np.array([min(max(float(decisions[answers[i].key]) / top, 0.0), 1.0) for i in decided])
    if decided:
        kdd = cov[np.ix_(decided, decided)] + NOISE * np.eye(len(decided))
        kxd = cov[:, decided]
        solved = np.linalg.solve(kdd, np.column_stack([known - mean0[decided], kxd.T]))
        mean = mean0 + kxd @ solved[:, 0]
        gain = solved[:, 1:]  # (K_DD + noise)^-1 K_Dx
        posterior = cov - kxd @ gain
    else:
        mean = mean0
        posterior = cov
    variance = np.clip(np.diag(posterior), 0.0, None)
    confidence = np.clip(1.0 - np.sqrt(variance / (OFFSET + SCALE)), 0.0, 1.0)
    return _Process(mean0, mean, posterior, variance, confidence, decided, known)


def learning_rows(analysis: Analysis, decisions: Mapping[str, float]) -> tuple[np.ndarray, list[str]]:
    """The features of the answers no decision has reached yet, and their keys: what the learned
    suggestion is fitted on (benchmarks/review_effort.py --fit). Empty without a decision."""
    process = _process(analysis, decisions)
    if not process.decided:
        return np.zeros((0, len(FEATURES))), []
    open_ = [i for i in range(len(analysis.answers)) if i not in set(process.decided)]
    return process.features(analysis)[open_], [analysis.answers[i].key for i in open_]


def suggest(analysis: Analysis, decisions: Mapping[str, float], skipped: Collection[str] = ()) -> Round:
    """Suggestions for every answer given `decisions` (answer key -> score in points; keys of
    other answers are ignored), and the next answer to show: never one decided or `skipped`
    (answers the reviewer put off), and no skipped answer in the proposed group."""
    answers = analysis.answers
    n = len(answers)
    skipped = frozenset(skipped)
    if n == 0:
        return Round((), None, (), ())
    top = analysis.task.max_score if analysis.task.max_score > 0 else 1.0
    process = _process(analysis, decisions)
    decided, posterior, variance = process.decided, process.posterior, process.variance
    mean = learned(process.features(analysis), len(decided)) if decided else process.mean
    open_ = np.ones(n, dtype=bool)
    open_[decided] = False
    # expected reduction of the variance left over the undecided answers if i were decided
    reach = posterior[:, open_]
    teach = (reach * reach).sum(axis=1) / (variance + NOISE)
    outlying = {key for group in analysis.groups for key in group.outliers}
    teach = np.where(open_, teach, 0.0)
    suggestions = []
    decided_set = set(decided)
    basis: Basis
    for i, answer in enumerate(answers):
        number = int(analysis.group_of[i])
        if i in decided_set:
            score, sure, basis = float(decisions[answer.key]), 1.0, "decided"
        else:
            score = float(np.clip(mean[i], 0.0, 1.0)) * top
            sure = float(process.confidence[i])
            basis = "learned" if decided else "prior"
        suggestions.append(Suggestion(answer.key, round(score, 6), round(sure, 6), basis, number,
                                      answer.key in outlying))
    if not open_.any():
        return Round(tuple(suggestions), None, (), tuple(0.0 for _ in answers))
    eligible = open_.copy()
    for key in skipped:
        if key in analysis.positions:
            eligible[analysis.index(key)] = False
    if not eligible.any():
        return Round(tuple(suggestions), None, (), tuple(round(float(t), 9) for t in teach))
    best = int(np.argmax(np.where(eligible, teach, -1.0)))  # first of equals: deterministic
    shown = answers[best].key
    group = analysis.groups[int(analysis.group_of[best])]
    proposal = (shown,) + tuple(k for k in group.members
                                if k != shown and k not in decisions and k not in outlying and k not in skipped)
    return Round(tuple(suggestions), shown, proposal, tuple(round(float(t), 9) for t in teach))


def features(analysis: Analysis, mean: np.ndarray, confidence: np.ndarray, decided: list[int],
             known: np.ndarray, mean0: np.ndarray) -> np.ndarray:
    """answers × FEATURES, for the learned suggestion; `decided` (indices) is not empty."""
    n = len(analysis.answers)
    sims = analysis.similarity[:, decided]
    order = np.argsort(-sims, axis=1, kind="stable")[:, :3]
    near = np.take_along_axis(sims, order, axis=1)
    weights = near + 1e-6
    neighbours = (known[order] * weights).sum(axis=1) / weights.sum(axis=1)
    columns = [np.clip(mean, 0.0, 1.0), mean0, *_closeness_parts(analysis), near[:, 0], known[order[:, 0]], neighbours, np.full(n, known.mean()), confidence,
               np.full(n, len(decided) / n)]
    return np.column_stack(columns)


def learned(table: np.ndarray, decided: int) -> np.ndarray:
    """The learned share for each row of `features` (CALIBRATION all zero: the process's own
    mean). The fit saw at least LEARNED_AFTER decisions a question: with fewer, it is mixed
    with the process's mean in proportion, so that one early decision does not move the
    whole class through the mean decided score."""
    own = table[:, 0]
    if not any(CALIBRATION):
        return own
    fitted = np.clip(CALIBRATION[0] + table @ np.array(CALIBRATION[1:]), 0.0, 1.0)
    share = min(1.0, decided / LEARNED_AFTER)
    return own + share * (fitted - own)


def decide(decisions: Mapping[str, float], round_: Round, score: float, whole_group: bool = True) -> dict[str, float]:
    """The decisions with `score` given to the shown answer (`round_.next`) and, with
    `whole_group`, to the rest of the group proposed with it. Pure: returns a new mapping."""
    if round_.next is None:
        return dict(decisions)
    updated = dict(decisions)
    for key in round_.proposal if whole_group else (round_.next,):
        updated[key] = score
    return updated


def reached(analysis: Analysis, reviewer: Callable[[str], float], actions: int) -> tuple[dict[str, float], int]:
    """The decisions after at most `actions` steps of the review-effort protocol on one question
    (show `next`, take the reviewer's score for it and apply it to the proposed group), and
    the steps taken (fewer when every answer is decided sooner)."""
    decisions: dict[str, float] = {}
    taken = 0
    for _ in range(actions):
        round_ = suggest(analysis, decisions)
        if round_.next is None:
            break
        decisions = decide(decisions, round_, reviewer(round_.next))
        taken += 1
    return decisions, taken


def simulate(analysis: Analysis, reviewer: Callable[[str], float], actions: int) -> tuple[dict[str, float], int]:
    """The review-effort protocol on one question: every answer's final score (decided, applied
    from a group, or suggested) after `actions` steps, and the actions taken."""
    decisions, taken = reached(analysis, reviewer, actions)
    final = suggest(analysis, decisions)
    return {s.key: s.score for s in final.suggestions}, taken
