"""Form tests, as STACK's answer tests: is a correct answer also written in the asked form?

- `expanded`: no product of sums left to multiply out (expand changes nothing);
- `factored`: every factor is irreducible over the rationals (STACK's FacForm);
- `simplified`: sympy's simplify finds nothing shorter;
- `no_derivatives`: no unevaluated diff(...) or Integral(...) left.

expand, factor and simplify can take long even on short answers ((a+b+c+d)^8 (a+b+c+e)^8),
so they run under the time limit in a child process (see timelimit); a time-out counts
as "could not check", never as a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from grader.symbolic.functions import rewrite_special
from grader.symbolic.timelimit import TimedOut, run_limited

FORMS = ("expanded", "factored", "simplified", "no_derivatives")
DESCRIPTIONS = {
    "expanded": "expanded (multiply out every product of sums)",
    "factored": "factored (a product of factors that cannot be split further)",
    "simplified": "simplified as far as it goes",
    "no_derivatives": "without unevaluated derivatives or integrals (carry them out)",
}


@dataclass(frozen=True)
class FormResult:
    ok: bool | None
    """None: the check did not finish in time."""
    form: str


def check_form(expr: sympy.Expr, form: str, time_limit: float = 2.0) -> FormResult:
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; use one of {', '.join(FORMS)}")
    if form == "no_derivatives":
        return FormResult(not expr.has(sympy.Derivative, sympy.Integral), form)
    test = {"expanded": is_expanded, "factored": is_factored, "simplified": is_simplified}[form]
    try:
        return FormResult(bool(run_limited(lambda: test(expr), time_limit)), form)
    except TimedOut:
        return FormResult(None, form)


def is_expanded(expr: sympy.Expr) -> bool:
    return sympy.expand(expr) == expr


def is_factored(expr: sympy.Expr) -> bool:
    """Every polynomial factor of degree 2 or more is irreducible over the rationals."""
    for factor in sympy.Mul.make_args(expr):
        base = factor.base if isinstance(factor, sympy.Pow) and factor.exp.is_Integer else factor
        if not isinstance(base, sympy.Add):
            continue
        symbols = sorted(base.free_symbols, key=lambda s: s.name)
        if not symbols or not base.is_polynomial(*symbols):
            continue
        _, factors = sympy.factor_list(base)
        if len(factors) > 1 or any(multiplicity > 1 for _, multiplicity in factors):
            return False
        if factors and sympy.Poly(factors[0][0], *symbols).total_degree() < \
                sympy.Poly(base, *symbols).total_degree():
            return False
    return True


def is_simplified(expr: sympy.Expr) -> bool:
    simpler = sympy.simplify(rewrite_special(expr))
    return sympy.count_ops(expr) <= sympy.count_ops(simpler)
