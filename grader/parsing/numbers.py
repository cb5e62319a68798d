"""Numbers the way people write them: `2.083`, `13/3`, `-4.33e0`, `−4.33`, `1.41×10^-3`, `12.5/6`,
`1 234 567.89`, `1.23 e 2`, `2.083...`, and per question `2%` and `3 points`.

A tiny recursive-descent parser over a token list; nothing is ever passed to eval. It
knows + - * / ^ (and **), parentheses, `pi`, `e` and `sqrt(...)`, computes exactly with
fractions where it can, and bounds length and exponents so no input can hang it.

Before the parser, `_clean` reads what people add around a number, each step refusing
with a message rather than guessing: the working before a final `=`, a trailing ellipsis,
a unit the question declares, a percent sign where the question allows it, and digit
grouping as the course's `NumberFormat` says (groups of exactly three, one grouping
character per number; a form that means another number in the other convention, such as
`1,234` when the decimal mark is `.` and commas were not declared, is refused as ambiguous).
A whole answer that is a product of whole numbers written like a size (`15×15`, `15x15`,
`15 * 15`) is refused with a hint when the question reads one number.
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

#: Every space a document may put between digit groups (normal, no-break, figure, thin,
#: narrow no-break, medium mathematical); all are read as one space.
SPACES = " \u00a0\u2007\u2009\u202f\u205f"

# Characters people paste from documents, mapped to what the parser reads. `×` stays as it
# is until the size check has seen it (see `_sizes`).
_TRANSLATE = str.maketrans({
    "−": "-", "–": "-", "—": "-", "﹣": "-", "－": "-",
    "·": "*", "⋅": "*", "∙": "*", "÷": "/", "∕": "/", "✕": "×", "⨯": "×",
    "²": "^2", "³": "^3", "π": "pi", "√": "sqrt", "⁻": "^-", "’": "'",
    **{space: " " for space in SPACES[1:]},
})
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SUPERSCRIPT_RUN = re.compile(r"[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<op>\*\*|[-+*/^()])|(?P<name>[A-Za-z_]+))"
)
#: Names the parser reads; a word after a number that is one of these is no unit.
NAMES = ("pi", "e", "sqrt", "nan", "inf", "infinity")

#: Grouping characters a spec may name, by name or as the character itself.
GROUPING_NAMES = {"space": " ", "comma": ",", "dot": ".", "apostrophe": "'", "underscore": "_"}
DECIMAL_MARKS = (".", ",")


@dataclass(frozen=True)
class NumberFormat:
    """How a course writes numbers: its decimal mark and the characters that may group digits.

    A grouping character only ever stands between groups of exactly three digits (the
    first group of a whole part has one to three, the last of a fraction one to three).
    """

    decimal: str = "."
    grouping: tuple[str, ...] = (" ", ",", "'", "_")
    """Accepted grouping characters; " " stands for every space in SPACES."""
    ambiguous: tuple[str, ...] = (",",)
    """Grouping characters that are the decimal mark of the other convention and were not
    declared by the course: one lone group (`1,234`, no decimal mark) could mean 1.234 and
    is refused with both readings; `1,234,567` and `1,234.5` are read."""

    @property
    def other_mark(self) -> str:
        return "," if self.decimal == "." else "."

    def show(self, text: str) -> str:
        """`text`, written by Python with a dot, in this format's decimal mark."""
        return text.replace(".", ",") if self.decimal == "," else text


DEFAULT_FORMAT = NumberFormat()


def default_format(decimal: str) -> NumberFormat:
    """The format a course gets when it names only its decimal mark."""
    other = "," if decimal == "." else "."
    return NumberFormat(decimal, (" ", other, "'", "_"), (other,))


