"""Graded results for the renderer tests and benchmark.

Covers every status, code questions (test cases, hidden ones, the student's code, printed
output, traces, a syntax error, device, isolation, figures, a model's layers), symbolic
LaTeX, hostile strings (XSS in every field a student or a kind controls), unicode and very
long answers. The code, model and plot questions are graded for real by the engine on a
small course written to a temporary folder, so the renderers see what the kinds produce.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from grader import api
from grader.authoring import variants
from grader.core.model import Course
from grader.core.results import Lateness, QuestionResult, Review, StudentResult
from grader.grading import engine, overrides
from grader.intake.submission import read_folder

#: Each XSS payload would set window.__xss or change document.title if it ever ran.
XSS_SCRIPT = "<script>window.__xss='script';document.title='pwned'</script>"
XSS_IMG = "<img src=x onerror=\"window.__xss='img';document.title='pwned'\">"
XSS_SVG = "<svg onload=\"window.__xss='svg'\"></svg>"
XSS_STRINGS = (XSS_SCRIPT, XSS_IMG, XSS_SVG)

#: Markdown that would run script or load something if a prompt's Markdown let it through.
MARKDOWN_XSS = ("[a link](javascript:window.__xss='link') [data](data:text/html,<script>window.__xss=1</script>) "
                "![an image](http://192.0.2.1/x.png) <a href=\"javascript:window.__xss='a'\">raw</a> "
                "$\\text{<img src=x onerror=\"window.__xss='math'\">}$ `<b>code</b>`")

LONG_ANSWER = "θ" + "1234567890" * 10_000


def q(id: str, kind: str, score: float, max_score: float, status: str, **kw) -> QuestionResult:
    return QuestionResult(id=id, kind=kind, score=score, max_score=max_score, status=status, **kw)


# --- code, model and plot questions: graded for real -----------------------------------
#
# The records of questions that run code (cases, the run, figures) are what the kinds
# produce: a small course is written to a temporary folder and graded by the engine. A
# hand-made shape here once hid that the report read keys the code kind never wrote.

SOLUTIONS = """
import numpy as np


def grad(X, y, theta):
    h = 1 / (1 + np.exp(-(X @ theta)))
    return X.T @ (h - y) / len(y)


def plot_data(x, y):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.scatter(x, y)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return fig


def make_model():
    from torch import nn

    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def loss(p):
    return -np.log(p)


def echo(x):
    return x
"""

_CASE = {"X": {"randn": [4, 3]}, "y": {"rand": [4]}, "theta": {"randn": [3]}}
SPECS = {
    "ex01.yaml": {
        "id": "ex01", "title": "Hostile code", "solutions": "sample.ex01",
        "questions": [{"id": "g", "kind": "code", "points": 1, "prompt": f"Return x. {XSS_SVG}",
                       "function": "echo", "cases": [{"name": XSS_SCRIPT, "args": {"x": {"randn": [2]}}}],
                       "answer": {"solution": "echo"}}],
    },
    "ex03.yaml": {
        "id": "ex03", "title": "Code, plots and models", "solutions": "sample.ex03",
        "params": {"x": [1, 2, 3, 4], "y": [2.5, 2, 1.5, 3]},
        "questions": [
            {"id": "grad", "kind": "code", "points": 4,
             "prompt": "Implement `grad(X, y, theta)` for **logistic** regression.", "function": "grad",
             "cases": [{"name": "small batch", "args": _CASE},
                       {"name": "random batch 1", "args": {**_CASE, "X": {"randn": [8, 3]}, "y": {"rand": [8]}}},
                       {"name": "random batch 2", "args": {**_CASE, "X": {"randn": [16, 3]}, "y": {"rand": [16]}}},
                       {"name": "large batch", "hidden": True,
                        "args": {**_CASE, "X": {"randn": [64, 3]}, "y": {"rand": [64]}}}],
             "answer": {"solution": "grad"}},
            {"id": "plot", "kind": "plot", "points": 2, "prompt": "Plot the data as a scatter plot.",
             "function": "plot_data", "args": ["x", "y"], "plot_type": "scatter", "require": ["xlabel", "ylabel"],
             "answer": {"solution": "plot_data"}},
            {"id": "model", "kind": "model", "points": 2, "prompt": "Train a two-layer network.",
             "factory": "make_model", "device": "cpu",
             "data": {"name": "blobs", "classes": 3, "points": 30, "test_points": 30},
             "train": {"epochs": 8, "lr": 0.05, "batch_size": 16}, "thresholds": {"test_accuracy": 0.8},
             "limits": {"wall_s": 30}, "answer": {"solution": "make_model"}},
        ],
    },
    "ex04.yaml": {
        "id": "ex04", "title": "A syntax error", "solutions": "sample.ex04",
        "questions": [{"id": "loss", "kind": "code", "points": 1, "prompt": "Implement loss(p) = -log p.",
                       "function": "loss", "cases": [{"args": {"p": {"rand": [3]}}}],
                       "answer": {"solution": "loss"}}],
    },
}

STUDENTS = {
    # 1 of 4 grad checks: one passes, one has the sign wrong, one raises, the hidden one is off
    "good": {
        "ex03.py": """import numpy as np


