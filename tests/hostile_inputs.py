"""Hostile submissions, one table per class, built here from bytes (no file in the repo):
malformed zips, malformed notebooks, answers.yaml values, numpy values of odd kinds, forged
`.npy` headers, and NaN/infinity returns for ex03's code questions.

Each row says what the student must be told. The tables are read by the unit tests of the
module they attack (test_submission, test_notebook, test_protocol, test_kind_code) and all
of them together by test_hostile_batch, which grades them in one batch beside a correct
student.
"""

from __future__ import annotations

import io
import json
import re
import struct
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EX03 = ROOT / "exercises" / "inf5860" / "ex03-basic-nets.yaml"
ANSWERS = b"ex03:\n  sigmoid_grad_max: 0.25\n"
"""One right answer for ex03, in every variant: enough to see that a submission was read."""
RIGHT = ("ex03.sigmoid_grad_max", "correct")


def grader_paths() -> re.Pattern[str]:
    """What a message must never show: the temporary folders, the repository, the venv."""
    places = {tempfile.gettempdir(), str(ROOT), sys.prefix, "/tmp/"}
    return re.compile("|".join(re.escape(p) for p in places) + r"|site-packages|grader-sub-|grader-nb-")


# ----------------------------------------------------------------------------- zips, from raw bytes


def zip_entry(name: bytes, data: bytes, *, method: int = 0, flags: int = 0, extra: bytes = b"",
              crc: int | None = None, csize: int | None = None, usize: int | None = None,
              mode: int = 0o100644, local_name: bytes | None = None) -> dict[str, Any]:
    """One entry of `raw_zip`: every field of its headers may lie."""
    return dict(name=name, data=data, method=method, flags=flags, extra=extra,
                crc=zlib.crc32(data) if crc is None else crc, csize=len(data) if csize is None else csize,
                usize=len(data) if usize is None else usize, external=mode << 16,
                local_name=name if local_name is None else local_name)


def raw_zip(entries: list[dict[str, Any]], offset_shift: int = 0) -> bytes:
    """A zip written field by field (local headers, central directory, end record), so that
    a test can build what zipfile would never write."""
    out, central = bytearray(), bytearray()
    for e in entries:
        offset = len(out)
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, e["flags"], e["method"], 0, 0x21,
                           e["crc"], e["csize"], e["usize"], len(e["local_name"]), len(e["extra"]))
        out += e["local_name"] + e["extra"] + e["data"]
        central += struct.pack("<4s6H3I5HII", b"PK\x01\x02", 0x031E, 20, e["flags"], e["method"], 0, 0x21,
                               e["crc"], e["csize"], e["usize"], len(e["name"]), len(e["extra"]), 0, 0, 0,
                               e["external"], offset + offset_shift)
        central += e["name"] + e["extra"]
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def zip64(entries: list[dict[str, Any]], *, disks: int = 1, cd_offset: int | None = None) -> bytes:
    """`raw_zip` with a zip64 end record (whose disk count and directory offset may lie)."""
    plain = raw_zip(entries)
    body = plain[:plain.rfind(b"PK\x05\x06")]
    start = body.find(b"PK\x01\x02")
    offset = start if cd_offset is None else cd_offset
    record = struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, len(entries), len(entries),
                         len(body) - start, offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(body), disks)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + record + locator + end


def written_zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _deflated(data: bytes) -> bytes:
    return zlib.compress(data)[2:-4]


def _stored_answers(**changes: Any) -> bytes:
    return raw_zip([zip_entry(b"answers.yaml", ANSWERS, **changes)])


def _truncated_data() -> bytes:
    """The central directory says the data is a megabyte long; the file ends first."""
    return raw_zip([zip_entry(b"answers.yaml", ANSWERS, csize=10**6, usize=10**6)])


def _flipped_byte() -> bytes:
    data = bytearray(_stored_answers())
    data[data.index(b"0.25")] = ord("1")  # the CRC-32 in both headers is of the original
    return bytes(data)


def _extra_field(kind: int, claimed: int, present: bytes) -> bytes:
    return struct.pack("<HH", kind, claimed) + present


