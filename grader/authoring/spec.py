"""Exercise specs: YAML files -> validated, frozen dataclasses.

Every authoring mistake becomes a Problem with file, line and key path (plus a
did-you-mean for misspelt keys and kinds). All problems of all files are collected and
raised together, so an instructor fixes them in one pass.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.core import registry, yamlsafe
from grader.authoring import solutions, variants
from grader.core.canvas import assignment_problem as canvas_assignment_problem
from grader.core.errors import Problem, SpecError
from grader.core.model import (VISIBILITIES, AutograderTests, Course, Exercise, Location, Mistake, Question,
                               ValueSource)
from grader.core.suggest import did_you_mean, one_of

EXERCISE_KEYS = ("id", "title", "source", "solutions", "params", "questions", "deadline",
                 "late_penalty", "description", "number_format", "gradescope", "canvas")
EXERCISE_DEFAULTS = ("number_format",)
"""Exercise keys that set the question option of the same name for every question whose
kind takes that option (a question may still set its own). The value is checked once, at
the exercise's key, by a kind that takes it."""
QUESTION_KEYS = ("id", "kind", "points", "prompt", "answer", "mistakes", "reveal", "gradescope")
GRADESCOPE_KEYS = ("visibility", "hidden_cases", "tests")
"""The `gradescope:` mapping (an exercise's, for its questions, or a question's own): when
students see its test and its hidden checks' results, and one test per question or per case."""
GRADESCOPE_TESTS = ("question", "case")
MISTAKE_KEYS = ("answer", "feedback", "credit")
IDENT = re.compile(r"[A-Za-z0-9_]+")
SPEC_SUFFIXES = (".yaml", ".yml")
NOT_SPECS = ("overrides.yaml",)
"""Files in a specs folder that are not specs: the human decisions of `grader review`."""


class _Collector:
    """Gathers problems for one file; `at(path)` turns a key path into a Location."""

    def __init__(self, file: str, document: yamlsafe.Document | None) -> None:
        self.file = file
        self.document = document
        self.problems: list[Problem] = []

    def at(self, key_path: str) -> Location:
        line = self.document.line(key_path) if self.document else None
        return Location(self.file, line, key_path)

    def add(self, key_path: str, message: str) -> None:
        self.problems.append(Problem(self.at(key_path), message))


