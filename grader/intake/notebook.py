"""Answers and code from a Jupyter notebook in a submission, read as data, never run.

A cell supplies an answer when it is tagged with a question id (cell metadata
`tags: [ex01.e]`) or when its first line is the marker

    # answer: ex01.e

and the rest of the cell is the answer, as it would be written in answers.yaml. A code
cell tagged `ex03.py`, or whose first line is `# file: ex03.py`, belongs to that code
module; all such cells are joined, in notebook order, into `ex03.py`. Markdown, raw and
code cells all work for answers. A tag wins over a marker; the marker line is dropped.

answers.yaml and .py files in the same submission take precedence over the notebook;
when both give the same answer differently, the submission carries a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

ANSWER_MARKER = "# answer:"
FILE_MARKER = "# file:"
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_NOTEBOOKS = 5
QUESTION_ID = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+")
MODULE_NAME = re.compile(r"[A-Za-z0-9_]+\.py")
TEMPLATE_INTRO = (
    "# Answers\n\nWrite each answer in the cell below its question, after the `# answer:` line "
    "(keep that line: it tells the grader which question the cell answers). Code goes in the "
    "cells marked `# file: <exercise>.py`. The grader reads this notebook as text and never runs it, "
    "so answers must be written out, not computed by code that only runs here."
)


class NotebookError(ValueError):
    """A notebook that cannot be read; the message says which and why."""


@dataclass
class Extracted:
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    """exercise id -> question id -> answer text."""
    modules: dict[str, str] = field(default_factory=dict)
    """`ex03.py` -> the source joined from its cells."""
    sources: dict[str, str] = field(default_factory=dict)
    """`ex01.e` or `ex03.py` -> the notebook it came from (for messages)."""


def notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())


def _cell_text(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _target(cell: Any, text: str) -> tuple[str | None, str]:
    """(question id or module name, the cell's text without its marker line)."""
    tags = cell.get("metadata", {}).get("tags", []) or []
    first, _, rest = text.lstrip("\n").partition("\n")
    marker = None
    for prefix in (ANSWER_MARKER, FILE_MARKER):
        if first.strip().lower().startswith(prefix):
            marker = first.strip()[len(prefix):].strip()
            text = rest
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, str) and (QUESTION_ID.fullmatch(tag) or MODULE_NAME.fullmatch(tag)):
            return tag, text
    if marker and (QUESTION_ID.fullmatch(marker) or MODULE_NAME.fullmatch(marker)):
        return marker, text
    return None, text


def read_notebook(path: Path) -> Any:
    import nbformat

    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is too large ({size:,} bytes; the limit is {MAX_NOTEBOOK_BYTES:,})")
    try:
        text = path.read_text(encoding="utf-8")
        return nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat and json raise many types on a broken file
        raise NotebookError(f"{path.name} is not a readable notebook: {type(exc).__name__}: {exc}"[:300]) from None


def extract(folder: Path) -> Extracted:
    """Everything the notebooks in `folder` answer. Raises NotebookError on a bad notebook."""
    found = Extracted()
    books = notebooks(folder)
    if len(books) > MAX_NOTEBOOKS:
        raise NotebookError(f"too many notebooks ({len(books)}; the limit is {MAX_NOTEBOOKS})")
    for path in books:
        for cell in read_notebook(path).get("cells", []):
            target, text = _target(cell, _cell_text(cell))
            if target is None:
                continue
            if target.endswith(".py"):
                if cell.get("cell_type") == "code" and not _untouched_template(cell, text):
                    found.modules[target] = found.modules.get(target, "") + text.rstrip() + "\n\n"
                    found.sources.setdefault(target, path.name)
                continue
            exercise, question = target.split(".", 1)
            if question in found.answers.get(exercise, {}):
                raise NotebookError(f"{target} is answered twice ({found.sources[target]} and {path.name})")
            found.answers.setdefault(exercise, {})[question] = text.strip()
            found.sources[target] = path.name
    return found


