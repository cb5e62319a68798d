"""Student text -> sympy expression, by a tokenizer and a recursive-descent parser of our own.

Nothing here calls eval, exec, sympify or parse_expr on what a student typed: the text is
cut into tokens, every token is checked against what the question allows (declared
symbols, whitelisted functions, numbers within bounds), and the sympy objects are built
one validated node at a time. Sizes are bounded before sympy computes anything, so
`9^9^9^9`, `factorial(10^10)`, 100,000 characters or 10,000 nested parentheses are
refused in microseconds. So is what would make later steps explode: towers of powers
with variables (`w^w^w^w^w`), derivatives nested to a high order in total (ten nested
`diff(..., w, 6)`), nested sums with too many terms, decimals beyond the largest double.
What remains costly is bounded by the answer's budget (grader.core.budget).

Accepted notation (what people write):
    `^` or `**`; implicit products `2x`, `2(x+1)`, `x y`, `wx` (when w and x are declared)
    unicode: θ μ σ π, `·` `×` `−` `÷`, superscripts `x²` `e⁻ˣ`-style powers, `√x`, `x₁`
    subscripts: `x_i`, `theta_0`, `x_{12}`; Greek by name: `theta`, `mu`
    functions: exp, ln/log, sqrt, root(x, n), abs/|x|, sign, max/min, relu, σ/sigma/sigmoid,
    tanh and the other trig/hyperbolic functions, factorial/`n!`, binomial, gamma
    derivatives: diff(f, x), diff(f, x, 2) (kept unevaluated, for the form tests)
    sums: Sum(f, (i, 1, m)) or the readable sum(f, i, 1, m); the index needs no declaring;
    data arrays declared `indexed` are written x_i inside a sum over i (or x_1)
Parse errors are `model.Invalid(message, position, text)` with the offending character.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import sympy

from grader.core.model import Invalid
from grader.symbolic.domain import REAL, Domain
from grader.symbolic.functions import sigmoid

MAX_LENGTH = 2000
"""Characters in one answer; the longest STACK corpus expression has 330."""
MAX_TOKENS = 800
MAX_DEPTH = 60
"""Nesting of parentheses, bars, functions and signs together."""
MAX_INT_DIGITS = 40
MAX_FLOAT_EXPONENT = 308
MAX_POWER = 10_000
"""Largest integer exponent (or numerator/denominator of a rational one)."""
MAX_NUMBER_DIGITS = 2_000
"""Largest exact number any step may produce (175! has 319 digits)."""
MAX_FACTORIAL = 1_000
MAX_DIFF_ORDER = 6
"""Order of a derivative, nested ones together: diff(diff(f, x, 6), x, 6) is of order 12."""
MAX_TOTAL_DIFF_ORDER = 18
"""Orders of all the derivatives in one answer, added up."""
MAX_SUM_TERMS = 10_000
"""Terms of a sum with numeric bounds, nested sums multiplied."""
MAX_TOWER = 3
"""Exponents with variables stacked on each other: w^w^w^w is 3, e^(-x^2) is 1. The
derivatives of a tower grow as a tower of its height (diff(w^w^w^w^w, w, 6) runs for minutes)."""
MAX_FLOAT = 1.7976931348623157e308
"""The largest double: a decimal beyond it has no value in floating point."""


class ParseError(Exception):
    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class ParseConfig:
    """What names an answer may use."""

    symbols: Mapping[str, Domain] = field(default_factory=dict)
    """Declared symbols and their domains, by canonical name (`theta`, `x_1`)."""
    functions: frozenset[str] = frozenset()
    """Names of undefined functions the answer may apply, e.g. `f` in f(x)."""
    indexed: frozenset[str] = frozenset()
    """Data arrays written with a subscript, e.g. `x` in sum((w x_i - y_i)^2, i, 1, m)."""
    auto_symbols: bool = False
    """Any unknown name is a symbol of `default_domain` (used for corpora, not for students)."""
    auto_functions: bool = False
    """Any unknown name followed by `(` is an undefined function."""
    default_domain: Domain = REAL
    imaginary: bool = False
    """Whether `I` is the imaginary unit."""

    def domain_of(self, name: str) -> Domain:
        return self.symbols.get(name, self.default_domain)


# ----------------------------------------------------------------------------- tokens

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho",
    "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi",
    "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda",
    "Ξ": "Xi", "Π": "Pi", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
_OPERATOR_ALIASES = {
    "·": "*", "⋅": "*", "×": "*", "∙": "*", "•": "*", "∗": "*", "÷": "/", "∕": "/",
    "−": "-", "–": "-", "‐": "-", "‑": "-", "—": "-", "＋": "+",
}
_SUPERSCRIPTS = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                 "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+"}
_SUBSCRIPTS = {"₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6",
               "₇": "7", "₈": "8", "₉": "9", "ᵢ": "i", "ⱼ": "j", "ₖ": "k", "ₘ": "m", "ₙ": "n"}
_LOOKALIKES = {
    **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},  # full-width ！ to ～: （ ） ２ ｘ ＋
    "\u3000": " ", "∣": "|", "｜": "|", "⁄": "/", "﹣": "-", "﹢": "+", "﹡": "*", "ˆ": "^",
    "µ": "μ", "﹙": "(", "﹚": ")",
}
"""Characters that look like the ASCII ones people mean, mapped one to one (positions keep)."""
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
_FLOORS = {"⌊": ("⌋", "floor"), "⌈": ("⌉", "ceiling")}
_DIGITS = "0123456789"
_NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SUB = re.compile(r"_(\{[A-Za-z0-9]+\}|[A-Za-z0-9]+)")


@dataclass(frozen=True)
class Token:
    kind: str
    """num, name, op, open, close, bar, sup, sqrt, floor (⌊ or ⌈), comma, eq, end"""
    text: str
    pos: int


def canonical_name(text: str) -> str:
    """The name a declared symbol is known by: Greek letters spelled out, `x₁` as `x_1`."""
    try:
        tokens = tokenize(text)
    except ParseError as exc:
        raise ValueError(f"{text!r} is not a valid symbol name: {exc.message}") from None
    if len(tokens) != 2 or tokens[0].kind != "name":
        raise ValueError(f"{text!r} is not a valid symbol name (letters, digits, one _subscript)")
    return tokens[0].text


def fold_lookalikes(text: str) -> str:
    """Full-width forms (`（２ｘ）`), `∣x∣`, math italic letters (𝑥) as the characters they
    look like, one character for one, so positions in the text stay the same."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch in _LOOKALIKES:
            ch = _LOOKALIKES[ch]
        elif "\U0001d400" <= ch <= "\U0001d7ff":  # Mathematical Alphanumeric Symbols: 𝑥 𝐱 𝜃 𝟐
            folded = unicodedata.normalize("NFKC", ch)
            ch = folded if len(folded) == 1 else ch
        out.append(ch)
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    text = fold_lookalikes(text)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if len(tokens) > MAX_TOKENS:
            raise ParseError(f"the answer is too long (more than {MAX_TOKENS} symbols)", i)
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        ch = _OPERATOR_ALIASES.get(ch, ch)
        if ch in _DIGITS or (ch == "." and text[i + 1:i + 2] in _DIGITS and i + 1 < n):
            match = _NUMBER.match(text, i)
            assert match is not None
            tokens.append(Token("num", match.group(0), i))
            i = match.end()
        elif ch.isascii() and ch.isalpha() or ch in _GREEK:
            i = _name_token(text, i, tokens)
        elif ch == "*" and text[i + 1:i + 2] == "*":
            tokens.append(Token("op", "^", i))
            i += 2
        elif ch in "+-*/^!":
            tokens.append(Token("op", ch, i))
            i += 1
        elif ch in _SUPERSCRIPTS:
            start = i
            while i < n and text[i] in _SUPERSCRIPTS:
                i += 1
            tokens.append(Token("sup", "".join(_SUPERSCRIPTS[c] for c in text[start:i]), start))
        elif ch == "√":
            tokens.append(Token("sqrt", ch, i))
            i += 1
        elif ch in _OPENERS:
            tokens.append(Token("open", ch, i))
            i += 1
        elif ch in _CLOSERS or ch in "⌋⌉":
            tokens.append(Token("close", ch, i))
            i += 1
        elif ch in _FLOORS:
            tokens.append(Token("floor", ch, i))
            i += 1
        elif ch in "|,=":
            tokens.append(Token({"|": "bar", ",": "comma", "=": "eq"}[ch], ch, i))
            i += 1
        else:
            shown = ch if ch.isprintable() else unicodedata.name(ch, repr(ch))
            hint = {"_": " (a name cannot start with _)", ".": " (attributes such as x.y are not allowed)",
                    "'": " (no text in quotes)", '"': " (no text in quotes)",
                    ":": " (no lambdas or slices)"}.get(ch, "")
            raise ParseError(f"unexpected character {shown!r}{hint}", i)
    tokens.append(Token("end", "", n))
    return tokens


