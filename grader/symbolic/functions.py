"""Functions that sympy lacks and ML answers use: the logistic sigmoid σ."""

from __future__ import annotations

import sympy


class sigmoid(sympy.Function):  # noqa: N801 - sympy names functions in lower case
    """σ(x) = 1 / (1 + exp(-x)); σ' = σ(1 - σ). Printed `sigmoid(x)`, shown as σ in LaTeX."""

    nargs = 1

    @classmethod
    def eval(cls, x: sympy.Expr) -> sympy.Expr | None:  # safe: sympy's Function.eval hook, not Python's eval
        if x.is_zero:
            return sympy.Rational(1, 2)
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-x))

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _eval_evalf(self, prec: int) -> sympy.Expr:
        return (1 / (1 + sympy.exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer: object, exp: str | None = None) -> str:
        inner = printer._print(self.args[0])  # type: ignore[attr-defined]
        base = rf"\sigma\left({inner}\right)"
        return f"{base}^{{{exp}}}" if exp else base


def rewrite_special(expr: sympy.Expr) -> sympy.Expr:
    """`expr` with σ written out in exp, for the CAS."""
    return expr.replace(lambda e: isinstance(e, sigmoid), lambda e: 1 / (1 + sympy.exp(-e.args[0])))
