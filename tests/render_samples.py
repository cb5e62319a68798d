"""Synthetic graded results for the renderer tests and benchmark (no grading involved).

Covers every status, code details (cases, stdout, trace, device, layers, figures),
symbolic LaTeX, hostile strings (XSS in every field a student or a kind controls),
unicode and very long answers.
"""

from __future__ import annotations

import base64
import struct
import zlib

from grader.core.results import Lateness, QuestionResult, Review, StudentResult

#: Each XSS payload would set window.__xss or change document.title if it ever ran.
XSS_SCRIPT = "<script>window.__xss='script';document.title='pwned'</script>"
XSS_IMG = "<img src=x onerror=\"window.__xss='img';document.title='pwned'\">"
XSS_SVG = "<svg onload=\"window.__xss='svg'\"></svg>"
XSS_STRINGS = (XSS_SCRIPT, XSS_IMG, XSS_SVG)

LONG_ANSWER = "θ" + "1234567890" * 10_000


def png(width: int, height: int, rgb: tuple[int, int, int]) -> str:
    """A tiny solid PNG with a diagonal line, base64-encoded (a stand-in for a figure)."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            on_line = abs(x * height - y * width) < width
            row += bytes((0, 0, 0) if on_line else rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows)))
           + chunk(b"IEND", b""))
    return base64.b64encode(raw).decode("ascii")


def q(id: str, kind: str, score: float, max_score: float, status: str, **kw) -> QuestionResult:
    return QuestionResult(id=id, kind=kind, score=score, max_score=max_score, status=status, **kw)


def code_details(failing: int = 2) -> dict:
    cases = [
        {"name": "small batch", "passed": True, "inputs": "x: float32[4, 3]",
         "expected": "float32[4]", "got": "float32[4]", "max_diff": 0.0, "message": ""},
    ]
    for i in range(failing):
        cases.append({
            "name": f"random batch {i + 1}", "passed": False,
            "inputs": "x: float64[128, 10], y: int64[128]",
            "expected": "float64[10] (mean 0.0123)", "got": "float64[10] (mean -0.0123)",
            "max_diff": 0.0246 * (i + 1), "message": "gradient has the wrong sign",
        })
    return {
        "cases": cases,
        "stdout": "epoch 1 loss 0.693\nepoch 2 loss 0.512\n",
        "trace": 'File "ex03.py", line 12, in grad\n    return -X.T @ (y - h)\nValueError: shapes (3,4) and (5,) not aligned',
        "device": "cpu",
        "layers": ["Linear(in_features=10, out_features=32)", "ReLU()", "Linear(32, 2)"],
    }


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
          prompt="Write the loss J(w, b) as a formula.",
          feedback="One of the three terms is missing.\nCheck the sum runs over all m = 3 points.",
          details={"answer_latex": r"\frac{1}{6}\left((w+b-1.5)^{2}+(2w+b-2)^{2}\right)",
                   "expected_latex": r"\frac{1}{6}\left((w+b-1.5)^{2}+(2w+b-2)^{2}+(3w+b-2.5)^{2}\right)"}),
        q("ex02.a", "equation", 0, 1, "missing", prompt="Solve σ(θᵀx) = 0.5 for x.",
          feedback="No answer was given.", expected="x = -1/2",
          details={"expected_latex": r"x=-\frac{1}{2}"}),
        q("ex02.b", "symbolic", 0, 1, "invalid", answer="2x+",
          prompt="Give the derivative of σ(x).",
          feedback="Your answer is malformed: expected a term after '+'.\n  2x+\n     ^"),
        q("ex02.c", "text", 1, 1, "review", answer="Because X^T X can be singular.",
          prompt="Why use an iterative method?", feedback="A teacher will read this answer.",
          review=Review(score=1, comment="Good point about singularity.", by="ta-kari",
                        at="2026-11-20T10:00:00Z")),
        q("ex03.grad", "code", 0, 3, "error", answer=None,
          prompt="Implement grad(X, y, theta) for logistic regression.",
          feedback="1 of 3 tests passed; your code raised ValueError in one case.",
          details=code_details()),
        q("ex03.plot", "plot", 1, 2, "partial", prompt="Plot the decision boundary.",
          feedback="The boundary is shifted.", expected="reference figure",
          details={"figure_png_b64": png(60, 40, (250, 200, 200)),
                   "reference_png_b64": png(60, 40, (200, 220, 250))}),
        q("ex03.model", "model", 2, 2, "correct", prompt="Train a two-layer network.",
          feedback="Test accuracy 0.94 ≥ 0.90.", expected=None,
          details={"device": "cuda:0", "layers": ["Linear(2, 8)", "Tanh()", "Linear(8, 2)"]}),
    )
    return StudentResult(
        student="s123456", score=sum(x.score for x in questions),
        max_score=sum(x.max_score for x in questions), questions=questions,
        graded_at="2026-11-27T06:00:00Z", grader_version="0.1.0",
        spec_digest="sha256:" + "ab" * 32, warnings=("ex04.py was not handed in",),
        lateness=(Lateness("ex03", "2026-11-21T10:05:00Z", "2026-11-21T08:00:00Z", 7500, 0.1),),
    )


def hostile_student() -> StudentResult:
    """XSS in every field a student (or a careless kind) controls."""
    questions = (
        q("ex01.e", "numeric", 0, 1, "incorrect", answer=XSS_SCRIPT, expected=XSS_IMG,
          prompt=f"Prompt with {XSS_SVG}", feedback=f"Feedback with {XSS_SCRIPT}",
          details={"answer_latex": r"\text{" + XSS_SCRIPT + "}",
                   "expected_latex": r"\mathrm{" + XSS_IMG + "}"}),
        q("ex01.f", "text", 0, 1, "incorrect", answer=XSS_IMG, expected=None,
          details={"answer_latex": 42, "figure_png_b64": "javascript:alert(1)"}),
        q("ex01.g", "code", 0, 1, "error", answer=XSS_SVG,
          details={"cases": [{"name": XSS_SCRIPT, "passed": False, "inputs": XSS_IMG,
                              "expected": XSS_SVG, "got": XSS_SCRIPT, "max_diff": "big",
                              "message": XSS_IMG}, "not a case"],
                   "stdout": XSS_SCRIPT, "trace": XSS_IMG, "layers": XSS_SCRIPT}),
        q("ex01.h", "numeric", 1, 1, "review", answer="1",
          review=Review(score=1, comment=XSS_SCRIPT, by=XSS_IMG, at="2026", stale=True)),
    )
    return StudentResult(
        student=XSS_SCRIPT, score=1, max_score=4, questions=questions,
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
            if kind == "symbolic":
                # Distinct per student, so the benchmark pays for real conversions.
                details = {"answer_latex": r"\frac{%d}{6} x^{%d}" % (rng.randint(1, 999), i),
                           "expected_latex": r"\frac{1}{6}"}
            if kind == "code":
                details = code_details(failing=0 if status == "correct" else 2)
            answer = {"vector": "[-4.33, -2]" if mistake == 0 else f"[{rng.randint(0, 9)}, 2]"}.get(
                kind, f"{rng.randint(0, 20) / 4}")
            questions.append(q(qid, kind, score, points, status,
                               answer=None if status == "missing" else answer,
                               expected="[4.33, 2]" if kind == "vector" else "2.083",
                               prompt=f"Question {j} prompt", mistake=mistake,
                               feedback="You dropped the minus sign." if mistake == 0 else "",
                               details=details))
        results.append(StudentResult(
            student=f"s{100000 + i}", score=sum(x.score for x in questions),
            max_score=sum(x.max_score for x in questions), questions=tuple(questions),
            graded_at="2026-11-27T06:00:00Z", grader_version="0.1.0", spec_digest="sha256:00",
            error="answers.yaml is not valid YAML" if i % 97 == 5 else None,
        ))
    return results
