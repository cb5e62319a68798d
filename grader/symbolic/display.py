"""A parsed answer shown back: plain text that the parser reads again, and LaTeX.

The text uses `^` for powers and keeps sympy's function names (sigmoid, Abs, Max,
Derivative, Sum), all of which `parse` accepts. The LaTeX is for reports, which turn it
into MathML.
"""

from __future__ import annotations

import sympy


def text(expr: sympy.Expr) -> str:
    return sympy.sstr(expr, order="grlex").replace("**", "^").replace("sigmoid(", "σ(")


def equation_text(lhs: sympy.Expr, rhs: sympy.Expr) -> str:
    return f"{text(lhs)} = {text(rhs)}"


def latex(expr: sympy.Expr) -> str:
    return sympy.latex(expr)


def equation_latex(lhs: sympy.Expr, rhs: sympy.Expr) -> str:
    return f"{latex(lhs)} = {latex(rhs)}"
