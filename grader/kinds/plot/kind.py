"""`plot`: the student's function returns a matplotlib Figure (or Axes); the grader checks what it drew.

    - id: d
      kind: plot
      function: plot_data
      args: [x, y]                  # exercise params, passed in this order
      plot_type: scatter            # scatter | line | any
      require: [xlabel, ylabel]     # labels that must not be empty: xlabel, ylabel, title, legend
      answer: {solution: plot_data}

Both the student's function and the reference run through the same trusted driver
(`grader.kinds.plot.driver`) in the sandbox with the headless Agg backend; what crosses is
plain data per axes (points of each scatter and line, labels, title) and a small PNG,
in separate children (no job can see another's). The child is the student's process, so
its report is only data: every check is made here, and a report outside
`grader.kinds.plot.bounds` (too many points, a PNG that is not a small, whole PNG) is the
student's error. The points must match the reference's as a set (order does not matter) within the
tolerance, per axes when the reference has several. Credit: the points drawn with the
right plot type earn half, the required labels the other half; the points drawn with the
wrong type earn half of that. Wrong points earn nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from grader.core import registry
from grader.core.model import CodeAnswer, Question, Reference, Verdict
from grader.core.results import CaseResult
from grader.kinds.common import CodeAnswered, error_text, load_limits, run_record
from grader.kinds.plot import bounds
from grader.sandbox import LIMITS_SCHEMA, Job, Limits, Outcome

DRIVER = "grader.kinds.plot.driver:draw"
PLOT_TYPES = ("scatter", "line", "any")
LABELS = ("xlabel", "ylabel", "title", "legend")
MAX_CANDIDATES = 4_000_000
"""Point pairs that the sorted matcher may compare before it falls back to blocks."""
BLOCK = 128
_ID = r"^[A-Za-z_][A-Za-z0-9_]*$"


@dataclass(frozen=True)
class PlotOptions:
    function: str
    args: tuple[str, ...] = ()
    plot_type: str = "any"
    require: tuple[str, ...] = ()
    rel: float = 1e-3
    """Point tolerance, relative to the reference data's extent on each axis."""
    abs: float = 1e-9
    limits: Limits = field(default_factory=lambda: Limits(wall_s=20.0, cpu_s=20.0, threads=1))


@dataclass(frozen=True)
class Drawn:
    """What the driver reported about one figure, checked field by field."""

    returned: str
    note: str
    axes: tuple[dict[str, Any], ...] | None
    """None when the function returned no figure."""
    suptitle: str = ""
    png: bytes | None = None


def plot_case(name: str, passed: bool, message: str = "") -> CaseResult:
    """One check of the figure (points, plot type, a label) as a case of the report's test table."""
    return CaseResult(name=name, passed=passed, message=message)


class _Malformed(ValueError):
    """The driver's report is not what it writes, or lies outside `bounds`: tampering or a bug."""


# ----------------------------------------------------------------------------- options


def load_plot_options(raw: Mapping[str, Any]) -> PlotOptions:
    function = raw.get("function")
    if not isinstance(function, str) or not function.isidentifier():
        raise registry.OptionError("function must name the plotting function, e.g. function: plot_data", "function")
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) and a.isidentifier() for a in args):
        raise registry.OptionError("args must be a list of exercise param names, e.g. [x, y]", "args")
    plot_type = raw.get("plot_type", "any")
    if plot_type not in PLOT_TYPES:
        raise registry.OptionError(f"plot_type must be one of {', '.join(PLOT_TYPES)}, got {plot_type!r}", "plot_type")
    require = raw.get("require", [])
    if not isinstance(require, list) or any(r not in LABELS for r in require):
        raise registry.OptionError(f"require must be a list of {', '.join(LABELS)}", "require")
    tolerance = raw.get("tolerance") or {}
    if not isinstance(tolerance, Mapping) or set(tolerance) - {"rel", "abs"} or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1e6 for v in tolerance.values()):
        raise registry.OptionError("tolerance must be {rel: number, abs: number}", "tolerance")
    limits = load_limits(raw.get("limits"), Limits(wall_s=20.0, cpu_s=20.0, threads=1))
    return PlotOptions(function=function, args=tuple(args), plot_type=plot_type, require=tuple(dict.fromkeys(require)),
                       rel=float(tolerance.get("rel", 1e-3)), abs=float(tolerance.get("abs", 1e-9)),
                       limits=limits)


# ----------------------------------------------------------------------------- running


