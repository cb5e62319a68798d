"""Scoring free text against the INF 5860 rubrics: time per answer, typical and longest.

    python benchmarks/text_rubric.py [--answers 20]

Answers are random word sequences drawn from the exercise sheet's own vocabulary (so the
rubric terms do occur), at a typical length (300 characters) and at the longest length a
text question reads (5,000). Baseline measured in the same run: a naive scorer that only
lower-cases the answer and tests `term in text` for every rubric term, no stems, no
negation: the ratio is what stemming, negation and regexes cost on top of that.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.core import registry  # noqa: E402
from grader.authoring import spec

SHEET = ROOT.parent / "shared" / "seeds" / "inf5860-exercises-solution-hints.txt"


def answers(count: int, size: int, seed: int = 0) -> list[str]:
    vocabulary = SHEET.read_text(encoding="utf-8").split() if SHEET.exists() else ["gradient", "kills", "not"]
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocabulary) for _ in range(size // 4))[:size] for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=20)
    args = parser.parse_args()
    course = spec.load_course([ROOT / "exercises" / "inf5860"])
    kind = registry.get("text")
    questions = [q for e in course.exercises for q in e.questions if q.kind == "text"]
    terms = {q.id: [p.text.lower().rstrip("*") for c in q.options.rubric for p in c.phrases] for q in questions}
    for label, size in (("typical, 300 chars", 300), ("longest, 5000 chars", 5_000)):
        texts = answers(args.answers, size)
        kind.check(questions[0], kind.parse(texts[0], questions[0]), "")  # warm the stemmers

        start = time.perf_counter()
        for text in texts:
            for question in questions:
                kind.check(question, kind.parse(text, question), "")
        rubric = (time.perf_counter() - start) / (len(texts) * len(questions))

        start = time.perf_counter()
        for text in texts:
            for question in questions:
                lowered = text.lower()
                sum(term in lowered for term in terms[question.id])
        naive = (time.perf_counter() - start) / (len(texts) * len(questions))
        print(f"{label}: rubric {rubric * 1e3:.2f} ms per answer, naive substring {naive * 1e3:.3f} ms, "
              f"ratio {rubric / naive:.0f}x ({len(questions)} text questions)")


if __name__ == "__main__":
    main()