class FormatError(ValueError):
    """A malformed `number_format:`; `key` is the offending key inside it ('' for the whole)."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def format_from_spec(raw: object) -> NumberFormat:
    """A spec's `number_format:` mapping as a NumberFormat; FormatError says what is wrong.
    `{decimal: ",", grouping: [space, dot]}`; grouping characters given are trusted, so
    `1.234` reads as 1234 when the course declares dots as grouping."""
    if raw is None:
        return DEFAULT_FORMAT
    if not isinstance(raw, dict):
        raise FormatError('number_format must be a mapping such as {decimal: ",", grouping: [space]}')
    from grader.core.suggest import did_you_mean

    for key in raw:
        if key not in ("decimal", "grouping"):
            raise FormatError(f"unknown number_format key {key!r}{did_you_mean(str(key), ('decimal', 'grouping'))}; "
                             "use decimal, grouping", str(key))
    decimal = raw.get("decimal", ".")
    if decimal not in DECIMAL_MARKS:
        raise FormatError(f'number_format decimal must be "." or ",", got {decimal!r}', "decimal")
    if "grouping" not in raw:
        return default_format(decimal)
    grouping = raw["grouping"]
    if not isinstance(grouping, list):
        raise FormatError("number_format grouping must be a list such as [space, comma] (or [] for none)", "grouping")
    chars: list[str] = []
    for index, item in enumerate(grouping):
        char = GROUPING_NAMES.get(item, item) if isinstance(item, str) else None
        if char is None or char not in GROUPING_NAMES.values():
            raise FormatError(f"number_format grouping {item!r} is not one of {', '.join(GROUPING_NAMES)}"
                              f"{did_you_mean(str(item), list(GROUPING_NAMES))}", f"grouping[{index}]")
        if char == decimal:
            raise FormatError(f"number_format grouping {item!r} is the decimal mark: a number could not be read",
                              f"grouping[{index}]")
        if char not in chars:
            chars.append(char)
    return NumberFormat(decimal, tuple(chars), ())


@dataclass(frozen=True)
class Reading:
    """How one question reads a number: the course's format and what the question allows."""

    format: NumberFormat = DEFAULT_FORMAT
    percent: bool = False
    """`2%` is 0.02. Otherwise a percent sign is refused with that hint."""
    units: tuple[str, ...] = ()
    """Words the answer may end with (`3 points`); singular and plural both match."""
    one_number: bool = True
    """The answer is one number, so a product written like a size (`15×15`) is refused
    with a hint; entries of a vector are read with this False."""


DEFAULT_READING = Reading()


@dataclass(frozen=True)
class Number:
    value: float
    exact: Fraction | None
    """The exact value when the text was built from decimals and fractions only."""
    text: str
    plain: str = ""
    """The number as the parser read it: no working, grouping, unit or percent sign, a dot
    as decimal mark (what significant figures are counted on)."""


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
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^(" + m.group().translate(_SUPERSCRIPT) + ")", text)
    return text.translate(_TRANSLATE).strip()


def parse_number(raw: object, reading: Reading = DEFAULT_READING) -> Number | Invalid:
    """A finite real number from a YAML value or text, or Invalid saying what was expected."""
    if isinstance(raw, bool) or raw is None:
        return Invalid(f"expected a number, got {'nothing' if raw is None else repr(raw)}")
    if isinstance(raw, int):
        if abs(raw) > 10**300:
            return Invalid("number is too large")
        return Number(float(raw), Fraction(raw), str(raw), str(raw))
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return Invalid(f"expected a finite number, got {raw}")
        return Number(raw, Fraction(raw), repr(raw), repr(raw))
    if not isinstance(raw, str):
        return Invalid(f"expected a number, got a {type(raw).__name__}")
    return parse_number_text(raw, reading)


_YAML_NONFINITE = re.compile(r"\s*[-+]?\.(?:nan|inf)\s*", re.IGNORECASE)
"""`.nan`, `-.inf`: YAML's spellings (answers.yaml scalars stay text), read as what they mean."""


