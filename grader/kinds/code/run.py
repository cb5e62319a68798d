"""The `code` kind's check: build inputs, run the student in the sandbox, the reference here,
and turn each case and property into a `CaseResult`, then the cases into a `Verdict` that
carries them and the run's `RunRecord` (the report and the exports read those, nothing else).

The student's function runs once per question in one sandbox job (all cases and property
calls together); its outcome is kept under the prepared job's key (the module's bytes as
the sandbox read them, the encoded calls, the limits), so checking known mistakes (other
references against the same outputs) costs no second run.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import pickle
from typing import Any, Mapping, Sequence

import numpy as np

from grader import sandbox
from grader.authoring import solutions
from grader.kinds.code import models as code_models
from grader.kinds.code import values as cv
from grader.core.memo import Memo
from grader.core.model import CodeAnswer, Question, Reference, Verdict
from grader.core.results import CaseResult, RunRecord, Status
from grader.kinds.code.options import (CASE_WEIGHT, DRIVER, TRIVIAL_CASE_WEIGHT, UNCOMPARED_CASE_WEIGHT, Case,
                                       CodeOptions, Property)
from grader.kinds.common import error_text, run_record

#: Student outcomes are only reused for the same student's known mistakes: keep few, they hold arrays.
OUTCOMES_KEPT = 128
_STATUS_FOR_ERROR: dict[str, Status] = {"refused": "invalid", "missing": "missing"}


def build_inputs(options: CodeOptions, params: Mapping[str, Any]) -> list[list[Any]]:
    """Each case's positional arguments, drawn from its seeded recipes."""
    torch_inputs = options.inputs == "torch"
    cases = []
    for case in options.cases:
        rng = np.random.default_rng(case.seed)
        cases.append([cv.make_input(recipe, rng, params, torch_inputs) for recipe in case.args])
    return cases


def property_args(prop: Property, case: Case, args: Sequence[Any]) -> list[Any]:
    ops = prop.transform or {}
    return [cv.transform(arg, ops[name]) if name in ops else copy.deepcopy(arg)
            for name, arg in zip(case.arg_names, args)]


def all_calls(options: CodeOptions, inputs: list[list[Any]]) -> list[list[Any]]:
    """Every call the student's function gets: each case's arguments, then each property's changed ones."""
    calls = [list(args) for args in inputs]
    for prop in options.properties:
        if prop.transform is not None:
            calls.append(property_args(prop, options.cases[prop.case], inputs[prop.case]))
    return calls


def run_student(question: Question, answer: CodeAnswer, calls: list[list[Any]], memo: Memo) -> sandbox.Outcome:
    """The student's outputs on every call; kept in the course's memo, so checking the known
    mistakes (other references against the same outputs) costs no second run.

    The job is prepared first, so every refusal (a link, a file too big) holds whatever
    ran before; the memo is keyed on the prepared job, exactly what the code sees, so an
    outcome is shared only by jobs the code could not tell apart (two students with the
    same bytes and the same inputs, never one whose params differ in what it is given)."""
    options: CodeOptions = question.options
    if not isinstance(answer, CodeAnswer):
        raise TypeError(f"a code question checks a CodeAnswer, not a {type(answer).__name__}")
    prepared = sandbox.prepare(sandbox.Job(DRIVER, answer.module, _payload(options, calls), options.limits))
    if isinstance(prepared, sandbox.Outcome):
        return prepared
    return memo.get("code outcome", prepared.key, lambda: sandbox.run_prepared(prepared), limit=OUTCOMES_KEPT)