def spec_files(paths: list[Path]) -> list[Path]:
    """Expand folders into their spec files, sorted; files are kept as given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file()
                                and p.name not in NOT_SPECS))
        else:
            files.append(path)
    return files


def spec_entries(given: Path) -> list[tuple[str, Path]]:
    """The spec files of `given` (a spec file, or a folder of them), each with its name in
    a copy of the specs: relative to the folder, its sub-folders kept (a file: its name).
    A copy loaded from the same names has the same digest (the Gradescope bundle, the
    Dask workers)."""
    return [((file.relative_to(given) if given.is_dir() else Path(file.name)).as_posix(), file)
            for file in spec_files([given])]


def load_course(paths: list[Path]) -> Course:
    """Load every spec under `paths`. Raises SpecError listing every problem found."""
    files = spec_files(paths)
    problems: list[Problem] = []
    if not files:
        shown = ", ".join(str(p) for p in paths)
        raise SpecError([Problem(Location(shown), "no spec files (*.yaml) found")])
    exercises: list[Exercise] = []
    roots: set[Path] = set()
    seen: dict[str, Location] = {}
    for file in files:
        exercise, file_problems, root = load_exercise(file)
        problems.extend(file_problems)
        if root:
            roots.add(root)
        if exercise is None:
            continue
        if exercise.id in seen:
            problems.append(Problem(exercise.location or Location(str(file)),
                                    f"exercise id {exercise.id!r} is already used in {seen[exercise.id].file}"))
            continue
        seen[exercise.id] = exercise.location or Location(str(file))
        named = next((e for e in exercises if e.canvas), None)
        if exercise.canvas and named and named.canvas != exercise.canvas:
            problems.append(Problem(exercise.location or Location(str(file)),
                                    f"canvas: {exercise.canvas!r}, but {named.path} names {named.canvas!r}: the "
                                    "specs graded together export to one Canvas column; name one, or grade them "
                                    "apart"))
        exercises.append(exercise)
    if len(roots) > 1:
        problems.append(Problem(Location(str(files[0])), "specs point to more than one solutions/ folder: "
                                + ", ".join(sorted(map(str, roots)))))
    if problems:
        raise SpecError(problems)
    root = roots.pop() if roots else None
    return Course(tuple(exercises), root, _digest(files, exercises, root))


def _digest(files: list[Path], exercises: list[Exercise], root: Path | None) -> str:
    sha = hashlib.sha256()
    for file in files:
        sha.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    for exercise in exercises:
        if root and exercise.solutions:
            path = solutions.module_path(root, exercise.solutions)
            if path.is_file():
                sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def load_exercise(file: Path) -> tuple[Exercise | None, list[Problem], Path | None]:
    try:
        document = yamlsafe.loads(file.read_bytes())
    except OSError as exc:
        return None, [Problem(Location(str(file)), f"cannot read: {exc.strerror}")], None
    except yamlsafe.YamlError as exc:
        return None, [Problem(Location(str(file), exc.line, exc.key_path), exc.message)], None
    out = _Collector(str(file), document)
    data = document.data
    if not isinstance(data, dict):
        out.add("", "a spec must be a mapping with id, title and questions")
        return None, out.problems, None
    _unknown_keys(out, data, EXERCISE_KEYS, "")
    exercise_id = _ident(out, data, "id", "")
    title = _text(out, data, "title", "", required=True)
    params = _params(out, data.get("params"))
    root, module = _solutions(out, file, data.get("solutions"))
    defaults = _defaults(out, data)
    reported = _gradescope(out, data.get("gradescope"), "gradescope", AutograderTests())
    questions = _questions(out, data.get("questions"), root, module, params, defaults, reported)
    deadline, late_penalty = _lateness(out, data.get("deadline"), data.get("late_penalty"))
    canvas = data.get("canvas")
    if canvas is not None and (problem := canvas_assignment_problem(canvas)):
        out.add("canvas", f"canvas: {problem}")
    if out.problems or exercise_id is None:
        return None, out.problems, root
    exercise = Exercise(
        id=exercise_id, title=title, questions=tuple(questions), source=str(data.get("source", "")),
        solutions=module, params=params, deadline=deadline, path=str(file), location=out.at("id"),
        late_penalty=late_penalty, canvas=canvas.strip() if isinstance(canvas, str) else None,
    )
    return exercise, out.problems, root


def _lateness(out: _Collector, deadline: Any, policy: Any) -> tuple[str | None, dict[str, Any] | None]:
    """The deadline (ISO time with a zone) and late_penalty policy, checked by grader.authoring.lateness."""
    from grader.authoring import lateness

    if deadline is not None:
        try:
            lateness.parse_time(deadline)
        except lateness.TimeError as exc:
            out.add("deadline", f"deadline: {exc}")
    if policy is None:
        return deadline, None
    for key, message in lateness.policy_problems(policy):
        out.add(yamlsafe.join("late_penalty", key) if key else "late_penalty", message)
    if deadline is None:
        out.add("late_penalty", "late_penalty needs a deadline")
    return deadline, policy


def _unknown_keys(out: _Collector, data: dict[str, Any], allowed: tuple[str, ...] | list[str], path: str) -> None:
    for key in data:
        if key not in allowed:
            out.add(yamlsafe.join(path, key), f"unknown key {key!r}{did_you_mean(key, allowed)}")


def _ident(out: _Collector, data: dict[str, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    where = yamlsafe.join(path, key)
    if value is None:
        out.add(path or where, f"missing {key!r}")
        return None
    text = str(value)
    if isinstance(value, (dict, list, bool)) or not IDENT.fullmatch(text):
        out.add(where, f"{key} {value!r} must be letters, digits or _ (such as ex01 or dJdw)")
        return None
    return text


def _text(out: _Collector, data: dict[str, Any], key: str, path: str, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            out.add(path or yamlsafe.join(path, key), f"missing {key!r}")
        return ""
    if not isinstance(value, str):
        out.add(yamlsafe.join(path, key), f"{key} must be text")
        return ""
    return value


def _params(out: _Collector, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        out.add("params", "params must be a mapping of name -> value or draw recipe")
        return {}
    for name, value in raw.items():
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            out.add(f"params.{name}", f"param name {name!r} must be a Python identifier")
        elif isinstance(value, dict) and any(k in value for k in variants.DRAWS):
            if not variants.is_draw(value):
                out.add(f"params.{name}", "a draw has exactly one of " + one_of(variants.DRAWS)
                        + " and optionally " + one_of(variants.DRAW_EXTRAS))
            elif message := variants.check_draw(value):
                out.add(f"params.{name}", message)
    return raw


def _solutions(out: _Collector, file: Path, raw: Any) -> tuple[Path | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, str) or not solutions.MODULE_NAME.fullmatch(raw):
        out.add("solutions", f"solutions must be a module name such as inf5860.ex01, got {raw!r}")
        return None, None
    root = solutions.find_root(file.resolve().parent)
    if root is None:
        out.add("solutions", "no solutions/ folder found beside or above this spec")
        return None, None
    try:
        solutions.load_module(root, raw)
    except solutions.SolutionError as exc:
        out.add("solutions", str(exc))
        return root, None
    return root, raw


def _defaults(out: _Collector, data: dict[str, Any]) -> dict[str, Any]:
    """The exercise-level defaults of EXERCISE_DEFAULTS that are well formed, each checked
    by the first kind that takes the option (kinds found from the questions first)."""
    defaults: dict[str, Any] = {}
    raw = data.get("questions")
    questions: list[Any] = raw if isinstance(raw, list) else []
    named = [q.get("kind") for q in questions if isinstance(q, dict) and isinstance(q.get("kind"), str)]
    for key in EXERCISE_DEFAULTS:
        if key not in data:
            continue
        kind = _kind_taking(key, [name for name in named if name in registry.kind_names()])
        if kind is None:
            out.add(key, f"{key}: no question kind takes it")
            continue
        try:
            kind.load_options({key: data[key]})
        except registry.OptionError as exc:
            if exc.key == key or exc.key.startswith(key + "."):
                out.add(exc.key, str(exc))
                continue
        defaults[key] = data[key]
    return defaults


def _kind_taking(key: str, first: list[str]) -> registry.QuestionKind | None:
    for name in [*first, *registry.kind_names()]:
        kind = registry.get(name)
        if key in kind.option_keys:
            return kind
    return None


def _gradescope(out: _Collector, raw: Any, path: str, inherited: AutograderTests) -> AutograderTests:
    """A `gradescope:` mapping over the settings it refines (the exercise's, or the defaults)."""
    if raw is None:
        return inherited
    if not isinstance(raw, dict):
        out.add(path, "gradescope must be a mapping such as {visibility: visible, hidden_cases: after_due_date, "
                      "tests: question}")
        return inherited
    _unknown_keys(out, raw, GRADESCOPE_KEYS, path)
    found = inherited
    for key in ("visibility", "hidden_cases"):
        if key in raw:
            if raw[key] not in VISIBILITIES:
                out.add(yamlsafe.join(path, key), f"{key} {raw[key]!r} is not one of {one_of(VISIBILITIES)}")
            elif key == "visibility":
                found = replace(found, visibility=str(raw[key]))
            else:
                found = replace(found, hidden_cases=str(raw[key]))
    if "tests" in raw:
        if raw["tests"] not in GRADESCOPE_TESTS:
            out.add(yamlsafe.join(path, "tests"), f"tests {raw['tests']!r} is not one of {one_of(GRADESCOPE_TESTS)} "
                                                  "(one test per question, or per check of the student's code)")
        else:
            found = replace(found, per_case=raw["tests"] == "case")
    return found


def _questions(out: _Collector, raw: Any, root: Path | None, module: str | None,
               params: dict[str, Any], defaults: dict[str, Any],
               reported: AutograderTests = AutograderTests()) -> list[Question]:
    if not isinstance(raw, list) or not raw:
        out.add("questions", "questions must be a non-empty list")
        return []
    questions: list[Question] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        path = f"questions[{index}]"
        if not isinstance(item, dict):
            out.add(path, "a question must be a mapping with id, kind, points, prompt and answer")
            continue
        question = _question(out, item, path, root, module, defaults, reported)
        if question is None:
            continue
        if question.id in seen:
            out.add(f"{path}.id", f"question id {question.id!r} is used twice")
            continue
        seen.add(question.id)
        questions.append(question)
    return questions


def _question(out: _Collector, item: dict[str, Any], path: str, root: Path | None,
              module: str | None, defaults: dict[str, Any],
              reported: AutograderTests = AutograderTests()) -> Question | None:
    before = len(out.problems)
    question_id = _ident(out, item, "id", path)
    kind_name = item.get("kind")
    kind = None
    if not isinstance(kind_name, str) or kind_name not in registry.kind_names():
        shown = kind_name if kind_name is not None else "nothing"
        out.add(f"{path}.kind" if "kind" in item else path,
                f"kind {shown!r} is not one of {one_of(registry.kind_names())}"
                f"{did_you_mean(str(kind_name), registry.kind_names())}")
    else:
        kind = registry.get(kind_name)
        _unknown_keys(out, item, list(QUESTION_KEYS) + list(kind.option_keys), path)
    points = item.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= 1000:
        out.add(f"{path}.points", f"points must be a number from 0 to 1000, got {points!r}")
    prompt = _text(out, item, "prompt", path)
    _check_template(out, prompt, f"{path}.prompt")
    reveal = item.get("reveal", True)
    if not isinstance(reveal, bool):
        out.add(f"{path}.reveal", "reveal must be true or false")
    answer = _value_source(out, item.get("answer"), f"{path}.answer", root, module, required=True)
    options = None
    if kind is not None:
        try:
            inherited = {k: v for k, v in defaults.items() if k in kind.option_keys and k not in item}
            options = kind.load_options({**inherited, **item})
        except registry.OptionError as exc:
            out.add(f"{path}.{exc.key}" if exc.key else path, str(exc))
    mistakes = _mistakes(out, item.get("mistakes"), f"{path}.mistakes", root, module, kind)
    gradescope = _gradescope(out, item.get("gradescope"), f"{path}.gradescope", reported)
    if len(out.problems) > before or question_id is None or kind is None:
        return None
    return Question(id=question_id, kind=kind.name, points=float(points), prompt=prompt, answer=answer,
                    options=options, mistakes=tuple(mistakes), reveal=reveal, location=out.at(path),
                    gradescope=gradescope)


def _check_template(out: _Collector, template: str, path: str) -> None:
    if "{" not in template:
        return
    from jinja2 import TemplateSyntaxError

    try:
        variants._compile(template)
    except TemplateSyntaxError as exc:
        out.add(path, f"prompt template error: {exc.message}")


def _value_source(out: _Collector, raw: Any, path: str, root: Path | None, module: str | None,
                  required: bool) -> ValueSource | None:
    if raw is None:
        if required:
            out.add(path.rsplit(".", 1)[0], "missing 'answer' (a value, or {solution: function_name})")
        return None
    if isinstance(raw, dict) and "solution" in raw:
        extra = [k for k in raw if k != "solution"]
        if extra:
            out.add(path, f"unknown key {extra[0]!r} beside solution")
            return None
        name = raw["solution"]
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*", name):
            out.add(f"{path}.solution", f"solution must name a function, got {name!r}")
            return None
        if module is None or root is None:
            out.add(f"{path}.solution", "the exercise has no (working) solutions module for this function")
            return None
        try:
            solutions.function(root, module, name)
        except solutions.SolutionError as exc:
            out.add(f"{path}.solution", str(exc))
            return None
        return ValueSource(solution=name)
    return ValueSource(literal=raw)


def _mistakes(out: _Collector, raw: Any, path: str, root: Path | None, module: str | None,
              kind: Any) -> list[Mistake]:
    if raw is None:
        return []
    if kind is not None and not kind.supports_mistakes:
        out.add(path, f"{kind.name} questions do not take mistakes")
        return []
    if not isinstance(raw, list):
        out.add(path, "mistakes must be a list of {answer, feedback, credit}")
        return []
    mistakes = []
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            out.add(where, "a mistake must be a mapping with answer and feedback")
            continue
        _unknown_keys(out, item, MISTAKE_KEYS, where)
        source = _value_source(out, item.get("answer"), f"{where}.answer", root, module, required=True)
        feedback = _text(out, item, "feedback", where, required=True)
        credit = item.get("credit", 0)
        if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not 0 <= credit < 1:
            out.add(f"{where}.credit", f"credit must be a fraction from 0 up to (not including) 1, got {credit!r}")
            continue
        if source is not None:
            mistakes.append(Mistake(source, feedback, float(credit), out.at(where)))
    return mistakes
