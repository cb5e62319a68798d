"""The student bundle: what `grader release` hands out, and nothing that gives answers away.

A bundle (one per student when params are drawn per student) holds:

    sheet.html        the exercise sheet: prompts for this variant, points, answer formats
    answers.yaml      a template: every question id, its prompt as a comment, the format
    <exercise>.py     stubs for the code questions (signatures and docstrings)
    specs/*.yaml      public specs: what `grader check` and `grader submit` need to parse
                      answers, plus the visible code checks
    checks/*          the visible checks: inputs as JSON and .npy; expected outputs as grading
                      compares them (the sandbox's tagged wire format, arrays as .npy)
    answers.ipynb     with --notebook: the same template as a Jupyter notebook

What never ships: reference answers or code, known mistakes (they give the answer away by
elimination), hidden checks, params, and the solutions module's name.

Drawn params (variants.has_draws) differ per student. Released for named students, each
bundle shows that student's values. Released as one bundle for the whole class, each drawn
value shows as a marker (`‹keep: drawn per student›`, DRAWN_MARK), the sheet and the answer
template say which values those are and how a student gets theirs, and a question whose
reference takes a drawn value ships no public facts or visible checks (they would be computed
for values nobody has); `release` returns a note for the instructor saying so.

Kinds shape their share of the bundle through optional hooks, each with a fallback:

    public_keys: tuple[str, ...]       option keys safe to ship (what `parse` needs)
    answer_format(question) -> str     how to write the answer, for the template
    stub(question) -> str              the code a stub module holds for the question
    visible_cases(question, reference) -> list[dict]
                                       visible checks, run here on trusted reference code:
                                       [{"name", "args": [...], "kwargs": {...}, "expected"}]
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from grader.intake import notebook
from grader.core import output, registry, yamlsafe
from grader.authoring import solutions, spec, variants
from grader.core.errors import GraderError
from grader.kinds.common import function_stub
from grader.core.model import Course, Exercise, Question, Reference

PUBLIC_SPEC_VERSION = 1
CODE_FILE_NOTE = "Python code in {file}"
#: Keys YAML 1.1 would read as booleans or null: quoted in the template.
YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
#: How a class bundle shows a value drawn per student.
DRAWN_MARK = "‹{name}: drawn per student›"
PER_STUDENT_NOTE = ("Values marked ‹…: drawn per student› differ per student and are graded with yours: "
                    "ask for your own bundle (grader release SPECS --to DIR --student YOUR_ID).")


@dataclass
class Bundle:
    """The files of one student's bundle: relative path -> content."""

    student: str | None
    files: dict[str, str | bytes] = field(default_factory=dict)


# --- the public view of a course ---------------------------------------------------------


def raw_questions(exercise: Exercise) -> dict[str, dict[str, Any]]:
    """The spec's raw question mappings by id (the loaded options are kind-private objects),
    with the exercise-level defaults (`number_format`) a question inherits, as loading gives them."""
    document = yamlsafe.loads(Path(exercise.path).read_bytes())
    defaults = {key: document.data[key] for key in spec.EXERCISE_DEFAULTS if key in document.data}
    return {str(q.get("id")): {**defaults, **q} for q in document.data.get("questions", []) if isinstance(q, dict)}


def public_keys(kind: Any) -> tuple[str, ...]:
    """Option keys a kind ships to students (needed to parse answers); none by default."""
    return tuple(registry.attribute(kind, "public_keys", ()))


def answer_format(kind: Any, question: Question, exercise: Exercise) -> str:
    hook = registry.hook(kind, "answer_format")
    if hook is not None:
        return str(hook(question))
    if kind.answer_source == "code":
        return CODE_FILE_NOTE.format(file=f"{exercise.id}.py")
    return "see the prompt"


