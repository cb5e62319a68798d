"""Review effort: how many human decisions grade a class's free-text answers, and how well.

    python benchmarks/review_effort.py --data ../shared/corpora/short-answers/mohler-dev.csv
        [--questions REGEX] [--class-size 1000]

Implements the protocol of ../shared/corpora/short-answers/README.md with the grouping and
suggestion code that `grader review` uses (grader.grading.groups, grader.grading.suggest,
driven by grader.grading.suggest.simulate, the loop the walk follows): for each question on
its own, every answer starts ungraded; one action shows the answer the tool picks, the
simulated reviewer gives that answer's human score, and the score is applied to the group
the tool proposed with it; after ceil(b × answers) actions every answer not reached has the
tool's suggestion. It reports the mean absolute error against the human score for
b = 0, 0.1, 0.2, 0.3 and Pearson's r between the b = 0 suggestions and the human scores.

Any CSV with the columns question_id, question, reference_answer, answer_id, answer,
score, max_score is read. `--questions` keeps the questions whose id matches (e.g.
'^[135]\\.' for a tuning half). It also times grouping and one suggestion round for a class
of `--class-size` answers to one question, made from the file's answers with words dropped
and swapped, so that near duplicates and look-alikes occur as in a real class.

The last line is exactly:
    review effort: mae@0=X mae@0.1=X mae@0.2=X mae@0.3=X r@0=X
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from grader.grading import groups, suggest  # noqa: E402

BUDGETS = (0.0, 0.1, 0.2, 0.3)
COLUMNS = ("question_id", "question", "reference_answer", "answer_id", "answer", "score", "max_score")


class Question:
    def __init__(self, qid: str) -> None:
        self.id = qid
        self.task = groups.Task(max_score=0.0)
        self.answers: list[groups.Answer] = []
        self.scores: dict[str, float] = {}


def read(path: Path) -> list[Question]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(missing)}")
        questions: dict[str, Question] = {}
        for row in reader:
            question = questions.get(row["question_id"])
            if question is None:
                question = questions[row["question_id"]] = Question(row["question_id"])
                question.task = groups.Task(float(row["max_score"]), row["reference_answer"], row["question"])
            key = row["answer_id"]
            if key in question.scores:
                raise SystemExit(f"{path}: answer id {key!r} twice in question {question.id}")
            question.answers.append(groups.Answer(key, row["answer"]))
            question.scores[key] = float(row["score"])
    return list(questions.values())


def pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def evaluate(questions: list[Question]) -> tuple[dict[float, float], float, dict[float, int]]:
    """MAE per budget over all answers, Pearson r at b = 0, and the actions taken per budget."""
    errors: dict[float, list[float]] = defaultdict(list)
    actions: dict[float, int] = defaultdict(int)
    first: list[float] = []
    truth: list[float] = []
    for question in questions:
        analysis = groups.analyse(question.task, question.answers)
        for budget in BUDGETS:
            steps = math.ceil(budget * len(question.answers) - 1e-9)
            final, taken = suggest.simulate(analysis, question.scores.__getitem__, steps)
            actions[budget] += taken
            for answer in question.answers:
                errors[budget].append(abs(final[answer.key] - question.scores[answer.key]))
                if budget == 0.0:
                    first.append(final[answer.key])
                    truth.append(question.scores[answer.key])
    mae = {b: sum(e) / len(e) if e else 0.0 for b, e in errors.items()}
    return mae, pearson(first, truth), dict(actions)


def fit(questions: list[Question]) -> tuple[float, ...]:
    """suggest.CALIBRATION fitted on `questions`: the protocol at 10, 20 and 30% without it, then a
    median linear fit of the human share on the features of every answer no decision reached."""
    from sklearn.linear_model import QuantileRegressor

    saved, suggest.CALIBRATION = suggest.CALIBRATION, (0.0,) * (len(suggest.FEATURES) + 1)
    rows, targets = [], []
    try:
        for question in questions:
            analysis = groups.analyse(question.task, question.answers)
            for budget in BUDGETS[1:]:
                steps = math.ceil(budget * len(question.answers) - 1e-9)
                decisions, _ = suggest.reached(analysis, question.scores.__getitem__, steps)
                table, keys = suggest.learning_rows(analysis, decisions)
                rows.append(table)
                targets += [question.scores[k] / question.task.max_score for k in keys]
    finally:
        suggest.CALIBRATION = saved
    if not targets:
        raise SystemExit("nothing to fit on: every answer was decided within 10% of the actions")
    model = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(np.vstack(rows), np.array(targets))
    return (round(float(model.intercept_), 4), *(round(float(w), 4) for w in model.coef_))


def big_class(questions: list[Question], size: int, seed: int = 0) -> list[groups.Answer]:
    """`size` answers to one question, made from the file's answers by dropping and swapping words."""
    rng = random.Random(seed)
    pool = [a.text for q in questions for a in q.answers] or ["an answer"]
    made = []
    for i in range(size):
        tokens = rng.choice(pool).split()
        if tokens and rng.random() < 0.7:
            for _ in range(rng.randint(1, 3)):
                action = rng.random()
                j = rng.randrange(len(tokens))
                if action < 0.4 and len(tokens) > 3:
                    del tokens[j]
                elif action < 0.7:
                    k = rng.randrange(len(tokens))
                    tokens[j], tokens[k] = tokens[k], tokens[j]
                else:
                    tokens[j] = tokens[j].upper() if rng.random() < 0.5 else tokens[j] + "s"
        made.append(groups.Answer(f"s{i:05d}", " ".join(tokens)))
    return made