def grad(X, y, theta):
    print("grad: X has shape", X.shape)
    if len(X) == 16:
        raise ValueError("shapes (3,16) and (5,) not aligned")
    h = 1 / (1 + np.exp(-(X @ theta)))
    sign = 1 if len(X) == 4 else -1
    return sign * X.T @ (h - y) / len(y)


def plot_data(x, y):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.scatter(x, y)
    ax.set_xlabel("x")  # no y label: half the label credit
    return fig


def make_model():
    from torch import nn

    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
""",
        "ex04.py": "import numpy as np\n\ndef loss(p):\n    return -np.log(p\n",
    },
    "right": {"ex03.py": SOLUTIONS},
    "hostile": {
        "ex01.py": f"""# {XSS_SVG}
def echo(x):
    print({XSS_SCRIPT!r})
    raise ValueError({XSS_IMG!r})
""",
    },
}


@functools.cache
def sample_course() -> tuple[Course, Path]:
    """The sample course and the folder of the student submissions (kept for the process)."""
    import json

    root = Path(_TMP.name)
    (root / "solutions" / "sample").mkdir(parents=True)
    for name in ("ex01", "ex03", "ex04"):
        (root / "solutions" / "sample" / f"{name}.py").write_text(SOLUTIONS)
    (root / "specs").mkdir()
    for name, spec in SPECS.items():  # JSON is YAML
        (root / "specs" / name).write_text(json.dumps(spec), encoding="utf-8")
    for student, files in STUDENTS.items():
        (root / "students" / student).mkdir(parents=True)
        for name, text in files.items():
            (root / "students" / student / name).write_text(text, encoding="utf-8")
    return api.load([root / "specs"]), root / "students"


_TMP = tempfile.TemporaryDirectory(prefix="render-samples-")


@functools.cache
def graded(student: str, question_id: str) -> QuestionResult:
    """`question_id` (`ex03.grad`) of one sample student, graded by the engine."""
    course, students = sample_course()
    exercise_id, qid = question_id.split(".")
    exercise = course.exercise(exercise_id)
    assert exercise is not None and exercise.question(qid) is not None
    submission = read_folder(students / student, student)
    params = variants.resolve(exercise.params, student, exercise.id)
    return engine.grade_question(course, exercise, exercise.question(qid), submission, params)


def all_status_student() -> StudentResult:
    questions = (
        q("ex01.e", "numeric", 1, 1, "correct", answer="2.083", expected="2.0833",
          prompt="With θ0 = θ1 = 0, compute the initial loss for x = [1, 2, 3], y = [1.5, 2, 2.5].",
          feedback="Correct: J = 1/(2m) Σ (h(x) − y)² = 2.083."),
        q("ex01.f", "vector", 0, 2, "incorrect", answer="[-4.33, -2]", expected="[4.33, 2]",
          prompt="Take one gradient step with learning rate 1 from w = b = 0. Give [w, b].",
          feedback="You dropped the minus sign of the gradient: w ← w − α·dJ/dw = +13/3.",
          mistake=0),
        q("ex01.a", "symbolic", 0.5, 1, "partial", answer="1/6*((w+b-1.5)^2 + (2w+b-2)^2)",
          expected="1/6*((w+b-1.5)^2 + (2w+b-2)^2 + (3w+b-2.5)^2)",
          prompt="Write the loss $J(w, b)$ as a formula.",
          feedback="One of the three terms is missing.\nCheck the sum runs over all m = 3 points.",
          expected_latex=r"\frac{1}{6}\left((w+b-1.5)^{2}+(2w+b-2)^{2}+(3w+b-2.5)^{2}\right)",
          details={"answer_latex": r"\frac{1}{6}\left((w+b-1.5)^{2}+(2w+b-2)^{2}\right)"}),
        q("ex02.a", "equation", 0, 1, "missing", prompt="Solve σ(θᵀx) = 0.5 for x.",
          feedback="No answer was given.", expected="x = -1/2",
          expected_latex=r"x=-\frac{1}{2}"),
        q("ex02.b", "symbolic", 0, 1, "invalid", answer="2x+",
          prompt="Give the derivative of σ(x).",
          feedback="Your answer is malformed: expected a term after '+'.\n  2x+\n     ^"),
        # A decision applied by the grading's own code (grader.grading.overrides), as a regrade does.
        overrides.apply_one(
            q("ex02.c", "text", 0, 1, "review", answer="Because X^T X can be singular.",
              prompt="Name one advantage of an *iterative* method such as gradient descent:\n\n"
                     "- over the `normal equations`, or\n"
                     "- over [Newton's method](https://en.wikipedia.org/wiki/Newton%27s_method).",
              feedback="The rubric suggests 1 of 1 points; an instructor decides. Found: singular.",
              details={"rubric": [{"concept": "no inverse of XᵀX needed", "points": 1, "found": True,
                                   "matched": "singular"},
                                  {"concept": "scales to many features", "points": 1, "found": False}]}),
            overrides.Override(score=1, comment="Good point about singularity.", by="ta-kari",
                               at="2026-11-20T10:00:00Z", spec="fp", rubric=("no inverse of XᵀX needed",)), "fp"),
        graded("good", "ex03.grad"),
        graded("good", "ex03.plot"),
        graded("good", "ex03.model"),
        graded("good", "ex04.loss"),
    )
    return StudentResult(
        student="s123456", score=sum(x.score for x in questions),
        max_score=sum(x.max_score for x in questions), questions=questions,
        graded_at="2026-11-27T06:00:00Z", grader_version="0.1.0",
        spec_digest="sha256:" + "ab" * 32, warnings=("answers.yaml: unknown question ex01.z was ignored",),
        lateness=(Lateness("ex03", "2026-11-21T10:05:00Z", "2026-11-21T08:00:00Z", 7500, 0.1),),
    )


def hostile_student() -> StudentResult:
    """XSS in every field a student (or a careless kind) controls."""
    questions = (
        q("ex01.e", "numeric", 0, 1, "incorrect", answer=XSS_SCRIPT, expected=XSS_IMG,
          prompt=f"Prompt with {XSS_SVG}", feedback=f"Feedback with {XSS_SCRIPT}",
          expected_latex=r"\mathrm{" + XSS_IMG + "}",
          details={"answer_latex": r"\text{" + XSS_SCRIPT + "}"}),
        q("ex01.f", "text", 0, 1, "incorrect", answer=XSS_IMG, expected=None, prompt=MARKDOWN_XSS,
          details={"answer_latex": 42, "figure_png_b64": "javascript:alert(1)"}),
        graded("hostile", "ex01.g"),
        q("ex01.p", "model", 0, 1, "incorrect", details={"architecture": [XSS_SCRIPT, 3, None]}),
        q("ex01.h", "numeric", 1, 1, "review", answer="1",
          review=Review(score=1, comment=XSS_SCRIPT, by=XSS_IMG, at="2026", stale=True)),
    )
    return StudentResult(
        student=XSS_SCRIPT, score=1, max_score=5, questions=questions,
        warnings=(XSS_IMG,), error=f"answers.yaml: {XSS_SVG}",
    )


def unicode_student() -> StudentResult:
    questions = (
        q("øving1.α", "text", 1, 1, "correct", answer="Gradient­nedstigning ∇J(θ) 🙂",
          expected="∇J(θ)", prompt="Forklar «gradient descent» på norsk."),
        q("øving1.long", "text", 0, 1, "incorrect", answer=LONG_ANSWER, expected=None,
          feedback="Far too long."),
    )
    return StudentResult(student="Åse Ødegård/../../etc", score=1, max_score=2, questions=questions)


def sample_results() -> list[StudentResult]:
    return [all_status_student(), hostile_student(), unicode_student()]


def _real_record(kind: str, status: str) -> QuestionResult | None:
    """A graded record of the sample course to stand in for a code or model question."""
    if kind == "code":
        return graded("right" if status == "correct" else "good", "ex03.grad")
    if kind == "model":
        return graded("good", "ex03.model")
    return None


def synthetic_class(n: int, seed: int = 0) -> list[StudentResult]:
    """`n` plausible students over a fixed 8-question set (for overview stats and timing)."""
    import random

    rng = random.Random(seed)
    results = []
    for i in range(n):
        questions = []
        for j, (qid, kind, points) in enumerate([
            ("ex01.e", "numeric", 1), ("ex01.f", "vector", 2), ("ex01.a", "symbolic", 1),
            ("ex02.a", "equation", 1), ("ex02.b", "choice", 1), ("ex02.c", "text", 2),
            ("ex03.grad", "code", 3), ("ex03.model", "model", 2),
        ]):
            roll = rng.random()
            status = ("correct" if roll < 0.55 else "partial" if roll < 0.7 else "incorrect"
                      if roll < 0.88 else "missing" if roll < 0.95 else "review" if roll < 0.98
                      else "error")
            score = {"correct": points, "partial": points / 2}.get(status, 0)
            mistake = 0 if status == "incorrect" and kind == "vector" and rng.random() < 0.7 else None
            details: dict = {}
            real = _real_record(kind, status)
            if kind == "symbolic":
                # Distinct per student, so the benchmark pays for real conversions.
                details = {"answer_latex": r"\frac{%d}{6} x^{%d}" % (rng.randint(1, 999), i)}
            answer = {"vector": "[-4.33, -2]" if mistake == 0 else f"[{rng.randint(0, 9)}, 2]"}.get(
                kind, f"{rng.randint(0, 20) / 4}")
            questions.append(q(qid, kind, score, points, status,
                               answer=None if status == "missing" or real else answer,
                               expected="[4.33, 2]" if kind == "vector" else "2.083",
                               expected_latex=r"\frac{1}{6}" if kind == "symbolic" else None,
                               prompt=f"Question {j} prompt", mistake=mistake,
                               feedback="You dropped the minus sign." if mistake == 0 else "",
                               details=real.details if real else details,
                               cases=real.cases if real else (), run=real.run if real else None))
        results.append(StudentResult(
            student=f"s{100000 + i}", score=sum(x.score for x in questions),
            max_score=sum(x.max_score for x in questions), questions=tuple(questions),
            graded_at="2026-11-27T06:00:00Z", grader_version="0.1.0", spec_digest="sha256:00",
            error="answers.yaml is not valid YAML" if i % 97 == 5 else None,
        ))
    return results


def shown_text(html: str) -> str:
    """What a student reads of a test's HTML output: the text, each element on its own line."""
    import html as markup
    import re

    return markup.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<(li|p)>", "\n", html))).strip()