def _untouched_template(cell: Any, text: str) -> bool:
    """A template code cell still holding the released stub (`grader release --notebook`
    records the stub's digest in the cell): it is no answer, so it never shadows a file."""
    recorded = (cell.get("metadata", {}).get("grader") or {}).get("stub_sha256")
    return isinstance(recorded, str) and recorded == code_digest(text)


def with_answers(submission: Any) -> Any:
    """The submission with its notebooks' answers added (answers.yaml wins on a clash)."""
    if submission.error or not notebooks(submission.folder):
        return submission
    try:
        found = extract(submission.folder)
    except NotebookError as exc:
        return replace(submission, error=str(exc))
    answers = {exercise: dict(questions) for exercise, questions in submission.answers.items()}
    warnings = list(submission.warnings)
    for exercise, questions in found.answers.items():
        for question, text in questions.items():
            given = answers.get(exercise, {}).get(question)
            if given is None:
                if text:
                    answers.setdefault(exercise, {})[question] = text
            elif str(given).strip() != text and text:
                warnings.append(f"{exercise}.{question} is answered in answers.yaml and in "
                                f"{found.sources[f'{exercise}.{question}']}; the answers.yaml one was graded")
    for module, origin in found.sources.items():
        path = submission.folder / module
        if module.endswith(".py") and path.is_file() and not _written_by_us(path) and _differs(path, found.modules[module]):
            warnings.append(f"{module} is handed in as a file and in {origin}; the file was graded")
    return replace(submission, answers=answers, warnings=tuple(warnings))


GENERATED_HEADER = "# generated by grader from notebook cells\n"


def _written_by_us(path: Path) -> bool:
    with contextlib.suppress(OSError):
        with path.open(encoding="utf-8") as handle:
            return handle.readline() == GENERATED_HEADER
    return False


def _differs(path: Path, source: str) -> bool:
    try:
        return path.read_text(encoding="utf-8").strip() != source.strip()
    except (OSError, UnicodeDecodeError):
        return True


def write_modules(folder: Path) -> None:
    """Write the notebooks' code modules into `folder` (a private copy) where no file exists."""
    try:
        found = extract(folder)
    except NotebookError:
        return  # reported by with_answers when the folder is read
    for name, source in found.modules.items():
        target = folder / name
        if not target.exists() and not target.is_symlink():
            target.write_text(GENERATED_HEADER + source, encoding="utf-8")


def code_digest(source: str) -> str:
    """sha256 of code with surrounding whitespace ignored (to recognise an untouched stub)."""
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()


def untouched_stubs(folder: Path, stubs: Mapping[str, str]) -> list[str]:
    """Modules in `folder` that are still the released stub while a notebook holds their
    code: the student worked in the notebook, so the stub file is left out."""
    if not stubs or not notebooks(folder):
        return []
    try:
        modules = extract(folder).modules
    except NotebookError:
        return []
    found = []
    for name, digest in stubs.items():
        path = folder / name
        if name in modules and path.is_file() and not path.is_symlink() and code_digest(modules[name]) != digest:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if code_digest(path.read_text(encoding="utf-8")) == digest:
                    found.append(name)
    return found


@contextlib.contextmanager
def with_modules(folder: Path, stubs: Mapping[str, str] | None = None) -> Iterator[Path]:
    """`folder` itself, or, when its notebooks hold code, a private copy with the modules
    written out (the student's folder is never written to). `stubs` (module -> digest of
    the released stub) lets notebook code replace a stub file the student never touched."""
    if not folder.is_dir() or not notebooks(folder):
        yield folder
        return
    workdir = Path(tempfile.mkdtemp(prefix="grader-nb-"))
    try:
        copy = workdir / folder.name
        copy.mkdir()
        skipped = set(untouched_stubs(folder, stubs or {}))
        for item in folder.iterdir():
            if (item.is_file() and not item.is_symlink() and item.name not in skipped
                    and item.suffix in (".py", ".yaml", ".yml", ".ipynb")):
                shutil.copyfile(item, copy / item.name)
        write_modules(copy)
        yield copy
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