def public_question(course: Course, exercise: Exercise, question: Question, raw: Mapping[str, Any],
                    params: Mapping[str, Any], files: dict[str, str | bytes]) -> dict[str, Any]:
    """The question as the student may see it; visible check data goes into `files`."""
    kind = registry.get(question.kind)
    public: dict[str, Any] = {
        "id": question.id, "kind": question.kind, "points": question.points,
        "prompt": variants.render_prompt(question.prompt, params),
        "format": answer_format(kind, question, exercise),
    }
    public.update({key: raw[key] for key in public_keys(kind) if key in raw})
    if _takes_a_mark(course, exercise, question, raw, params):
        if kind.answer_source == "code":
            public["file"] = f"{exercise.id}.py"
        return public
    facts = registry.hook(kind, "public_facts")
    if facts is not None and question.answer is not None:
        from grader.grading import engine

        expected = engine.reference_value(course, exercise, question, question.answer, params)
        public.update(facts(question, expected))  # e.g. a vector's shape: part of the question
    if kind.answer_source == "code":
        public["file"] = f"{exercise.id}.py"
        public["checks"] = _visible_checks(course, exercise, question, kind, params, files)
    return public


def class_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a class bundle: literal values as they are, drawn ones as DRAWN_MARK."""
    return {name: DRAWN_MARK.format(name=name) if variants.is_draw(value) else value
            for name, value in params.items()}


def _takes_a_mark(course: Course, exercise: Exercise, question: Question, raw: Mapping[str, Any],
                  params: Mapping[str, Any]) -> bool:
    """Whether the question's reference (or a code case's `param:` input) takes a value that
    is only a DRAWN_MARK here: its facts and checks cannot be computed for the class."""
    marked = {name for name, value in params.items() if value == DRAWN_MARK.format(name=name)}
    if not marked:
        return False
    taken = set(_reference_parameters(course, exercise, question))
    cases = str(raw.get("cases", ""))
    return bool(marked & taken) or "**kwargs" in taken or any(f"'param': '{name}'" in cases for name in marked)


def _reference(course: Course, exercise: Exercise, question: Question, params: Mapping[str, Any]) -> Reference | None:
    if question.answer is None or not question.answer.is_solution or course.solutions_root is None:
        return None
    return Reference(course.solutions_root, exercise.solutions or "", question.answer.solution or "", dict(params))


def _visible_checks(course: Course, exercise: Exercise, question: Question, kind: Any,
                    params: Mapping[str, Any], files: dict[str, str | bytes]) -> str | None:
    """Store the visible cases as checks/<exercise>.<question>.json (+ .npy arrays)."""
    hook = registry.hook(kind, "visible_cases")
    reference = _reference(course, exercise, question, params)
    if hook is None or reference is None:
        return None
    cases = list(hook(question, reference))
    if not cases:
        return None
    stem = f"checks/{exercise.id}.{question.id}"
    encoded = [encode_case(case, f"{stem}.{index}", files) for index, case in enumerate(cases)]
    files[f"{stem}.json"] = json.dumps(encoded, indent=1, allow_nan=True) + "\n"
    return f"{stem}.json"


def encode_case(case: Mapping[str, Any], stem: str, files: dict[str, str | bytes]) -> dict[str, Any]:
    """One visible check: its arguments as JSON and .npy (what the student's function is
    called with), its expected value as grading compares it: in the sandbox's tagged wire
    format (a tensor stays a tensor of its dtype, a tuple a tuple), arrays beside it as .npy."""
    encoded = {str(k): encode_value(v, f"{stem}.{k}", files) for k, v in case.items() if k != "expected"}
    if "expected" in case:
        encoded["expected"] = encode_received(case["expected"], f"{stem}.expected", files)
    return encoded


def encode_received(value: Any, stem: str, files: dict[str, str | bytes]) -> dict[str, Any]:
    """`{"$received": tagged JSON, "parts": [.npy names]}` (see grader.sandbox.protocol)."""
    import sys

    from grader.sandbox import protocol

    try:
        tagged, parts = protocol.encode_tagged(value, sys.modules.get("torch"))
    except protocol.ProtocolError as exc:
        raise ValueError(f"a visible check's expected value cannot be shipped: {exc}") from None
    names = []
    for index, part in enumerate(parts):
        if not part.startswith(b"\x93NUMPY"):
            raise ValueError("a visible check's expected value holds bytes, which cannot be shipped")
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{stem}.{index}".removeprefix("checks/")) + ".npy"
        files[f"checks/{name}"] = part
        names.append(name)
    return {"$received": tagged, "parts": names}


def encode_value(value: Any, stem: str, files: dict[str, str | bytes]) -> Any:
    """JSON with arrays stored beside it as .npy files ({"$npy": path}); never pickle."""
    if isinstance(value, Mapping):
        return {str(k): encode_value(v, f"{stem}.{k}", files) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_value(v, f"{stem}.{i}", files) for i, v in enumerate(value)]
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
        return {"$npy": _npy(value, stem, files), "torch": True}
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return {"$npy": _npy(value, stem, files)} if value.shape else value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"a visible check holds a {type(value).__name__}, which cannot be shipped")


def _npy(array: Any, stem: str, files: dict[str, str | bytes]) -> str:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", stem.removeprefix("checks/")) + ".npy"
    files[f"checks/{name}"] = buffer.getvalue()
    return name


def bundle_params(exercise: Exercise, student: str | None) -> dict[str, Any]:
    """The params a bundle shows: the student's variant, or for the class the drawn ones marked."""
    if student is None:
        return class_params(exercise.params)
    return variants.resolve(exercise.params, student, exercise.id)