def run_student(options: PlotOptions, answer: CodeAnswer) -> Outcome:
    from grader import sandbox

    missing = [a for a in options.args if a not in answer.params]
    if missing:
        raise ValueError(f"the exercise has no param {missing[0]!r} for args")
    payload = {"function": options.function, "args": [answer.params[a] for a in options.args]}
    return sandbox.run(Job(DRIVER, answer.module, payload, _limits(options)))


def _limits(options: PlotOptions) -> Limits:
    """The question's limits, with no more result than an honest report takes."""
    return replace(options.limits, result_bytes=min(options.limits.result_bytes, bounds.RESULT_BYTES))


def reference_drawing(options: PlotOptions, reference: Reference) -> Drawn:
    """The reference's figure through the same driver, once per variant and reference text
    (kept in the course's memo); ValueError if it fails."""
    from grader.authoring import solutions

    path = solutions.module_path(reference.solutions_root, reference.module)
    source = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    key = (str(path), source, reference.function, json.dumps(reference.params, sort_keys=True, default=repr),
           options.limits)
    return reference.memo.get("plot reference", key, lambda: _draw_reference(options, reference, path))


def _draw_reference(options: PlotOptions, reference: Reference, path: Path) -> Drawn:
    from grader import sandbox

    payload = {"function": reference.function, "params": dict(reference.params), "by_signature": True}
    outcome = sandbox.run(Job(DRIVER, path, payload, _limits(options)))
    if not outcome.ok:
        raise ValueError(f"the reference {reference.function}() did not draw: {outcome.error}")
    drawn = read_drawing(outcome.value)
    if drawn.axes is None:
        raise ValueError(f"the reference {reference.function}() returned {drawn.returned}, not a figure")
    return drawn


def _text(value: Any, name: str, limit: int = bounds.MAX_TEXT) -> str:
    if type(value) is not str:
        raise _Malformed(f"{name} is not text")
    return value[:limit]


def _series(raw: Any) -> dict[str, Any]:
    import numpy as np

    if type(raw) is not dict or raw.get("type") not in ("scatter", "line"):
        raise _Malformed("a series is malformed")
    points = raw.get("points")
    if points is not None and (type(points) is not np.ndarray or points.dtype != np.float64
                               or points.ndim != 2 or points.shape[1] != 2):
        raise _Malformed("series points are malformed")
    return {"type": raw["type"], "points": points, "label": _text(raw.get("label", ""), "label", bounds.MAX_LABEL)}


def _axes(raw: Any) -> dict[str, Any]:
    if type(raw) is not dict or type(raw.get("series")) is not list:
        raise _Malformed("an axes is malformed")
    if len(raw["series"]) > bounds.MAX_SERIES:
        raise _Malformed(f"an axes has {len(raw['series'])} series described (the driver sends at most "
                         f"{bounds.MAX_SERIES})")
    legend = raw.get("legend")
    if legend is not None and (type(legend) is not list or not all(type(t) is str for t in legend)):
        raise _Malformed("a legend is malformed")
    if legend is not None and len(legend) > bounds.MAX_LEGEND:
        raise _Malformed(f"a legend has {len(legend)} entries (the driver sends at most {bounds.MAX_LEGEND})")
    return {"title": _text(raw.get("title"), "title"), "xlabel": _text(raw.get("xlabel"), "xlabel"),
            "ylabel": _text(raw.get("ylabel"), "ylabel"),
            "legend": None if legend is None else [t[:bounds.MAX_LABEL] for t in legend],
            "series": [_series(s) for s in raw["series"]]}


def read_drawing(value: Any) -> Drawn:
    """The driver's report, checked field by field and against `bounds`: the child is
    untrusted. The PNG must be a small, whole PNG before it goes into a result."""
    if type(value) is not dict:
        raise _Malformed("the report is not a mapping")
    returned, note = _text(value.get("returned"), "returned"), _text(value.get("note", ""), "note")
    if "axes" not in value:
        return Drawn(returned, note, None)
    if type(value["axes"]) is not list:
        raise _Malformed("axes are malformed")
    if len(value["axes"]) > bounds.MAX_AXES:
        raise _Malformed(f"it describes {len(value['axes'])} axes (the driver sends at most {bounds.MAX_AXES})")
    axes = tuple(_axes(a) for a in value["axes"])
    points = sum(len(s["points"]) for ax in axes for s in ax["series"] if s["points"] is not None)
    if points > bounds.MAX_POINTS:
        raise _Malformed(f"it sent {points:,} points (the driver sends at most {bounds.MAX_POINTS:,})")
    png = value.get("png")
    if png is not None:
        problem = png_problem(png)
        if problem:
            raise _Malformed(f"the figure's PNG {problem}")
    return Drawn(returned, note, axes, _text(value.get("suptitle", ""), "suptitle"), png)