def parse_number_text(raw: str, reading: Reading = DEFAULT_READING) -> Number | Invalid:
    if len(raw) > MAX_LENGTH:
        return Invalid(f"answer is too long for a number ({len(raw)} characters)")
    if _YAML_NONFINITE.fullmatch(raw):  # else "unexpected character '.'", which says nothing
        return Invalid(f"expected a finite number, got {raw.strip()}")
    cleaned = _clean(raw, reading)
    if isinstance(cleaned, Invalid):
        return cleaned
    text, scale = cleaned
    try:
        tokens = _tokenize(text)
        parser = _Parser(tokens, len(text))
        value = parser.expression(0)
        parser.expect_end()
    except _Fail as fail:
        return Invalid(fail.message, fail.pos, text)
    value = value * scale if isinstance(value, Fraction) else value * float(scale)
    try:
        as_float = float(value)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float):
        return Invalid("number is too large")
    return Number(as_float, value if isinstance(value, Fraction) else None, raw, text)


def _clean(raw: str, reading: Reading) -> tuple[str, Fraction] | Invalid:
    """The text the expression parser reads, and the factor a percent sign gives, or
    Invalid saying why the answer is not read. Each step is one thing people add."""
    text = _final_value(normalise(raw))
    if not text:
        return Invalid("expected a number, got an empty answer")
    text = _ELLIPSIS.sub("", text)
    text, scale = _strip_percent(text, reading)
    if isinstance(scale, Invalid):
        return scale
    text_or_invalid = _strip_unit(text, reading)
    if isinstance(text_or_invalid, Invalid):
        return text_or_invalid
    text = text_or_invalid
    if not text:
        return Invalid("expected a number, got an empty answer")
    if reading.one_number and (message := _sizes(text)):
        return Invalid(message)
    text = _SCIENTIFIC_X.sub("*", text).replace("×", "*")
    text = join_spaced_exponents(text)
    text_or_invalid = _ungroup(text, reading.format)
    if isinstance(text_or_invalid, Invalid):
        return text_or_invalid
    return text_or_invalid, scale


# `2.083...`, `2.083 …`: the digits given are the answer (the tolerance decides).
_ELLIPSIS = re.compile(r"(?<=\d)\s*(?:\.{3}|…)$")
# `1.5 x 10^3`: an x before a power of ten is a times sign.
_SCIENTIFIC_X = re.compile(r"(?<=[\d)])\s*[xX×]\s*(?=10\s*(?:\^|\*\*))")
# `1.23 e 2`, `1.23 E -2`, `1.23e 2`: an exponent written with spaces, after a number.
_SPACED_EXPONENT = re.compile(r"(?<=[\d.])(?:\s+[eE]\s*|[eE]\s+)([+-]?\d+)(?![\d.])")
_PERCENT = re.compile(r"\s*([%‰])$")
_UNIT = re.compile(r"(?<=[\d).])\s*([^\W\d_]{2,}(?:[ -][^\W\d_]+){0,2})$")
_SIZE = re.compile(r"\d+(?:\s*[×xX*]\s*\d+){1,3}")


def join_spaced_exponents(text: str) -> str:
    """`1.23 e 2` as `1.23e2` (also for a list, before its entries are split at spaces)."""
    return _SPACED_EXPONENT.sub(lambda m: "e" + m.group(1), text)


def _strip_percent(text: str, reading: Reading) -> tuple[str, Fraction | Invalid]:
    match = _PERCENT.search(text)
    if not match:
        return text, Fraction(1)
    sign = match.group(1)
    if sign in reading.units:
        return text[:match.start()].strip(), Fraction(1)
    rest = text[:match.start()].strip()
    if not reading.percent:
        show = reading.format.show
        example = f"for 2% write {show('0.02')}" if sign == "%" else f"for 2‰ write {show('0.002')}"
        return text, Invalid(f"this question takes a plain number, not a percentage: write it without {sign} "
                             f"({example})")
    if not rest:
        return text, Invalid(f"expected a number before {sign}")
    return rest, Fraction(1, 100 if sign == "%" else 1000)


def unit_forms(unit: str) -> set[str]:
    """The forms of a declared unit an answer may use: itself, singular and plural, any case."""
    word = unit.strip().lower()
    forms = {word}
    if word.endswith("ies") and len(word) > 3:
        forms.add(word[:-3] + "y")
    elif word.endswith("es") and word[:-2].endswith(("s", "x", "ch", "sh")):
        forms.add(word[:-2])
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        forms.add(word[:-1])
    for form in list(forms):
        if form.endswith("y") and len(form) > 1 and form[-2] not in "aeiou":
            forms.add(form[:-1] + "ies")
        elif form.endswith(("s", "x", "ch", "sh")):
            forms.add(form + "es")
        else:
            forms.add(form + "s")
    return forms