A = ANSWERS
#: (student id, zip bytes, what the submission's error must say). Every row is a malformed zip.
MALFORMED_ZIPS: list[tuple[str, bytes, str]] = [
    ("z-bad-crc", _flipped_byte(), "CRC-32 checksum does not match"),
    ("z-encrypted", _stored_answers(flags=0x1), "is encrypted"),
    ("z-method-99", _stored_answers(method=99), "compression method 99 (AES encryption)"),
    ("z-method-deflate64", _stored_answers(method=9), "compression method 9 (deflate64)"),
    ("z-method-implode", _stored_answers(method=6), "compression method 6"),
    ("z-method-unknown", _stored_answers(method=4242), "compression method 4242"),
    ("z-file-then-folder", written_zip([("answers.yaml", A), ("answers.yaml/x", b"x")]),
     "'answers.yaml' is both a file and a folder"),
    ("z-folder-then-file", written_zip([("answers.yaml/x", b"x"), ("answers.yaml", A)]),
     "'answers.yaml' is both a file and a folder"),
    ("z-dir-entry-over-file", raw_zip([zip_entry(b"ex03.py", b"x = 1\n"), zip_entry(b"ex03.py/", b"", mode=0o40755)]),
     "'ex03.py' is both a file and a folder"),
    ("z-dot-entry", raw_zip([zip_entry(b".", b"x"), zip_entry(b"answers.yaml", A)]), "has no file name"),
    ("z-empty-name", raw_zip([zip_entry(b"", b"x"), zip_entry(b"answers.yaml", A)]), "has no file name"),
    ("z-duplicate", raw_zip([zip_entry(b"answers.yaml", A), zip_entry(b"answers.yaml", b"ex03: {g: 1}\n")]),
     "holds 'answers.yaml' twice"),
    ("z-duplicate-dot-slash", raw_zip([zip_entry(b"./answers.yaml", A), zip_entry(b"answers.yaml", A)]),
     "holds 'answers.yaml' twice"),
    ("z-nul-in-name", raw_zip([zip_entry(b"answers.yaml\x00.py", A)]), "control character in its name"),
    ("z-newline-in-name", raw_zip([zip_entry(b"ans\nwers.yaml", A), zip_entry(b"answers.yaml", A)]),
     "control character in its name"),
    ("z-escape-in-name", raw_zip([zip_entry(b"\x1b[31mex03.py", b"x = 1\n"), zip_entry(b"answers.yaml", A)]),
     "control character in its name"),
    ("z-bidi-in-name", raw_zip([zip_entry("answers\u202eyaml.py".encode(), A, flags=0x800)]),
     "control character in its name"),
    ("z-name-not-utf8", raw_zip([zip_entry(b"answers\xff.yaml", A, flags=0x800)]), "marked UTF-8 but is not"),
    ("z-name-300-bytes", raw_zip([zip_entry(b"a" * 300, b"x"), zip_entry(b"answers.yaml", A)]),
     "longer than 255 bytes"),
    ("z-3000-folders-deep", raw_zip([zip_entry(b"d/" * 3000 + b"f", b"x")]), "nested too deeply"),
    ("z-extra-field-lies", _stored_answers(extra=_extra_field(0x9999, 60000, b"\0" * 8)), "Corrupt extra field"),
    ("z-zip64-extra-short", _stored_answers(usize=0xFFFFFFFF, extra=_extra_field(1, 2, b"\0\0")),
     "Corrupt zip64 extra field"),
    ("z-zip64-size-absurd", _stored_answers(usize=0xFFFFFFFF, extra=struct.pack("<HHQ", 1, 8, 2**62)), "too large"),
    ("z-zip64-many-disks", zip64([zip_entry(b"answers.yaml", A)], disks=3), "span multiple disks"),
    ("z-zip64-offset-beyond", zip64([zip_entry(b"answers.yaml", A)], cd_offset=2**62), "damaged zip"),
    ("z-truncated-half", _stored_answers()[:40], "not a readable zip file"),
    ("z-truncated-end", _stored_answers()[:-6], "not a readable zip file"),
    ("z-truncated-data", _truncated_data(), "ends too early"),
    ("z-empty-file", b"", "not a readable zip file"),
    ("z-header-name-differs", raw_zip([zip_entry(b"answers.yaml", A, local_name=b"answers.yamm")]), "differ"),
    ("z-header-offset-lies", raw_zip([zip_entry(b"answers.yaml", A)], offset_shift=5), "Bad magic number"),
    ("z-corrupt-deflate", raw_zip([zip_entry(b"answers.yaml", b"\xff" * 40, method=8, crc=zlib.crc32(A),
                                             usize=len(A))]), "compressed data is corrupt"),
    ("z-corrupt-bzip2", raw_zip([zip_entry(b"answers.yaml", b"BZh9garbage", method=12, crc=0, usize=len(A))]),
     "compressed data is corrupt"),
    ("z-corrupt-lzma", raw_zip([zip_entry(b"answers.yaml", b"\x09\x14\x05\x00garbage", method=14, crc=0,
                                          usize=len(A))]), "compressed data is corrupt"),
    ("z-size-lies-small", raw_zip([zip_entry(b"answers.yaml", _deflated(A * 100), method=8, usize=len(A),
                                             crc=zlib.crc32(A * 100))]), "CRC-32"),
    ("z-fifo", raw_zip([zip_entry(b"answers.yaml", A, mode=0o010644)]), "not a regular file"),
    ("z-absolute", raw_zip([zip_entry(b"/etc/answers.yaml", A)]), "absolute path"),
    ("z-dotdot-backslash", raw_zip([zip_entry(b"s\\..\\..\\answers.yaml", A)]), "outside the submission"),
]

