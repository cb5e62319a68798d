"""`symbolic`: a formula, graded by equivalence over the declared symbol domains.

    - id: a
      kind: symbolic
      answer: {solution: loss_expression}     # a sympy expression or a string
      symbols: {w: real, b: real}             # or a list of names (real); domains in domain.py
      functions: [f]                          # undefined functions the answer may apply
      indexed: [x, y]                         # data arrays: x_i, y_i inside sum(..., i, 1, m)
      form: expanded                          # optional: expanded | factored | simplified |
                                              #   no_derivatives, or a list of them
      form_credit: 0.5                        # share of the points for the right value in the wrong form
      tolerance: {rel: 1e-3}                  # optional slack for answers with rounded decimals
      time_limit: 2                           # seconds for one comparison (CAS included)
      budget: 5                               # seconds for all the work on one answer together

Everything a formula costs (parsing, comparisons with the answer and the known mistakes,
the CAS, form tests, feedback, printing it for the report) draws on one budget per answer
(grader.core.budget), so steps cannot add up: past it the answer goes to a teacher
(`review`) with a message saying so. Arithmetic that overflows or recurses too deep is the
student's `invalid`, never a grader fault.

Student answers are parsed by grader.symbolic.parse (never eval); the verdict shows the
answer as it was understood, in text and LaTeX, and a wrong answer off by a sign, a
constant factor or an additive constant is told so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import sympy

from grader.core import budget, registry
from grader.core.model import Invalid, Question, Verdict
from grader.core.results import Status
from grader.symbolic import display, feedback
from grader.symbolic.domain import REAL, Domain, parse_domain
from grader.symbolic.equivalence import Outcome, Tolerance, equivalent
from grader.symbolic.forms import DESCRIPTIONS, FORMS, check_form
from grader.symbolic.parse import ParseConfig, canonical_name, parse_expression

MAX_TIME_LIMIT = 10.0
MAX_BUDGET = 60.0
DEFAULT_BUDGET = 5.0
"""Seconds all the work on one answer may take: a student with four hostile formulas
holds the grader for 20 s, not for hours."""
TOO_COSTLY = "This formula was too costly to check automatically; a teacher will look at it."

OPTION_KEYS: dict[str, Any] = {
    "symbols": {
        "description": "symbols the answer may use: name -> domain (real, positive, integer, "
                       "positive integer, ...), or a list of names (real)",
        "oneOf": [{"type": "object", "additionalProperties": {"type": "string"}},
                  {"type": "array", "items": {"type": "string"}}],
    },
    "functions": {"type": "array", "items": {"type": "string"},
                  "description": "names of undefined functions the answer may apply, e.g. f"},
    "indexed": {"type": "array", "items": {"type": "string"},
                "description": "data arrays written with a subscript inside sums, e.g. x for x_i"},
    "form": {"description": "required form: " + ", ".join(FORMS),
             "oneOf": [{"type": "string", "enum": list(FORMS)},
                       {"type": "array", "items": {"type": "string", "enum": list(FORMS)}}]},
    "form_credit": {"type": "number", "minimum": 0, "maximum": 1,
                    "description": "share of the points for a correct value in the wrong form"},
    "tolerance": {"type": "object", "additionalProperties": False,
                  "properties": {"rel": {"type": "number", "minimum": 0},
                                 "abs": {"type": "number", "minimum": 0}},
                  "description": "numeric slack, for answers with rounded decimals"},
    "time_limit": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TIME_LIMIT,
                   "description": "seconds one comparison may take"},
    "budget": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_BUDGET,
               "description": "seconds all the work on one answer may take together (parsing, comparisons, "
                              "CAS, form tests, feedback, display); past them a teacher looks at it"},
}


@dataclass(frozen=True)
class SymbolicOptions:
    config: ParseConfig
    form: tuple[str, ...] = ()
    form_credit: float = 0.5
    tolerance: Tolerance | None = None
    time_limit: float = 2.0
    budget: float = DEFAULT_BUDGET


# ----------------------------------------------------------------------------- options

def load_symbolic_options(raw: Mapping[str, Any]) -> SymbolicOptions:
    symbols = _symbols(raw.get("symbols", {}))
    return SymbolicOptions(
        # `I` is the imaginary unit where a symbol is complex (unless I is declared itself)
        config=ParseConfig(symbols=symbols, functions=_names(raw, "functions"), indexed=_names(raw, "indexed"),
                           imaginary=any(domain.complex for domain in symbols.values())),
        form=_forms(raw.get("form")),
        form_credit=_fraction(raw.get("form_credit", 0.5)),
        tolerance=_tolerance(raw.get("tolerance")),
        time_limit=_seconds(raw.get("time_limit", 2.0), "time_limit", MAX_TIME_LIMIT),
        budget=_seconds(raw.get("budget", DEFAULT_BUDGET), "budget", MAX_BUDGET),
    )


def _symbols(raw: Any) -> dict[str, Domain]:
    if isinstance(raw, list):
        raw = {name: "real" for name in raw}
    if not isinstance(raw, dict):
        raise registry.OptionError("symbols must map names to domains, e.g. {w: real, m: positive integer}",
                                   "symbols")
    symbols: dict[str, Domain] = {}
    for name, domain in raw.items():
        try:
            canonical = canonical_name(str(name))
            symbols[canonical] = parse_domain(domain) if domain is not None else REAL
        except ValueError as exc:
            raise registry.OptionError(str(exc), f"symbols.{name}") from None
    return symbols


def _names(raw: Mapping[str, Any], key: str) -> frozenset[str]:
    names = raw.get(key, [])
    if not isinstance(names, list):
        raise registry.OptionError(f"{key} must be a list of names, e.g. [f, g]", key)
    try:
        found = frozenset(canonical_name(str(n)) for n in names)
    except ValueError as exc:
        raise registry.OptionError(str(exc), key) from None
    if key == "indexed" and any("_" in name for name in found):
        raise registry.OptionError("name data arrays without a subscript: [x, y] gives x_i and y_i", key)
    return found


def _forms(raw: Any) -> tuple[str, ...]:
    forms = [] if raw is None else [raw] if isinstance(raw, str) else raw
    if not isinstance(forms, list) or any(f not in FORMS for f in forms):
        raise registry.OptionError(f"form must be one of {', '.join(FORMS)} (or a list of them)", "form")
    return tuple(forms)


def _fraction(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw <= 1:
        raise registry.OptionError("form_credit must be a number from 0 to 1", "form_credit")
    return float(raw)


def _tolerance(raw: Any) -> Tolerance | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw or set(raw) - {"rel", "abs"}:
        raise registry.OptionError("tolerance takes rel and/or abs, e.g. {rel: 1e-3}", "tolerance")
    values = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise registry.OptionError(f"tolerance.{key} must be a number >= 0", f"tolerance.{key}")
        values[key] = float(value)
    return Tolerance(**values)


def _seconds(raw: Any, key: str, most: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 < raw <= most:
        raise registry.OptionError(f"{key} must be a number of seconds up to {most:g}", key)
    return float(raw)


# ----------------------------------------------------------------------------- references

def reference_expression(raw: Any, config: ParseConfig) -> sympy.Expr:
    """A trusted literal or solution value as an expression over the declared symbols."""
    if isinstance(raw, sympy.Basic):
        if not isinstance(raw, sympy.Expr):
            raise ValueError(f"expected a sympy expression, got {type(raw).__name__}")
        return adopt_symbols(raw, config)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise ValueError(f"expected a formula (text or a sympy expression), got {type(raw).__name__}")
    parsed = parse_expression(raw, config)
    if isinstance(parsed, Invalid):
        raise ValueError(f"the reference {raw!r} does not parse: {parsed.message}")
    return parsed


def adopt_symbols(expr: sympy.Expr, config: ParseConfig) -> sympy.Expr:
    """Solution code builds plain `Symbol('w')`; give each the question's declared domain."""
    mapping = {}
    arrays = expr.atoms(sympy.IndexedBase)
    for base in arrays:
        if str(base.label) not in config.indexed:
            raise ValueError(f"the reference uses the data array {base}, which the question does not "
                             f"declare in indexed")
    labels = {base.label for base in arrays}
    for symbol in expr.free_symbols:
        if isinstance(symbol, sympy.Indexed) or symbol in labels:
            continue
        name = canonical_name(symbol.name) if isinstance(symbol, sympy.Symbol) else str(symbol)
        if name not in config.symbols:
            raise ValueError(f"the reference uses {symbol.name!r}, which the question does not declare "
                             f"in symbols (declared: {', '.join(sorted(config.symbols)) or 'none'})")
        mapping[symbol] = sympy.Symbol(name, **config.symbols[name].assumptions)
    # Solution code writes the sigmoid as 1/(1 + exp(-x)); that is fine as it is.
    return expr.xreplace(mapping)


