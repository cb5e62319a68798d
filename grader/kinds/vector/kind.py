"""`vector`: lists, matrices and shapes, compared element-wise; the shape must match.

Accepted forms: a YAML list (`[4.33, 2]`, nested for matrices), bracketed text
(`[4.33, 2]`, `(28, 28, 1)`, `[[1, 2], [3, 4]]`), rows split by `;` (`1 2; 3 4`) and
shapes written with x or × (`28x28x1`).

Commas and plain spaces separate entries, so they never group digits inside a vector
(`[1,234]` is two entries, and a wrong shape says so); thin and no-break spaces do group
(`[1 234 567, 2]`, as the course's number_format allows). With a decimal comma
(`number_format: {decimal: ","}`) entries are separated by `;` or spaces: `[4,33; 2]`,
`[[1,5; 2]; [3; 4]]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from grader.core import registry
from grader.kinds.numeric.kind import TOLERANCE_SCHEMA, load_tolerance, show_number
from grader.core.model import Invalid, Question, Verdict
from grader.core.results import JSON
from grader.kinds import reading
from grader.parsing.numbers import DEFAULT_FORMAT, NumberFormat, Reading, join_spaced_exponents, parse_number
from grader.kinds.tolerance import Tolerance, within

MAX_TEXT = 20_000
MAX_ELEMENTS = 10_000
MAX_DEPTH = 4


@dataclass(frozen=True)
class VectorOptions:
    tolerance: Tolerance
    partial: bool = False
    """Credit the share of entries that are right, when the shape matches."""
    names: tuple[str, ...] = ()
    """Names of the entries, in order: then `w = 4.33, b = 2` (in any order) is understood."""
    number_format: NumberFormat = DEFAULT_FORMAT


@dataclass(frozen=True)
class Vector:
    """A parsed vector: a nested tuple of floats plus its shape."""

    values: tuple[float, ...]
    shape: tuple[int, ...]
    grouped_digits: bool = False
    """The text had `1,234` or `1 234` (three digits after a comma or space): a wrong shape
    then says that commas and spaces separate entries and never group digits in a list."""


class _Fail(Exception):
    def __init__(self, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.message, self.pos = message, pos


def _shape_of(nested: Any, depth: int = 0) -> tuple[int, ...]:
    if depth > MAX_DEPTH:
        raise _Fail(f"nested more than {MAX_DEPTH} levels deep")
    if not isinstance(nested, list):
        return ()
    if not nested:
        raise _Fail("empty list")
    shapes = {_shape_of(item, depth + 1) for item in nested}
    if len(shapes) != 1:
        raise _Fail("rows have different lengths or mix numbers and lists")
    return (len(nested),) + shapes.pop()


def _flatten(nested: Any) -> list[Any]:
    if isinstance(nested, list):
        return [leaf for item in nested for leaf in _flatten(item)]
    return [nested]


#: What separates entries: plain whitespace and the separator of the decimal mark. Thin and
#: no-break spaces stay inside an entry, where they group digits.
_WHITE = " \t\r\n\f\v"


def _split_text(text: str, separator: str = ",") -> Any:
    """Turn the text forms into nested lists of number strings."""
    text = text.strip()
    if re.fullmatch(r"\d+(\s*[x×X*]\s*\d+)+", text):
        return re.split(r"\s*[x×X*]\s*", text)
    if separator == "," and ";" in text and not re.search(r"[\[\]()]", text):
        return [_split_row(row) for row in text.split(";") if row.strip()]
    return _bracketed(text, separator)


def _split_row(row: str) -> list[str]:
    parts = [p for p in re.split(r"[,\t\r\n ]+", row.strip()) if p]
    if not parts:
        raise _Fail("empty row")
    return parts


def _bracketed(text: str, separator: str = ",") -> Any:
    """A small parser for [a, b], (a, b) and nesting; leaves stay as text for parse_number."""
    stack: list[list[Any]] = [[]]
    token_start: int | None = None
    openers = {"[": "]", "(": ")"}
    closers: list[str] = []

    def flush(end: int) -> None:
        nonlocal token_start
        if token_start is not None:
            stack[-1].append(text[token_start:end].strip())
            token_start = None

    for pos, char in enumerate(text):
        if char in openers:
            if token_start is not None:
                raise _Fail(f"unexpected {char!r}", pos)
            if len(stack) > MAX_DEPTH + 1:
                raise _Fail(f"nested more than {MAX_DEPTH} levels deep", pos)
            stack.append([])
            closers.append(openers[char])
        elif char in "])":
            flush(pos)
            if not closers or closers.pop() != char:
                raise _Fail(f"unbalanced {char!r}", pos)
            inner = stack.pop()
            stack[-1].append(inner)
        elif char == separator or char in _WHITE:
            flush(pos)
        elif token_start is None:
            token_start = pos
    flush(len(text))
    if closers:
        raise _Fail("a bracket is not closed", len(text))
    top = stack[0]
    if len(top) == 1 and isinstance(top[0], list):
        return top[0]
    return top


def parse_vector(raw: Any, number_format: NumberFormat = DEFAULT_FORMAT, names: tuple[str, ...] = ()) -> Vector | Invalid:
    """`names`: the declared entry names, used in messages when they name every entry."""
    text = raw if isinstance(raw, str) else None
    entry = Reading(number_format, one_number=False)
    separator = ";" if number_format.decimal == "," else ","
    grouped_digits = False
    try:
        if isinstance(raw, str):
            if len(raw) > MAX_TEXT:
                return Invalid(f"answer is too long ({len(raw):,} characters)")
            grouped_digits = re.search(r"\d[, ]\d{3}(?!\d)" if separator == "," else r"\d \d{3}(?!\d)",
                                       raw) is not None
            nested = _split_text(join_spaced_exponents(raw), separator)
        elif isinstance(raw, (list, tuple)):
            nested = _as_lists(raw, 0)
        else:
            number = parse_number(raw, entry)
            if isinstance(number, Invalid):
                return Invalid(f"expected a list such as [1, 2] or a shape such as 28x28x1: {number.message}")
            nested = [raw]
        shape = _shape_of(nested)
        leaves = _flatten(nested)
        if len(leaves) > MAX_ELEMENTS:
            return Invalid(f"too many entries ({len(leaves):,}; the limit is {MAX_ELEMENTS:,})")
        values = []
        for index, leaf in enumerate(leaves):
            number = parse_number(leaf, entry)
            if isinstance(number, Invalid):
                label = names[index] if len(names) == len(leaves) and len(shape) == 1 else f"entry {index + 1}"
                return Invalid(f"{label} ({str(leaf)[:40]!r}): {number.message}{_list_hint(leaf, separator)}")
            values.append(number.value)
    except _Fail as fail:
        return Invalid(f"expected a list such as [1, 2] or a shape such as 28x28x1: {fail.message}", fail.pos, text)
    return Vector(tuple(values), shape, grouped_digits)


def _list_hint(leaf: Any, separator: str) -> str:
    if separator == ";" and isinstance(leaf, str) and re.search(r"\d,(\s|$)|,\s*\d", leaf):
        return "; with a decimal comma, separate the entries with ; (such as [4,33; 2])"
    return ""


def _as_lists(raw: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _Fail(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(raw, (list, tuple)):
        return [_as_lists(item, depth + 1) for item in raw]
    if isinstance(raw, (dict, set)):
        raise _Fail("a list may hold only numbers")
    return raw


def _nest(values: tuple[float, ...], shape: tuple[int, ...]) -> Any:
    if len(shape) <= 1:
        return list(values)
    step = len(values) // shape[0]
    return [_nest(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _index(flat: int, shape: tuple[int, ...]) -> str:
    position = []
    for size in reversed(shape):
        position.append(flat % size)
        flat //= size
    return "[" + ", ".join(str(p) for p in reversed(position)) + "]"


def named_values(raw: Any, names: tuple[str, ...], separator: str = ",") -> list[Any] | Invalid:
    """`w = 4.33, b = 2` (or a YAML mapping {w: 4.33, b: 2}) as values in the order of `names`."""
    if isinstance(raw, dict):
        pairs = [(str(k).strip(), v) for k, v in raw.items()]
    else:
        pieces = [p for p in re.split(r"[,;]|\band\b" if separator == "," else r";|\band\b", raw) if p.strip()]
        pairs = []
        for piece in pieces:
            name, equals, value = piece.partition("=")
            if not equals:
                return Invalid(f"write each entry as name = value, such as {names[0]} = 1")
            pairs.append((name.strip(), value.strip()))
    found = dict(pairs)
    unknown = [name for name, _ in pairs if name not in names]
    if unknown or len(found) != len(pairs):
        problem = f"unknown name {unknown[0]!r}" if unknown else "a name is given twice"
        return Invalid(f"{problem}: give {', '.join(names)}")
    missing = [name for name in names if name not in found]
    if missing:
        return Invalid(f"no value for {', '.join(missing)}")
    return [found[name] for name in names]


class VectorKind:
    name = "vector"
    option_keys = {
        "tolerance": TOLERANCE_SCHEMA,
        "partial": {"type": "boolean", "description": "credit the share of right entries"},
        "names": {"type": "array", "items": {"type": "string"},
                  "description": "entry names in order, so `w = 4.33, b = 2` is understood"},
        "number_format": reading.NUMBER_FORMAT_SCHEMA,
    }
    public_keys = ("tolerance", "partial", "names", "number_format")
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = True

    def load_options(self, raw: Mapping[str, Any]) -> VectorOptions:
        partial = raw.get("partial", False)
        if not isinstance(partial, bool):
            raise registry.OptionError("partial must be true or false", "partial")
        names = raw.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n.isidentifier() for n in names) \
                or len(set(names)) != len(names):
            raise registry.OptionError("names must be a list of distinct names such as [w, b]", "names")
        return VectorOptions(load_tolerance(raw), partial, tuple(names), reading.load_format(raw))

    def answer_format(self, question: Question) -> str:
        options: VectorOptions = question.options
        names = options.names
        if options.number_format.decimal == ",":
            if names:
                return f"a list [{'; '.join(names)}] such as [1,5; 2], or {names[0]} = 1,5; ..."
            return "a list such as [1,5; 2] (or [[1,5; 2]; [3; 4]] for a matrix): a decimal comma, entries split by ;"
        if names:
            return f"a list [{', '.join(names)}] such as [1, 2], or {names[0]} = 1, ..."
        return "a list such as [1, 2] (or [[1, 2], [3, 4]] for a matrix)"

    def parse(self, raw: Any, question: Question) -> Vector | Invalid:
        options: VectorOptions = question.options
        names, fmt = options.names, options.number_format
        if isinstance(raw, dict) or (isinstance(raw, str) and "=" in raw and len(raw) <= MAX_TEXT):
            if not names:
                return Invalid("write the values as a list such as [1, 2]")
            values = named_values(raw, names, ";" if fmt.decimal == "," else ",")
            return values if isinstance(values, Invalid) else parse_vector(values, fmt, names)
        return parse_vector(raw, fmt, names)

    def parse_reference(self, raw: Any, question: Question) -> Vector:
        if hasattr(raw, "tolist"):
            raw = raw.tolist()
        parsed = parse_vector(list(raw) if isinstance(raw, tuple) else raw, question.options.number_format)
        if isinstance(parsed, Invalid):
            raise ValueError(f"reference is not a vector: {parsed.message}")
        return parsed

    def check(self, question: Question, value: Vector, expected: Vector) -> Verdict:
        options: VectorOptions = question.options
        named = _entry_names(options.names, expected.shape)
        if value.shape != expected.shape:
            note = ""
            if value.grouped_digits:
                note = (" Commas and spaces separate the entries of a list; they never group digits in one "
                        "(write 1234, not 1,234 or 1 234).")
            elif options.number_format.decimal == ",":
                note = " Here the decimal mark is a comma: separate the entries with ; and quote the list (\"[4,33; 2]\")."
            if named and len(value.shape) == 1:
                return Verdict("incorrect", 0.0, f"Expected {len(named)} entries ({', '.join(named)}), "
                                                 f"got {value.shape[0]}.{note}")
            return Verdict("incorrect", 0.0, f"Expected shape {_shape_text(expected.shape)}, "
                                             f"got {_shape_text(value.shape)}.{note}")
        tol = options.tolerance
        wrong = [i for i, (a, b) in enumerate(zip(value.values, expected.values)) if not within(a, b, tol)]
        if not wrong:
            return Verdict("correct", 1.0, "Correct.")
        flipped = all(within(-a, b, tol) for a, b in zip(value.values, expected.values))
        if flipped and any(b != 0 for b in expected.values):
            feedback = "Every entry has the right size but the wrong sign."
        elif named:
            listed = _listed([named[i] for i in wrong])
            verb = "is" if len(wrong) == 1 else "are"
            feedback = f"{listed} {verb} not within the tolerance ({tol.describe()})."
            if len(expected.values) > 1:
                feedback = f"{len(wrong)} of {len(expected.values)} entries are wrong: {feedback}"
        else:
            first = wrong[0]
            where = _index(first, value.shape) if len(value.shape) > 1 else f"{first + 1}"
            feedback = (f"{len(wrong)} of {len(expected.values)} entries are not within the tolerance "
                        f"({tol.describe()}); the first is entry {where}.")
        share = 1 - len(wrong) / len(expected.values)
        if options.partial and share > 0:
            return Verdict("partial", share, feedback)
        flagged: list[JSON] = list(wrong[:20])
        return Verdict("incorrect", 0.0, feedback, details={"wrong_entries": flagged})

    def public_facts(self, question: Question, expected: Vector) -> dict[str, Any]:
        """The shape is part of the question, not the answer: students may see it."""
        return {"shape": list(expected.shape)}

    def show(self, value: Vector, question: Question) -> str:
        tol = question.options.tolerance
        shown = tuple(float(show_number(v, tol)) if v != int(v) else v for v in value.values)
        return _format(_nest(shown, value.shape), question.options.number_format)


def _format(nested: Any, fmt: NumberFormat = DEFAULT_FORMAT) -> str:
    if isinstance(nested, list):
        return "[" + ("; " if fmt.decimal == "," else ", ").join(_format(item, fmt) for item in nested) + "]"
    return str(int(nested)) if float(nested).is_integer() and abs(nested) < 1e15 else fmt.show(repr(nested))


def _entry_names(names: tuple[str, ...], shape: tuple[int, ...]) -> tuple[str, ...]:
    """The declared entry names, where they name every entry of a flat vector."""
    return names if len(shape) == 1 and len(names) == shape[0] else ()


def _listed(names: list[str], most: int = 8) -> str:
    """`w`, `w and b`, `w, b and H`; past `most` names, `… and 3 more`."""
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape) if shape else "a single number"


registry.register(VectorKind())