def _name_token(text: str, i: int, tokens: list[Token]) -> int:
    start = i
    if text[i] in _GREEK:
        base = _GREEK[text[i]]
        i += 1
        while i < len(text) and text[i] in _DIGITS:
            base += text[i]
            i += 1
    else:
        match = _IDENT.match(text, i)
        assert match is not None
        base = match.group(0)
        i = match.end()
    sub = _SUB.match(text, i)
    if sub:
        base += "_" + sub.group(1).strip("{}")
        i = sub.end()
    elif i < len(text) and text[i] in _SUBSCRIPTS:
        digits = ""
        while i < len(text) and text[i] in _SUBSCRIPTS:
            digits += _SUBSCRIPTS[text[i]]
            i += 1
        base += "_" + digits
    elif i < len(text) and text[i] == "_":
        raise ParseError("a subscript needs letters or digits after '_'", i)
    tokens.append(Token("name", base, start))
    return i


# ----------------------------------------------------------------------------- builders

def _digits(value: sympy.Rational) -> float:
    """Decimal digits (log10) of the larger of numerator and denominator, without printing them."""
    largest = max(abs(int(value.p)), int(value.q))
    return math.log10(largest) if largest.bit_length() < 1000 else largest.bit_length() * math.log10(2)


def _check_size(value: sympy.Expr, pos: int) -> sympy.Expr:
    if isinstance(value, sympy.Rational) and _digits(value) > MAX_NUMBER_DIGITS:
        raise ParseError(f"a number in this answer would have more than {MAX_NUMBER_DIGITS} digits", pos)
    return value


def build_pow(base: sympy.Expr, exponent: sympy.Expr, pos: int) -> sympy.Expr:
    """base**exponent, refused before sympy computes anything too large."""
    if isinstance(exponent, sympy.Rational):
        if abs(exponent.p) > MAX_POWER or exponent.q > MAX_POWER:
            raise ParseError(f"the exponent is too large (at most {MAX_POWER})", pos)
        if isinstance(base, sympy.Rational) and abs(base) not in (0, 1):
            if _digits(base) * abs(exponent.p) > MAX_NUMBER_DIGITS * exponent.q:
                raise ParseError(f"this power would have more than {MAX_NUMBER_DIGITS} digits", pos)
    elif isinstance(exponent, sympy.Float) and base.is_number and abs(exponent) > MAX_POWER:
        raise ParseError(f"the exponent is too large (at most {MAX_POWER})", pos)
    return _check_tower(_check_size(sympy.Pow(base, exponent), pos), pos)


def tower_height(expr: sympy.Basic) -> int:
    """How many exponents with variables stack up in `expr`: x^2 is 0, e^x and w^w are 1,
    w^w^w is 2. Powers in the base do not stack: (x^y)^2 is 1."""
    if expr.is_Atom:
        return 0
    if isinstance(expr, (sympy.Pow, sympy.exp)):
        base, exponent = expr.as_base_exp()
        step = 1 if exponent.free_symbols else 0
        return max(tower_height(base), step + tower_height(exponent))
    return max((tower_height(arg) for arg in expr.args), default=0)


