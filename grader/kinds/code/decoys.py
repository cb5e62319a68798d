"""Decoys: standard wrong versions of a code question's reference, graded as a student's
code is, so that `grader validate` proves the question's cases tell wrong from right.

A decoy is the reference module's own source handed in as a student's `<exercise>.py`:
either the reference wrapped so that its answer comes back spoiled (`negated` returns
-out, `transposed` out.T, ...), or the source changed through its syntax tree
(`floor_ceil` swaps floor and ceil, ...). Each runs in the sandbox through the very
check a submission gets (`run.check`: the same cases, properties, weights and
comparisons), and the spec fails when one earns `PASS_MARK` (half) of the points or more.
The reference itself goes first, the same way: a question whose reference does not earn
full marks as a student's code cannot be proved by decoys (and no student could pass it).

A decoy applies only where it can change something: `transposed` where an output has two
axes, `floor_ceil` where a function the reference reaches calls floor or ceil, `float32`
where an output is double precision and the tolerance is finer than single precision. A
decoy that does not apply is skipped, not counted. An author marks a decoy that is truly
right for a question under `equivalent_decoys:` with the reason (a symmetric output's
transpose is the answer); marked decoys are not run.

The known mistakes of the question (`mistakes:`) run the same way: a mistake is wrong code
by the author's own word, and fails the proof when its cases give it half the points or
more and more than its `credit`.

Student code never sees solutions/: the decoy module is written from the source text into
a temporary folder of its own, and the sandbox copies it from there like any submission.
"""

from __future__ import annotations

import ast
import inspect
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from grader.authoring import solutions
from grader.core.model import CodeAnswer, Question, Reference, Verdict
from grader.kinds.code.options import CodeOptions

#: A decoy that earns this share of the points or more fails the spec.
PASS_MARK = 0.5
#: The relative error of rounding a double to single precision (2**-24, with headroom):
#: a tolerance at least this loose accepts the `float32` decoy by design.
FLOAT32_REL = 1.2e-7
#: The student id decoys are graded as (it shows nowhere but in the sandbox's view).
DECOY_STUDENT = "decoy"


@dataclass(frozen=True)
class Decoy:
    """One standard wrong version of a reference."""

    name: str
    """The name in problems and under `equivalent_decoys:`."""
    does: str
    """What it returns, in a few words (for `--help`, the docs and the problems)."""
    source: bool = False
    """True: made by changing the reference's source; False: by spoiling its output."""


CATALOGUE: tuple[Decoy, ...] = (
    Decoy("negated", "the answer with its sign flipped (-out; a boolean answer negated)"),
    Decoy("transposed", "the answer with its last two axes swapped (out.T for a matrix)"),
    Decoy("axes_swapped", "the answer with its first two axes swapped (for three axes or more)"),
    Decoy("reversed", "the answer's first axis in reverse order ([dy, dx] given as [dx, dy])"),
    Decoy("plus_one", "the answer plus 1 (off by one)"),
    Decoy("zeros", "zeros in the answer's shape"),
    Decoy("constant", "ones in the answer's shape (a constant)"),
    Decoy("first_argument", "the first argument handed back"),
    Decoy("hard_coded", "the first case's answer, whatever the inputs"),
    Decoy("float32", "the answer rounded to single precision"),
    Decoy("nan", "NaN in the answer's shape"),
    Decoy("floor_ceil", "the reference with floor and ceil swapped", source=True),
    Decoy("ceil_division", "the reference with a // b rounding up (-(-a // b))", source=True),
    Decoy("range_short", "the reference with every range() stopping one early", source=True),
)
NAMES = tuple(decoy.name for decoy in CATALOGUE)
_BY_NAME = {decoy.name: decoy for decoy in CATALOGUE}


@dataclass(frozen=True)
class Trial:
    """How one decoy (or known mistake) fared on the question's checks."""

    name: str
    """The decoy's name, or `mistakes[i] (function)` for a known mistake."""
    fraction: float
    """The share of the points it earned, as a submission would."""
    passed: tuple[str, ...]
    """The checks that let it through (names as in the student's report)."""
    credit: float = 0.0
    """For a known mistake: the credit its spec gives it (it may keep that much)."""
    broken: str = ""
    """Why the run gave no result at all (the module did not import, the sandbox failed)."""


# ----------------------------------------------------------------------------- proving


