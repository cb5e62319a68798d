"""LaTeX and vectors as MathML, converted on the server so reports need no network.

latex2mathml copies `\\text{...}` content into its output unescaped, so its output is
never trusted: it is parsed and re-serialised through a whitelist of MathML elements
and attributes. Anything outside the whitelist, or anything that does not parse,
falls back to the escaped LaTeX source shown as code.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from functools import lru_cache

from markupsafe import Markup, escape

MATHML_NS = "http://www.w3.org/1998/Math/MathML"

#: Presentation MathML elements a formula may contain; `semantics`/`annotation-xml`
#: and `maction` are left out on purpose (they can carry foreign markup or behaviour).
ALLOWED_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "mfrac", "msqrt", "mroot",
    "msub", "msup", "msubsup", "munder", "mover", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "merror", "mfenced", "mmultiscripts",
    "mprescripts", "none",
})

#: Attributes kept on those elements; values are re-escaped when serialised.
ALLOWED_ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "separator", "separators", "open",
    "close", "lspace", "rspace", "columnalign", "rowalign", "rowspacing", "columnspacing",
    "columnlines", "rowlines", "frame", "minsize", "maxsize", "accent", "accentunder",
    "movablelimits", "linethickness", "symmetric", "largeop", "form", "width", "height",
    "depth", "notation", "displaystyle", "scriptlevel", "align",
})

#: Longest LaTeX source converted; longer text is shown as escaped code instead.
MAX_LATEX_CHARS = 2_000


def latex_to_mathml(latex: str, display: str = "inline") -> Markup | None:
    """Safe MathML for `latex`, or None when it cannot be converted or is not allowed."""
    if not isinstance(latex, str) or not latex.strip() or len(latex) > MAX_LATEX_CHARS:
        return None
    mathml = _convert_cached(latex, display)
    return Markup(mathml) if mathml is not None else None


def math_or_code(latex: str, display: str = "inline") -> Markup:
    """MathML where conversion works, else the escaped source in a `<code>` element."""
    return latex_to_mathml(latex, display) or Markup("<code>%s</code>") % latex


@lru_cache(maxsize=4096)
def _convert_cached(latex: str, display: str) -> str | None:
    # Reports for a class repeat the same expected formulas many times.
    from latex2mathml.converter import convert

    try:
        raw = convert(latex, display=display)
    except Exception:  # latex2mathml raises many unrelated types on malformed input
        return None
    return sanitize_mathml(raw)


def sanitize_mathml(raw: str) -> str | None:
    """Re-serialise `raw` keeping only whitelisted MathML; None if anything else is in it."""
    if "<!" in raw or "<?" in raw:  # no doctypes, entities or processing instructions
        return None
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return None
    if _local(root.tag) != "math":
        return None
    parts: list[str] = []
    return "".join(parts) if _serialize(root, parts) else None


def _local(tag: str) -> str:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return name if namespace == MATHML_NS else ""
    return tag


def _serialize(element: ET.Element, out: list[str]) -> bool:
    name = _local(element.tag)
    if name not in ALLOWED_ELEMENTS:
        return False
    attributes = []
    for key, value in element.attrib.items():
        if key not in ALLOWED_ATTRIBUTES:
            return False
        attributes.append(f' {key}="{escape(value)}"')
    if name == "math":
        attributes.insert(0, f' xmlns="{MATHML_NS}"')
    out.append(f"<{name}{''.join(attributes)}>")
    out.append(str(escape(element.text or "")))
    for child in element:
        if not _serialize(child, out):
            return False
        out.append(str(escape(child.tail or "")))
    out.append(f"</{name}>")
    return True


def parse_vector(text: str | None) -> list | None:
    """A flat or nested list of numbers written as JSON (`[4.33, 2]`), else None.

    Only json.loads is used: student text is never evaluated.
    """
    if not isinstance(text, str) or not text.lstrip().startswith("[") or len(text) > 20_000:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list) or not value or not _numeric_table(value):
        return None
    return value


def _numeric_table(value: list) -> bool:
    if all(_is_number(x) for x in value):
        return True
    rows = [row for row in value if isinstance(row, list)]
    return (
        len(rows) == len(value)
        and len({len(row) for row in rows}) == 1
        and all(_is_number(x) for row in rows for x in row)
    )


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _number(x: float) -> str:
    if isinstance(x, float) and not math.isfinite(x):
        return "∞" if x > 0 else ("−∞" if x < 0 else "NaN")
    return f"{x:.6g}".replace("-", "−")  # a real minus sign reads better than a hyphen


def _entry(x: float, wrong: bool) -> str:
    mark = ' class="wrong"' if wrong else ""
    return f"<mn{mark}>{escape(_number(x))}</mn>"


def vector_mathml(value: list, wrong: frozenset[int] = frozenset()) -> Markup:
    """A vector as a bracketed row like the student wrote it, a nested list as a matrix.

    Entries whose flat (row-major) index is in `wrong` get class "wrong" (underlined)."""
    if not isinstance(value[0], list):
        items = '<mo separator="true">,</mo>'.join(
            _entry(x, i in wrong) for i, x in enumerate(value))
        return Markup(f'<math xmlns="{MATHML_NS}" display="inline"><mrow><mo>[</mo>{items}'
                      "<mo>]</mo></mrow></math>")
    width = len(value[0])
    cells = "".join(
        "<mtr>" + "".join(f"<mtd>{_entry(x, r * width + c in wrong)}</mtd>"
                          for c, x in enumerate(row)) + "</mtr>"
        for r, row in enumerate(value)
    )
    return Markup(
        f'<math xmlns="{MATHML_NS}" display="inline"><mrow><mo fence="true" stretchy="true">[</mo>'
        f'<mtable>{cells}</mtable><mo fence="true" stretchy="true">]</mo></mrow></math>'
    )
