"""`grader.check()`: the student's self-check from inside a Jupyter notebook.

    import grader
    grader.check()            # every question
    grader.check("ex01.e")    # one question (or "ex01": one exercise; or a list of ids)

It runs `grader check` itself (grader.student.check.run_check, the code the CLI calls) on the
notebook's folder as saved on disk, with the bundle's specs beside it, and shows the rows as
a small HTML table (plain text outside IPython). A kernel cannot see the editor's unsaved
changes, so the table says which save it read and to save first.

Which notebook: `notebook=` when given; else the one the Jupyter server names for this
kernel (JPY_SESSION_NAME; VS Code's `__vsc_ipynb_file__`); else `answers.ipynb` (the name
`grader release --notebook` gives it) in the kernel's working folder; else the only notebook
there. The specs: `specs=`, or the bundle's `specs/` beside the notebook.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from grader.core.errors import GraderError
from grader.core.text import terminal_safe
from grader.student import release
from grader.student.check import CheckRow, run_check

HTML = """<div class="grader-check">
<p><strong>grader check</strong> of <code>{{ notebook }}</code> as saved at {{ saved }}.
Edits since the last save are not seen: save (Ctrl+S / ⌘S) and run this cell again.</p>
{% if problem %}<p style="color:#b00020"><strong>Not checked:</strong> {{ problem }}</p>{% else %}
<table>
<thead><tr><th style="text-align:left">question</th><th style="text-align:left">status</th>
<th style="text-align:left">what grader sees</th></tr></thead>
<tbody>
{% for row in rows %}<tr><td><code>{{ row.id }}</code></td>
<td style="color:{{ colours.get(row.status, 'inherit') }};font-weight:600">{{ row.status }}</td>
<td style="text-align:left;white-space:pre-wrap;font-family:monospace">{{ row.message }}</td></tr>
{% endfor %}</tbody></table>
{% for warning in warnings %}<p>warning: {{ warning }}</p>{% endfor %}
<p>{{ summary }}</p>{% endif %}
</div>"""
COLOURS = {"ok": "#1b7a1b", "passed": "#1b7a1b", "missing": "#8a6d00", "unchecked": "#00738a",
           "invalid": "#b00020", "failed": "#b00020", "error": "#b00020"}
STATUS_ORDER = ("ok", "passed", "missing", "unchecked", "invalid", "failed", "error")


@dataclass(frozen=True)
class NotebookCheck:
    """One self-check of a saved notebook: the `grader check` rows asked for, or why none."""

    notebook: str
    """The notebook's file name, as shown."""
    saved: str
    """When the file read was saved (local time), or "?" when it could not be found."""
    rows: tuple[CheckRow, ...] = ()
    warnings: tuple[str, ...] = ()
    problem: str | None = None
    """Why nothing could be checked (no notebook, no specs, a library missing …)."""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)

    def text(self) -> str:
        lines = [f"grader check of {self.notebook} as saved at {self.saved} (save first: unsaved edits are not seen)"]
        if self.problem:
            return "\n".join([*lines, f"not checked: {self.problem}"])
        width = max([len(row.id) for row in self.rows] + [8])
        for row in self.rows:
            message = row.message.splitlines() or [""]
            lines.append(f"{row.id:<{width}}  {row.status:<9}  {message[0]}")
            lines += [f"{'':<{width}}  {'':<9}  {line}" for line in message[1:]]
        lines += [f"warning: {warning}" for warning in self.warnings]
        lines.append(self.summary)
        return terminal_safe("\n".join(lines), newlines=True)

    def html(self) -> str:
        from jinja2 import Environment

        template = Environment(autoescape=True).from_string(HTML)
        return template.render(notebook=self.notebook, saved=self.saved, problem=self.problem, rows=self.rows,
                               warnings=self.warnings, summary=self.summary, colours=COLOURS)

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text()


def find_notebook(notebook: str | os.PathLike[str] | None = None) -> Path:
    """The notebook to check (see the module's docstring); GraderError when it cannot be told."""
    if notebook is not None:
        path = Path(notebook).expanduser()
        if not path.is_file():
            raise GraderError(f"there is no notebook {path} (the path is taken from {Path.cwd()})")
        return path
    for named in (os.environ.get("JPY_SESSION_NAME"), _vscode_notebook()):
        if named and named.endswith(".ipynb") and Path(named).is_file():
            return Path(named)
    here = Path.cwd()
    if (here / release.NOTEBOOK_NAME).is_file():
        return here / release.NOTEBOOK_NAME
    found = sorted(here.glob("*.ipynb"))
    if len(found) == 1:
        return found[0]
    raise GraderError(f"cannot tell which notebook this is ({len(found)} notebooks in {here}): "
                      'name it, as in grader.check(notebook="answers.ipynb")')


def _vscode_notebook() -> str | None:
    """The notebook VS Code runs this kernel for (it sets `__vsc_ipynb_file__` for the user)."""
    shell = _ipython()
    named = shell.user_ns.get("__vsc_ipynb_file__") if shell is not None else None
    return named if isinstance(named, str) else None


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _selected(rows: Sequence[CheckRow], questions: str | Sequence[str] | None) -> list[CheckRow]:
    """The rows asked for: all; one question (`ex01.e`); an exercise (`ex01`); or a list."""
    if questions is None:
        return list(rows)
    wanted = [questions] if isinstance(questions, str) else list(questions)
    chosen = [row for row in rows if any(row.id == want or row.id.startswith(f"{want}.") for want in wanted)]
    unknown = [want for want in wanted if not any(row.id == want or row.id.startswith(f"{want}.") for row in rows)]
    if unknown:
        known = ", ".join(row.id for row in rows if "." in row.id)
        raise GraderError(f"no question {', '.join(map(repr, unknown))} in these specs; the questions are {known}")
    return chosen


def notebook_check(questions: str | Sequence[str] | None = None, notebook: str | os.PathLike[str] | None = None,
                   specs: str | os.PathLike[str] | None = None) -> NotebookCheck:
    """Run `grader check` on the saved notebook's folder and keep the rows asked for."""
    try:
        path = find_notebook(notebook)
    except GraderError as error:
        return NotebookCheck(str(notebook or "this notebook"), "?", problem=error.show())
    shown, folder = path.name, path.resolve().parent
    saved = time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime))
    spec_path = Path(specs) if specs is not None else folder / "specs"
    if not spec_path.exists():
        return NotebookCheck(shown, saved, problem=f"no specs/ folder beside {shown}: open the notebook in the "
                                                   "bundle folder grader release wrote, or pass specs=\"PATH\"")
    try:
        report = run_check(spec_path, folder)
        rows = _selected(report.rows, questions)
    except GraderError as error:
        return NotebookCheck(shown, saved, problem=error.show())
    counts = {status: sum(row.status == status for row in rows) for status in STATUS_ORDER}
    return NotebookCheck(shown, saved, tuple(rows), tuple(report.warnings), counts=counts)


def check(questions: str | Sequence[str] | None = None, notebook: str | os.PathLike[str] | None = None,
          specs: str | os.PathLike[str] | None = None) -> None:
    """Check your saved notebook's answers (all, one question `"ex01.e"`, an exercise `"ex01"`,
    or a list): how each reads, and whether your code passes the visible checks. Shows a
    table (HTML in Jupyter, text elsewhere); it never says whether an answer is right."""
    result = notebook_check(questions, notebook, specs)
    shell = _ipython()
    if shell is not None:
        from IPython.display import display

        display(result)
    else:
        print(result.text())