def prove(question: Question, reference: Reference) -> list[str]:
    """The problems of one code question: the reference as a student's code must earn full
    marks, and no decoy that applies (nor a known mistake) may earn `PASS_MARK` or more."""
    options: CodeOptions = question.options
    source = solutions.module_path(reference.solutions_root, reference.module).read_text(encoding="utf-8")
    stem = reference.module.rsplit(".", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="grader-decoys-") as folder:
        grade = _grader(question, reference, Path(folder), stem)
        itself = grade(_module(source, reference.function, options.function) or "")
        if itself.fraction < 1:
            return [f"the reference, handed in as a student's code, does not pass its own checks "
                    f"({itself.fraction:.0%}: {itself.feedback.splitlines()[0]}); no decoy can be tried"]
        problems = []
        for trial in trials(question, reference, source, grade):
            problems.extend(_judge(question, trial))
    return problems


def _judge(question: Question, trial: Trial) -> list[str]:
    if trial.broken:  # a decoy that could not run at all proves nothing: say so, never count it as caught
        return [f"{_what(trial.name)} could not be tried: {trial.broken}"]
    if trial.fraction < PASS_MARK or trial.fraction <= trial.credit:
        return []
    points = trial.fraction * question.points
    through = "; ".join(trial.passed) or "no check fails it"
    if trial.name in _BY_NAME:
        fix = ("add a case it fails, weigh the checks it fails more (weight:), or if it is truly right "
               "here mark it under equivalent_decoys: with the reason")
    else:
        fix = "add a case it fails, weigh the checks it fails more (weight:), or give it that credit:"
    return [f"{_what(trial.name)} earns {trial.fraction:.0%} ({points:.3g} of {question.points:g} points); "
            f"the checks that let it through: {through}. To tell it apart, {fix}"]


def _what(name: str) -> str:
    return f"decoy {name} ({_BY_NAME[name].does})" if name in _BY_NAME else f"the known mistake {name}"


def trials(question: Question, reference: Reference, source: str,
           grade: Callable[[str], Verdict]) -> list[Trial]:
    """Every decoy that applies and is not marked equivalent, then every known mistake, graded."""
    options: CodeOptions = question.options
    outputs, firsts = _reference_outputs(question, reference)
    done = []
    for decoy in CATALOGUE:
        if decoy.name in options.equivalent_decoys:
            continue
        if not decoy.source and not _applies(decoy, options, outputs, firsts):
            continue
        text = _module(source, reference.function, options.function, None if decoy.source else decoy.name,
                       decoy.name if decoy.source else None)
        if text is None:
            continue
        verdict = grade(text)
        done.append(_trial(decoy.name, verdict))
    for index, mistake in enumerate(question.mistakes):
        name = mistake.answer.solution
        if name:
            verdict = grade(_module(source, name, options.function) or "")
            done.append(_trial(f"mistakes[{index}] ({name})", verdict, mistake.credit))
    return done


def _trial(name: str, verdict: Verdict, credit: float = 0.0) -> Trial:
    passed = tuple(case.name for case in verdict.cases if case.passed and case.weight > 0)
    # no result at all, and not for a limit it ran into (a decoy that loops is caught, not broken)
    ran_out = verdict.run is not None and bool(verdict.run.limits_hit)
    broken = verdict.feedback.splitlines()[0] if verdict.status == "error" and not verdict.cases and not ran_out else ""
    return Trial(name, verdict.fraction, passed, credit, broken)


def _grader(question: Question, reference: Reference, folder: Path, stem: str) -> Callable[[str], Verdict]:
    """Grade module text as the student `decoy`'s `<stem>.py`, through the check a submission gets."""
    from grader.kinds.code import run as code_run

    def grade(text: str) -> Verdict:
        path = folder / f"{stem}.py"
        path.write_text(text, encoding="utf-8")
        answer = CodeAnswer(submission_dir=folder, module=path, student=DECOY_STUDENT, exercise_id=stem,
                            params=reference.params)
        return code_run.check(question, answer, reference)

    return grade


# ----------------------------------------------------------------------------- building decoys


def _reference_outputs(question: Question, reference: Reference) -> tuple[list[Any], list[Any]]:
    """The reference's outputs on every call (cases, then changed inputs), and each case's first argument."""
    from grader.kinds.code import run as code_run

    options: CodeOptions = question.options
    inputs = code_run.build_inputs(options, reference.params)
    calls = code_run.all_calls(options, inputs)
    firsts = [args[0] if args and not _is_model(case.args[0]) else None for case, args in zip(options.cases, inputs)]
    return code_run.reference_outputs(reference, calls), firsts


def _is_model(recipe: Any) -> bool:
    return isinstance(recipe, dict) and "model" in recipe