def png_problem(png: Any) -> str | None:
    """None for a small, whole PNG; else what is wrong with it."""
    if type(png) is not bytes:
        return "is not bytes"
    return bounds.png_problem(png)


# ----------------------------------------------------------------------------- comparing points


def _within(a: Any, b: Any, tol: Any) -> Any:
    """For each row of a: is some row of b within tol on both axes?

    b is reduced to its distinct points and sorted along the axis where the tolerance
    windows hold fewer candidates; each point of a then only looks inside its window
    (searchsorted), so ordinary data costs O(n log n). Degenerate data (thousands of
    points in one window on both axes) falls back to small brute-force blocks: slower,
    but memory stays bounded."""
    import numpy as np

    found = np.zeros(len(a), dtype=bool)
    b = b[np.isfinite(b).all(axis=1)]
    if len(a) == 0 or len(b) == 0:
        return found
    b = np.unique(b, axis=0)
    best = min((_windows(a, b, tol, axis) for axis in (0, 1)), key=lambda w: int(w[2].sum()))
    axis, lo, counts = best
    total = int(counts.sum())
    if total > MAX_CANDIDATES:
        return _within_blocks(a, b, tol)
    other = 1 - axis
    order = np.argsort(b[:, axis], kind="stable")
    rows = np.repeat(np.arange(len(a)), counts)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    candidates = order[starts + np.arange(total)]
    close = np.abs(b[candidates, other] - a[rows, other]) <= tol[other]
    found[np.unique(rows[close])] = True
    return found


def _windows(a: Any, b: Any, tol: Any, axis: int) -> tuple[int, Any, Any]:
    """(axis, first index, count) of the b rows within tol of each a row along one axis."""
    import numpy as np

    values = np.sort(b[:, axis], kind="stable")
    lo = np.searchsorted(values, a[:, axis] - tol[axis], side="left")
    hi = np.searchsorted(values, a[:, axis] + tol[axis], side="right")
    return axis, lo, np.maximum(hi - lo, 0)


def _within_blocks(a: Any, b: Any, tol: Any) -> Any:
    import numpy as np

    found = np.zeros(len(a), dtype=bool)
    for start in range(0, len(a), BLOCK):
        block = a[start:start + BLOCK]
        close = (np.abs(block[:, None, 0] - b[None, :, 0]) <= tol[0]) & (np.abs(block[:, None, 1] - b[None, :, 1]) <= tol[1])
        found[start:start + BLOCK] = close.any(axis=1)
    return found


def tolerance_for(expected: Any, rel: float, absolute: float) -> Any:
    """Per-axis tolerance: rel of the reference data's extent (or size, for a single point)."""
    import numpy as np

    finite = expected[np.isfinite(expected).all(axis=1)]
    if len(finite) == 0:
        return np.array([absolute, absolute])
    extent = np.maximum(finite.max(axis=0) - finite.min(axis=0), np.abs(finite).max(axis=0))
    return rel * extent + absolute


def same_points(got: Any, expected: Any, tol: Any) -> tuple[bool, int, int]:
    """(match, expected points not drawn, drawn points not expected): sets with tolerance.

    Counts must agree as well, so drawing a point twice or once too few is caught."""
    missing = int((~_within(expected, got, tol)).sum())
    extra = int((~_within(got, expected, tol)).sum())
    return missing == 0 and extra == 0 and len(got) == len(expected), missing, extra


def _points(axes: list[dict[str, Any]], plot_type: str) -> Any:
    import numpy as np

    chunks = [s["points"] for ax in axes for s in ax["series"]
              if s["points"] is not None and plot_type in ("any", s["type"])]
    return np.concatenate(chunks) if chunks else np.zeros((0, 2))


def _data_axes(drawn: Drawn) -> list[dict[str, Any]]:
    return [ax for ax in drawn.axes or () if any(s["points"] is not None and len(s["points"]) for s in ax["series"])]