def _check_tower(value: sympy.Expr, pos: int) -> sympy.Expr:
    if tower_height(value) > MAX_TOWER:
        raise ParseError(f"a tower of powers this high is not accepted (at most {MAX_TOWER} exponents with "
                         "variables stacked, as in w^w^w^w)", pos)
    return value


def _number(token: Token) -> sympy.Expr:
    text = token.text
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in text and not exponent:
        if len(text) > MAX_INT_DIGITS:
            raise ParseError(f"the number is too long (at most {MAX_INT_DIGITS} digits)", token.pos)
        return sympy.Integer(text)
    if exponent and abs(int(exponent)) > MAX_FLOAT_EXPONENT:
        raise ParseError("the number is too large or too small", token.pos)
    if len(mantissa) > MAX_INT_DIGITS:
        raise ParseError(f"the number is too long (at most {MAX_INT_DIGITS} digits)", token.pos)
    # A decimal is a float, as in Python and in STACK: 53 bits, 15 significant digits.
    return sympy.Float(text)


def _small_integer(value: sympy.Expr, limit: int, what: str, pos: int) -> None:
    """Refuse numeric arguments of factorial-like functions that would take long to compute."""
    if value.is_number and isinstance(value, sympy.Number) and abs(value) > limit:
        raise ParseError(f"{what} of a number larger than {limit} is not accepted", pos)


def _factorial(args: Sequence[sympy.Expr], pos: int) -> sympy.Expr:
    _small_integer(args[0], MAX_FACTORIAL, "a factorial", pos)
    return sympy.factorial(args[0])


def _gamma(args: Sequence[sympy.Expr], pos: int) -> sympy.Expr:
    _small_integer(args[0], MAX_FACTORIAL, "gamma", pos)
    return sympy.gamma(args[0])


def _binomial(args: Sequence[sympy.Expr], pos: int) -> sympy.Expr:
    for arg in args:
        _small_integer(arg, MAX_FACTORIAL, "a binomial coefficient", pos)
    return sympy.binomial(*args)


def _root(args: Sequence[sympy.Expr], pos: int) -> sympy.Expr:
    if len(args) == 1:
        return sympy.sqrt(args[0])
    return build_pow(args[0], build_pow(args[1], sympy.Integer(-1), pos), pos)


def _log(args: Sequence[sympy.Expr], pos: int) -> sympy.Expr:
    if len(args) == 2:
        return sympy.log(args[0]) / sympy.log(args[1])
    return sympy.log(args[0])


def _relu(args: Sequence[sympy.Expr], pos: int) -> sympy.Expr:
    return sympy.Max(sympy.Integer(0), args[0])


def _one(function: Callable[[sympy.Expr], sympy.Expr]) -> Callable[[Sequence[sympy.Expr], int], sympy.Expr]:
    return lambda args, pos: function(args[0])


def _exp(args: Sequence[sympy.Expr], pos: int) -> sympy.Expr:
    return _check_tower(sympy.exp(args[0]), pos)


# name -> (builder, smallest and largest number of arguments)
_Builder = Callable[[Sequence[sympy.Expr], int], sympy.Expr]
FUNCTIONS: dict[str, tuple[_Builder, int, int]] = {
    "exp": (_exp, 1, 1),
    "ln": (_log, 1, 1), "log": (_log, 1, 2),
    "sqrt": (_root, 1, 1), "root": (_root, 1, 2),
    "abs": (_one(sympy.Abs), 1, 1), "Abs": (_one(sympy.Abs), 1, 1),
    "sign": (_one(sympy.sign), 1, 1), "sgn": (_one(sympy.sign), 1, 1),
    "sin": (_one(sympy.sin), 1, 1), "cos": (_one(sympy.cos), 1, 1), "tan": (_one(sympy.tan), 1, 1),
    "cot": (_one(sympy.cot), 1, 1), "sec": (_one(sympy.sec), 1, 1), "csc": (_one(sympy.csc), 1, 1),
    "asin": (_one(sympy.asin), 1, 1), "acos": (_one(sympy.acos), 1, 1), "atan": (_one(sympy.atan), 1, 1),
    "arcsin": (_one(sympy.asin), 1, 1), "arccos": (_one(sympy.acos), 1, 1),
    "arctan": (_one(sympy.atan), 1, 1), "acot": (_one(sympy.acot), 1, 1),
    "sinh": (_one(sympy.sinh), 1, 1), "cosh": (_one(sympy.cosh), 1, 1), "tanh": (_one(sympy.tanh), 1, 1),
    "asinh": (_one(sympy.asinh), 1, 1), "acosh": (_one(sympy.acosh), 1, 1),
    "atanh": (_one(sympy.atanh), 1, 1),
    "max": (lambda a, p: sympy.Max(*a), 2, 10), "Max": (lambda a, p: sympy.Max(*a), 2, 10),
    "min": (lambda a, p: sympy.Min(*a), 2, 10), "Min": (lambda a, p: sympy.Min(*a), 2, 10),
    "relu": (_relu, 1, 1), "ReLU": (_relu, 1, 1),
    "sigma": (_one(sigmoid), 1, 1), "sigmoid": (_one(sigmoid), 1, 1),
    "factorial": (_factorial, 1, 1), "gamma": (_gamma, 1, 1), "binomial": (_binomial, 2, 2),
    "floor": (_one(sympy.floor), 1, 1), "ceil": (_one(sympy.ceiling), 1, 1),
    "ceiling": (_one(sympy.ceiling), 1, 1),
}
_INVERSES = {"sin": "asin", "cos": "acos", "tan": "atan", "cot": "acot", "sinh": "asinh", "cosh": "acosh",
             "tanh": "atanh", "exp": "log", "ln": "exp", "log": "exp"}
"""Inverse functions, named in the message that refuses `sin^-1 x` (asin or 1/sin?)."""
# Functions whose arguments are not all expressions: handled by the parser itself.
SPECIAL_FUNCTIONS = {"diff": "diff", "Derivative": "diff", "Sum": "sum", "sum": "sum",
                     "Integral": "integral", "integrate": "integral"}
