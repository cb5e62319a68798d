"""Instructor text as Markdown and student code as highlighted Python, for the HTML reports.

Both produce markup, so both are built so that nothing they are given can add markup of
its own: Markdown is parsed with raw HTML off (a `<script>` in a prompt is shown as text),
links keep only http, https and mailto targets and in-page anchors (`javascript:` and
`data:` never reach an `href`), images are not parsed at all (a report makes no request),
and `$…$` math goes through the same whitelisted MathML as the answers
(grader.render.math). Pygments escapes every character of the code it colours.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from grader.render import math as mathml

#: Link targets a prompt may have; anything else is shown as the link's text alone.
SAFE_LINK = re.compile(r"(?:https?://|mailto:|#)", re.IGNORECASE)

#: Longest source highlighted; a longer one (the run record keeps at most 20,000
#: characters) is shown plain, escaped.
MAX_HIGHLIGHTED = 40_000


def _validate_link(url: str) -> bool:
    return bool(SAFE_LINK.match(url.strip()))


def _math_inline(state: StateInline, silent: bool) -> bool:
    """`$…$` (and `$$…$$`) as a math token: not empty, no space just inside the dollars and
    no digit just after the closing one, so "costs $5 and $6" stays text; `\\$` is a dollar."""
    src, start = state.src, state.pos
    if src[start] != "$":
        return False
    fence = "$$" if src.startswith("$$", start) else "$"
    begin = start + len(fence)
    end = begin
    while True:
        end = src.find(fence, end)
        if end < 0:
            return False
        if src[end - 1] != "\\":
            break
        end += 1
    content = src[begin:end]
    after = src[end + len(fence):end + len(fence) + 1]
    if not content.strip() or content != content.strip() or after.isdigit():
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = content
        token.markup = fence
    state.pos = end + len(fence)
    return True


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False, "typographer": False})
    md.disable(["image", "html_inline", "html_block"])
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.inline.ruler.before("escape", "math_inline", _math_inline)

    def render_math(self: object, tokens: list, idx: int, options: object, env: object) -> str:
        return str(mathml.math_or_code(tokens[idx].content))

    md.add_render_rule("math_inline", render_math)
    return md


@lru_cache(maxsize=1024)
def markdown(text: str) -> Markup:
    """`text` (a prompt) as HTML: paragraphs, emphasis, inline code, lists, safe links, math."""
    return Markup(_markdown().render(text))


_FORMATTER = HtmlFormatter(nowrap=True)
_LEXER = PythonLexer()


@lru_cache(maxsize=256)
def python(source: str) -> Markup:
    """The student's module as highlighted lines: `<span class="line">` each, with the
    token classes of pygments' short names (`k` keyword, `s` string …); CSS numbers them."""
    if len(source) > MAX_HIGHLIGHTED:
        body = str(escape(source))
    else:
        body = highlight(source, _LEXER, _FORMATTER)
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return Markup("".join(f'<span class="line">{line}</span>\n' for line in lines))


def highlight_css() -> str:
    """The token colours for `python`, scoped to `.code` (pygments' rules for plain `pre`
    and line-number tables are left out: they would restyle every `pre` of the page)."""
    rules = _FORMATTER.get_style_defs(".code").splitlines()
    return "\n".join(rule for rule in rules if rule.startswith(".code "))
