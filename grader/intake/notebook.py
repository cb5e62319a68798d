"""Answers and code from a Jupyter notebook in a submission, read as data, never run.

A cell supplies an answer when it is tagged with a question id (cell metadata
`tags: [ex01.e]`), when it is an nbgrader answer cell (`metadata.nbgrader` with
`solution: true`) whose `grade_id` is the question id, written `ex01.e` or `ex01-e`
(nbgrader's own ids allow no dot; the ids its toolbar makes up, `cell-8f3a…`, name no
question), or when its first line is the marker

    # answer: ex01.e

(anything after the id on that line is advice, and is ignored) and the rest of the cell is
the answer, as it would be written in answers.yaml. A tag wins over a grade_id, and both
over a marker; the marker line is dropped. Other nbgrader cells (prompts, tests: no
`solution: true`) are the instructor's, and never read.

A code cell answers with one assignment to `answer` or to the question's name (`ex01_e =
2.083`, as the released template writes it): the answer is the assigned text as written
(`13/3` stays 13/3; a quoted string is its text; `...` is no answer yet). It is parsed with
`ast` (or, when it is not Python, such as `ex01_a = 2x + 1`, split at its `=`), never run.
An nbgrader answer code cell that holds code instead (functions) is code for
`<exercise>.py`, joined with the other cells of that exercise.

A code cell tagged `ex03.py`, or whose first line is `# file: ex03.py`, belongs to that code
module; all such cells are joined, in notebook order, into `ex03.py`. Markdown, raw and
code cells all work for answers.

answers.yaml takes precedence over the notebook; when both give the same answer
differently, the submission carries a warning. A .py file takes precedence too, unless it
is only a stub (`is_stub`: what `grader release` ships, untouched), which the notebook's
code then replaces; a file and cells with different code are a `Conflict` (the file counts).
Template cells that still hold only the stub (or nbgrader's `raise NotImplementedError()`
and "YOUR ANSWER HERE") are no answer.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from grader.core.text import first_control, printable

ANSWER_MARKER = "# answer:"
FILE_MARKER = "# file:"
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_NOTEBOOKS = 5
MAX_CELLS = 10_000
#: The largest answer or code cell (answers.yaml, all answers together, holds 1 MB).
MAX_CELL_CHARS = 1_000_000
QUESTION_ID = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+")
MODULE_NAME = re.compile(r"[A-Za-z0-9_]+\.py")
#: An nbgrader grade_id naming a question as nbgrader allows ids (letters, digits, _ and -).
NBGRADER_QUESTION_ID = re.compile(r"([A-Za-z0-9_]+)-([A-Za-z0-9_]+)")
MAX_GRADE_ID_CHARS = 200
#: How nbgrader's toolbar starts the ids it makes up (`cell-8f3a…`): they name no question.
NBGRADER_AUTO_ID = "cell-"
NBGRADER_FLAGS = ("solution", "grade", "locked", "task")
#: What nbgrader leaves in a markdown answer cell for the student to replace.
NBGRADER_PLACEHOLDER = "YOUR ANSWER HERE"
#: A code answer that is not Python (`ex01_a = 2x + 1`): its name and the text after `=`.
ASSIGNMENT = re.compile(r"\s*([A-Za-z_]\w*)\s*=(?!=)(.*)")
TEMPLATE_INTRO = (
    "# Answers\n\n"
    "Write each answer in the code cell below its question, in place of the `...`: "
    "`ex01_e = 13/3`, `ex01_f = [4.33, 2]`, and formulas or text in quotes, "
    "`ex02_a = \"x = -1/2\"` (three quotes, `\"\"\"`, for several lines). "
    "Keep the `# answer:` line at the top of each cell: it tells the grader which question the cell answers. "
    "Code goes in the cells marked `# file: <exercise>.py`.\n\n"
    "The grader reads this notebook as text and never runs it, so write each answer out as a value: "
    "`ex01_e = np.mean(x)` only runs here, and is graded as the text `np.mean(x)`.\n\n"
    "Check your answers at any time with the last cell, `grader.check()` "
    "(or one question: `grader.check(\"ex01.e\")`). It reads the notebook **as saved**: save first."
)


class NotebookError(ValueError):
    """A notebook that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Extracted:
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    """exercise id -> question id -> answer text."""
    modules: dict[str, str] = field(default_factory=dict)
    """`ex03.py` -> the source joined from its cells."""
    sources: dict[str, str] = field(default_factory=dict)
    """`ex01.e` or `ex03.py` -> the notebook it came from (for messages)."""


def notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())


def unread_notebooks(folder: Path) -> tuple[str, ...]:
    """A warning for each `*.ipynb` that is never read: a link (which could point at anyone's
    file), a folder, a FIFO. Skipped in silence, its answers were all "No answer was given"
    with no word of why."""
    warnings = []
    for path in sorted(folder.glob("*.ipynb")):
        if path.is_symlink():
            warnings.append(f"{_shown(path)} is a symbolic link and was not read; hand in the notebook itself")
        elif not path.is_file():
            warnings.append(f"{_shown(path)} is not a file and was not read")
    return tuple(warnings)


@dataclass(frozen=True)
class Cell:
    """One notebook cell as grader reads it: checked for shape, never run."""

    number: int
    """1, 2, … in notebook order (for messages)."""
    kind: str
    """"code", "markdown" or "raw"."""
    text: str
    tags: tuple[str, ...] = ()
    nbgrader: Nbgrader | None = None
    """The cell's nbgrader metadata, when it has some."""


@dataclass(frozen=True)
class Nbgrader:
    """A cell's `metadata.nbgrader`, as nbgrader writes it (schema 3), checked for type."""

    grade_id: str | None
    solution: bool = False
    """An answer cell: the student writes here. Only these are read."""
    grade: bool = False
    """A graded cell: an nbgrader test (code) or a manually graded answer (with solution)."""
    locked: bool = False


def _shown(path: Path) -> str:
    return printable(path.name)


def _kind_of(value: Any) -> str:
    """A JSON value's type in words, for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def read_notebook(path: Path) -> list[Cell]:
    """The cells of a notebook, read as JSON data and checked for shape (nbformat 4, or 3):
    NotebookError says, in the student's terms, what is wrong (never a JSON or Python error)."""
    name = _shown(path)
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"{name} is too large ({size:,} bytes; the limit is {MAX_NOTEBOOK_BYTES:,})")
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{name} is not a readable notebook: it is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:  # its message would hold the path
        raise NotebookError(f"{name} cannot be read ({exc.strerror})") from None
    try:
        book = json.loads(raw.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not a readable notebook: it is not valid JSON "
                            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a readable notebook: its JSON is nested too deeply") from None
    except ValueError:  # a number with thousands of digits
        raise NotebookError(f"{name} is not a readable notebook: it holds a number too long to read") from None
    if not isinstance(book, dict):
        raise NotebookError(f"{name} is not a readable notebook: its JSON is {_kind_of(book)}, not an object")
    version = book.get("nbformat")
    if version == 4 and type(version) is int:
        cells = book.get("cells", [])
        if not isinstance(cells, list):
            raise NotebookError(f"{name} is not a readable notebook: its cells are {_kind_of(cells)}, not a list")
    elif version == 3 and type(version) is int:
        cells = _v3_cells(book, name)
    elif version is None:
        raise NotebookError(f"{name} is not a readable notebook: it has no nbformat version")
    else:
        raise NotebookError(f"{name} is not a readable notebook: it has nbformat {repr(version)[:20]}; grader "
                            "reads Jupyter notebooks of version 4 (save it again with Jupyter)")
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{name} is not a readable notebook: it has too many cells "
                            f"({len(cells):,}; the limit is {MAX_CELLS:,})")
    read = [_cell(raw_cell, number, name) for number, raw_cell in enumerate(cells, 1)]
    _no_duplicate_grade_ids(read, name)
    return read