def timing(questions: list[Question], size: int) -> tuple[float, float, int]:
    """Seconds to group `size` answers, seconds for one suggestion round with 10% decided, groups."""
    answers = big_class(questions, size)
    task = questions[0].task if questions else groups.Task(5.0, "a reference")
    groups.analyse(task, answers[:20])  # imports and first-call costs are not the class's
    start = time.perf_counter()
    analysis = groups.analyse(task, answers)
    grouped = time.perf_counter() - start
    rng = random.Random(1)
    decisions = {a.key: float(rng.choice([0, 2.5, 5])) for a in rng.sample(answers, size // 10)}
    start = time.perf_counter()
    suggest.suggest(analysis, decisions)
    suggested = time.perf_counter() - start
    return grouped, suggested, len(analysis.groups)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV in the short-answer corpus format")
    parser.add_argument("--questions", default="", help="only questions whose id matches this regex")
    parser.add_argument("--class-size", type=int, default=1000, help="answers in the timing class (0: no timing)")
    parser.add_argument("--fit", action="store_true",
                        help="fit suggest.CALIBRATION on the questions, print it, and measure with it")
    parser.add_argument("--fit-on", default="", metavar="REGEX",
                        help="fit on the questions whose id matches, measure on the others (a held-out check)")
    args = parser.parse_args(argv)
    questions = read(args.data)
    if args.questions:
        questions = [q for q in questions if re.search(args.questions, q.id)]
    if args.fit_on:
        suggest.CALIBRATION = fit([q for q in questions if re.search(args.fit_on, q.id)])
        questions = [q for q in questions if not re.search(args.fit_on, q.id)]
        print(f"fitted on questions matching {args.fit_on!r}: CALIBRATION = {suggest.CALIBRATION}")
    elif args.fit:
        suggest.CALIBRATION = fit(questions)
        print(f"CALIBRATION = {suggest.CALIBRATION}")
    if not questions:
        raise SystemExit("no question to measure")
    answers = sum(len(q.answers) for q in questions)
    print(f"{args.data.name}: {len(questions)} questions, {answers} answers")
    if args.class_size > 0:
        grouped, suggested, count = timing(questions, args.class_size)
        print(f"class of {args.class_size} answers to one question: grouping {grouped:.3f} s ({count} groups), "
              f"one suggestion round {suggested:.3f} s, together {grouped + suggested:.3f} s")
    mae, r, actions = evaluate(questions)
    for budget in BUDGETS:
        print(f"  b={budget:g}: {actions.get(budget, 0)} actions, MAE {mae[budget]:.3f}")
    print(f"review effort: mae@0={mae[0.0]:.3f} mae@0.1={mae[0.1]:.3f} mae@0.2={mae[0.2]:.3f} "
          f"mae@0.3={mae[0.3]:.3f} r@0={r:.3f}")


if __name__ == "__main__":
    main()