def _pairs(student: Drawn, reference: Drawn) -> list[tuple[list[dict], list[dict]]] | None:
    """Which student axes to compare with which reference axes; None if the layout differs."""
    expected = _data_axes(reference)
    got = _data_axes(student)
    if len(expected) <= 1:
        return [(got, expected)]
    if len(got) != len(expected):
        return None
    return [([g], [e]) for g, e in zip(got, expected)]


def _point(p: Any) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in p) + ")"


def compare_points(student: Drawn, reference: Drawn, options: PlotOptions) -> tuple[CaseResult, CaseResult]:
    """(points check, plot-type check).

    With a plot type, the student's points of that type must be the reference's (extra
    artists of another type, such as a fitted line over a scatter, are tolerated); the right
    points drawn as the wrong type pass the points check but not the type check."""
    pairs = _pairs(student, reference)
    if pairs is None:
        layout = (f"the figure has {len(_data_axes(student))} plots with data; "
                  f"the question expects {len(_data_axes(reference))}")
        return plot_case("points", False, layout), plot_case("plot type", False)
    typed_ok, any_ok, messages, drawn = True, True, [], 0
    for index, (got_axes, expected_axes) in enumerate(pairs):
        expected = _points(expected_axes, options.plot_type)
        if len(expected) == 0:
            expected = _points(expected_axes, "any")
        tol = tolerance_for(expected, options.rel, options.abs)
        typed = _points(got_axes, options.plot_type)
        if same_points(typed, expected, tol)[0]:
            drawn += len(typed)
            continue
        typed_ok = False
        got = _points(got_axes, "any")
        match, missing, extra = same_points(got, expected, tol)
        if match:
            drawn += len(got)
            continue
        any_ok = False
        where = f" in plot {index + 1}" if len(pairs) > 1 else ""
        messages.append(_points_message(got, expected, tol, missing, extra, where))
    if not any_ok:
        return plot_case("points", False, " ".join(messages)), plot_case("plot type", False)
    kind = {"scatter": "a scatter plot (markers, no connecting line)", "line": "a line plot"}.get(options.plot_type, "")
    type_check = plot_case(f"plot type: {options.plot_type}", typed_ok,
                       "" if typed_ok else f"the points are right, but the question asks for {kind}")
    return plot_case("points", True, f"{drawn} points, as expected"), type_check


def _points_message(got: Any, expected: Any, tol: Any, missing: int, extra: int, where: str) -> str:
    if len(got) == 0:
        return f"Nothing was drawn{where}: no scatter points or lines."
    if len(got) == len(expected) and same_points(got[:, ::-1], expected, tol)[0]:
        return f"The points{where} have x and y swapped."
    text = f"Your figure draws {len(got)} points{where}, the reference {len(expected)}"
    if missing or extra:
        text += f"; {missing} expected points are not drawn and {extra} drawn points are not in the data"
        stray = got[~_within(got, expected, tol)]
        if len(stray):
            text += f" (e.g. {_point(stray[0])})"
    return text + "."


def label_checks(student: Drawn, options: PlotOptions) -> list[CaseResult]:
    """Each required label must appear on some plot with data (subplots often share the
    outer labels), or on the figure itself for a title."""
    axes = _data_axes(student) or list(student.axes or ())
    checks = []
    for label in options.require:
        if label == "legend":
            ok = any(ax["legend"] for ax in axes)
        elif label == "title":
            ok = bool(student.suptitle.strip()) or any(ax["title"].strip() for ax in axes)
        else:
            ok = any(ax[label].strip() for ax in axes)
        checks.append(plot_case(label, ok, "" if ok else f"the plot has no {_LABEL_NAMES[label]}"))
    return checks


_LABEL_NAMES = {"xlabel": "x-axis label", "ylabel": "y-axis label", "title": "title", "legend": "legend"}


# ----------------------------------------------------------------------------- verdicts