# ----------------------------------------------------------------------------- verdicts

def answer_details(value: sympy.Expr, outcome: Outcome | None) -> dict[str, Any]:
    details: dict[str, Any] = {"answer_text": display.text(value), "answer_latex": display.latex(value)}
    if outcome is not None:
        details["method"] = outcome.method
        if outcome.detail:
            details["why"] = outcome.detail
    return details


def undecided(details: dict[str, Any]) -> Verdict:
    return Verdict("review", 0.0, "The grader could not decide in time whether this formula equals the "
                                  "expected one; a teacher will look at it.", details)


def answer_budget(options: SymbolicOptions) -> budget.Budget:
    """The budget of one answer, started now."""
    return budget.Budget(options.budget, message=TOO_COSTLY)


def guarded(options: SymbolicOptions, work: Callable[[], Verdict]) -> Verdict:
    """work() within the answer's budget (a budget of its own when called outside the
    engine, by `grader validate` or a test), with faults of arithmetic told to the student."""
    return budget.bounded(options.budget, lambda: _faults_told(work), _too_costly)


def _too_costly(exc: budget.OverBudget) -> Verdict:
    return Verdict("review", 0.0, f"{TOO_COSTLY} ({exc.why})", {"over_budget": exc.why})


def _faults_told(work: Callable[[], Verdict]) -> Verdict:
    """Overflow, recursion and memory exhaustion are the formula's doing: said, not raised."""
    try:
        return work()
    except OverflowError:
        return Verdict("invalid", 0.0, "A number in this formula grows too large to compute with "
                                       "(beyond about 1e308); write it with smaller numbers.")
    except RecursionError:
        return Verdict("invalid", 0.0, "This formula is nested too deeply to check; write it more simply.")
    except MemoryError:
        return Verdict("review", 0.0, f"{TOO_COSTLY} (it needed too much memory)")


