"""YAML loading that is safe for untrusted files and remembers where every key stood.

Only the standard YAML tags are accepted (no python/object tags). The document is
composed into a node graph (with the C parser when libyaml is present) and walked by
hand, so duplicate keys are caught, aliases cannot blow up memory (every visited node
counts against a budget), and each key path maps to its line for `file:line` errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ALLOWED_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
_EXPONENT_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")
"""`1e-9`, which YAML 1.1 (PyYAML) reads as a string but YAML 1.2 and every author read as a
number: a spec's `tolerance: {rel: 1e-9}` must not be refused as "not a number"."""
MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 4_000_000


class YamlError(ValueError):
    """The text is not acceptable YAML; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None, key_path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.key_path = key_path


@dataclass
class Document:
    """A loaded YAML document: plain Python data plus the line of every key path."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, key_path: str) -> int | None:
        """Line of `key_path`, or of the nearest enclosing key that has one."""
        path = key_path
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("", 1)


def join(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else str(key)


def loads(text: str | bytes, raw_scalars: bool = False) -> Document:
    """Parse one YAML document. Raises YamlError with a line number on any problem.

    With `raw_scalars`, every scalar stays the text that was written (`2.080` stays
    "2.080", `yes` stays "yes"), except empty and null values, which become None: a
    student's answer is parsed by its question's kind, not by YAML's type guessing.
    """
    if len(text) > MAX_BYTES:
        raise YamlError(f"file is too large ({len(text):,} bytes; the limit is {MAX_BYTES:,})")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlError(f"file is not valid UTF-8 (byte {exc.start})") from None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _marked(exc) from None
    except yaml.reader.ReaderError as exc:
        raise _unreadable(text, exc) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    if node is None:
        return Document(None, {"": 1})
    walker = _Walker(raw_scalars)
    data = walker.walk(node, "", 0)
    return Document(data, walker.lines)


def _unreadable(text: str, exc: yaml.reader.ReaderError) -> YamlError:
    """A character YAML refuses anywhere (NUL, an escape, another control character) at its
    line and column. The reader's own message names "<unicode string>" and an offset (in
    bytes with libyaml, in characters without), not a line; the character is found instead:
    the reader refuses the first one in the file, wherever it stands."""
    char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
    index = text.find(char)
    if index < 0:
        return YamlError(f"invalid YAML: {exc.reason}")
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return YamlError(f"invalid YAML: character U+{ord(char):04X} at column {column}: {exc.reason}; "
                     "remove it or write the text in quotes with an escape", line)


_OPENINGS = {
    "while parsing a flow sequence": "the [",
    "while parsing a flow mapping": "the {",
    "while scanning a quoted scalar": "the quote",
}
"""The parser's contexts that mean something was opened and not closed, in words. Other
contexts (a block mapping) are where the parser was, not the problem: the problem's line stands."""


def _marked(exc: yaml.MarkedYAMLError) -> YamlError:
    """The parser's error at the line where the problem is. A bracket or quote left open
    is noticed only lines later, where the text stops making sense: the error then names
    the line of the opening (the context mark) and says where it was noticed."""
    problem, context = exc.problem_mark, exc.context_mark
    what = exc.problem or exc.context or "not valid YAML"
    if context is not None and problem is not None and context.line != problem.line \
            and exc.context in _OPENINGS:
        opened = _OPENINGS[exc.context]
        return YamlError(f"invalid YAML: {opened} at column {context.column + 1} of this line is not closed "
                         f"(the parser noticed on line {problem.line + 1}: {what})", context.line + 1)
    mark = problem or context
    return YamlError(f"invalid YAML: {what}", mark.line + 1 if mark else None)


class _Walker:
    def __init__(self, raw_scalars: bool) -> None:
        self.raw_scalars = raw_scalars
        self.lines: dict[str, int] = {}
        self.visited = 0
        self.scalars = yaml.SafeLoader("")

    def walk(self, node: yaml.Node, path: str, depth: int) -> Any:
        self.visited += 1
        line = node.start_mark.line + 1
        if self.visited > MAX_NODES:
            raise YamlError(f"document is too large or uses too many aliases (over {MAX_NODES:,} values)", line)
        if depth > MAX_DEPTH:
            raise YamlError(f"document is nested too deeply (over {MAX_DEPTH} levels)", line, path)
        if node.tag not in ALLOWED_TAGS:
            raise YamlError(f"tag {node.tag!r} is not allowed", line, path)
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, join(path, i), depth + 1) for i, item in enumerate(node.value)]
        if self.raw_scalars:
            return None if node.tag == "tag:yaml.org,2002:null" else str(node.value)
        if node.tag == "tag:yaml.org,2002:str" and not getattr(node, "style", None) and _EXPONENT_FLOAT.fullmatch(node.value):
            return float(node.value)
        value = self.scalars.construct_object(node, deep=True)
        return value.isoformat() if hasattr(value, "isoformat") else value

    def _mapping(self, node: yaml.MappingNode, path: str, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("merge keys (<<) are not supported", key_node.start_mark.line + 1, path)
            key = self.walk(key_node, path, depth + 1)
            if isinstance(key, (dict, list)):
                raise YamlError("a key must be a plain value", key_node.start_mark.line + 1, path)
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1, join(path, key))
            child = join(path, key)
            self.lines[child] = key_node.start_mark.line + 1
            result[key] = self.walk(value_node, child, depth + 1)
        return result
