"""Text from untrusted places made safe: for the instructor's terminal (`terminal_safe`, the one
sanitizer of cli.py's output), and to write out (`valid_unicode`, `printable`, `without_paths`).

A folder name, an answers.yaml key, an answer or a file name is the student's choice, and
a terminal obeys what it prints: ESC starts a sequence that clears the screen (`ESC[2J`),
sets the window title (OSC 0) or writes the clipboard (OSC 52, then a paste runs it); a C1
character (U+009B is a one-byte CSI) does the same on some terminals; CR and backspace
overwrite what the line said; bidi overrides (U+202A–202E, U+2066–2069) and zero-width
characters make text read other than it is (`s1⁦ correct`); a lone surrogate (a file name
that is not UTF-8) prints as the raw byte it stands for, or not at all.

`terminal_safe` replaces each such character with a visible stand-in and keeps everything
else: C0 controls and DEL as their Control Pictures (ESC -> `␛`, BEL -> `␇`, CR -> `␍`),
any other control, format, surrogate or line-separator character as its escape (`\\x9b`,
`\\u202e`, `\\udc9b`). A replaced character can be seen, and nothing of the text is lost.
"""

from __future__ import annotations

import re
import unicodedata

#: Unicode categories that draw nothing of their own and can steer a terminal or a reader:
#: Cc controls, Cf format (bidi, zero-width, soft hyphen, tags), Cs surrogates, Zl/Zp separators.
_STEERING = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_PRINTABLE_ASCII = re.compile(r"[ -~]*")
_PRINTABLE_ASCII_LINES = re.compile(r"[ -~\n\t]*")


def terminal_safe(text: object, newlines: bool = False, limit: int | None = None) -> str:
    """`text` (str() of anything) with every character that could steer a terminal shown
    visibly instead; `newlines` keeps line feeds and tabs (for text printed as lines: a
    line feed only starts a line), `limit` cuts the text to that many characters, with `…`."""
    text = text if isinstance(text, str) else str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if (_PRINTABLE_ASCII_LINES if newlines else _PRINTABLE_ASCII).fullmatch(text):  # the common case
        return text
    return "".join(_shown(ch, newlines) for ch in text)


def _shown(ch: str, newlines: bool) -> str:
    if newlines and ch in "\n\t":
        return ch
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟, e.g. ␛ for ESC
    if code == 0x7F:
        return "␡"
    if " " <= ch <= "~" or unicodedata.category(ch) not in _STEERING:
        return ch
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


REPLACEMENT = "\ufffd"


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes of a file name, a JSON escape such as
    "\\ud800") replaced by U+FFFD, so that it can always be written out as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(REPLACEMENT if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


def printable(text: str, keep: str = "") -> str:
    """`text` with control characters (but those in `keep`) and lone surrogates replaced by
    U+FFFD: for a name shown in a message or a result."""
    return "".join(REPLACEMENT if char not in keep and unicodedata.category(char) in ("Cc", "Cs") else char
                   for char in text)


def first_control(text: str, allowed: str = "\t\n\r") -> str | None:
    """The first control character or lone surrogate in `text` (other than `allowed`), as
    `U+0000`, or None when there is none."""
    for char in text:
        if char not in allowed and unicodedata.category(char) in ("Cc", "Cs"):
            return f"U+{ord(char):04X}"
    return None


_ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/-])/(?:[^\s/'\"():,;<>]+/)+([^\s/'\"():,;<>]*)")


def without_paths(text: str) -> str:
    """`text` with every absolute path shortened to its last part ('/tmp/grader-sub-x/a.yaml'
    becomes 'a.yaml'): a fault message must not show the grader's folders or its Python's."""
    return _ABSOLUTE_PATH.sub(lambda match: match.group(1) or "…", text)