def form_verdict(value: sympy.Expr, options: SymbolicOptions, details: dict[str, Any]) -> Verdict:
    """Correct value: full marks if written in the asked form, else the form credit."""
    failed, unchecked = [], []
    for form in options.form:
        result = check_form(value, form, options.time_limit)
        if result.ok is None:
            unchecked.append(form)
        elif not result.ok:
            failed.append(form)
    details = {**details, "forms": {f: f not in failed and f not in unchecked for f in options.form}}
    if failed:
        wanted = "; ".join(DESCRIPTIONS[f] for f in failed)
        fraction = options.form_credit
        status: Status = "partial" if fraction > 0 else "incorrect"
        return Verdict(status, fraction, f"The value is right, but the answer should be {wanted}.", details)
    if unchecked:
        return Verdict("review", 0.0, "The value is right; whether it is written in the asked form could "
                                      "not be checked in time, so a teacher will look at it.", details)
    return Verdict("correct", 1.0, "Correct.", details)


def names_phrase(options: SymbolicOptions) -> str:
    names = sorted(options.config.symbols)
    if not names:
        return "with numbers only"
    return "in " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


class SymbolicKind:
    name = "symbolic"
    option_keys = OPTION_KEYS
    public_keys = ("symbols", "functions", "indexed", "tolerance", "form", "form_credit", "time_limit", "budget")
    """What `grader check` needs to parse an answer; none of it gives the answer away."""
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = True

    def answer_format(self, question: Question) -> str:
        options: SymbolicOptions = question.options
        form = f", {' and '.join(options.form)}" if options.form else ""
        return (f"a formula {names_phrase(options)}{form}, such as 2*x^2 - 1/3 (^ for powers; exp, log, "
                "sqrt, tanh, σ and the like work)")

    def load_options(self, raw: Mapping[str, Any]) -> SymbolicOptions:
        return load_symbolic_options(raw)

    def parse(self, raw: Any, question: Question) -> sympy.Expr | Invalid:
        config = question.options.config
        value = parse_expression(raw, config)
        if isinstance(value, Invalid) and isinstance(raw, str) and raw.count("=") == 1:
            # `J(w, b) = ...` or `dJ/dw = ...`: a label the question does not know, then the
            # formula. A left side made of declared names (`w = 2`) stays an error.
            label, formula = raw.split("=")
            if label.strip() and isinstance(parse_expression(label, config), Invalid):
                offset = len(label) + 1
                inner = parse_expression(formula, config)
                if isinstance(inner, Invalid) and inner.position is not None:
                    return Invalid(inner.message, inner.position + offset, raw)
                return inner
        return value

    def parse_reference(self, raw: Any, question: Question) -> sympy.Expr:
        return reference_expression(raw, question.options.config)

    def budget(self, question: Question) -> budget.Budget:
        return answer_budget(question.options)

    def check(self, question: Question, value: sympy.Expr, expected: sympy.Expr) -> Verdict:
        options: SymbolicOptions = question.options
        return guarded(options, lambda: self._check(options, value, expected))

    def _check(self, options: SymbolicOptions, value: sympy.Expr, expected: sympy.Expr) -> Verdict:
        outcome = equivalent(value, expected, options.tolerance, options.time_limit)
        details = answer_details(value, outcome)
        if outcome.equivalent is None:
            return undecided(details)
        if outcome.equivalent:
            return form_verdict(value, options, details)
        hint = feedback.near_miss(value, expected, min(1.0, options.time_limit))
        message = "Not equivalent to the expected answer." + (f" {hint}" if hint else "")
        return Verdict("incorrect", 0.0, f"{message}\nYour answer, as read: {details['answer_text']}", details)

    def show(self, value: sympy.Expr, question: Question) -> str:
        return display.text(value)

    def show_latex(self, value: sympy.Expr, question: Question) -> str:
        return display.latex(value)


registry.register(SymbolicKind())
