"""Numbers the way people write them: `2.083`, `13/3`, `-4.33e0`, `−4.33`, `1.41×10^-3`, `12.5/6`.

A tiny recursive-descent parser over a token list; nothing is ever passed to eval. It
knows + - * / ^ (and **), parentheses, `pi`, `e` and `sqrt(...)`, computes exactly with
fractions where it can, and bounds length and exponents so no input can hang it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from grader.core.model import Invalid

MAX_LENGTH = 200
MAX_EXACT_BITS = 4096
MAX_DEPTH = 50

# Characters people paste from documents, mapped to what the parser reads.
_TRANSLATE = str.maketrans({
    "−": "-", "–": "-", "—": "-", "﹣": "-", "－": "-",
    "×": "*", "·": "*", "⋅": "*", "∙": "*", "÷": "/", "∕": "/",
    "²": "^2", "³": "^3", "π": "pi", "√": "sqrt", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "⁻": "^-",
})

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<op>\*\*|[-+*/^()])|(?P<name>[A-Za-z_]+))"
)


@dataclass(frozen=True)
class Number:
    value: float
    exact: Fraction | None
    """The exact value when the text was built from decimals and fractions only."""
    text: str


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


class _Fail(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def normalise(text: str) -> str:
    return text.translate(_TRANSLATE).strip()


def parse_number(raw: object) -> Number | Invalid:
    """A finite real number from a YAML value or text, or Invalid saying what was expected."""
    if isinstance(raw, bool) or raw is None:
        return Invalid(f"expected a number, got {'nothing' if raw is None else repr(raw)}")
    if isinstance(raw, int):
        if abs(raw) > 10**300:
            return Invalid("number is too large")
        return Number(float(raw), Fraction(raw), str(raw))
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return Invalid(f"expected a finite number, got {raw}")
        return Number(raw, Fraction(raw), repr(raw))
    if not isinstance(raw, str):
        return Invalid(f"expected a number, got a {type(raw).__name__}")
    return parse_number_text(raw)


def parse_number_text(raw: str) -> Number | Invalid:
    if len(raw) > MAX_LENGTH:
        return Invalid(f"answer is too long for a number ({len(raw)} characters)")
    text = normalise(raw)
    text = _final_value(text)
    if not text:
        return Invalid("expected a number, got an empty answer")
    if re.fullmatch(r"[-+]?\d+,\d+", text):
        return Invalid("use a dot as the decimal separator (2.083, not 2,083)")
    try:
        tokens = _tokenize(text)
        parser = _Parser(tokens, len(text))
        value = parser.expression(0)
        parser.expect_end()
    except _Fail as fail:
        return Invalid(fail.message, fail.pos, text)
    try:
        as_float = float(value)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float):
        return Invalid("number is too large")
    return Number(as_float, value if isinstance(value, Fraction) else None, raw)


def _final_value(text: str) -> str:
    """The value a worked answer ends with: `J = 2.08`, `≈ 2.08`, `J(0, 0) = 25/12 ≈ 2.083`
    all mean the last number written. Only the last part is read; the rest is the working."""
    parts = re.split(r"=|≈|~", text)
    return parts[-1].strip() if len(parts) > 1 else text


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip() == "":
                break
            bad = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise _Fail(f"unexpected character {text[bad]!r}", bad)
        kind = match.lastgroup or ""
        start = match.start(kind)
        tokens.append(_Token(kind, match.group(kind), start))
        pos = match.end()
    return tokens


class _Parser:
    """expression := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ;
    unary := ('+'|'-') unary | power ; power := atom (('^'|'**') unary)?"""

    def __init__(self, tokens: list[_Token], length: int) -> None:
        self.tokens = tokens
        self.i = 0
        self.length = length

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _Fail("the answer ends too early", self.length)
        self.i += 1
        return token

    def expect_end(self) -> None:
        token = self.peek()
        if token is not None:
            raise _Fail(f"unexpected {token.text!r}", token.pos)

    def expression(self, depth: int) -> Fraction | float:
        if depth > MAX_DEPTH:
            token = self.peek()
            raise _Fail("answer is nested too deeply", token.pos if token else self.length)
        value = self.term(depth)
        while (token := self.peek()) and token.text in "+-" and token.kind == "op":
            self.take()
            right = self.term(depth)
            value = value + right if token.text == "+" else value - right
        return value

    def term(self, depth: int) -> Fraction | float:
        value = self.unary(depth)
        while (token := self.peek()) and token.kind == "op" and token.text in ("*", "/"):
            self.take()
            right = self.unary(depth)
            if token.text == "*":
                value = value * right
            elif right == 0:
                raise _Fail("division by zero", token.pos)
            else:
                value = value / right
        return value

    def unary(self, depth: int) -> Fraction | float:
        token = self.peek()
        if token and token.kind == "op" and token.text in "+-":
            self.take()
            value = self.unary(depth + 1)
            return -value if token.text == "-" else value
        return self.power(depth)

    def power(self, depth: int) -> Fraction | float:
        base = self.atom(depth)
        token = self.peek()
        if token and token.kind == "op" and token.text in ("^", "**"):
            self.take()
            exponent = self.unary(depth + 1)
            return _power(base, exponent, token.pos)
        return base

    def atom(self, depth: int) -> Fraction | float:
        token = self.take()
        if token.kind == "num":
            exponent = re.search(r"[eE]([-+]?\d+)$", token.text)
            if exponent and abs(int(exponent.group(1))) > 400:
                raise _Fail("number is out of range", token.pos)
            return Fraction(token.text)
        if token.text == "(":
            value = self.expression(depth + 1)
            closing = self.take()
            if closing.text != ")":
                raise _Fail("expected ')'", closing.pos)
            return value
        if token.kind == "name":
            return self.named(token, depth)
        raise _Fail(f"unexpected {token.text!r}", token.pos)

    def named(self, token: _Token, depth: int) -> Fraction | float:
        name = token.text.lower()
        if name == "pi":
            return math.pi
        if name == "e":
            return math.e
        if name == "sqrt":
            opening = self.take()
            if opening.text != "(":
                raise _Fail("expected '(' after sqrt", opening.pos)
            value = self.expression(depth + 1)
            if self.take().text != ")":
                raise _Fail("expected ')'", token.pos)
            if value < 0:
                raise _Fail("square root of a negative number", token.pos)
            return _sqrt(value)
        if name in ("nan", "inf", "infinity"):
            raise _Fail(f"expected a finite number, got {token.text}", token.pos)
        raise _Fail(f"unknown name {token.text!r}: a number was expected", token.pos)


def _sqrt(value: Fraction | float) -> Fraction | float:
    if isinstance(value, Fraction):
        num, den = math.isqrt(value.numerator), math.isqrt(value.denominator)
        if num * num == value.numerator and den * den == value.denominator:
            return Fraction(num, den)
    return math.sqrt(float(value))


def _power(base: Fraction | float, exponent: Fraction | float, pos: int) -> Fraction | float:
    if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
        bits = max(base.numerator.bit_length(), base.denominator.bit_length(), 1)
        if bits * abs(exponent.numerator) <= MAX_EXACT_BITS:
            if base == 0 and exponent < 0:
                raise _Fail("division by zero", pos)
            return base ** int(exponent)
    try:
        result = float(base) ** float(exponent)
    except (OverflowError, ZeroDivisionError):
        raise _Fail("number is too large", pos) from None
    if isinstance(result, complex) or not math.isfinite(result):
        raise _Fail("number is too large or not real", pos)
    return result


_MANTISSA = re.compile(
    r"^\(?\s*[-+]?\s*\(?\s*(?P<mantissa>\d+\.?\d*|\.\d+)\s*\)?"
    r"(?:\s*(?:[eE][-+]?\d+|\*\s*10\s*(?:\^|\*\*)\s*\(?[-+]?\d+\)?))?\s*\)?$"
)


def significant_figures(raw: str) -> tuple[int, int] | None:
    """(fewest, most) significant figures written in a decimal answer, or None if it is not one.

    Trailing zeros of a whole number are ambiguous (`1000` has 1 to 4); a zero written
    with decimals has as many as it has decimals (`0.00` has 2).
    """
    match = _MANTISSA.match(_final_value(normalise(raw)))
    if not match:
        return None
    mantissa = match.group("mantissa")
    if "." in mantissa:
        whole, decimals = mantissa.split(".")
        digits = (whole + decimals).lstrip("0")
        if not digits:
            count = max(len(decimals), 1)
            return count, count
        return len(digits), len(digits)
    digits = mantissa.lstrip("0")
    if not digits:
        return 1, 1
    return len(digits.rstrip("0")), len(digits)