def _payload(options: CodeOptions, calls: Sequence[Sequence[Any]],
             kwargs: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The driver's job: every call at once (grade and check send the same shape)."""
    kwargs = kwargs or [{} for _ in calls]
    return {"function": options.function,
            "calls": [code_models.wire_call(list(args), kw) for args, kw in zip(calls, kwargs)],
            "return_inputs": options.mutation != "allow"}


REFERENCE_OUTPUTS_KEPT = 256
"""Reference outputs kept per course: one entry per question and variant (its calls)."""


def reference_outputs(reference: Reference, calls: list[list[Any]]) -> list[Any]:
    """The reference's outputs on `calls`, computed once per course for each question and
    variant (every student of a variant is compared with the same outputs; recomputing them
    was half the cost of grading a code-heavy submission). Each caller gets its own copy."""
    try:
        digest = hashlib.sha256(pickle.dumps(calls, protocol=5)).hexdigest()
    except (pickle.PicklingError, TypeError, AttributeError, ValueError):  # inputs pickle cannot take
        return _compute_reference_outputs(reference, calls)
    key = (str(reference.solutions_root), reference.module, reference.function, digest)
    kept = reference.memo.get("reference outputs", key, lambda: _compute_reference_outputs(reference, calls),
                              limit=REFERENCE_OUTPUTS_KEPT)
    return copy.deepcopy(kept)


def _compute_reference_outputs(reference: Reference, calls: list[list[Any]]) -> list[Any]:
    fn = solutions.function(reference.solutions_root, reference.module, reference.function)
    outputs = []
    for args in calls:
        solutions.check_positional(fn, len(args), "a code question's case args")
        try:
            outputs.append(fn(*code_models.materialise(args)))
        except Exception as exc:
            raise solutions.SolutionError(f"reference {reference.function}() failed: {type(exc).__name__}: {exc}") from exc
    return outputs


def check(question: Question, answer: CodeAnswer, reference: Reference) -> Verdict:
    options: CodeOptions = question.options
    inputs = build_inputs(options, reference.params)
    calls = all_calls(options, inputs)
    outcome = run_student(question, answer, calls, reference.memo)
    # no timings here: a result must be a pure function of the specs and the submission
    run = _record(outcome, answer)
    failure = _run_failure(outcome, len(calls), run)
    if failure is not None:
        return failure
    results = outcome.value
    expected = reference_outputs(reference, calls)
    is_answer = question.answer is not None and question.answer.solution == reference.function
    checks = compare_cases(question, options.cases, inputs, results, received(expected[:len(options.cases)]))
    if is_answer:  # a known mistake is recognised by its outputs alone
        checks += _check_properties(question, reference, inputs, results, expected)
    return _verdict(question, checks, _with_call_limits(run, results))


def _record(outcome: sandbox.Outcome, answer: CodeAnswer) -> RunRecord:
    """The run as the report shows it; code questions run on the CPU (no GPU in the child)."""
    return run_record(outcome, answer.module, device="cpu")


def _with_call_limits(run: RunRecord, results: Any) -> RunRecord:
    """A call that ran out of memory fails only its case; the run still says it hit the limit."""
    calls = results if isinstance(results, list) else []
    if not run.limits_hit and any(isinstance(r, dict) and r.get("kind") == "memory" for r in calls):
        return dataclasses.replace(run, limits_hit="memory")
    return run


def _run_failure(outcome: sandbox.Outcome, calls: int, run: RunRecord) -> Verdict | None:
    """The verdict when the run gave no usable result per call (a crash, or a result list of
    the wrong shape: tampering); None when every call has its result."""
    if not outcome.ok:
        return _sandbox_failure(outcome, run)
    results = outcome.value
    if not isinstance(results, list) or len(results) != calls or not all(isinstance(r, dict) for r in results):
        return Verdict("error", 0.0, "The sandbox returned a malformed result (tampering?).", run=run,
                       fault="student")
    return None


def _sandbox_failure(outcome: sandbox.Outcome, run: RunRecord) -> Verdict:
    kind = outcome.error_kind or "sandbox"
    error = error_text(outcome)
    if kind == "sandbox":
        return Verdict("error", 0.0, f"Grader fault while running your code: {error}", run=run, fault="grader")
    if kind == "missing":
        return Verdict("missing", 0.0, f"Your {error}.", run=run)
    status = _STATUS_FOR_ERROR.get(kind, "error")
    return Verdict(status, 0.0, f"Your code {_phrase(kind)}: {error}", run=run,
                   fault="student" if status == "error" else "")


def _phrase(kind: str) -> str:
    return {"timeout": "ran out of time", "memory": "ran out of memory", "crash": "crashed",
            "exit": "ended the process", "exception": "raised an error", "output": "produced too much output",
            "protocol": "broke the sandbox protocol", "refused": "could not be run"}.get(kind, "failed")


# ----------------------------------------------------------------------------- cases


def _policy(options: CodeOptions) -> cv.Policy:
    return cv.Policy(options.tolerance, options.returns, options.dtype)


def _inputs_text(case: Case, args: Sequence[Any]) -> str:
    return ", ".join(f"{name}={cv.summarize(arg, 300)}" for name, arg in zip(case.arg_names, args))


def _call_failure(result: Mapping[str, Any]) -> str:
    kind = str(result.get("kind"))
    prefix = {"memory": "ran out of memory", "exit": "ended the process"}.get(kind, "raised")
    return f"{prefix}: {str(result.get('error', ''))[:3000]}"


def received(outputs: Sequence[Any]) -> list[Any]:
    """Reference outputs as the grader receives the student's: through the sandbox's wire
    format (tensors become TensorInfo, numpy scalars and tuples stay). Both sides of every
    comparison take this form, and the bundle ships it (so `grader check` compares the same)."""
    return [_as_received(output) for output in outputs]


def compare_cases(question: Question, cases: Sequence[Case], inputs: Sequence[list[Any]],
                  results: Sequence[Mapping[str, Any]], expected: Sequence[Any]) -> list[CaseResult]:
    """The one comparison of the student's outputs with the reference's, case by case, for
    `grader grade` (expected computed here) and `grader check` (expected read from the
    bundle) alike; `expected` is in the received form (see `received`)."""
    return [_check_case(question, case, args, result, want)
            for case, args, result, want in zip(cases, inputs, results, expected)]


def _check_case(question: Question, case: Case, args: list[Any], result: Mapping[str, Any],
                expected: Any) -> CaseResult:
    """One case as the student may see it: a hidden case keeps its inputs, the expected
    and the returned values (and how far off they are) to itself."""
    options: CodeOptions = question.options
    shown = CaseResult(name=case.name, passed=False, hidden=case.hidden, weight=case_weight(case, args, expected),
                       inputs="" if case.hidden else _inputs_text(case, args),
                       expected="" if case.hidden or not question.reveal else cv.summarize(expected))
    if not result.get("ok"):
        return dataclasses.replace(shown, message=_call_failure(result))
    got = result.get("value")
    shown = dataclasses.replace(shown, got="" if case.hidden else cv.summarize(got),
                                note=_mutation_note(case, args, result.get("inputs"), options.mutation))
    if shown.note and options.mutation == "forbid":
        return dataclasses.replace(shown, message=shown.note)
    if not case.compare:  # any answer will do, but not NaN or infinity where the reference has none
        problem = cv.nonfinite_failure(got, expected)
        return dataclasses.replace(shown, passed=problem is None, message=problem or "")
    diff = cv.compare(got, expected, _policy(options))
    if diff is None:
        return dataclasses.replace(shown, passed=True)
    if case.hidden:
        return dataclasses.replace(shown, message=_hidden_message(diff.message))
    largest = diff.largest if diff.largest is not None and np.isfinite(diff.largest) else None
    return dataclasses.replace(shown, message=diff.message, largest_difference=largest, where=diff.where or "")


def case_weight(case: Case, args: Sequence[Any], expected: Any) -> float:
    """The case's weight: as the spec sets it, else by what it checks (options.CASE_WEIGHT).
    From the expected value in the received form, so `grader check` weighs its checks alike."""
    if case.weight is not None:
        return case.weight
    if not case.compare:
        return UNCOMPARED_CASE_WEIGHT
    return TRIVIAL_CASE_WEIGHT if trivial(expected, args) else CASE_WEIGHT


def trivial(expected: Any, args: Sequence[Any]) -> bool:
    """Whether degenerate code gets this answer right: every element 0, or every element 1
    (True), or the answer is one of the arguments handed back unchanged."""
    value = _plain(expected)
    try:
        array = np.asarray(value)
        if array.dtype.kind in "biuf" and array.size and (np.all(array == 0) or np.all(array == 1)):
            return True
    except (TypeError, ValueError):
        pass
    return any(_plain(arg) is not None and not isinstance(arg, code_models.ModelRecipe) and _same(value, _plain(arg))
               for arg in args)


def _same(a: Any, b: Any) -> bool:
    try:
        x, y = np.asarray(a), np.asarray(b)
        return x.dtype.kind in "biuf" and y.dtype.kind in "biuf" and x.shape == y.shape and bool(np.all(x == y))
    except (TypeError, ValueError):
        return False


def _hidden_message(message: str) -> str:
    """Keep the kind of mismatch, drop values a hidden case must not reveal."""
    for marker in ("expected shape", "expected a ", "expected dtype", "expected one number", "returned ",
                   "the result contains NaN", "the result is NaN", "expected float", "expected integer"):
        if message.startswith(marker):
            return message
    return "the values are not right"


def _mutation_note(case: Case, args: list[Any], after: Any, mode: str) -> str:
    if mode == "allow" or not isinstance(after, list) or len(after) != len(args):
        return ""
    changed = [name for name, before, now in zip(case.arg_names, args, after)
               if now is not None and not cv.same_array(before, now)]
    if not changed:
        return ""
    names = ", ".join(changed)
    return (f"your function modified its argument{'s' if len(changed) > 1 else ''} {names} in place; "
            "work on a copy (e.g. x = x.copy() or x = x + ...)")


# ----------------------------------------------------------------------------- properties


def _check_properties(question: Question, reference: Reference, inputs: list[list[Any]],
                      results: list[dict], expected: list[Any]) -> list[CaseResult]:
    options: CodeOptions = question.options
    checks, extra = [], len(options.cases)
    for prop in options.properties:
        base = results[prop.case]
        transformed = None
        ref_transformed = None
        if prop.transform is not None:
            transformed, ref_transformed = results[extra], expected[extra]
            extra += 1
        wanted = (expected[prop.case], ref_transformed)
        # the reference must satisfy its own properties: a spec mistake otherwise
        problem = _property_failure(question, reference, prop, inputs[prop.case],
                                    {"ok": True, "value": expected[prop.case]},
                                    None if ref_transformed is None else {"ok": True, "value": ref_transformed},
                                    wanted, trusted=True)
        if problem:
            raise ValueError(f"spec error: the reference fails property {prop.name!r}: {problem}")
        problem = _property_failure(question, reference, prop, inputs[prop.case], base, transformed, wanted)
        label = f"property {prop.name}" + (f" ({prop.description})" if prop.description else "")
        case = options.cases[prop.case]
        inputs_text = "" if prop.hidden or case.hidden else _inputs_text(case, inputs[prop.case])
        checks.append(CaseResult(name=label, passed=problem is None, message=problem or "", hidden=prop.hidden,
                                 weight=prop.weight, inputs=inputs_text))
    return checks


def _property_failure(question: Question, reference: Reference, prop: Property, args: list[Any],
                      base: Mapping[str, Any], transformed: Mapping[str, Any] | None,
                      wanted: tuple[Any, Any], trusted: bool = False) -> str | None:
    """Why an output breaks `prop`, or None. `wanted` holds the reference's outputs for the
    case and for the changed inputs: NaN and infinity fail a property before it is looked
    at, unless the reference has them at the same places (a NaN output scales to NaN and is
    never negative, so it would otherwise pass). `trusted`: the output is the reference's."""
    options: CodeOptions = question.options
    if not base.get("ok"):
        return _call_failure(base)
    output = _plain(base.get("value"))
    degenerate = cv.nonfinite_failure(output, wanted[0]) or cv.empty_failure(output, wanted[0])
    if degenerate:
        return degenerate
    if prop.transform is not None:
        assert transformed is not None
        if not transformed.get("ok"):
            return "on the changed inputs the code " + _call_failure(transformed)
        changed = ", ".join(f"{k} {_ops_text(v)}" for k, v in prop.transform.items())
        nonfinite = cv.nonfinite_failure(_plain(transformed.get("value")), wanted[1])
        if nonfinite:
            return f"after changing {changed}, {nonfinite}"
        try:
            want = cv.transform(output, prop.expect)
        except (TypeError, ValueError) as error:
            return f"the output cannot be compared ({error})"
        diff = cv.compare(transformed.get("value"), want, cv.Policy(options.tolerance, "any", "ignore"))
        return None if diff is None else f"after changing {changed}, {diff.message}"
    if prop.output is not None:
        return cv.predicate_failure(output, prop.output, options.tolerance, wanted[0])
    fn = solutions.function(reference.solutions_root, reference.module, prop.check or "")
    solutions.check_positional(fn, 1 + len(args), "a property check the output, then the case args,")
    try:
        verdict = fn(output, *code_models.materialise(args))
    except Exception as error:
        if trusted:  # the reference's own output: the check itself is broken, a spec error
            raise
        # a student's output the check did not foresee (a string, a wrong shape) fails it
        return f"the output does not pass {prop.check}() (checking it raised {type(error).__name__})"
    if verdict is True or verdict is None:
        return None
    return verdict if isinstance(verdict, str) else f"the output does not pass {prop.check}()"


def _plain(value: Any) -> Any:
    """Decoded sandbox values to plain numpy for transforms and predicates."""
    if isinstance(value, sandbox.TensorInfo):
        return value.array if value.array is not None else value
    if type(value).__module__.startswith("torch"):
        return value.detach().cpu().numpy()
    return value


def _ops_text(ops: Any) -> str:
    if ops == "same":
        return "unchanged"
    return " ".join(f"{k} {v}" if v is not True else k for k, v in ops.items())


# ----------------------------------------------------------------------------- verdict


def _verdict(question: Question, checks: list[CaseResult], run: RunRecord, visible: bool = False) -> Verdict:
    total = sum(c.weight for c in checks)
    earned = sum(c.weight for c in checks if c.passed)
    fraction = earned / total if total else 0.0
    passed = sum(1 for c in checks if c.passed)
    failed = next((c for c in checks if not c.passed), None)
    notes = sorted({c.note for c in checks if c.note})
    count = f"{passed}/{len(checks)} visible checks pass" if visible else f"{passed} of {len(checks)} checks pass"
    status: Status
    if failed is None:
        feedback = f"{count}." if visible else f"All {len(checks)} checks pass."
        status = "correct"
    else:
        feedback = f"{count}. " + _failure_text(question, failed)
        status = "partial" if fraction > 0 else "incorrect"
    if notes and failed is None:
        feedback += " Note: " + notes[0]
    return Verdict(status, round(fraction, 6), feedback, cases=tuple(checks), run=run)


def _failure_text(question: Question, check: CaseResult) -> str:
    options: CodeOptions = question.options
    if check.hidden:
        return f"A hidden check failed ({check.name}): {_sentence(check.message)}"
    lines = [f"First failing check, {check.name}: {_sentence(check.message)}"]
    if check.inputs:
        lines.append(f"  {options.function}({check.inputs})")
    if check.expected:
        lines.append(f"  expected: {check.expected}")
    if check.got:
        lines.append(f"  got:      {check.got}")
    return "\n".join(lines)


def _sentence(message: str) -> str:
    """The message ended with a full stop, unless it ends with its own punctuation or with a
    line of the student's code (a trace): a stop there would read as part of the code."""
    if "\n" in message or message.endswith((".", "!", "?", ":")):
        return message
    return message + "."


# ----------------------------------------------------------------------------- release hook


def visible_cases(question: Question, reference: Reference) -> list[dict[str, Any]]:
    """The visible cases with their reference outputs, for the student bundle."""
    options: CodeOptions = question.options
    inputs = build_inputs(options, reference.params)
    shown = [(case, args) for case, args in zip(options.cases, inputs) if not case.hidden and case.compare]
    outputs = reference_outputs(reference, [args for _, args in shown])
    return [{"name": case.name, "args": code_models.shippable(args), "kwargs": {}, "expected": out,
             "arg_names": list(case.arg_names)} for (case, args), out in zip(shown, outputs)]


# ----------------------------------------------------------------------------- validate hook


def _as_received(value: Any) -> Any:
    """What the grader would decode had a student returned `value` (same wire format)."""
    import sys

    from grader.sandbox import protocol

    return protocol.decode(protocol.encode(value, sys.modules.get("torch")))


def prove(question: Question, reference: Reference) -> list[str]:
    """The references run, pass their own checks and properties, survive the sandbox's wire
    format, and every known mistake fails some case. (The kind then runs the decoys.)"""
    options: CodeOptions = question.options
    problems: list[str] = []
    try:
        inputs = build_inputs(options, reference.params)
        calls = all_calls(options, inputs)
        expected = reference_outputs(reference, calls)
        results = [{"ok": True, "value": _as_received(out)} for out in expected]
        want = received(expected[:len(options.cases)])
        checks = compare_cases(question, options.cases, inputs, results, want)
        checks += _check_properties(question, reference, inputs, results, expected)
    except Exception as exc:
        return [f"reference does not run on the cases: {type(exc).__name__}: {exc}"]
    problems += [f"the reference fails its own check {c.name}: {c.message}" for c in checks if not c.passed]
    for index, mistake in enumerate(question.mistakes):
        if not mistake.answer.is_solution:
            problems.append(f"mistakes[{index}]: a code mistake is {{solution: function_name}}")
            continue
        wrong = dataclasses.replace(reference, function=mistake.answer.solution or "")
        try:
            outputs = reference_outputs(wrong, calls[:len(options.cases)])
        except Exception as exc:
            problems.append(f"mistakes[{index}] does not run: {exc}")
            continue
        got = [{"ok": True, "value": value} for value in received(outputs)]
        fails = [not c.passed for c in compare_cases(question, options.cases, inputs, got, want)]
        if not any(fails):
            problems.append(f"mistakes[{index}] passes every case, so it can never be reached")
    return problems


# ----------------------------------------------------------------------------- grader check


def check_visible(question: Question, answer: CodeAnswer, cases: list[Mapping[str, Any]]) -> Verdict:
    """Run the released visible checks through the comparison grading uses (compare_cases):
    the bundle ships each expected value in the received form, so `returns: same` tells a
    torch tensor from a numpy array here exactly as it does when graded."""
    options: CodeOptions = question.options
    inputs = [_visible_args(case.get("args", [])) for case in cases]
    kwargs = [dict(case.get("kwargs") or {}) for case in cases]
    outcome = sandbox.run(sandbox.Job(DRIVER, answer.module, _payload(options, inputs, kwargs), options.limits))
    run = _record(outcome, answer)
    failure = _run_failure(outcome, len(inputs), run)
    if failure is not None:
        return failure
    shown = [_visible_case(case, index, args) for index, (case, args) in enumerate(zip(cases, inputs))]
    checks = compare_cases(question, shown, inputs, outcome.value, [case.get("expected") for case in cases])
    return _verdict(question, checks, _with_call_limits(run, outcome.value), visible=True)


def _visible_args(args: Sequence[Any]) -> list[Any]:
    """A visible check's arguments as grading builds them: model stand-ins become recipes
    (a malformed one stays as it is, for the child to refuse as that check's failure)."""
    return [_recipe_or_stand_in(arg) for arg in args]


def _recipe_or_stand_in(arg: Any) -> Any:
    spec = code_models.marker_spec(arg)
    if spec is None:
        return arg
    try:
        return code_models.recipe(spec)
    except ValueError:
        return arg


def _visible_case(case: Mapping[str, Any], index: int, args: Sequence[Any]) -> Case:
    names = case.get("arg_names")
    if not (isinstance(names, list) and len(names) == len(args) and all(isinstance(n, str) for n in names)):
        names = [f"arg{i + 1}" for i in range(len(args))]
    return Case(name=str(case.get("name", f"check {index + 1}")), args=tuple(args), arg_names=tuple(names))