def _applies(decoy: Decoy, options: CodeOptions, outputs: Sequence[Any], firsts: Sequence[Any]) -> bool:
    """Whether the output decoy `decoy` can change an answer of the reference's."""
    if decoy.name == "first_argument":
        return any(first is not None for first in firsts)
    if decoy.name == "hard_coded":
        return len(outputs) > 1 and any(_differs(outputs[0], out) for out in outputs[1:])
    if decoy.name == "float32" and options.dtype != "exact" and (options.tolerance.rel or 0) >= FLOAT32_REL:
        return False
    return any(spoil(decoy.name, out) is not None for out in outputs)


def _differs(a: Any, b: Any) -> bool:
    import numpy as np

    try:
        return not (np.shape(a) == np.shape(b) and bool(np.all(np.asarray(a) == np.asarray(b))))
    except (TypeError, ValueError):
        return True


def _module(source: str, reference: str, function: str, spoiled: str | None = None,
            mutation: str | None = None) -> str | None:
    """The reference module handed in with the student's `function` answering as `reference`,
    its answer spoiled by the output decoy `spoiled`, or its source changed by the source decoy
    `mutation` (None where that changes nothing). A function of the module that already has
    the student's function's name is renamed first, so the reference still calls its own."""
    own = f"_grader_decoy_own_{function}"
    tree = ast.parse(source)
    renamed = 0
    if _defines(tree, function):
        renamer = _Rename(function, own)
        renamer.visit(tree)
        renamed = renamer.changed
    target = own if renamed and reference == function else reference
    if mutation is not None and not mutate(tree, target, mutation):
        return None
    text = ast.unparse(ast.fix_missing_locations(tree)) + "\n" if renamed or mutation else source
    head = f"\n\n# --- the decoy: {function}() answers as {reference}()" + (f", {spoiled}" if spoiled else "") + "\n"
    alias = f"_grader_decoy_reference = {target}\n"
    if spoiled is None:
        body = "    return _grader_decoy_reference(*args, **kwargs)\n"
        return text + head + alias + f"\n\ndef {function}(*args, **kwargs):\n" + body
    if spoiled == "first_argument":
        body = "    _grader_decoy_reference(*args, **kwargs)\n    return args[0]\n"
    elif spoiled == "hard_coded":
        body = ("    if not _grader_decoy_first:\n"
                "        _grader_decoy_first.append(_grader_decoy_reference(*args, **kwargs))\n"
                "    return _grader_decoy_first[0]\n")
    else:
        body = (f"    out = _grader_decoy_reference(*args, **kwargs)\n"
                f"    spoiled = _grader_decoy_spoil({spoiled!r}, out)\n"
                f"    return out if spoiled is None else spoiled\n")
    spoil_source = inspect.getsource(spoil).replace("def spoil(name: str, out: Any) -> Any:",
                                                    "def _grader_decoy_spoil(name, out):", 1)
    spoil_source = spoil_source.replace("spoil(name, item)", "_grader_decoy_spoil(name, item)")
    return (text + head + alias + "_grader_decoy_first: list = []\n\n\n" + spoil_source
            + f"\n\ndef {function}(*args, **kwargs):\n" + body)


def _defines(tree: ast.Module, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
               or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name
               or isinstance(node, ast.alias) and (node.asname or node.name) == name
               for node in ast.walk(tree))