def public_exercise(course: Course, exercise: Exercise, student: str | None,
                    files: dict[str, str | bytes]) -> dict[str, Any]:
    params = bundle_params(exercise, student)
    raws = raw_questions(exercise)
    public: dict[str, Any] = {
        "grader_public_spec": PUBLIC_SPEC_VERSION, "id": exercise.id, "title": exercise.title,
        "source": exercise.source, "spec_digest": course.digest,
    }
    if student is not None:
        public["student"] = student
    if exercise.deadline:
        public["deadline"] = exercise.deadline
    if exercise.late_penalty:
        public["late_penalty"] = dict(exercise.late_penalty)
    public["questions"] = []
    for question in exercise.questions:
        try:
            public["questions"].append(public_question(course, exercise, question, raws.get(question.id, {}),
                                                       params, files))
        except Exception as exc:  # an instructor's bug in a reference or hook: say where
            raise GraderError(f"{exercise.path}: {exercise.id}.{question.id}: cannot release: "
                              f"{type(exc).__name__}: {exc}") from exc
    return public


# --- the student-facing files ---------------------------------------------------------------


def answers_template(exercises: Sequence[Mapping[str, Any]], student: str | None, per_student: bool = False) -> str:
    lines = ["# Your answers. Write each one after its question id, the way you would on paper:",
             "# 1.5, 7/2, 2.5e-3, [1, -2], x^2 + 1. Quote text that starts with a special character",
             "# (such as '-' or '*'), and use | for answers that span several lines.",
             "# Check them before handing in:   grader check specs .",
             "# Hand in:                         grader submit . --to <folder>"]
    if student:
        lines.append(f"# Variant for student {student}.")
    if per_student:
        lines += textwrap.wrap(PER_STUDENT_NOTE, 88, initial_indent="# ", subsequent_indent="# ")
    for exercise in exercises:
        lines += ["", f"# {exercise['id']}: {' '.join(exercise['title'].split())}", f"{_yaml_key(exercise['id'])}:"]
        for question in exercise["questions"]:
            lines += _template_question(question)
    return "\n".join(lines) + "\n"


def _template_question(question: Mapping[str, Any]) -> list[str]:
    points = f"{question['points']:g} point" + ("" if question["points"] == 1 else "s")
    prompt = textwrap.wrap(" ".join(question["prompt"].split()), 86) or [""]
    lines = [f"  # {question['id']} ({points}): {prompt[0]}"]
    lines += [f"  #   {line}" for line in prompt[1:]]
    shape = shape_phrase(question.get("shape"))
    lines.append(f"  #   answer: {question['format']}" + (f"; {shape}" if shape else ""))
    for option, text in (question.get("choices") or {}).items():
        lines.append(f"  #     {option}) {' '.join(str(text).split())}")
    key = _yaml_key(question["id"])
    if "file" in question:
        lines.append(f"  #   (write it in {question['file']}, not here)")
    else:
        lines.append(f"  {key}:")
    return lines