def _png64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def verdict_for(options: PlotOptions, outcome: Outcome, reference: Drawn, module: Path | None = None) -> Verdict:
    """The verdict on one run of the student's plotting function (the code in `module`).
    The figures stay in details (kind-private); the checks are cases, the run a RunRecord."""
    base = {"reference_png_b64": _png64(reference.png)}
    run = run_record(outcome, module, device="cpu")  # Agg draws on the CPU; the child sees no GPU
    if not outcome.ok:
        fault = outcome.error_kind == "sandbox"
        lead = "The grader could not run your plot (grader fault)" if fault else f"Calling {options.function}() failed"
        return Verdict("error", 0.0, f"{lead}: {error_text(outcome)}", base, run=run,
                       fault="grader" if fault else "student")
    try:
        drawn = read_drawing(outcome.value)
    except _Malformed as exc:
        return Verdict("error", 0.0, f"The results your code sent back do not add up (tampering?): {exc}.",
                       base, run=run, fault="student")
    if drawn.axes is None:
        return Verdict("incorrect", 0.0, f"{options.function}() returned {drawn.returned}; it must return the "
                                         "matplotlib Figure (fig) or Axes (ax) it drew on.", base, run=run)
    points, plot_type = compare_points(drawn, reference, options)
    labels = label_checks(drawn, options)
    typed = options.plot_type != "any" and points.passed  # the type is judged only on the right points
    cases = [points] + ([plot_type] if typed else []) + labels
    fraction = _fraction(points.passed, plot_type.passed or options.plot_type == "any", labels)
    details = {**base, "figure_png_b64": _png64(drawn.png)}
    notes = [_sentence(c.message) for c in cases if not c.passed and c.message]
    if drawn.note:
        notes.append(f"Note: {_sentence(drawn.note)}")
    if fraction == 1.0:
        return Verdict("correct", 1.0, " ".join(["The figure shows the right points."] + notes), details,
                       cases=tuple(cases), run=run)
    return Verdict("partial" if fraction > 0 else "incorrect", fraction, " ".join(notes), details,
                   cases=tuple(cases), run=run)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _fraction(points: bool, typed: bool, labels: list[CaseResult]) -> float:
    if not points:
        return 0.0
    drawing = 1.0 if typed else 0.5
    if not labels:
        return drawing
    return drawing * (0.5 + 0.5 * sum(c.passed for c in labels) / len(labels))


# ----------------------------------------------------------------------------- the kind


class PlotKind(CodeAnswered):
    name = "plot"
    sandbox_modules = (DRIVER.split(":")[0],)
    option_keys = {
        "function": {"type": "string", "pattern": _ID, "description": "the plotting function to call"},
        "args": {"type": "array", "items": {"type": "string", "pattern": _ID},
                 "description": "exercise params passed to the function, in order"},
        "plot_type": {"enum": list(PLOT_TYPES)},
        "require": {"type": "array", "items": {"enum": list(LABELS)}},
        "tolerance": {"type": "object", "additionalProperties": False,
                      "properties": {"rel": {"type": "number", "minimum": 0}, "abs": {"type": "number", "minimum": 0}}},
        "limits": LIMITS_SCHEMA,
    }
    supports_mistakes = False
    public_keys = ("function",)
    """The function students must define is part of the question; nothing else is shipped."""

    def load_options(self, raw: Mapping[str, Any]) -> PlotOptions:
        return load_plot_options(raw)

    def requires(self, question: Question) -> list[registry.Requirement]:
        return [registry.Requirement("matplotlib", "matplotlib", "drawing the plot")]

    def check(self, question: Question, value: CodeAnswer, expected: Reference) -> Verdict:
        options: PlotOptions = question.options
        reference = reference_drawing(options, expected)
        return verdict_for(options, run_student(options, value), reference, value.module)

    def prove(self, question: Question, expected: Any) -> list[str]:
        """`grader validate`: the reference draws, has data, and passes its own checks."""
        if not isinstance(expected, Reference):
            return ["the answer must be {solution: function} naming the reference plot"]
        options: PlotOptions = question.options
        try:
            reference = reference_drawing(options, expected)
        except (ValueError, _Malformed) as exc:
            return [str(exc)]
        if not _data_axes(reference):
            return [f"the reference {expected.function}() draws no points"]
        problems = []
        if options.plot_type != "any" and not any(s["type"] == options.plot_type
                                                  for ax in _data_axes(reference) for s in ax["series"]):
            problems.append(f"the reference draws no {options.plot_type} although plot_type says so")
        problems += [f"the reference lacks a required {c.name}" for c in label_checks(reference, options)
                     if not c.passed]
        missing = [a for a in options.args if a not in expected.params]
        if missing:
            problems.append(f"args names {missing[0]!r}, which is not an exercise param")
        return problems

    def show(self, value: Any, question: Question) -> str:
        module = value.module.name if isinstance(value, CodeAnswer) and value.module else "the submission"
        return f"{question.options.function}() in {module}"

    def describe_expected(self, question: Question) -> str:
        """Revealing a plot question shows the reference figure beside the student's."""
        return "the reference figure, shown beside yours"


registry.register(PlotKind())