def _no_duplicate_grade_ids(cells: list[Cell], name: str) -> None:
    """nbgrader refuses two cells with one grade_id, and so does grader: which would count?"""
    seen: dict[str, int] = {}
    for cell in cells:
        grade_id = cell.nbgrader.grade_id if cell.nbgrader else None
        if grade_id is None:
            continue
        if grade_id in seen:
            raise NotebookError(f"{name}: cells {seen[grade_id]} and {cell.number} both carry the nbgrader grade_id "
                                f"{printable(grade_id)!r} (a copied cell keeps it): delete the copy, or answer in "
                                "one of them")
        seen[grade_id] = cell.number


def _v3_cells(book: dict[str, Any], name: str) -> list[Any]:
    """An nbformat 3 notebook's cells (its worksheets in order), as version 4 names them."""
    worksheets = book.get("worksheets", [])
    if not isinstance(worksheets, list) or not all(isinstance(w, dict) for w in worksheets):
        raise NotebookError(f"{name} is not a readable notebook: its worksheets are not a list of objects")
    cells: list[Any] = []
    for sheet in worksheets:
        found = sheet.get("cells", [])
        if not isinstance(found, list):
            raise NotebookError(f"{name} is not a readable notebook: the cells of a worksheet are "
                                f"{_kind_of(found)}, not a list")
        for cell in found:
            if isinstance(cell, dict):
                kind = cell.get("cell_type")
                cell = {**cell, "cell_type": "markdown" if kind == "heading" else kind}
                if kind == "code" and "input" in cell:
                    cell["source"] = cell.pop("input")
            cells.append(cell)
    return cells


def _cell(raw: Any, number: int, name: str) -> Cell:
    where = f"{name} is not a readable notebook: cell {number}"
    if not isinstance(raw, dict):
        raise NotebookError(f"{where} is not a notebook cell (it is {_kind_of(raw)})")
    kind = raw.get("cell_type")
    if kind not in ("code", "markdown", "raw"):
        shown = repr(kind)[:40] if isinstance(kind, str) else _kind_of(kind)
        raise NotebookError(f"{where} has cell type {shown}; a cell is code, markdown or raw")
    source = raw.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    if isinstance(source, list):
        raise NotebookError(f"{where}: its source is a list with lines that are not text")
    if not isinstance(source, str):
        raise NotebookError(f"{where}: its source is {_kind_of(source)}, not text (or a list of lines)")
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        raise NotebookError(f"{where}: its metadata is {_kind_of(metadata)}, not an object")
    tags = metadata.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise NotebookError(f"{where}: its tags are not a list of text")
    return Cell(number, kind, source, tuple(tags), _nbgrader(metadata, where))


def _nbgrader(metadata: dict[str, Any], where: str) -> Nbgrader | None:
    """The cell's nbgrader metadata, refused in the student's terms when it has the wrong shape."""
    if "nbgrader" not in metadata:
        return None
    raw = metadata["nbgrader"]
    if not isinstance(raw, dict):
        raise NotebookError(f"{where}: its nbgrader metadata is {_kind_of(raw)}, not an object")
    flags = {}
    for flag in NBGRADER_FLAGS:
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise NotebookError(f"{where}: its nbgrader `{flag}` is {_kind_of(value)}, not true/false")
        flags[flag] = value
    points = raw.get("points", 0)
    if isinstance(points, bool) or not isinstance(points, (int, float)):
        raise NotebookError(f"{where}: its nbgrader `points` is {_kind_of(points)}, not a number")
    grade_id = raw.get("grade_id")
    if grade_id is None:
        if flags["solution"] or flags["grade"]:
            raise NotebookError(f"{where} is an nbgrader answer or test cell without a grade_id")
    elif not isinstance(grade_id, str):
        raise NotebookError(f"{where}: its nbgrader grade_id is {_kind_of(grade_id)}, not text")
    elif len(grade_id) > MAX_GRADE_ID_CHARS:
        raise NotebookError(f"{where}: its nbgrader grade_id is too long ({len(grade_id):,} characters; "
                            f"the limit is {MAX_GRADE_ID_CHARS})")
    return Nbgrader(grade_id, flags["solution"], flags["grade"], flags["locked"])


