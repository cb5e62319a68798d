"""Symbolic equivalence: time per check and wrong verdicts, against naive `simplify(a - b) == 0`.

    python benchmarks/symbolic.py [--limit 2]

Two workloads, both parsed once up front (parsing is timed apart):

- the STACK AlgEquiv corpus, read by path from ../shared/corpora/stack/algequiv.yaml (GPL
  data, never copied here), with STACK's verdicts as the truth; skipped when absent;
- the INF 5860 symbolic questions (ex01.a, ex01.dJdw, ex01.dJdb, ex03.sigmoid_grad): typical
  right and wrong student answers against the references the solutions compute.

The baseline is measured in the same run: `sympy.simplify(a - b) == 0` on the same parsed
expressions (σ written out in exp for it), each in a child process killed after `--limit`
seconds; its time is measured inside the child, so forking is not charged to it.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sympy  # noqa: E402
import yaml  # noqa: E402

from grader.core import registry  # noqa: E402
from grader.authoring import solutions
from grader.core.model import Invalid  # noqa: E402
from grader.authoring.spec import load_course  # noqa: E402
from grader.symbolic.equivalence import equivalent  # noqa: E402
from grader.symbolic.functions import rewrite_special  # noqa: E402
from grader.symbolic.parse import ParseConfig, parse_expression  # noqa: E402
from grader.symbolic.timelimit import TimedOut, run_limited  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "stack" / "algequiv.yaml"
STACK_CONFIG = ParseConfig(auto_symbols=True, auto_functions=True, imaginary=True)

# (exercise, question) -> [(student answer, is it right?)]
INF5860_ANSWERS: dict[tuple[str, str], list[tuple[str, bool]]] = {
    ("ex01", "a"): [
        ("1/6 ((w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2)", True),
        ("1/(2*3) ((w+b-3/2)^2 + (2w+b-2)^2 + (3w+b-5/2)^2)", True),
        ("7/3 w^2 + 2wb + b^2/2 - 13/3 w - 2b + 25/12", True),
        ("((1.5 - w - b)^2 + (2 - 2w - b)^2 + (2.5 - 3w - b)^2)/6", True),
        ("(w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2", False),
        ("1/3 ((w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b - 2.5)^2)", False),
        ("1/6 ((w + b - 1.5)^2 + (2w + b - 2)^2 + (3w + b + 2.5)^2)", False),
        ("1/6 ((w + b - 1.5) + (2w + b - 2) + (3w + b - 2.5))^2", False),
    ],
    ("ex01", "dJdw"): [
        ("1/3 ((w + b - 1.5) + 2(2w + b - 2) + 3(3w + b - 2.5))", True),
        ("14/3 w + 2b - 13/3", True),
        ("(14w + 6b - 13)/3", True),
        ("-(14/3 w + 2b - 13/3)", False),
        ("1/6 ((w + b - 1.5) + 2(2w + b - 2) + 3(3w + b - 2.5))", False),
        ("b + 2w - 2", False),
    ],
    ("ex01", "dJdb"): [
        ("1/3 ((w + b - 1.5) + (2w + b - 2) + (3w + b - 2.5))", True),
        ("b + 2w - 2", True),
        ("2w + b - 2", True),
        ("-(b + 2w - 2)", False),
        ("b + 2w + 2", False),
        ("(b + 2w - 2)/2", False),
    ],
    ("ex03", "sigmoid_grad"): [
        ("σ(x)(1 − σ(x))", True),
        ("exp(−x)/(1 + exp(−x))^2", True),
        ("exp(x)/(1 + exp(x))^2", True),
        ("1/(4 cosh(x/2)^2)", True),
        ("σ(x)(1 + σ(x))", False),
        ("-σ(x)(1 - σ(x))", False),
        ("σ(x)", False),
    ],
}


@dataclass
class Tally:
    name: str
    times: list[float] = field(default_factory=list)
    false_equivalent: int = 0
    false_different: int = 0
    undecided: int = 0
    disagreements: list[str] = field(default_factory=list)

    def record(self, seconds: float, verdict: bool | None, truth: bool, label: str) -> None:
        self.times.append(seconds)
        if verdict is None:
            self.undecided += 1
            self.disagreements.append(f"undecided: {label}")
        elif verdict and not truth:
            self.false_equivalent += 1
            self.disagreements.append(f"false equivalent: {label}")
        elif truth and not verdict:
            self.false_different += 1
            self.disagreements.append(f"false not-equivalent: {label}")

    @property
    def wrong(self) -> int:
        return self.false_equivalent + self.false_different + self.undecided

    def quantile(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def naive(a: sympy.Expr, b: sympy.Expr, limit: float) -> tuple[float, bool | None]:
    def check() -> list:
        start = time.perf_counter()
        same = sympy.simplify(rewrite_special(a - b)) == 0
        return [time.perf_counter() - start, bool(same)]
    try:
        seconds, same = run_limited(check, limit)
        return seconds, same
    except TimedOut:
        return limit, None


def ours(a: sympy.Expr, b: sympy.Expr) -> tuple[float, bool | None]:
    start = time.perf_counter()
    verdict = equivalent(a, b).equivalent
    return time.perf_counter() - start, verdict


def stack_pairs() -> list[tuple[sympy.Expr, sympy.Expr, bool, str]]:
    if not CORPUS.exists():
        print(f"STACK corpus not found at {CORPUS}: skipped")
        return []
    pairs = []
    for row in yaml.safe_load(CORPUS.read_text()):
        a, b = parse_expression(row["student"], STACK_CONFIG), parse_expression(row["teacher"], STACK_CONFIG)
        assert not isinstance(a, Invalid) and not isinstance(b, Invalid), row
        pairs.append((a, b, row["equivalent"], f"L{row['stack_line']} {row['student']} vs {row['teacher']}"))
    return pairs


def inf5860_pairs() -> list[tuple[sympy.Expr, sympy.Expr, bool, str]]:
    course = load_course([ROOT / "exercises" / "inf5860"])
    pairs = []
    for (exercise_id, question_id), answers in INF5860_ANSWERS.items():
        exercise = course.exercise(exercise_id)
        question = exercise.question(question_id)
        kind = registry.get(question.kind)
        fn = solutions.function(course.solutions_root, exercise.solutions, question.answer.solution)
        expected = kind.parse_reference(solutions.call(fn, exercise.params), question)
        for text, truth in answers:
            value = kind.parse(text, question)
            assert not isinstance(value, Invalid), (text, value)
            pairs.append((value, expected, truth, f"{exercise_id}.{question_id}: {text}"))
    return pairs


def run(name: str, pairs: list, limit: float) -> None:
    if not pairs:
        return
    mine, base = Tally("ours"), Tally("naive simplify")
    for a, b, truth, label in pairs:
        seconds, verdict = ours(a, b)
        mine.record(seconds, verdict, truth, label)
        seconds, verdict = naive(a, b, limit)
        base.record(seconds, verdict, truth, label)
    print(f"\n== {name}: {len(pairs)} pairs")
    print(f"{'checker':16} {'median ms':>10} {'p95 ms':>9} {'agree':>7} {'false eq':>9} {'false ne':>9} "
          f"{'undecided':>9}")
    for tally in (mine, base):
        agree = len(pairs) - tally.wrong
        print(f"{tally.name:16} {tally.quantile(0.5) * 1e3:10.2f} {tally.quantile(0.95) * 1e3:9.2f} "
              f"{agree:4}/{len(pairs):<3}{tally.false_equivalent:9} {tally.false_different:9} {tally.undecided:9}")
    ratio = base.quantile(0.5) / mine.quantile(0.5)
    print(f"median speed-up over naive: {ratio:.0f}x; p95: {base.quantile(0.95) / mine.quantile(0.95):.0f}x; "
          f"total {sum(mine.times):.2f} s vs {sum(base.times):.2f} s")
    print(f"agreement: ours {100 * (len(pairs) - mine.wrong) / len(pairs):.1f}%, "
          f"naive {100 * (len(pairs) - base.wrong) / len(pairs):.1f}%")
    for line in mine.disagreements:
        print(f"  ours  {line}")
    for line in base.disagreements:
        print(f"  naive {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=2.0, help="seconds the naive check may take per pair")
    args = parser.parse_args()
    start = time.perf_counter()
    stack = stack_pairs()
    course = inf5860_pairs()
    print(f"parsed {2 * (len(stack) + len(course))} expressions in {time.perf_counter() - start:.2f} s "
          f"(sympy's first use included)")
    run("STACK AlgEquiv corpus", stack, args.limit)
    run("INF 5860 symbolic questions", course, args.limit)


if __name__ == "__main__":
    main()
