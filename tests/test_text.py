"""grader.core.text.terminal_safe: no character that steers a terminal gets through, each
one is shown visibly, and ordinary text (ÆØÅ, math, emoji) is left as it is."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from grader.core.text import terminal_safe

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # writes `rm -rf ~` to the clipboard
OSC0 = "\x1b]0;owned\x1b\\"  # sets the window title (ST-terminated)
CLEAR = "\x1b[2J\x1b[H"
#: Characters that must never reach a terminal raw.
STEERING = ("\x1b", "\x07", "\x9b", "\x9d", "\r", "\x08", "\x00", "\x7f", "\x85", "\u202a", "\u202b", "\u202c",
            "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\u200c", "\u200d", "\u200e",
            "\u200f", "\u2060", "\ufeff", "\u061c", "\u00ad", "\u2028", "\u2029", "\U000e0041", "\udc9b")


@pytest.mark.parametrize("text, shown", [
    ("s123456", "s123456"),
    ("ola.nordmann@uio.no", "ola.nordmann@uio.no"),
    ("Åse Ødegård 🙂 θ ≈ 4.33 × 10⁻³", "Åse Ødegård 🙂 θ ≈ 4.33 × 10⁻³"),
    (OSC52, "␛]52;c;cm0gLXJmIH4K␇"),
    (OSC0, "␛]0;owned␛\\"),
    ("a" + CLEAR + "b", "a␛[2J␛[Hb"),
    ("\x9b2J", "\\x9b2J"),  # the one-byte CSI of C1
    ("ok\rFAKE", "ok␍FAKE"),
    ("s1\u202e1001s", "s1\\u202e1001s"),
    ("s1\u2066 hidden \u2069", "s1\\u2066 hidden \\u2069"),
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("tag\U000e0041", "tag\\U000e0041"),
    ("not utf-8 \udc9b", "not utf-8 \\udc9b"),
    ("two\nlines", "two␊lines"),
    ("tab\there", "tab␉here"),
    ("del\x7f", "del␡"),
])
def test_steering_characters_are_shown_not_obeyed(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_lines_keep_their_line_feeds_only() -> None:
    assert terminal_safe("a\nb\tc\r\n" + CLEAR, newlines=True) == "a\nb\tc␍\n␛[2J␛[H"


@pytest.mark.parametrize("newlines", [False, True])
def test_no_control_or_format_character_of_all_unicode_gets_through(newlines: bool) -> None:
    every = "".join(chr(code) for code in range(sys.maxunicode + 1))
    shown = terminal_safe(every, newlines=newlines)
    left = {ch for ch in shown if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")}
    assert left <= ({"\n", "\t"} if newlines else set())
    assert not any(ch in shown for ch in STEERING)
    shown.encode("utf-8")  # printable on any UTF-8 terminal (no lone surrogates)


def test_anything_is_shown_and_long_text_is_cut() -> None:
    assert terminal_safe(42) == "42"
    assert terminal_safe("x" * 50, limit=10) == "x" * 10 + "…"
    assert terminal_safe("\x1b" * 50, limit=3) == "␛␛␛…"