def _id_of(name: str, nbgrader: bool = False) -> str | None:
    """The question id (`ex01.e`) or module name (`ex03.py`) a tag or grade_id names, if any;
    a grade_id may also write a question `ex01-e` (a tag may not: `hide-input` is a common tag)."""
    if QUESTION_ID.fullmatch(name) or MODULE_NAME.fullmatch(name):
        return name
    found = NBGRADER_QUESTION_ID.fullmatch(name) if nbgrader and not name.startswith(NBGRADER_AUTO_ID) else None
    return f"{found.group(1)}.{found.group(2)}" if found else None


def _target(cell: Cell) -> tuple[str | None, str]:
    """(question id or module name, the cell's text without its marker line)."""
    body = cell.text
    first, _, rest = body.lstrip("\n").partition("\n")
    marker = None
    for prefix in (ANSWER_MARKER, FILE_MARKER):
        if first.strip().lower().startswith(prefix):
            words = first.strip()[len(prefix):].split(maxsplit=1)
            marker = words[0].rstrip(":,;") if words else ""
            body = rest
    if cell.nbgrader is not None and not cell.nbgrader.solution:
        return None, body  # an nbgrader prompt or test: the instructor's, never an answer
    for tag in cell.tags:
        if _id_of(tag):
            return tag, body
    if cell.nbgrader is not None and cell.nbgrader.grade_id is not None:
        named = _id_of(cell.nbgrader.grade_id, nbgrader=True)
        if named:
            return named, body
    if marker and _id_of(marker):
        return marker, body
    return None, body


def answer_text(cell: Cell, body: str, question: str) -> str | None:
    """What a cell answers `question` with, as answers.yaml would hold it; "" for no answer
    yet; None for an nbgrader answer code cell that holds code (for `<exercise>.py`)."""
    if cell.kind != "code":
        text = body.strip()
        return "" if cell.nbgrader is not None and text == NBGRADER_PLACEHOLDER else text
    assigned = assigned_value(body, {"answer", question.replace(".", "_")})
    if assigned is not None:
        return assigned
    if cell.nbgrader is None:
        return body.strip()
    if is_stub(body):  # nbgrader's `raise NotImplementedError()`, untouched
        return ""
    return None if _is_code(body) else body.strip()


def assigned_value(body: str, names: set[str]) -> str | None:
    """The value a code cell assigns to one of `names`, as written, when that assignment is
    all the cell holds (comments aside): `x = 13/3` -> "13/3", `x = "2x + 1"` -> "2x + 1",
    `x = ...` -> "". Read with `ast` (never compiled or run), or, for text that is not Python
    (`x = 2x + 1`), split at the `=`. None when the cell is something else."""
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        lines = [line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        found = ASSIGNMENT.fullmatch(lines[0]) if lines else None
        if found and found.group(1) in names:
            return "\n".join([found.group(2), *lines[1:]]).strip()
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return None
    statement = tree.body[0]
    target = statement.targets[0]
    if len(statement.targets) != 1 or not isinstance(target, ast.Name) or target.id not in names:
        return None
    value = statement.value
    if isinstance(value, ast.Constant) and value.value is Ellipsis:
        return ""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value.strip()
    return (ast.get_source_segment(body, value) or "").strip()


def _is_code(body: str) -> bool:
    """Python that does more than state a value (an expression alone is an answer: `2.083`)."""
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return not (len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr))