class _Rename(ast.NodeTransformer):
    """Every use of the name `old` in a module becomes `new` (definitions, calls, imports)."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new, self.changed = old, new, 0

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.old:
            node.id, self.changed = self.new, self.changed + 1
        return node

    def _named(self, node: Any) -> Any:
        self.generic_visit(node)
        if node.name == self.old:
            node.name, self.changed = self.new, self.changed + 1
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _named

    def visit_alias(self, node: ast.alias) -> ast.AST:
        if (node.asname or node.name) == self.old:
            node.asname, self.changed = self.new, self.changed + 1
        return node


def spoil(name: str, out: Any) -> Any:
    """The output decoy `name` applied to the reference's answer `out`, or None where it does
    not apply (no second axis to transpose, no float to round). Self-contained: its source
    also runs in the sandbox, inside the decoy module."""
    import sys

    import numpy as np

    torch = sys.modules.get("torch")
    if isinstance(out, (list, tuple)):
        if name == "reversed":
            return type(out)(out[::-1]) if len(out) > 1 else None
        items = [spoil(name, item) for item in out]
        if all(item is None for item in items):
            return None
        return type(out)(item if item is not None else old for item, old in zip(items, out))
    if torch is not None and isinstance(out, torch.Tensor):
        real = out.is_floating_point() or out.is_complex()
        boolean = out.dtype == torch.bool
        if name == "negated":
            return ~out if boolean else -out
        if name == "transposed":
            return out.transpose(-1, -2) if out.ndim >= 2 else None
        if name == "axes_swapped":
            return out.transpose(0, 1) if out.ndim >= 3 else None
        if name == "reversed":
            return out.flip(0) if out.ndim >= 1 and out.shape[0] > 1 else None
        if name == "plus_one":
            return None if boolean else out + 1
        if name == "zeros":
            return torch.zeros_like(out)
        if name == "constant":
            return torch.ones_like(out)
        if name == "float32":
            return out.float() if out.dtype == torch.float64 else None
        if name == "nan":
            return torch.full_like(out, float("nan")) if real else None
        return None
    if isinstance(out, (bool, np.bool_)):
        return {"negated": not out, "zeros": False, "constant": True}.get(name)
    if isinstance(out, (int, float, np.ndarray, np.generic)) and np.asarray(out).dtype.kind in "iufc":
        array = np.asarray(out)
        scalar = not isinstance(out, np.ndarray)
        value: Any
        if name == "negated":
            value = -array
        elif name == "transposed":
            value = np.swapaxes(array, -1, -2) if array.ndim >= 2 else None
        elif name == "axes_swapped":
            value = np.swapaxes(array, 0, 1) if array.ndim >= 3 else None
        elif name == "reversed":
            value = array[::-1] if array.ndim >= 1 and array.shape[0] > 1 else None
        elif name == "plus_one":
            value = array + 1
        elif name == "zeros":
            value = np.zeros_like(array)
        elif name == "constant":
            value = np.ones_like(array)
        elif name == "float32":
            value = array.astype(np.float32) if array.dtype == np.float64 else None
        elif name == "nan":
            value = np.full_like(array, np.nan) if array.dtype.kind in "fc" else None
        else:
            value = None
        if value is None or not scalar:
            return value
        return type(out)(value.item()) if isinstance(out, (int, float)) and name != "float32" else value[()]
    if isinstance(out, np.ndarray) and out.dtype == np.bool_:
        return {"negated": ~out, "zeros": np.zeros_like(out), "constant": np.ones_like(out),
                "transposed": np.swapaxes(out, -1, -2) if out.ndim >= 2 else None,
                "reversed": out[::-1] if out.ndim >= 1 and out.shape[0] > 1 else None}.get(name)
    return None


# ----------------------------------------------------------------------------- source decoys


def mutate(tree: ast.Module, function: str, name: str) -> int:
    """Apply the source decoy `name` in place to `function` and every module-level function it
    reaches; how many places changed (0: no floor, no //, no range() there)."""
    defs = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    changer = {"floor_ceil": _FloorCeil, "ceil_division": _CeilDivision, "range_short": _RangeShort}[name]()
    for node in reachable(defs, function):
        changer.visit(node)
    return changer.changed


def reachable(defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef], start: str) -> list[ast.AST]:
    """The module-level functions `start` calls or names, directly or through one another."""
    seen: list[str] = []
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.append(name)
        todo.extend(node.id for node in ast.walk(defs[name]) if isinstance(node, ast.Name) and node.id in defs)
    return [defs[name] for name in seen]


class _Changer(ast.NodeTransformer):
    def __init__(self) -> None:
        self.changed = 0


class _FloorCeil(_Changer):
    """math.floor ↔ math.ceil (numpy's and torch's too)."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        swap = {"floor": "ceil", "ceil": "floor"}.get(node.attr)
        if swap is None:
            return node
        self.changed += 1
        return ast.copy_location(ast.Attribute(value=node.value, attr=swap, ctx=node.ctx), node)


class _CeilDivision(_Changer):
    """a // b -> -(-a // b), which rounds up; `x //= b` likewise."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, ast.FloorDiv):
            return node
        self.changed += 1
        return ast.copy_location(_ceil_div(node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if not (isinstance(node.op, ast.FloorDiv) and isinstance(node.target, ast.Name)):
            return node
        self.changed += 1
        value = _ceil_div(ast.Name(id=node.target.id, ctx=ast.Load()), node.value)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)


def _ceil_div(left: ast.expr, right: ast.expr) -> ast.expr:
    return ast.UnaryOp(op=ast.USub(), operand=ast.BinOp(left=ast.UnaryOp(op=ast.USub(), operand=left),
                                                        op=ast.FloorDiv(), right=right))


class _RangeShort(_Changer):
    """range(n) -> range(n - 1), range(a, b) -> range(a, b - 1)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id == "range" and 1 <= len(node.args) <= 3
                and not node.keywords):
            return node
        self.changed += 1
        stop = 0 if len(node.args) == 1 else 1
        args = list(node.args)
        args[stop] = ast.BinOp(left=args[stop], op=ast.Sub(), right=ast.Constant(1))
        return ast.copy_location(ast.Call(func=node.func, args=args, keywords=[]), node)