def _strip_unit(text: str, reading: Reading) -> str | Invalid:
    """`3 points` -> `3` where the question declares points; a word it does not declare is
    refused by name, with the units it takes."""
    for unit in sorted(reading.units, key=len, reverse=True):
        if not unit.isalpha() and text.endswith(unit):
            return text[:-len(unit)].strip()
    match = _UNIT.search(text)
    if not match:
        return text
    word = match.group(1)
    if word.lower() in NAMES:
        return text
    allowed = [unit for unit in reading.units if word.lower() in unit_forms(unit)]
    if allowed:
        return text[:match.start()].strip()
    if reading.units:
        return Invalid(f"unit {word!r} is not one this question takes: use {', '.join(reading.units)}, "
                       "or give the number alone", match.start(1), text)
    return Invalid(f"write the number alone, without a unit ({word!r})", match.start(1), text)


def _sizes(text: str) -> str:
    """A hint when the whole answer is a product of whole numbers written like a size:
    `15×15`, `15x15`, `28 X 28 X 3` always (x and × between whole numbers are how sizes
    are written); with `*` or `·` only when the first two factors are equal (`15 * 15`,
    `3*3*64`), as `6*7` is ordinary arithmetic. '' when it is no such product."""
    if not _SIZE.fullmatch(text):
        return ""
    factors = [int(f) for f in re.split(r"\s*[×xX*]\s*", text)]
    if "×" not in text and "x" not in text.lower() and factors[0] != factors[1]:
        return ""
    product = math.prod(factors)
    shown = " by ".join(str(f) for f in factors)
    if len(set(factors)) == 1 and len(factors) == 2:
        advice = f"give one side ({factors[0]}) or the product written out ({product}), as the question asks"
    else:
        advice = f"give the number the question asks for (written out, the product is {product})"
    return f"{text} looks like a size ({shown}), but one number is asked: {advice}"


_RUN = re.compile(r"\d+(?:[,.'_ ]\d+)+")
_SEPARATOR = re.compile(r"[,.'_ ]")


def _ungroup(text: str, fmt: NumberFormat) -> str | Invalid:
    """`text` with every number's digit grouping removed and its decimal mark made a dot,
    or Invalid saying what is malformed or ambiguous (pointing at the number)."""
    out: list[str] = []
    last = 0
    for match in _RUN.finditer(text):
        if message := _stray_mark(text[last:match.start()], fmt):
            return Invalid(message, last + _first_mark(text[last:match.start()]), text)
        read = _read_run(match.group(), fmt)
        if isinstance(read, Invalid):
            return Invalid(read.message, match.start(), text)
        out.append(text[last:match.start()] + read)
        last = match.end()
    if message := _stray_mark(text[last:], fmt):
        return Invalid(message, last + _first_mark(text[last:]), text)
    return "".join(out) + text[last:]


def _stray_mark(segment: str, fmt: NumberFormat) -> str:
    """With a decimal comma, a dot or comma outside a number (`.5`, `4.`, `2,`) is refused."""
    if fmt.decimal == "," and ("." in segment or "," in segment):
        return "the decimal mark here is a comma, between digits (such as 2,5 or 0,5)"
    if fmt.decimal == "." and "," in segment and "[" not in segment:  # a list: the parser says where
        return "one number is expected, and a comma here is no decimal mark (write 2.5) nor grouping (write 1234)"
    return ""


def _first_mark(segment: str) -> int:
    return min(i for i in (segment.find("."), segment.find(",")) if i >= 0)


