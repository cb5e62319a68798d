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


@dataclass(frozen=True)
class Solutions:
    """How the real solution sets of two one-unknown equations compare."""

    same: bool | None
    """None when they could not be computed in time."""
    symbol: str = ""
    """The unknown as written; empty when there are several, and then no sets are known."""
    missing: tuple[str, ...] = ()
    """Solutions of the expected equation that the student's lacks (finite sets only), as text."""
    extra: tuple[str, ...] = ()
    """Solutions of the student's equation that the expected one lacks (finite sets only), as text."""
    finite: bool = False
    """Whether both sets are finite, so missing and extra say all that differs."""
    none_of_yours: bool = False
    """Whether the student's equation has no real solution at all."""


def _same_solutions(student: sympy.Expr, expected: sympy.Expr, time_limit: float) -> Solutions:
    """For one unknown: the real solution sets and how they differ. They are computed in
    a time-limited child, which sends back plain data: the differing solutions as text."""
    symbols = student.free_symbols | expected.free_symbols
    if len(symbols) != 1:
        return Solutions(False)
    (symbol,) = symbols

    def solve() -> dict[str, Any]:
        left_set = sympy.solveset(rewrite_special(student), symbol, domain=sympy.S.Reals)
        right_set = sympy.solveset(rewrite_special(expected), symbol, domain=sympy.S.Reals)
        left, right = _elements(left_set), _elements(right_set)
        if left is None or right is None:
            return {"same": bool(left_set == right_set)}

        def within(a: sympy.Expr, others: list[sympy.Expr]) -> bool:
            return any(sympy.simplify(a - b) == 0 for b in others)
        missing = [display.text(b) for b in right if not within(b, left)]
        extra = [display.text(a) for a in left if not within(a, right)]
        return {"same": not missing and not extra, "missing": missing, "extra": extra, "finite": True,
                "none_of_yours": not left}
    try:
        found = run_limited(solve, time_limit)
    except TimedOut:
        return Solutions(None)
    return Solutions(bool(found["same"]), display.text(symbol), tuple(found.get("missing", ())),
                     tuple(found.get("extra", ())), bool(found.get("finite")), bool(found.get("none_of_yours")))


def _elements(found: sympy.Set) -> list[sympy.Expr] | None:
    """A finite solution set's elements, in increasing order where they are real numbers;
    None for a set that is not finite (an interval, an image set, one solveset left unsolved)."""
    if found is sympy.S.EmptySet:
        return []
    if not isinstance(found, sympy.FiniteSet):
        return None
    items = list(found)
    try:
        return sorted(items, key=lambda v: float(v))
    except (TypeError, ValueError):
        return items


def _values(symbol: str, values: tuple[str, ...]) -> str:
    return " and ".join(f"{symbol} = {v}" for v in values)


def _difference(solutions: Solutions, reveal: bool) -> str:
    """What differs between the student's equation and the expected one, in words. The
    expected equation's own solutions are named only where the spec reveals the answer."""
    symbol = solutions.symbol
    if not symbol:
        return ("Not the same equation: no nonzero constant turns yours into the expected one, so the "
                "two describe different sets of points.")
    if not solutions.finite or not (solutions.missing or solutions.extra):
        return ("Not the same equation: its real solutions are not those of the expected equation "
                "(the two are not equivalent).")
    parts = []
    if solutions.extra:
        verb = "solves" if len(solutions.extra) == 1 else "solve"
        parts.append(f"{_values(symbol, solutions.extra)} {verb} your equation but not the expected one")
    if solutions.missing:
        count = len(solutions.missing)
        if reveal:
            verb = "solves" if count == 1 else "solve"
            parts.append(f"{_values(symbol, solutions.missing)} {verb} the expected equation but not yours")
        else:
            parts.append(f"your equation misses {count} solution{'s' if count > 1 else ''} of the expected one")
    if solutions.none_of_yours:
        parts.insert(0, "your equation has no real solution")
    return f"Not the same equation: {'; '.join(parts)}."


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
        return guarded(options.symbolic, lambda: self._check(options, value, expected, question.reveal))

    def _check(self, options: EquationOptions, value: Equation, expected: Equation, reveal: bool) -> Verdict:
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
        if same.same:
            return Verdict("correct", 1.0, "Correct: the same solutions.", {**details, "method": "solutions"})
        if same.same is None and outcome is None:
            return undecided(details)
        return Verdict("incorrect", 0.0, f"{_difference(same, reveal)}\n"
                                         f"Your answer, as read: {details['answer_text']}", details)

    def show(self, value: Equation, question: Question) -> str:
        return display.equation_text(value.lhs, value.rhs)

    def show_latex(self, value: Equation, question: Question) -> str:
        return display.equation_latex(value.lhs, value.rhs)


registry.register(EquationKind())