#: Zips that look odd but are fine: (student id, zip bytes). Each is graded as usual.
ODD_BUT_FINE_ZIPS: list[tuple[str, bytes]] = [
    ("z-backslash-separators", raw_zip([zip_entry(b"zb\\answers.yaml", A)])),
    ("z-dot-slash-folder", raw_zip([zip_entry(b"./", b"", mode=0o40755), zip_entry(b"answers.yaml", A)])),
    ("z-folder-entries", written_zip([("zf/", b""), ("zf/answers.yaml", A)])),
    ("z-deflated", written_zip([("answers.yaml", A)], zipfile.ZIP_DEFLATED)),
    ("z-bzip2", written_zip([("answers.yaml", A)], zipfile.ZIP_BZIP2)),
    ("z-lzma", written_zip([("answers.yaml", A)], zipfile.ZIP_LZMA)),
]


# ----------------------------------------------------------------------------- notebooks


def notebook(cells: Any, **top: Any) -> str:
    book: dict[str, Any] = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    book.update(top)
    return json.dumps(book)


def cell(source: Any, kind: Any = "markdown", tags: Any = None, **more: Any) -> dict[str, Any]:
    made: dict[str, Any] = {"cell_type": kind, "metadata": {} if tags is None else {"tags": tags}, "source": source}
    made.update(more)
    return made


ANSWER_CELL = cell("# answer: ex03.sigmoid_grad_max\n0.25")
NBGRADER_ANSWER = {"grade_id": "ex03-sigmoid_grad_max", "solution": True, "grade": True, "locked": False,
                   "points": 1, "schema_version": 3}


def nbgrader_cell(source: Any, meta: Any, kind: str = "markdown") -> dict[str, Any]:
    """A cell with `metadata.nbgrader` as nbgrader writes it (or as a hostile one does)."""
    return cell(source, kind, metadata={"nbgrader": meta}, **({"outputs": [], "execution_count": None}
                                                              if kind == "code" else {}))