def _read_run(run: str, fmt: NumberFormat) -> str | Invalid:
    """One run of digits and separators (`1 234 567.89`, `1,5`) as plain digits with a dot."""
    mark, other = fmt.decimal, fmt.other_mark
    dot_advice = " (use a dot as the decimal separator)" if mark == "." else " (here the decimal mark is a comma)"
    if run.count(mark) > 1:
        if re.fullmatch(rf"\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+", run):
            return Invalid(f"{run} groups digits with {_name(mark)}s, but {_name(mark)} is the decimal mark here: "
                           f"write {run.replace(mark, '')}")
        return Invalid(f"{run} has more than one decimal mark ({mark!r})")
    whole, _, fraction = run.partition(mark)
    separators = set(_SEPARATOR.findall(whole))
    if len(separators) > 1:
        return Invalid(f"{run} mixes grouping characters ({' and '.join(_name(s) for s in sorted(separators))}); "
                       "use one, or none")
    plain_whole = whole
    if separators:
        sep = separators.pop()
        groups = whole.split(sep)
        plain_whole = "".join(groups)
        well_formed = 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
        lone = len(groups) == 2 and not fraction
        as_decimal = whole.replace(sep, mark)
        if sep == other and lone and (not well_formed or sep not in fmt.grouping):
            also = f" or {plain_whole}" if well_formed else ""
            return Invalid(f"{run}: {_name(sep)} is not the decimal mark here: write {as_decimal}{also}{dot_advice}")
        if sep not in fmt.grouping:
            if sep == " ":
                return Invalid(f"{run}: numbers are not grouped with spaces here; write {plain_whole}"
                               " (or put * between numbers you multiply)")
            return Invalid(f"{run}: {_name(sep)}s do not group digits here; write {plain_whole}")
        if not well_formed:
            if sep == " ":
                return Invalid(f"{run}: digits grouped with spaces come in threes (1 234 567); "
                               "put * between numbers you multiply")
            return Invalid(f"{run}: digits are grouped in threes (1{sep}234{sep}567); check the {_name(sep)}s")
        if sep in fmt.ambiguous and lone:
            return Invalid(f"{run} is ambiguous: it could mean {plain_whole} or {as_decimal.replace(',', '.')}; "
                           f"write {plain_whole} without the {_name(sep)}, or {as_decimal}{dot_advice}")
    plain_fraction = fraction
    seps = set(_SEPARATOR.findall(fraction))
    if seps:
        sep = seps.pop()
        groups = fraction.split(sep)
        if sep == other:
            if re.fullmatch(rf"\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+{re.escape(other)}\d+", run):
                return Invalid(f"{run} is written with a decimal {_name(other)}, but here the decimal mark is a "
                               f"{_name(mark)}: write {run.replace(mark, '').replace(other, mark)}")
            return Invalid(f"{run}: a {_name(other)} after the decimal mark {mark!r} (here the decimal mark is a "
                           f"{_name(mark)})")
        if seps or sep not in fmt.grouping:
            return Invalid(f"{run}: the digits after the decimal mark may be grouped only in threes, "
                           "with one accepted grouping character")
        if not (all(len(g) == 3 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 3):
            return Invalid(f"{run}: digits after the decimal mark are grouped in threes (0{mark}123 456 7)")
        plain_fraction = "".join(groups)
    return plain_whole + ("." + plain_fraction if fraction else "")


def _name(char: str) -> str:
    return {",": "comma", ".": "dot", "'": "apostrophe", "_": "underscore", " ": "space"}[char]


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


def significant_figures(raw: str, reading: Reading = DEFAULT_READING) -> tuple[int, int] | None:
    """(fewest, most) significant figures written in a decimal answer, or None if it is not one.

    Trailing zeros of a whole number are ambiguous (`1000` has 1 to 4); a zero written
    with decimals has as many as it has decimals (`0.00` has 2).
    """
    cleaned = _clean(raw, reading) if len(raw) <= MAX_LENGTH else None
    if cleaned is None or isinstance(cleaned, Invalid):
        return None
    return figures_of(cleaned[0])


def figures_of(plain: str) -> tuple[int, int] | None:
    """(fewest, most) significant figures of a cleaned number (`Number.plain`), or None."""
    match = _MANTISSA.match(plain)
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
