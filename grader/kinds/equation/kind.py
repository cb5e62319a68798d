"""`equation`: an equation such as a decision boundary, graded as the same equation.

    - id: a
      kind: equation
      answer: {solution: boundary_equation}   # "2*x + 1 = 0", a sympy Eq, or (lhs, rhs)
      symbols: {x: real}
      allow_bare_value: true                  # accept `-1/2` for `x = -1/2`
      variable: x                             # which symbol a bare value gives (default:
                                              #   the only declared symbol)

`2x + 1 = 0`, `x = -1/2` and `-4x = 2` are the same answer: two equations match when
their sides' differences are proportional (by a nonzero constant), or, for one unknown,
when they have the same real solutions (`(2x + 1)^2 = 0` too). The options of `symbolic`
(functions, tolerance, time_limit, budget) apply; `form` does not. All the work on one
answer shares its budget, as for `symbolic`.

The verdict shows the equation as written; only that is printed (printing is costly, see
grader.symbolic.display), not also the difference of its sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

import sympy

from grader.core import budget, registry
from grader.kinds.symbolic.kind import OPTION_KEYS, SymbolicOptions, adopt_symbols, answer_budget, guarded, \
    load_symbolic_options, names_phrase, reference_expression, undecided
from grader.core.model import Invalid, Question, Verdict
from grader.symbolic import display
from grader.symbolic.functions import rewrite_special
from grader.symbolic.equivalence import Outcome, Tolerance, equivalent, sample_values
from grader.symbolic.parse import ParseConfig, canonical_name, parse_relation
from grader.symbolic.timelimit import TimedOut, run_limited

_CLOSE = 1e-9
_LOOSE = Tolerance(rel=1e-9)
"""For sides proportional by an irrational factor, found numerically."""


@dataclass(frozen=True)
class Equation:
    lhs: sympy.Expr
    rhs: sympy.Expr

    @property
    def difference(self) -> sympy.Expr:
        return self.lhs - self.rhs


@dataclass(frozen=True)
class EquationOptions:
    symbolic: SymbolicOptions
    allow_bare_value: bool = False
    variable: str | None = None

    @property
    def config(self) -> ParseConfig:
        return self.symbolic.config


def _load(raw: Mapping[str, Any]) -> EquationOptions:
    if raw.get("form") is not None:
        raise registry.OptionError("form does not apply to equations", "form")
    symbolic = load_symbolic_options(raw)
    allow = raw.get("allow_bare_value", False)
    if not isinstance(allow, bool):
        raise registry.OptionError("allow_bare_value must be true or false", "allow_bare_value")
    variable = raw.get("variable")
    if variable is not None:
        try:
            variable = canonical_name(str(variable))
        except ValueError as exc:
            raise registry.OptionError(str(exc), "variable") from None
        if variable not in symbolic.config.symbols:
            raise registry.OptionError(f"variable {variable!r} is not among the declared symbols", "variable")
    elif allow:
        if len(symbolic.config.symbols) != 1:
            raise registry.OptionError("allow_bare_value needs `variable` when several symbols are declared",
                                       "variable")
        variable = next(iter(symbolic.config.symbols))
    return EquationOptions(symbolic, allow, variable)


def _bare(value: sympy.Expr, options: EquationOptions, raw: Any) -> Equation | Invalid:
    """`-1/2` read as `x = -1/2`, where the spec allows it."""
    if not options.allow_bare_value or options.variable is None:
        return Invalid("write an equation with '=', such as 3x - 2 = 0")
    if value.free_symbols:
        return Invalid(f"write an equation with '=' (a bare value is read as {options.variable} = value, "
                       "so it cannot contain variables)")
    domain = options.config.symbols[options.variable]
    return Equation(sympy.Symbol(options.variable, **domain.assumptions), value)


def _proportional(student: sympy.Expr, expected: sympy.Expr, options: SymbolicOptions) -> Outcome | None:
    """Whether student = k * expected for a nonzero constant k (a rational or a float)."""
    pairs = sample_values(student, expected)
    ratios = [s / e for s, e in pairs if e != 0]
    if len(ratios) < 3 or any(isinstance(r, complex) for r in ratios):
        return None
    first = ratios[0]
    if isinstance(first, complex) or first == 0 or any(abs(r - first) > _CLOSE * abs(first) for r in ratios):
        return None
    fraction = Fraction(first).limit_denominator(10**6)
    factor: sympy.Expr = sympy.Rational(fraction.numerator, fraction.denominator)
    outcome = equivalent(student, factor * expected, options.tolerance, options.time_limit)
    if outcome.equivalent is not True:
        outcome = equivalent(student, sympy.Float(first) * expected, options.tolerance or _LOOSE,
                             options.time_limit)
    return outcome


def _same_solutions(student: sympy.Expr, expected: sympy.Expr, time_limit: float) -> bool | None:
    """For one unknown: the same real solution sets (None when they cannot be computed in time)."""
    symbols = student.free_symbols | expected.free_symbols
    if len(symbols) != 1:
        return False
    (symbol,) = symbols

    def solve() -> bool:
        left = sympy.solveset(rewrite_special(student), symbol, domain=sympy.S.Reals)
        right = sympy.solveset(rewrite_special(expected), symbol, domain=sympy.S.Reals)
        if not (isinstance(left, sympy.FiniteSet) and isinstance(right, sympy.FiniteSet)):
            return bool(left == right)
        if len(left) != len(right):
            return False
        return all(any(sympy.simplify(a - b) == 0 for b in right) for a in left)
    try:
        return bool(run_limited(solve, time_limit))
    except TimedOut:
        return None


class EquationKind:
    name = "equation"
    option_keys = {**OPTION_KEYS,
                   "allow_bare_value": {"type": "boolean",
                                        "description": "accept a bare value v for `variable = v`"},
                   "variable": {"type": "string", "description": "the symbol a bare value is for"}}
    public_keys = ("symbols", "functions", "indexed", "tolerance", "time_limit", "budget", "allow_bare_value",
                   "variable")
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = True

    def answer_format(self, question: Question) -> str:
        options: EquationOptions = question.options
        bare = f" (a bare value v means {options.variable} = v)" if options.allow_bare_value else ""
        return f"an equation {names_phrase(options.symbolic)}, such as 3x - 2 = 0{bare}"

    def load_options(self, raw: Mapping[str, Any]) -> EquationOptions:
        return _load(raw)

    def parse(self, raw: Any, question: Question) -> Equation | Invalid:
        options: EquationOptions = question.options
        parsed = parse_relation(raw, options.config)
        if isinstance(parsed, Invalid):
            return parsed
        if isinstance(parsed, tuple):
            return Equation(*parsed)
        return _bare(parsed, options, raw)

    def parse_reference(self, raw: Any, question: Question) -> Equation:
        config = question.options.config
        if isinstance(raw, sympy.Equality):
            return Equation(adopt_symbols(raw.lhs, config), adopt_symbols(raw.rhs, config))
        if isinstance(raw, (tuple, list)) and len(raw) == 2:
            return Equation(*(self._side(side, question) for side in raw))
        if isinstance(raw, str):
            parsed = self.parse(raw, question)
            if isinstance(parsed, Invalid):
                raise ValueError(f"the reference {raw!r} does not parse: {parsed.message}")
            return parsed
        raise ValueError(f"expected an equation (text with '=', a sympy Eq or a pair), got {type(raw).__name__}")

    def _side(self, side: Any, question: Question) -> sympy.Expr:
        return reference_expression(side, question.options.config)

    def budget(self, question: Question) -> budget.Budget:
        return answer_budget(question.options.symbolic)

    def check(self, question: Question, value: Equation, expected: Equation) -> Verdict:
        options: EquationOptions = question.options
        return guarded(options.symbolic, lambda: self._check(options, value, expected))

    def _check(self, options: EquationOptions, value: Equation, expected: Equation) -> Verdict:
        # The equation as written (printing the difference too, as answer_details would,
        # costs as much again and its text would be replaced).
        details: dict[str, Any] = {"answer_text": display.equation_text(value.lhs, value.rhs),
                                   "answer_latex": display.equation_latex(value.lhs, value.rhs)}
        student, reference = value.difference, expected.difference
        if equivalent(student, sympy.Integer(0), time_limit=options.symbolic.time_limit).equivalent:
            return Verdict("incorrect", 0.0, "This equation holds for every value, so it says nothing.", details)
        outcome = _proportional(student, reference, options.symbolic)
        if outcome is not None and outcome.equivalent:
            return Verdict("correct", 1.0, "Correct.", {**details, "method": "proportional"})
        same = _same_solutions(student, reference, options.symbolic.time_limit)
        if same:
            return Verdict("correct", 1.0, "Correct: the same solutions.", {**details, "method": "solutions"})
        if same is None and outcome is None:
            return undecided(details)
        return Verdict("incorrect", 0.0, "Not the same equation: it has other solutions.\n"
                                         f"Your answer, as read: {details['answer_text']}", details)

    def show(self, value: Equation, question: Question) -> str:
        return display.equation_text(value.lhs, value.rhs)

    def show_latex(self, value: Equation, question: Question) -> str:
        return display.equation_latex(value.lhs, value.rhs)


registry.register(EquationKind())