def shape_phrase(shape: Any) -> str:
    """`[2]` -> "2 entries", `[3, 3]` -> "a 3×3 matrix"; "" when there is no shape."""
    if not isinstance(shape, list) or not shape:
        return ""
    if len(shape) == 1:
        return f"{shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"
    return f"a {'×'.join(map(str, shape))} {'matrix' if len(shape) == 2 else 'array'}"


def _yaml_key(ident: Any) -> str:
    """An id as a YAML key that reads back as the same text (`1`, `yes` and `no` are quoted)."""
    key = str(ident)
    if not re.fullmatch(r"[A-Za-z_]\w*", key) or key.lower() in YAML_WORDS:
        return json.dumps(key)
    return key


def stub_module(exercise: Exercise, questions: Sequence[Question], course: Course,
                params: Mapping[str, Any]) -> str:
    """`<exercise>.py` with one function stub per code question (prompts of this variant)."""
    questions = [replace(q, prompt=variants.render_prompt(q.prompt, params)) for q in questions]
    header = (f'"""{exercise.id}: {exercise.title} — your code answers.\n\n'
              f"Write each function below. `grader check` runs the visible checks on them;\n"
              f'hidden checks run when your submission is graded.\n"""\n')
    bodies = [_stub(exercise, q, course) for q in questions]
    return header + "\n\n" + "\n\n\n".join(dict.fromkeys(b for b in bodies if b)) + "\n"


def _stub(exercise: Exercise, question: Question, course: Course) -> str:
    kind = registry.get(question.kind)
    hook = registry.hook(kind, "stub")
    if hook is not None:
        return str(hook(question)).strip("\n")
    name = student_function(question)
    if name is None:
        return ""
    params = _reference_parameters(course, exercise, question)
    return function_stub(name, params, f"{exercise.id}.{question.id}", question.prompt)


def student_function(question: Question, raw: Mapping[str, Any] | None = None) -> str | None:
    """The function (or model factory) a code question asks the student to write, from its
    loaded options or, when those are not at hand, its raw public keys."""
    for source in (question.options, raw):
        for key in ("function", "factory"):
            name = source.get(key) if isinstance(source, Mapping) else getattr(source, key, None)
            if isinstance(name, str) and name.isidentifier():
                return name
    return None