def _checked_text(body: str, cell: Cell, target: str, name: str) -> str:
    """A cell's answer or code, refused when it is too large or holds a control character
    (or undecodable text): answers.yaml cannot hold those either, and a result must be writable."""
    where = f"{name}, cell {cell.number} ({target})"
    if len(body) > MAX_CELL_CHARS:
        raise NotebookError(f"{where} is too large ({len(body):,} characters; the limit is {MAX_CELL_CHARS:,})")
    bad = first_control(body)
    if bad:
        raise NotebookError(f"{where} holds the character {bad}, which an answer may not contain "
                            "(a control character, or text that is not valid Unicode); remove it")
    return body


def extract(folder: Path) -> Extracted:
    """Everything the notebooks in `folder` answer. Raises NotebookError on a bad notebook."""
    found = Extracted()
    books = notebooks(folder)
    if len(books) > MAX_NOTEBOOKS:
        raise NotebookError(f"too many notebooks ({len(books)}; the limit is {MAX_NOTEBOOKS})")
    for path in books:
        name = _shown(path)
        for cell in read_notebook(path):
            target, body = _target(cell)
            if target is None:
                continue
            body = _checked_text(body, cell, target, name)
            if target.endswith(".py"):
                if cell.kind == "code" and not is_stub(body):  # a template cell: no answer
                    found.modules[target] = found.modules.get(target, "") + body.rstrip() + "\n\n"
                    found.sources.setdefault(target, name)
                continue
            exercise, question = target.split(".", 1)
            text = answer_text(cell, body, target)
            if text is None:  # an nbgrader answer cell with code: part of the exercise's module
                module = f"{exercise}.py"
                found.modules[module] = found.modules.get(module, "") + body.rstrip() + "\n\n"
                found.sources.setdefault(module, name)
                continue
            if question in found.answers.get(exercise, {}):
                places = f"twice in {name}" if found.sources[target] == name else f"{found.sources[target]} and {name}"
                raise NotebookError(f"{target} is answered twice ({places})")
            found.answers.setdefault(exercise, {})[question] = text
            found.sources[target] = name
    return found


def merge_answers(folder: Path, answers: Mapping[str, Mapping[str, Any]]
                  ) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    """`answers` (from answers.yaml) with the notebooks' answers added, and a warning for each
    answer given both ways differently (answers.yaml wins). Raises NotebookError.
    Works on plain data, so this module needs nothing from the Submission type."""
    merged = {exercise: dict(questions) for exercise, questions in answers.items()}
    unread = unread_notebooks(folder)
    if not notebooks(folder):
        return merged, unread
    found = extract(folder)
    warnings = list(unread)
    for exercise, questions in found.answers.items():
        for question, text in questions.items():
            given = merged.get(exercise, {}).get(question)
            if given is None:
                if text:
                    merged.setdefault(exercise, {})[question] = text
            elif str(given).strip() != text and text:
                warnings.append(f"{exercise}.{question} is answered in answers.yaml and in "
                                f"{found.sources[f'{exercise}.{question}']}; the answers.yaml one was graded")
    return merged, tuple(warnings)


# --- code modules ---------------------------------------------------------------------------

GENERATED_HEADER = "# generated by grader from notebook cells\n"
#: A released stub is a few kilobytes; anything this large is not one.
MAX_STUB_CHARS = 200_000


@dataclass(frozen=True)
class Conflict:
    """A module handed in twice, as a file and as notebook cells, with different code."""

    module: str
    notebook: str

    @property
    def message(self) -> str:
        return (f"{self.module} is both a file and cells of a notebook ({self.notebook}), and they differ: "
                f"the file is graded. Keep one (delete the file, or the notebook cells tagged {self.module})")


@dataclass(frozen=True)
class Placement:
    """Where a submission's notebook code goes: decided once, here, for grade, check and submit."""

    modules: Mapping[str, str] = field(default_factory=dict)
    """`ex03.py` -> notebook source to write out: no file is there, or only a stub (see is_stub)."""
    replaced: tuple[str, ...] = ()
    """Stub files that notebook code replaces (left out of the readable copy and of the zip)."""
    conflicts: tuple[Conflict, ...] = ()
    """Modules given as a file with code and as different notebook cells: the file counts."""


