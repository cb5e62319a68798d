"""A parsed answer shown back: plain text that the parser reads again, and LaTeX.

The text uses `^` for powers and keeps sympy's function names (sigmoid, Abs, Max,
Derivative, Sum), all of which `parse` accepts. The LaTeX is for reports, which turn it
into MathML.

Printing is most of the cost of grading a formula, and each answer is printed more than
once (the verdict's details, then the engine's "answer as read"), and common answers recur
across a class, so `text` and `latex` keep recent results by expression. Sympy expressions
compare and hash by structure (symbols with their assumptions, floats with their
precision), so equal keys print alike.
"""

from __future__ import annotations

from functools import lru_cache

import sympy

CACHE_SIZE = 2048
"""Distinct expressions kept per printer: bounded, so memory stays flat over a class."""


def text(expr: sympy.Expr) -> str:
    try:
        return _text(expr)
    except TypeError:  # unhashable (a mutable matrix): print it afresh
        return _text.__wrapped__(expr)


@lru_cache(maxsize=CACHE_SIZE)
def _text(expr: sympy.Expr) -> str:
    # full_prec=False: a typed 0.5 reads back as 0.5, not 0.500000000000000
    return sympy.sstr(expr, order="grlex", full_prec=False).replace("**", "^").replace("sigmoid(", "σ(")


def equation_text(lhs: sympy.Expr, rhs: sympy.Expr) -> str:
    return f"{text(lhs)} = {text(rhs)}"


def latex(expr: sympy.Expr) -> str:
    try:
        return _latex(expr)
    except TypeError:
        return _latex.__wrapped__(expr)


@lru_cache(maxsize=CACHE_SIZE)
def _latex(expr: sympy.Expr) -> str:
    return sympy.latex(expr)


def equation_latex(lhs: sympy.Expr, rhs: sympy.Expr) -> str:
    return f"{latex(lhs)} = {latex(rhs)}"