def _reference_parameters(course: Course, exercise: Exercise, question: Question) -> list[str]:
    """Parameter names only: defaults and annotations may carry what the student must find."""
    source = question.answer
    if course.solutions_root is None or not exercise.solutions or source is None or not source.is_solution:
        return ["*args", "**kwargs"]
    try:
        fn = solutions.function(course.solutions_root, exercise.solutions, source.solution or "")
        signature = inspect.signature(fn)
    except (solutions.SolutionError, TypeError, ValueError):
        return ["*args", "**kwargs"]
    return [p.name for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


# --- the sheet --------------------------------------------------------------------------------

SHEET = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
.meta, .format { color: #555; font-size: .9rem; }
.question { margin: 1.2rem 0; padding: .6rem .9rem; border-left: 4px solid #4a78b8; background: #f6f8fb; }
.qid { font-family: ui-monospace, monospace; font-weight: 600; }
.choices { margin: .3rem 0 0 1.2rem; } code { font-family: ui-monospace, monospace; }
@media print { .question { break-inside: avoid; } }
</style></head>
<body>
<h1>{{ title }}</h1>
{% if student %}<p class="meta">Variant for student <strong>{{ student }}</strong>.</p>{% endif %}
{% if per_student %}<p class="meta"><strong>{{ per_student }}</strong></p>{% endif %}
<p class="meta">Answer in <code>answers.yaml</code>{% if code_files %} and {{ code_files | join(', ') }}{% endif %};
check with <code>grader check specs .</code> and hand in with <code>grader submit . --to FOLDER</code>.</p>
{% for exercise in exercises %}
<section>
<h2>{{ exercise.id }}: {{ exercise.title }}</h2>
{% if exercise.source %}<p class="meta">{{ exercise.source }}</p>{% endif %}
{% if exercise.deadline %}<p class="meta">Deadline: {{ exercise.deadline }}{% if exercise.late %}; {{ exercise.late }}{% endif %}</p>{% endif %}
{% for q in exercise.questions %}
<div class="question" id="{{ exercise.id }}.{{ q.id }}">
<p><span class="qid">{{ exercise.id }}.{{ q.id }}</span> ({{ '%g' % q.points }} point{{ '' if q.points == 1 else 's' }})</p>
<p>{{ q.prompt_html }}</p>
{% if q.choices %}<ul class="choices">{% for key, text in q.choices.items() %}<li><code>{{ key }}</code>: {{ text }}</li>{% endfor %}</ul>{% endif %}
<p class="format">Answer: {{ q.format }}{% if q.shape_text %}; {{ q.shape_text }}{% endif %}</p>
</div>
{% endfor %}
</section>
{% endfor %}
</body></html>
"""
MATH = re.compile(r"\$([^$\n]{1,2000})\$")


def prompt_html(prompt: str) -> Any:
    """Text with `$...$` spans as MathML (through the report renderer's sanitiser) when present."""
    from markupsafe import Markup, escape

    try:
        from grader.render.math import math_or_code
    except ImportError:
        return escape(prompt)
    pieces, last = [], 0
    for match in MATH.finditer(prompt):
        pieces += [escape(prompt[last:match.start()]), math_or_code(match.group(1))]
        last = match.end()
    pieces.append(escape(prompt[last:]))
    return Markup("").join(pieces)


def sheet_html(exercises: Sequence[Mapping[str, Any]], student: str | None, title: str,
               per_student: bool = False) -> str:
    from jinja2 import Environment

    from grader.authoring import lateness

    shown = []
    for exercise in exercises:
        questions = [{**q, "prompt_html": prompt_html(q["prompt"]), "shape_text": shape_phrase(q.get("shape"))}
                     for q in exercise["questions"]]
        late = _late_text(lateness.load_policy(exercise["late_penalty"])) if exercise.get("late_penalty") else ""
        shown.append({**exercise, "questions": questions, "late": late})
    code_files = sorted({q["file"] for e in exercises for q in e["questions"] if "file" in q})
    template = Environment(autoescape=True).from_string(SHEET)
    return template.render(exercises=shown, student=student, title=title, code_files=code_files,
                           per_student=PER_STUDENT_NOTE if per_student else "")


def _late_text(policy: Any) -> str:
    parts = []
    if policy.flat:
        parts.append(f"{policy.flat:.0%} off when late")
    if policy.per_day:
        parts.append(f"{policy.per_day:.0%} off per started day late")
    if policy.max < 1 and (policy.flat or policy.per_day):
        parts.append(f"at most {policy.max:.0%}")
    if policy.cutoff:
        parts.append(f"nothing counts after {policy.cutoff}")
    return ", ".join(parts) or "late hand-ins are recorded"


# --- the notebook template --------------------------------------------------------------------


NOTEBOOK_NAME = "answers.ipynb"
CHECK_CELL = "import grader\n\ngrader.check()  # or one question: grader.check(\"{qid}\")"


def notebook_template(exercises: Sequence[Mapping[str, Any]], stubs: Mapping[str, str]) -> str:
    """A Jupyter notebook: per question a markdown prompt, then a code cell, tagged with the
    question id, that assigns the answer (`ex01_e = ...`: read as text, see
    grader.intake.notebook.assigned_value, never run); per exercise with code questions a
    code cell with its stub; last, the cell that runs `grader.check()`."""
    import nbformat
    from nbformat import v4

    cells = [v4.new_markdown_cell(notebook.TEMPLATE_INTRO)]
    first = None
    for exercise in exercises:
        cells.append(v4.new_markdown_cell(f"## {exercise['id']}: {exercise['title']}"))
        for question in exercise["questions"]:
            qid = f"{exercise['id']}.{question['id']}"
            points = f"{question['points']:g} point" + ("" if question["points"] == 1 else "s")
            shape = shape_phrase(question.get("shape"))
            advice = f"*Answer:* {question['format']}" + (f"; {shape}" if shape else "")
            choices = "".join(f"\n- `{key}`: {' '.join(str(text).split())}"
                              for key, text in (question.get("choices") or {}).items())
            where = (f" — write it in the `{question['file']}` cell below" if "file" in question
                     else " — in the cell below, in place of `...`")
            cells.append(v4.new_markdown_cell(f"**{qid}** ({points}): {question['prompt']}\n{choices}\n\n"
                                              f"{advice}{where}"))
            if "file" not in question:
                first = first or qid
                cell = v4.new_code_cell(f"{notebook.ANSWER_MARKER} {qid}\n{qid.replace('.', '_')} = ...\n")
                cell.metadata["tags"] = [qid]
                cells.append(cell)
        file = f"{exercise['id']}.py"
        if file in stubs:
            cell = v4.new_code_cell(f"{notebook.FILE_MARKER} {file}\n{stubs[file]}")
            cell.metadata["tags"] = [file]  # while it holds only the stub, it is no answer (notebook.is_stub)
            cells.append(cell)
            first = first or next((f"{exercise['id']}.{q['id']}" for q in exercise["questions"]), None)
    cells.append(v4.new_markdown_cell("## Check your answers\n\nSave the notebook first: the check reads it as "
                                      "saved. It shows how each answer reads and runs your code on the visible "
                                      "checks, as `grader check` does; it never says whether an answer is right."))
    cells.append(v4.new_code_cell(CHECK_CELL.format(qid=first or "ex01.a")))
    book = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})
    return nbformat.writes(book)


# --- the whole bundle -------------------------------------------------------------------------


def bundle_for(course: Course, student: str | None, with_notebook: bool = False) -> Bundle:
    bundle = Bundle(student)
    files = bundle.files
    exercises = [public_exercise(course, exercise, student, files) for exercise in course.exercises]
    for exercise, public in zip(course.exercises, exercises):
        code = [q for q in exercise.questions if registry.get(q.kind).answer_source == "code"]
        if code:
            files[f"{exercise.id}.py"] = stub_module(exercise, code, course, bundle_params(exercise, student))
        files[f"specs/{exercise.id}.yaml"] = dump_yaml(public)
    title = ", ".join(e.title for e in course.exercises)
    per_student = student is None and any(variants.has_draws(e.params) for e in course.exercises)
    files["answers.yaml"] = answers_template(exercises, student, per_student)
    files["sheet.html"] = sheet_html(exercises, student, title, per_student)
    if with_notebook:
        stubs = {name: text for name, text in files.items() if name.endswith(".py") and isinstance(text, str)}
        files[NOTEBOOK_NAME] = notebook_template(exercises, stubs)
    return bundle


def dump_yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def class_bundle_note(course: Course) -> str | None:
    """What the instructor is told when one bundle for the class marks drawn values."""
    drawn = [f"{e.id} ({', '.join(n for n, v in e.params.items() if variants.is_draw(v))})"
             for e in course.exercises if variants.has_draws(e.params)]
    if not drawn:
        return None
    return (f"{'; '.join(drawn)} drawn per student: this one bundle for the class shows drawn values as "
            "‹name: drawn per student› and leaves out the visible checks that depend on them; to give each "
            "student their own values, release one ""bundle each with --roster FILE (or --student ID)")


def release(course: Course, to: Path, students: Sequence[str] | None = None,
            with_notebook: bool = False) -> list[Path]:
    """Write the bundle under `to` (one folder per student when students are given; else one
    bundle for the class, with drawn values marked: see class_bundle_note)."""
    from grader.intake.submission import STUDENT_ID
    for student in students or ():
        if not STUDENT_ID.fullmatch(student):
            raise GraderError(f"{student!r} is not a valid student id (letters, digits, . _ @ -)")
    written: list[Path] = []
    targets: list[str | None] = list(students) if students else [None]
    for target in targets:
        folder = to / output.safe_file_name(target) if target else to
        for name, content in bundle_for(course, target, with_notebook).files.items():
            path = folder / name
            output.write_atomic(path, content)
            written.append(path)
    return written


def read_roster(path: Path) -> list[str]:
    """Student ids from a roster: one per line, or the first column of a CSV; # comments."""
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cell = line.split(",", 1)[0].strip().strip('"')
        if cell and not cell.startswith("#") and cell.lower() not in ("student", "id", "student_id"):
            ids.append(cell)
    return list(dict.fromkeys(ids))