CONSTANTS = ("pi", "e", "E")


class _Tuple:
    """`(i, 1, m)`: only valid as an argument of sum, diff or Integral."""

    def __init__(self, items: list[sympy.Expr], pos: int) -> None:
        self.items = items
        self.pos = pos


# ----------------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text: str, config: ParseConfig) -> None:
        self.text = text
        self.config = config
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.abs_depth = 0
        self.bound: dict[str, sympy.Symbol] = {}
        self.symbols: dict[str, sympy.Symbol] = {}
        self.diff_total = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise ParseError(f"expected {what}{self._found()}", self.tok.pos)
        return self.advance()

    def _found(self) -> str:
        return " but the answer ends" if self.tok.kind == "end" else f", found {self.tok.text!r}"

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(f"the answer is nested too deeply (more than {MAX_DEPTH} levels)", self.tok.pos)

    # -- grammar
    def parse(self, allow_equation: bool) -> sympy.Expr | tuple[sympy.Expr, sympy.Expr]:
        if self.tok.kind == "end":
            raise ParseError("the answer is empty", 0)
        left = self.expression()
        if self.tok.kind == "eq" and allow_equation:
            eq = self.advance()
            if self.tok.kind == "end":
                raise ParseError("nothing after '='", eq.pos + 1)
            right = self.expression()
            self._finish()
            return left, right
        self._finish()
        return left

    def _finish(self) -> None:
        token = self.tok
        if token.kind == "end":
            return
        if token.kind == "eq":
            raise ParseError("'=' is not expected here: write an expression, not an equation", token.pos)
        if token.kind == "close":
            raise ParseError(f"unmatched {token.text!r}", token.pos)
        raise ParseError(f"unexpected {token.text!r}", token.pos)

    def expression(self) -> sympy.Expr:
        self.enter()
        left = self.operand(self.term())
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance()
            right = self.operand(self.term())
            left = _check_size(left + right if op.text == "+" else left - right, op.pos)
        self.depth -= 1
        return left

    def term(self) -> sympy.Expr:
        start = self.tok.pos
        left = self.unary()
        division: tuple[Token, bool] | None = None
        """The last `/` of this term, and whether its divisor is a number under a number (1/6)
        or in parentheses (1/(2m)): then what follows is a factor of the fraction."""
        while True:
            token = self.tok
            if token.kind == "op" and token.text in "*/":
                self.advance()
                first = self.tok
                right = self.operand(self.unary())
                left = self.operand(left)
                if token.text == "*":
                    division = None
                    left = _check_size(left * right, token.pos)
                else:
                    if right == 0:
                        raise ParseError("division by zero", token.pos)
                    numeric = bool(left.is_number) and first.kind == "num" and right.is_Number
                    grouped = first.kind == "open" and self.tokens[self.i - 1].kind == "close"
                    division = (token, numeric or grouped)
                    left = _check_size(left * build_pow(right, sympy.Integer(-1), token.pos), token.pos)
            elif self.starts_operand(token):
                self._check_juxtaposed(token)
                if division is not None and not division[1] and not self.text[token.pos - 1].isspace():
                    self._ambiguous_division(start, division[0])
                right = self.operand(self.unary())
                left = _check_size(self.operand(left) * right, token.pos)
            else:
                return left

    def _check_juxtaposed(self, token: Token) -> None:
        """A number right after a number, `2 3` or `x^2 3`, may be one number written with a
        space or a product: refused. After anything else (`2^x 3`, `(x+1) 2`) it is a factor."""
        before = self.tokens[self.i - 1]
        if token.kind == "num" and before.kind == "num":
            raise ParseError(f"two numbers side by side ('{before.text} {token.text}'): write * between them "
                             f"for a product ({before.text}*{token.text}) or no space for one number "
                             f"({before.text}{token.text})", token.pos)

    def _ambiguous_division(self, start: int, slash: Token) -> None:
        """`a/bc`, `x/2y`: a product written tight after a division, without `*` or a space, reads
        as (a/b)·c in sympy and Maxima but as a/(bc) to many people (and in mathjs): refused.
        A space separates (`1/m sum(...)`, `x/2 y` are (1/m)·sum, (x/2)·y), and so do a
        numeric fraction (`1/2x` is x/2, as everywhere) and a divisor in parentheses (`1/(2m)x`)."""
        divisor = self.text[slash.pos + 1:self.tok.pos].strip()
        factor_start = self.tok.pos
        self.unary()  # only to find where the next factor ends, for the message
        factor = self.text[factor_start:self.tok.pos].strip()
        dividend = self.text[start:slash.pos].strip()
        written = self.text[start:self.tok.pos].strip()
        raise ParseError(f"'{written}' can be read as ({dividend}/{divisor})*{factor} or as "
                         f"{dividend}/({divisor}*{factor}): write the parentheses you mean", slash.pos)

    def starts_operand(self, token: Token) -> bool:
        if token.kind in ("num", "name", "open", "sqrt", "floor"):
            return True
        return token.kind == "bar" and self.abs_depth == 0

    def unary(self) -> sympy.Expr:
        token = self.tok
        if token.kind == "op" and token.text in "+-":
            self.advance()
            self.enter()
            value = self.operand(self.unary())
            self.depth -= 1
            return -value if token.text == "-" else value
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.postfix()
        if self.tok.kind == "op" and self.tok.text == "^":
            op = self.advance()
            self.enter()
            exponent = self.operand(self.unary())
            self.depth -= 1
            return build_pow(self.operand(base), exponent, op.pos)
        return base

    def postfix(self) -> sympy.Expr:
        value = self.primary()
        while True:
            token = self.tok
            if token.kind == "op" and token.text == "!":
                self.advance()
                value = _factorial([self.operand(value)], token.pos)
            elif token.kind == "sup":
                self.advance()
                value = build_pow(self.operand(value), self._superscript(token), token.pos)
            else:
                return value

    def _superscript(self, token: Token) -> sympy.Expr:
        if not re.fullmatch(r"[+-]?\d{1,5}", token.text):
            raise ParseError("a superscript must be a whole number such as ² or ⁻¹", token.pos)
        return sympy.Integer(token.text)

    def operand(self, value: object) -> sympy.Expr:
        if isinstance(value, _Tuple):
            raise ParseError("a list (a, b, ...) is only allowed inside sum(...), diff(...) or Integral(...)",
                             value.pos)
        return value

    def primary(self) -> sympy.Expr | _Tuple:
        token = self.tok
        if token.kind == "num":
            self.advance()
            return _number(token)
        if token.kind == "open":
            return self.group()
        if token.kind == "bar":
            self.advance()
            self.enter()
            self.abs_depth += 1
            inner = self.expression()
            self.abs_depth -= 1
            self.expect("bar", "a closing '|'")
            self.depth -= 1
            return sympy.Abs(inner)
        if token.kind == "sqrt":
            self.advance()
            self.enter()
            inner = self.operand(self.postfix())
            self.depth -= 1
            return sympy.sqrt(inner)
        if token.kind == "floor":
            return self.floor(token)
        if token.kind == "name":
            self._expand_name()
            return self.name()
        if token.kind == "end":
            raise ParseError("the answer ends too early: something is missing here", token.pos)
        raise ParseError(f"expected a number, a name or '(' but found {token.text!r}", token.pos)

    def floor(self, opener: Token) -> sympy.Expr:
        """⌊x⌋ and ⌈x⌉."""
        self.advance()
        self.enter()
        saved_abs, self.abs_depth = self.abs_depth, 0
        inner = self.expression()
        self.abs_depth = saved_abs
        closer, function = _FLOORS[opener.text]
        if self.tok.kind != "close" or self.tok.text != closer:
            raise ParseError(f"expected {closer!r} to close the {opener.text!r} at position {opener.pos + 1}"
                             f"{self._found()}", self.tok.pos)
        self.advance()
        self.depth -= 1
        return sympy.floor(inner) if function == "floor" else sympy.ceiling(inner)

    def group(self) -> sympy.Expr | _Tuple:
        opener = self.advance()
        self.enter()
        if self.tok.kind == "close":
            raise ParseError("empty parentheses", self.tok.pos)
        saved_abs, self.abs_depth = self.abs_depth, 0
        items = [self.expression()]
        while self.tok.kind == "comma":
            self.advance()
            items.append(self.expression())
        self.abs_depth = saved_abs
        closer = self.tok
        if closer.kind != "close" or closer.text != _OPENERS[opener.text]:
            raise ParseError(f"expected {_OPENERS[opener.text]!r} to close the {opener.text!r} at "
                             f"position {opener.pos + 1}{self._found()}", closer.pos)
        self.advance()
        self.depth -= 1
        return items[0] if len(items) == 1 else _Tuple(items, opener.pos)

    # -- names
    def name(self) -> sympy.Expr:
        token = self.advance()
        name = token.text
        config = self.config
        if name in self.bound:
            return self.bound[name]
        if name in config.symbols:
            return self.symbol(name)
        if name.partition("_")[0] in config.indexed:
            return self.indexed(token)
        if name in SPECIAL_FUNCTIONS or name in FUNCTIONS:
            return self.call(token)
        if name in config.functions or (config.auto_functions and self.tok.kind == "open"):
            return self.undefined_call(token)
        if name == "pi":
            return sympy.pi
        if name in ("e", "E"):
            return sympy.E
        if name == "I" and config.imaginary:
            return sympy.I
        if config.auto_symbols:
            return self.symbol(name)
        raise ParseError(self.unknown(name), token.pos)

    def indexed(self, token: Token) -> sympy.Expr:
        """`x_i` for a declared data array x: its element at a sum index or a whole number."""
        base, _, index = token.text.partition("_")
        if index in self.bound:
            position: sympy.Expr = self.bound[index]
        elif index.isdigit():
            position = sympy.Integer(index)
        elif index in self.config.symbols and self.config.symbols[index].integer:
            position = self.symbol(index)
        else:
            raise ParseError(f"{base} is a data array: write {base}_i inside a sum over i, "
                             f"or {base}_1 for one element", token.pos)
        return sympy.IndexedBase(base)[position]

    def symbol(self, name: str) -> sympy.Symbol:
        if name not in self.symbols:
            self.symbols[name] = sympy.Symbol(name, **self.config.domain_of(name).assumptions)
        return self.symbols[name]

    # -- runs of letters: `wx`, `sinx`, `2xsin(x)`
    def _known(self, name: str) -> bool:
        config = self.config
        return (name in self.bound or name in config.symbols or name.partition("_")[0] in config.indexed
                or name in FUNCTIONS or name in SPECIAL_FUNCTIONS or name in config.functions
                or name in CONSTANTS or (name == "I" and config.imaginary)
                or (config.auto_functions and self.peek().kind == "open"))

    def _names_function(self, token: Token) -> bool:
        """Whether the name at the current token is applied as a function (`cos` in `sin x cos x`)."""
        if token.kind != "name" or token.text in self.bound or token.text in self.config.symbols:
            return False
        return (token.text in FUNCTIONS or token.text in SPECIAL_FUNCTIONS or token.text in self.config.functions
                or (self.config.auto_functions and self.peek().kind == "open"))

    def _expand_name(self) -> None:
        """A run of letters that is no name of its own is cut into the names it is made of,
        in the token list, so that each piece is a factor of its own: `wx^2` is w·x², the
        power binding only the letter it touches, and `sinx`, `sin2x` apply sin as `sin x`,
        `sin 2x` do. A run that can be cut both ways (s·i·n·x and sin x) is refused."""
        token = self.tok
        if token.kind != "name" or self.config.auto_symbols or self._known(token.text):
            return
        name = token.text
        pieces = self.split(name)
        applied = self._function_split(name)
        if pieces and applied:
            head, function, rest = applied
            shown = " ".join(head + [f"{function}({rest or '...'})"])
            raise ParseError(f"'{name}' can be read as the product {'*'.join(pieces)} or as {shown}: "
                             "write it with * or with parentheses", token.pos)
        if pieces:
            new = self._piece_tokens(token, pieces)
        elif applied:
            head, function, rest = applied
            new = self._piece_tokens(token, head + [function])
            offset = len(name) - len(rest)
            shift = token.pos + offset if self.text[token.pos:token.pos + len(name)] == name else token.pos
            new += [Token(t.kind, t.text, t.pos + shift) for t in tokenize(rest)[:-1]]
        else:
            return
        self.tokens[self.i:self.i + 1] = new
        if len(self.tokens) > MAX_TOKENS + 1:
            raise ParseError(f"the answer is too long (more than {MAX_TOKENS} symbols)", token.pos)

    def _piece_tokens(self, token: Token, pieces: list[str]) -> list[Token]:
        tokens, offset = [], 0
        for piece in pieces:
            at = token.pos + offset
            tokens.append(Token("name", piece, at if self.text[at:at + len(piece)] == piece else token.pos))
            offset += len(piece)
        return tokens

    def _splits(self, name: str) -> list[list[str] | None]:
        """For each prefix of `name`, its split into the fewest declared symbols and constants."""
        known = set(self.config.symbols) | {"pi", "e"}
        best: list[list[str] | None] = [None] * (len(name) + 1)
        best[0] = []
        for end in range(1, len(name) + 1):
            for start in range(max(0, end - 24), end):
                head = best[start]
                if head is not None and name[start:end] in known:
                    if best[end] is None or len(head) + 1 < len(best[end] or []):
                        best[end] = head + [name[start:end]]
        return best

    def split(self, name: str) -> list[str] | None:
        """`wx` as w·x when both are declared: the split into the fewest known names."""
        found = self._splits(name)[len(name)]
        return found if found and len(found) > 1 else None

    def _function_split(self, name: str) -> tuple[list[str], str, str] | None:
        """`sinx` as (sin, x), `wsin2x` as (w, sin, 2x), `xf` as (x, f): declared symbols, a
        function name, then a rest that reads (nothing, a number, declared symbols). A run
        that cuts two ways (`asinx` with a declared: a·sin x or asin x) is refused."""
        functions = set(FUNCTIONS) | set(self.config.functions)
        best = self._splits(name)
        found: list[tuple[list[str], str, str]] = []
        for start in range(len(name)):
            head = best[start]
            if head is None:
                continue
            for end in range(min(len(name), start + 12), start, -1):
                function, rest = name[start:end], name[end:]
                if function not in functions or rest.startswith("_"):
                    continue
                if function == "log" and rest[:1].isdigit():
                    digits = re.match(r"\d+", rest)
                    base = digits.group(0) if digits else rest
                    raise ParseError(f"'{name}': is {base} the base of the logarithm or a factor? write "
                                     f"log({rest}) for the logarithm of {rest}, or log(..., {base}) for "
                                     f"the logarithm to base {base}", self.tok.pos)
                if not rest or not rest[0].isalpha() or self._known(rest) or self._splits(rest)[len(rest)]:
                    found.append((head, function, rest))
        if len(found) > 1:
            readings = [" ".join(head + [f"{function}({rest or '...'})"]) for head, function, rest in found[:2]]
            raise ParseError(f"'{name}' can be read as {readings[0]} or as {readings[1]}: write it with * "
                             "or with parentheses", self.tok.pos)
        return found[0] if found else None

    def unknown(self, name: str) -> str:
        names = sorted(self.config.symbols) + sorted(f"{n}_i" for n in self.config.indexed) + \
            sorted(self.config.functions)
        allowed = ", ".join(names) if names else "no names (numbers only)"
        hint = ""
        if re.fullmatch(r"[A-Za-z]+\d+", name):
            subscripted = re.sub(r"(\d+)$", r"_\1", name)
            hint = f" (for a subscript write {subscripted})"
        return (f"unknown name {name!r}{hint}; this answer may use {allowed}, "
                "the constants pi and e, and functions such as exp, log, sqrt, sin, tanh, σ")

    def call(self, token: Token) -> sympy.Expr:
        """`sin(x)`, `sin x`, `sin 2x`, and `sin^2(x)`, `sin² x`, `log^2 2n`: a power written on the
        function name is a power of the value, (sin x)², as in print."""
        power: tuple[sympy.Expr, int] | None = None
        if self.tok.kind == "sup" or (self.tok.kind == "op" and self.tok.text == "^"):
            power = self._function_power(token)
        value = self._apply_to_what_follows(token)
        return value if power is None else build_pow(value, power[0], power[1])

    def _function_power(self, token: Token) -> tuple[sympy.Expr, int]:
        op = self.advance()
        if op.kind == "sup":
            exponent = self._superscript(op)
        else:
            self.enter()
            exponent = self.operand(self.unary())
            self.depth -= 1
        name = token.text
        if exponent == -1:
            inverse = _INVERSES.get(name)
            which = f"the inverse function {inverse}(x)" if inverse else "the inverse function"
            raise ParseError(f"'{name}^-1' can mean {which} or 1/{name}(x): write "
                             f"{inverse + '(x) or ' if inverse else ''}1/{name}(x)", op.pos)
        if not (isinstance(exponent, sympy.Integer) and exponent >= 1):
            raise ParseError(f"a power on a function name must be a whole number from 1 up ({name}^2(x) is "
                             f"{name}(x)^2): write {name}(x)^(...) for other powers", op.pos)
        return exponent, op.pos

    def _apply_to_what_follows(self, token: Token) -> sympy.Expr:
        name = token.text
        if self.tok.kind != "open":
            if name in SPECIAL_FUNCTIONS:
                raise ParseError(f"{name} needs its arguments in parentheses", self.tok.pos)
            return self.apply(token, [self.bare_argument(token)])
        if name in SPECIAL_FUNCTIONS:
            return self.special(token)
        return self.apply(token, self.arguments())

    def bare_argument(self, function: Token) -> sympy.Expr:
        """The argument of a function written without parentheses: `sin 2x + 1` is sin(2x) + 1,
        `exp -x^2` is exp(-x²), `log 2n` is log(2n): a sign, then the product of the factors
        that follow, up to the next + or −. Another function name starts a new factor
        (`sin x cos x` is sin(x)·cos(x)); a `*` or `/` after it is refused as ambiguous
        (`sin x/2`: sin(x/2) or sin(x)/2)."""
        self.enter()
        start = self.tok.pos
        value = self.operand(self.unary())
        while True:
            if self.tok.kind == "name":
                self._expand_name()
            token = self.tok
            if not self.starts_operand(token) or self._names_function(token):
                break
            self._check_juxtaposed(token)
            value = _check_size(value * self.operand(self.power()), token.pos)
        if self.tok.kind == "op" and self.tok.text in "*/":
            op = self.advance()
            argument = self.text[start:op.pos].strip()
            factor_start = self.tok.pos
            self.unary()  # only to find where the next factor ends, for the message
            factor = self.text[factor_start:self.tok.pos].strip()
            name = function.text
            raise ParseError(f"'{name} {argument}{op.text}{factor}' can be read as {name}({argument}{op.text}{factor}) "
                             f"or as {name}({argument}){op.text}{factor}: write the parentheses you mean", op.pos)
        self.depth -= 1
        return value

    def arguments(self) -> list[sympy.Expr]:
        opener = self.advance()
        self.enter()
        if self.tok.kind == "close":
            raise ParseError("a function needs an argument", self.tok.pos)
        saved_abs, self.abs_depth = self.abs_depth, 0
        args = [self.operand(self.expression())]
        while self.tok.kind == "comma":
            self.advance()
            args.append(self.operand(self.expression()))
        self.abs_depth = saved_abs
        if self.tok.kind != "close" or self.tok.text != _OPENERS[opener.text]:
            raise ParseError(f"expected {_OPENERS[opener.text]!r}{self._found()}", self.tok.pos)
        self.advance()
        self.depth -= 1
        return args

    def apply(self, token: Token, args: list[sympy.Expr]) -> sympy.Expr:
        builder, low, high = FUNCTIONS[token.text]
        if not low <= len(args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            raise ParseError(f"{token.text} takes {count} argument{'s' if high > 1 else ''}", token.pos)
        try:
            return _check_size(builder(args, token.pos), token.pos)
        except (ValueError, TypeError) as exc:
            raise ParseError(f"{token.text} cannot take these arguments ({exc})", token.pos) from None

    def undefined_call(self, token: Token) -> sympy.Expr:
        if self.tok.kind == "sup" or (self.tok.kind == "op" and self.tok.text == "^"):
            f = token.text
            raise ParseError(f"'{f}^n(x)' can mean the power ({f}(x))^n or {f} applied n times, {f}({f}(x)): "
                             "write the one you mean", self.tok.pos)
        if self.tok.kind != "open":
            raise ParseError(f"{token.text} is a function: write {token.text}(...)", self.tok.pos)
        args = self.arguments()
        return sympy.Function(token.text)(*args)

    # -- diff, sum, Integral
    def special(self, token: Token) -> sympy.Expr:
        what = SPECIAL_FUNCTIONS[token.text]
        if what == "sum":
            self._bind_sum_index(token)
        args = self._special_arguments()
        if what == "diff":
            return self._diff(token, args)
        if what == "sum":
            return self._sum(token, args)
        return self._integral(token, args)

    def _special_arguments(self) -> list[sympy.Expr | _Tuple]:
        opener = self.advance()
        self.enter()
        saved_abs, self.abs_depth = self.abs_depth, 0
        args: list[sympy.Expr | _Tuple] = [self.expression()]
        while self.tok.kind == "comma":
            self.advance()
            args.append(self.primary() if self.tok.kind == "open" and self._is_tuple_ahead()
                        else self.expression())
        self.abs_depth = saved_abs
        if self.tok.kind != "close" or self.tok.text != _OPENERS[opener.text]:
            raise ParseError(f"expected {_OPENERS[opener.text]!r}{self._found()}", self.tok.pos)
        self.advance()
        self.depth -= 1
        return args

    def _is_tuple_ahead(self) -> bool:
        """Whether the group starting here holds a top-level comma: `(i, 1, m)`."""
        level = 0
        for token in self.tokens[self.i:]:
            if token.kind == "open":
                level += 1
            elif token.kind == "close":
                level -= 1
                if level == 0:
                    return False
            elif token.kind == "comma" and level == 1:
                return True
            elif token.kind == "end":
                return False
        return False

    def _bind_sum_index(self, token: Token) -> None:
        """The index of a sum is a new integer symbol: find its name before reading the body."""
        level = 0
        for k in range(self.i, len(self.tokens)):
            t = self.tokens[k]
            if t.kind == "open":
                level += 1
            elif t.kind == "close":
                level -= 1
                if level == 0:
                    break
            elif t.kind == "comma" and level == 1:
                after = self.tokens[k + 1]
                if after.kind == "open":
                    after = self.tokens[k + 2]
                if after.kind == "name":
                    self.bound[after.text] = sympy.Symbol(after.text, integer=True)
                return
        raise ParseError(f"{token.text} needs an index and bounds: {token.text}(f, (i, 1, m))", token.pos)

    def _variable(self, value: object, token: Token) -> sympy.Symbol:
        if not isinstance(value, sympy.Symbol):
            raise ParseError(f"{token.text}: expected a variable name here", token.pos)
        return value

    def _diff(self, token: Token, args: list) -> sympy.Expr:
        if len(args) < 2:
            raise ParseError("diff needs a variable: diff(f, x) or diff(f, x, 2)", token.pos)
        expr = self.operand(args[0])
        variables: list[tuple[sympy.Symbol, int]] = []
        for arg in args[1:]:
            if isinstance(arg, _Tuple) and len(arg.items) == 2:  # sympy's own (x, 2)
                variables.append((self._variable(arg.items[0], token), 1))
                arg = arg.items[1]
            if isinstance(arg, sympy.Integer) and variables:
                if not 1 <= int(arg) <= MAX_DIFF_ORDER:
                    raise ParseError(f"the order of a derivative must be 1 to {MAX_DIFF_ORDER}", token.pos)
                variables[-1] = (variables[-1][0], variables[-1][1] + int(arg) - 1)
            else:
                variables.append((self._variable(self.operand(arg), token), 1))
        if sum(order for _, order in variables) > MAX_DIFF_ORDER:
            raise ParseError(f"the order of a derivative must be at most {MAX_DIFF_ORDER}", token.pos)
        derivative = sympy.Derivative(expr, *variables, evaluate=False)
        if nested_order(derivative) > MAX_DIFF_ORDER:
            raise ParseError(f"derivatives nested in each other may have at most order {MAX_DIFF_ORDER} "
                             "together", token.pos)
        self.diff_total += sum(order for _, order in variables)
        if self.diff_total > MAX_TOTAL_DIFF_ORDER:
            raise ParseError(f"the derivatives of one answer may have at most order {MAX_TOTAL_DIFF_ORDER} "
                             "added up", token.pos)
        return derivative

    def _limits(self, token: Token, args: list) -> tuple[sympy.Symbol, sympy.Expr, sympy.Expr]:
        if len(args) == 2 and isinstance(args[1], _Tuple) and len(args[1].items) == 3:
            index, low, high = args[1].items
        elif len(args) == 4:
            index, low, high = (self.operand(a) for a in args[1:])
        else:
            raise ParseError(f"write {token.text}(f, (i, 1, m)) or {token.text}(f, i, 1, m)", token.pos)
        return self._variable(index, token), low, high

    def _sum(self, token: Token, args: list) -> sympy.Expr:
        index, low, high = self._limits(token, args)
        span = high - low
        if span.is_number and (not span.is_integer or abs(span) > MAX_SUM_TERMS):
            raise ParseError(f"a sum with numeric bounds must have at most {MAX_SUM_TERMS} whole-number steps",
                             token.pos)
        total = sympy.Sum(self.operand(args[0]), (index, low, high))
        if sum_terms(total) > MAX_SUM_TERMS:
            raise ParseError(f"sums nested in each other may have at most {MAX_SUM_TERMS} terms together",
                             token.pos)
        return total

    def _integral(self, token: Token, args: list) -> sympy.Expr:
        if len(args) == 2 and not isinstance(args[1], _Tuple):
            return sympy.Integral(self.operand(args[0]), self._variable(self.operand(args[1]), token))
        index, low, high = self._limits(token, args)
        return sympy.Integral(self.operand(args[0]), (index, low, high))


def nested_order(expr: sympy.Basic) -> int:
    """The largest order of derivatives taken one inside the other (sympy merges
    diff(diff(f, x), x) into one Derivative of order 2; a derivative inside a function
    inside a derivative stays apart, and counts the same)."""
    if expr.is_Atom:
        return 0
    inner = max((nested_order(arg) for arg in expr.args), default=0)
    if isinstance(expr, sympy.Derivative):
        return inner + sum(int(count) for _, count in expr.variable_count)
    return inner


def sum_terms(expr: sympy.Basic) -> int:
    """Terms of the sums nested in `expr`, multiplied along each nesting (a sum with a
    variable bound counts as one term: its length is only known at a point)."""
    if expr.is_Atom:
        return 1
    inner = max((sum_terms(arg) for arg in expr.args), default=1)
    if isinstance(expr, sympy.Sum):  # sympy merges Sum(Sum(f, j), i) into one with two limits
        for _, low, high in expr.limits:
            span = high - low
            inner *= int(span) + 1 if span.is_Integer and span >= 0 else 1
    return inner


def _check_decimals(value: object) -> None:
    """Decimals beyond the largest double (1e308*1e308) have no floating-point value:
    refused, as a student would want to hear, before arithmetic overflows."""
    exprs = value if isinstance(value, tuple) else (value,)
    for expr in exprs:
        for number in expr.atoms(sympy.Float):
            if not abs(number) <= MAX_FLOAT:
                raise ParseError("a decimal number in this answer is too large (beyond 1.8e308); "
                                 "write such numbers exactly, e.g. 10^400", None)


# ----------------------------------------------------------------------------- entry points

def _run(text: object, config: ParseConfig,
         allow_equation: bool) -> sympy.Expr | tuple[sympy.Expr, sympy.Expr] | Invalid:
    if not isinstance(text, str):
        if isinstance(text, bool) or not isinstance(text, (int, float)):
            return Invalid(f"expected a formula as text, got {type(text).__name__}")
        text = repr(text)
    if len(text) > MAX_LENGTH:
        return Invalid(f"the answer is too long ({len(text)} characters; at most {MAX_LENGTH})")
    if "\n" in text.strip():
        return Invalid("write the formula on one line")
    try:
        parsed = _Parser(text, config).parse(allow_equation)
        _check_decimals(parsed)
        return parsed
    except ParseError as exc:
        return Invalid(exc.message, exc.position, text)
    except RecursionError:
        return Invalid("the answer is nested too deeply")
    except MemoryError:
        return Invalid("the answer is too large to read")
    except (ValueError, TypeError, ArithmeticError) as exc:
        # sympy refused to build a node from validated parts (e.g. Max of complex numbers).
        return Invalid(f"this formula cannot be read: {exc}")


def parse_expression(text: object, config: ParseConfig) -> sympy.Expr | Invalid:
    """One expression; `=` is refused."""
    parsed = _run(text, config, allow_equation=False)
    assert not isinstance(parsed, tuple), "an equation parses only with allow_equation"
    return parsed


def parse_relation(text: object, config: ParseConfig) -> sympy.Expr | tuple[sympy.Expr, sympy.Expr] | Invalid:
    """An equation `lhs = rhs` as a pair, or a bare expression."""
    return _run(text, config, allow_equation=True)