#: (student id, notebook text or bytes, what the submission's error must say).
MALFORMED_NOTEBOOKS: list[tuple[str, str | bytes, str]] = [
    ("nb-invalid-json", '{"cells": [', "not valid JSON (line 1, column 12"),
    ("nb-empty-file", "", "not valid JSON"),
    ("nb-not-utf8", b"\xff\xfe{}", "not UTF-8 text"),
    ("nb-json-list", "[1, 2, 3]", "its JSON is a list, not an object"),
    ("nb-nbformat-5", notebook([ANSWER_CELL], nbformat=5), "it has nbformat 5"),
    ("nb-nbformat-text", notebook([ANSWER_CELL], nbformat="4"), "it has nbformat '4'"),
    ("nb-nbformat-missing", json.dumps({"cells": [ANSWER_CELL]}), "it has no nbformat version"),
    ("nb-cells-an-object", notebook({"a": ANSWER_CELL}), "its cells are an object, not a list"),
    ("nb-cell-a-number", notebook([5, ANSWER_CELL]), "cell 1 is not a notebook cell (it is a number)"),
    ("nb-cell-null", notebook([ANSWER_CELL, None]), "cell 2 is not a notebook cell (it is null)"),
    ("nb-cell-type-unknown", notebook([cell("# answer: ex03.g\n0.9", kind="widget")]), "cell type 'widget'"),
    ("nb-cell-type-number", notebook([cell("x", kind=3)]), "cell type a number"),
    ("nb-source-number", notebook([cell(12345)]), "its source is a number"),
    ("nb-source-object", notebook([cell({"text": "0.9"})]), "its source is an object"),
    ("nb-source-null", notebook([cell(None)]), "its source is null"),
    ("nb-source-mixed-lines", notebook([cell(["# answer: ex03.g\n", 0.9])]), "lines that are not text"),
    ("nb-metadata-list", notebook([dict(ANSWER_CELL, metadata=["tags"])]), "its metadata is a list"),
    ("nb-tags-text", notebook([cell("0.9", tags="ex03.g")]), "its tags are not a list of text"),
    ("nb-tags-numbers", notebook([cell("0.9", tags=[3, 4])]), "its tags are not a list of text"),
    ("nb-huge-cell", notebook([cell("# answer: ex03.a\n" + "word " * 400_000)]), "is too large (2,000,000 characters"),
    ("nb-too-many-cells", notebook([cell("x")] * 20_000), "too many cells (20,000"),
    ("nb-nested-deeply", '{"nbformat": 4, "metadata": ' + "[" * 100_000 + "]" * 100_000 + ', "cells": []}',
     "nested too deeply"),
    ("nb-number-too-long", '{"nbformat": 4, "nbformat_minor": ' + "9" * 5000 + ', "cells": []}',
     "a number too long to read"),
    ("nb-nul-in-answer", notebook([cell("# answer: ex03.g\n0.9\u0000")]), "U+0000"),
    ("nb-lone-surrogate", '{"nbformat": 4, "cells": [{"cell_type": "raw", "metadata": {}, '
                          '"source": "# answer: ex03.a\\n\\ud800 kills gradients"}]}', "U+D800"),
    ("nb-answered-twice", notebook([ANSWER_CELL, ANSWER_CELL]), "answered twice (twice in answers.ipynb)"),
    # nbgrader metadata (metadata.nbgrader) of the wrong shape, duplicated or huge
    ("nb-nbgrader-a-list", notebook([nbgrader_cell("0.25", ["solution"])]), "its nbgrader metadata is a list"),
    ("nb-nbgrader-id-number", notebook([nbgrader_cell("0.25", {"grade_id": 7, "solution": True})]),
     "its nbgrader grade_id is a number, not text"),
    ("nb-nbgrader-solution-text", notebook([nbgrader_cell("0.25", {"grade_id": "ex03-g", "solution": "yes"})]),
     "its nbgrader `solution` is text, not true/false"),
    ("nb-nbgrader-points-text", notebook([nbgrader_cell("0.25", {"grade_id": "ex03-g", "points": "many"})]),
     "its nbgrader `points` is text, not a number"),
    ("nb-nbgrader-id-huge", notebook([nbgrader_cell("0.25", {"grade_id": "x" * 1_000_000, "solution": True})]),
     "its nbgrader grade_id is too long (1,000,000 characters"),
    ("nb-nbgrader-no-id", notebook([nbgrader_cell("0.25", {"solution": True})]), "answer or test cell without a grade_id"),
    ("nb-nbgrader-id-twice", notebook([nbgrader_cell("0.25", NBGRADER_ANSWER), nbgrader_cell("0.5", NBGRADER_ANSWER)]),
     "cells 1 and 2 both carry the nbgrader grade_id 'ex03-sigmoid_grad_max'"),
]

