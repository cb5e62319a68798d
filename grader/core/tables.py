"""Small CSV files an instructor hands the grader (`--times`, `--extensions`, a Canvas
roster): read once, every row with its line number, so each message can say `file:line`.

Headers are matched loosely (case, spaces, `-` and `_` do not matter: `Submitted at`,
`submitted_at`, `SUBMITTED-AT` are one name), a UTF-8 byte-order mark (Excel's) is
dropped, and a file written with `;` or tabs between cells (a spreadsheet in a locale
that uses the decimal comma) is read as such.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from grader.core.errors import GraderError

#: Larger files are refused: a times or extensions file holds a line per student.
MAX_TABLE_BYTES = 20_000_000


@dataclass(frozen=True)
class Row:
    """One row of a table: its line in the file and its cells by (normalised) header."""

    line: int
    cells: Mapping[str, str]

    def get(self, column: str | None) -> str:
        return (self.cells.get(column) or "").strip() if column else ""


@dataclass(frozen=True)
class Table:
    path: Path
    header: tuple[str, ...]
    """The normalised header names, in the file's order."""
    rows: tuple[Row, ...]
    raw_header: tuple[str, ...] = ()
    """The header cells as written."""

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"

    def column(self, *names: str) -> str | None:
        """The first of `names` (normalised) the header has, None when it has none."""
        return next((name for name in map(normalised, names) if name in self.header), None)


def normalised(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


def read_table(path: Path, what: str) -> Table:
    """The rows of the CSV file at `path` (`what` names it in messages, e.g. `--times`).
    GraderError (exit 2) when it cannot be read or has no header."""
    try:
        if path.stat().st_size > MAX_TABLE_BYTES:
            raise GraderError(f"{what} {path}: the file is larger than {MAX_TABLE_BYTES // 1_000_000} MB")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GraderError(f"{what} {path}: not UTF-8 text (save the CSV as UTF-8)") from None
    except OSError as exc:
        raise GraderError(f"{what} {path}: cannot be read ({exc.strerror})") from None
    first = text.split("\n", 1)[0]
    delimiter = next((d for d in ",;\t" if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    header: tuple[str, ...] = ()
    raw: tuple[str, ...] = ()
    rows: list[Row] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1  # a quoted cell may span lines
            if not any(cell.strip() for cell in cells):
                continue
            if not header:
                raw, header = tuple(cells), tuple(normalised(cell) for cell in cells)
            else:
                rows.append(Row(line, {name: cell for name, cell in zip(header, cells) if name}))
    except csv.Error as exc:
        raise GraderError(f"{what} {path}:{reader.line_num}: not a CSV file ({exc})") from None
    if not header:
        raise GraderError(f"{what} {path}: the file is empty; it needs a header line")
    return Table(path, header, tuple(rows), raw)


def require(table: Table, what: str, columns: Sequence[Sequence[str]]) -> list[str]:
    """The column used for each entry of `columns` (a list of accepted names, the first
    one the documented name); GraderError naming the missing ones and the header found."""
    found, missing = [], []
    for names in columns:
        column = table.column(*names)
        if column is None:
            missing.append(" or ".join(repr(n) for n in names[:2]))
        found.append(column or "")
    if missing:
        shown = ", ".join(repr(h) for h in table.header) or "nothing"
        raise GraderError(f"{what} {table.path}:1: the header has no {' and no '.join(missing)} column "
                          f"(it has {shown})")
    return found