def is_stub(source: str) -> bool:
    """Does `source` compute nothing? Only docstrings, and functions whose body is a docstring
    and `raise NotImplementedError` (or `pass`, `...`): what `grader release` ships.

    This is why replacing such a file with notebook code is safe: it is decided from the
    code's structure, not from a marker or digest (a student could copy those onto real
    code), so a file that passes holds no code of the student's to lose. It is parsed with
    `ast`, never compiled or run."""
    if len(source) > MAX_STUB_CHARS:
        return False
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    # a statement that does nothing: nbgrader's placeholder `raise NotImplementedError()`
    return all(_is_docstring(node) or _is_stub_function(node) or _does_nothing(node) for node in tree.body)


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_stub_function(node: ast.stmt) -> bool:
    """A plain `def` with bare parameters: decorators, defaults and annotations are
    expressions that run when the module is imported, so they disqualify it."""
    if not isinstance(node, ast.FunctionDef) or node.decorator_list or node.returns is not None:
        return False
    if getattr(node, "type_params", None):
        return False
    params = node.args
    if params.defaults or any(default is not None for default in params.kw_defaults):
        return False
    names = [*params.posonlyargs, *params.args, *params.kwonlyargs, params.vararg, params.kwarg]
    if any(name is not None and name.annotation is not None for name in names):
        return False
    body = node.body[1:] if _is_docstring(node.body[0]) else node.body
    return len(body) <= 1 and all(_does_nothing(statement) for statement in body)


def _does_nothing(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return statement.value.value is Ellipsis
    if not isinstance(statement, ast.Raise) or statement.cause is not None:
        return False
    raised = statement.exc
    if isinstance(raised, ast.Call) and not raised.keywords and all(isinstance(a, ast.Constant) for a in raised.args):
        raised = raised.func
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def _file_text(path: Path) -> str | None:
    """A file's text; None when it is not UTF-8 text (it is not a stub, then)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def place(folder: Path) -> Placement:
    """Decide, for each module the notebooks in `folder` hold, whether it is written out
    (no file is there, or only a stub), or the file stays, a Conflict when the two differ.
    A broken notebook places nothing (read_folder reports it as the submission's error)."""
    if not folder.is_dir() or not notebooks(folder):
        return Placement()
    try:
        found = extract(folder)
    except NotebookError:
        return Placement()
    modules: dict[str, str] = {}
    replaced: list[str] = []
    conflicts: list[Conflict] = []
    for name, source in found.modules.items():
        path = folder / name
        if path.is_symlink() or not path.is_file():  # a link is never read: as good as absent
            modules[name] = source
            continue
        text = _file_text(path)
        if text is not None and is_stub(text):
            modules[name] = source
            replaced.append(name)
        elif text is None or text.strip() != source.strip():
            conflicts.append(Conflict(name, found.sources[name]))
    return Placement(modules, tuple(replaced), tuple(conflicts))


@contextlib.contextmanager
def with_modules(folder: Path) -> Iterator[tuple[Path, Placement]]:
    """`folder` itself, or, when its notebooks' code is to be written out, a private copy
    with it written (the student's folder is never written to); and the Placement."""
    placement = place(folder)
    if not placement.modules:
        yield folder, placement
        return
    workdir = Path(tempfile.mkdtemp(prefix="grader-nb-"))
    try:
        copy = workdir / folder.name
        copy.mkdir()
        for item in folder.iterdir():
            if (item.is_file() and not item.is_symlink() and item.name not in placement.replaced
                    and item.suffix in (".py", ".yaml", ".yml", ".ipynb")):
                shutil.copyfile(item, copy / item.name)
        for name, source in placement.modules.items():
            (copy / name).write_text(GENERATED_HEADER + source, encoding="utf-8")
        yield copy, placement
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
