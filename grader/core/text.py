"""Text from untrusted places, made safe to show and to write out: valid Unicode, no
control characters, and in fault messages no paths of the grader's own folders."""

from __future__ import annotations

import re
import unicodedata

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