#: Notebooks that are unusual but readable: (student id, notebook text). Each is graded as usual.
ODD_BUT_FINE_NOTEBOOKS: list[tuple[str, str]] = [
    ("nb-version-3", json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [
        {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# answer: ex03.sigmoid_grad_max\n0.25"}]}]})),
    ("nb-nan-in-metadata", notebook([ANSWER_CELL], metadata={"x": float("nan")})),
    ("nb-source-as-lines", notebook([cell(["# answer: ex03.sigmoid_grad_max\n", "0.25"])])),
    ("nb-byte-order-mark", "\ufeff" + notebook([ANSWER_CELL])),
    # nbgrader notebooks: the answer cell read by grade_id; prompts and tests (not solution) never read
    ("nb-nbgrader-markdown", notebook([
        nbgrader_cell("What is the largest value of σ'(x)?", {"grade_id": "cell-1f2e", "locked": True}),
        nbgrader_cell("0.25", NBGRADER_ANSWER),
        nbgrader_cell("0.9", {"grade_id": "cell-9c0d", "solution": True}),  # an id nbgrader made up: no question
        nbgrader_cell("assert False", {"grade_id": "ex03.sigmoid_grad_max_test", "grade": True, "locked": True,
                                       "points": 1}, kind="code")])),
    ("nb-nbgrader-code", notebook([nbgrader_cell("# YOUR CODE HERE\nanswer = 0.25  # σ(0)(1 - σ(0))",
                                                 dict(NBGRADER_ANSWER, grade_id="ex03.sigmoid_grad_max"),
                                                 kind="code")])),
]


# ----------------------------------------------------------------------------- answers.yaml

#: (student id, answers.yaml bytes, question id or "" for the whole submission, status, message).
HOSTILE_ANSWERS: list[tuple[str, bytes, str, str, str]] = [
    ("a-control-character", b"ex03:\n  g: 0.9\x1b[2J\n", "", "error", "control characters are not allowed"),
    ("a-not-utf8", b"ex03:\n  g: \xff\xfe\n", "", "error", "not valid UTF-8"),
    ("a-python-tag", b"ex03:\n  g: !!python/object/apply:os.system [id]\n", "", "error", "is not allowed"),
    ("a-nested-deeply", b"ex03:\n  g: " + b"[" * 5000 + b"]" * 5000 + b"\n", "", "error", "nesting depth"),
    ("a-a-list", b"- ex03\n- g\n", "", "error", "expected a mapping of exercise id"),
    ("a-exercise-not-a-mapping", b"ex03: 0.9\n", "", "error", "ex03: expected question id -> answer pairs"),
    ("a-complex-key", b"ex03:\n  ? [g, a]\n  : 0.9\n", "", "error", "a key must be a plain value"),
    ("a-number-is-a-mapping", b"ex03:\n  g: {value: 0.9}\n", "ex03.g", "invalid", "expected one number"),
    ("a-number-is-nested", b"ex03:\n  g: [[0.9, [1]]]\n", "ex03.g", "invalid", "expected one number"),
    ("a-number-is-nan", b"ex03:\n  g: nan\n", "ex03.g", "invalid", "expected a finite number"),
    ("a-number-is-inf", b"ex03:\n  g: -inf\n", "ex03.g", "invalid", "expected a finite number"),
    ("a-number-out-of-range", b"ex03:\n  g: 1e999999\n", "ex03.g", "invalid", "out of range"),
    ("a-formula-is-a-list", b"ex03:\n  sigmoid_grad: [x, y]\n", "ex03.sigmoid_grad", "invalid",
     "expected a formula as text"),
    ("a-formula-nested", b"ex03:\n  sigmoid_grad: '" + b"(" * 100 + b"x" + b")" * 100 + b"'\n",
     "ex03.sigmoid_grad", "invalid", "nested too deeply"),
    ("a-text-is-a-mapping", b"ex03:\n  a: {it: saturates}\n", "ex03.a", "invalid", "expected text"),
    ("a-text-huge", b"ex03:\n  a: '" + b"saturates " * 90_000 + b"'\n", "ex03.a", "invalid", "at most 5000 are read"),
]


# ----------------------------------------------------------------------------- code: numpy kinds, NaN


def module(body: str) -> str:
    """An ex03.py whose three numpy questions return what `body` computes from `args`."""
    return ("import numpy as np\n\n"
            f"def _answer(*args):\n{body}\n\n"
            "def hidden_layer(X, W1, b1):\n    return _answer(X, W1, b1)\n\n"
            "def maxnorm(W, c):\n    return _answer(W, c)\n\n"
            "def momentum_step(x, v, dx, lr, mu):\n    return _answer(x, v, dx, lr, mu)\n")


RIGHT_CODE = {
    "hidden_layer": "np.maximum(0.0, X @ W1 + b1)",
    "maxnorm": "W * np.minimum(1.0, c / np.where(np.linalg.norm(W, axis=0) == 0, 1, np.linalg.norm(W, axis=0)))",
}
"""The right answers of e and f, as expressions of their arguments."""


def filled(value: str, where: str = "") -> str:
    """An ex03.py whose e, f and h return arrays of the right shapes holding `value`; with
    `where` ("right"), the right values instead, with `value` put in by a statement such as
    `out.flat[0] = np.nan`."""
    def body(shape: str, right: str) -> str:
        start = f"out = np.array({right}, dtype=float)" if where else f"out = np.full({shape}, {value})"
        return f"    {start}\n" + (f"    {value}\n" if where else "")

    return ("import numpy as np\n\n"
            "def hidden_layer(X, W1, b1):\n" + body("(X.shape[0], W1.shape[1])", RIGHT_CODE["hidden_layer"])
            + "    return out\n\n"
            "def maxnorm(W, c):\n" + body("W.shape", RIGHT_CODE["maxnorm"]) + "    return out\n\n"
            "def momentum_step(x, v, dx, lr, mu):\n" + body("x.shape", "mu * v - lr * dx")
            + "    return x + out, out\n")


@dataclass(frozen=True)
class CodeRow:
    """A student's ex03.py and what grading it must say, question by question."""

    student: str
    source: str
    expect: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    """question id -> (status, a piece of its feedback, how many checks pass)."""


_ALL = ("ex03.e", "ex03.f", "ex03.h")


def _everywhere(status: str, needle: str, passed: int = 0) -> dict[str, tuple[str, str, int]]:
    return {qid: (status, needle, passed) for qid in _ALL}


#: Numpy values that are no numbers, returned by every code question: a wrong answer that
#: says what came back, never a grader fault.
NUMPY_KINDS: list[CodeRow] = [
    CodeRow("np-str", module("    return np.str_('0.5')"), _everywhere("incorrect", "returned a numpy string (numpy.str_)")),
    CodeRow("np-bytes", module("    return np.bytes_(b'0.5')"), _everywhere("incorrect", "returned numpy bytes")),
    CodeRow("np-void", module("    return np.void(b'abc')"), _everywhere("incorrect", "numpy structured (void) value")),
    CodeRow("np-datetime", module("    return np.datetime64('2024-01-01')"),
            _everywhere("incorrect", "returned a numpy datetime")),
    CodeRow("np-timedelta", module("    return np.timedelta64(3, 's')"),
            _everywhere("incorrect", "returned a numpy timedelta")),
    CodeRow("np-object-array", module("    return np.array([object(), 1.0], dtype=object)"),
            _everywhere("incorrect", "a numpy array of Python objects")),
    CodeRow("np-structured", module("    return np.zeros(3, dtype=[('a', 'f8'), ('b', 'i4')])"),
            _everywhere("incorrect", "a numpy array of structured records")),
    CodeRow("np-string-array", module("    return np.asarray(args[0], dtype=str)"),
            _everywhere("incorrect", "a numpy array of strings")),
    CodeRow("np-0d-string", module("    return np.array('0.5')"), _everywhere("incorrect", "a numpy array of strings")),
    CodeRow("np-0d-datetime", module("    return np.array(np.datetime64('2024'))"),
            _everywhere("incorrect", "a numpy array of datetimes")),
    CodeRow("np-0d-bytes", module("    return np.array(b'0.5')"), _everywhere("incorrect", "a numpy array of bytes")),
    # numpy folds a sub-array dtype into the shape: an honest float array of the wrong shape
    CodeRow("np-subarray-dtype", module("    return -np.ones(2, dtype=('f8', (3,)))"), _everywhere("incorrect", "expected")),
    CodeRow("py-huge-int", module("    return 10 ** 400"), _everywhere("incorrect", "expected")),
    CodeRow("np-in-a-tuple", module("    return (np.str_('x'), np.datetime64('2024'))"),
            {"ex03.h": ("incorrect", "returned a numpy string (numpy.str_) in value 1 of the tuple", 0)}),
]

_COUNTED = """import numpy as np

_calls = 0


def hidden_layer(X, W1, b1):
    global _calls
    _calls += 1  # cases 1-4, then the property's call with X and b1 scaled by 2
    out = np.maximum(0.0, X @ W1 + b1)
    return out if _calls <= 4 else np.full_like(out, np.nan)
"""

#: NaN and infinity returns for ex03's code questions: no comparison, property or check
#: passes on them (hidden_layer's "nonnegative" and "positively homogeneous" and maxnorm's
#: "scale equivariant" used to).
NONFINITE: list[CodeRow] = [
    CodeRow("nan-everywhere", filled("np.nan"), _everywhere("incorrect", "contains NaN")),
    CodeRow("inf-everywhere", filled("np.inf"), _everywhere("incorrect", "values differ")),
    CodeRow("minus-inf-everywhere", filled("-np.inf"), _everywhere("incorrect", "values differ")),
    CodeRow("nan-and-inf-mixed", filled("out.flat[0::3], out.flat[1::3] = np.nan, np.inf", where="right"),
            _everywhere("incorrect", "contains NaN")),
    CodeRow("one-nan-in-right-output", filled("out.flat[0] = np.nan", where="right"),
            _everywhere("incorrect", "contains NaN")),
    CodeRow("one-inf-in-right-output", filled("out.flat[-1] = np.inf", where="right"),
            _everywhere("incorrect", "values differ")),
    CodeRow("nan-scalar", module("    return float('nan')"), _everywhere("incorrect", "expected")),
    CodeRow("nan-on-changed-inputs", _COUNTED,
            {"ex03.e": ("partial", "after changing X scale 2, b1 scale 2, the output contains NaN", 5)}),
]

#: ex03.py that forges the `.npy` header of its result (2**40 values) before it is sent.
FORGED_HEADER = """import numpy as np
import numpy.lib.format as fmt


def _forged(fp, array, *args, **kwargs):
    header = repr({"descr": "<f8", "fortran_order": False, "shape": (2 ** 40,)}).encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\\n"
    fp.write(b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header + array.tobytes())


def hidden_layer(X, W1, b1):
    fmt.write_array = _forged
    return np.maximum(0.0, X @ W1 + b1)
"""


def correct_module() -> str:
    """The reference's three numpy functions under the students' names (no model: it trains)."""
    return (ROOT / "solutions" / "inf5860" / "ex03.py").read_text().replace("def make_reference_model", "def _model")


# ----------------------------------------------------------------------------- .npy headers


def npy(shape: Any, descr: Any = "<f8", data: bytes = b"\0" * 80, fortran: bool = False,
        version: bytes = b"\x01\x00", header: bytes | None = None) -> bytes:
    """`.npy` bytes with a header that says whatever the test wants."""
    text = header if header is not None else repr({"descr": descr, "fortran_order": fortran,
                                                    "shape": shape}).encode()
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    size = len(text).to_bytes(2 if version[0] == 1 else 4, "little")
    return b"\x93NUMPY" + version + size + text + data


def blob_with_part(part: bytes, tag: str = "ndarray") -> bytes:
    """A wire blob whose value is one array part."""
    header = json.dumps({"value": {"$": tag, "part": 0}, "parts": [len(part)]}).encode()
    return struct.pack(">Q", len(header)) + header + part


#: (label, .npy bytes, what the ProtocolError says): the decoder refuses each before allocating.
FORGED_NPY: list[tuple[str, bytes, str]] = [
    ("claims 2**40 values", npy((2 ** 40,)), "claims shape (1099511627776,)"),
    ("claims 2**31 cubed", npy((2 ** 31, 2 ** 31, 2 ** 31)), "but holds 80 bytes"),
    ("claims fewer values", npy((5,)), "claims shape (5,) (5 values, 40 bytes) but holds 80 bytes"),
    ("claims more values", npy((11,)), "but holds 80 bytes"),
    ("empty but bytes follow", npy((0, 2 ** 62)), "(0 values, 0 bytes) but holds 80 bytes"),
    ("negative dimension", npy((-10,)), "malformed shape"),
    ("object dtype", npy((10,), "|O"), "Python objects"),
    ("string dtype", npy((10,), "<U2"), "strings"),
    ("bytes dtype", npy((10,), "|S8"), "bytes"),
    ("structured dtype", npy((10,), [("a", "<f8")]), "structured records"),
    ("datetime dtype", npy((10,), "<M8[s]"), "datetimes"),
    ("void dtype", npy((10,), "|V8"), "structured records"),
    ("sub-array dtype", npy((10,), ("<f8", (1,))), "structured records"),
    ("not a header", npy((10,), header=b"__import__('os').system('id')"), "malformed array header"),
    ("header too long", npy((10,), header=b"{'descr': '<f8', 'fortran_order': False, 'shape': (10,), 'x': '"
                         + b"x" * 20_000 + b"'}"), "malformed array header"),
    ("bad magic", b"\x93NUMPX\x01\x00" + npy((10,))[8:], "malformed array header"),
    ("version 9", npy((10,), version=b"\x09\x00"), "malformed array header"),
    ("truncated header", npy((10,))[:20], "malformed array header"),
]
