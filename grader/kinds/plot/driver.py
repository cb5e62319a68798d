"""Trusted driver for `plot` questions: call a plotting function, describe what it drew.

Runs inside the sandbox child (see `grader.sandbox`), headless (Agg). Everything this
module needs is imported at the top: the grader package is unreadable once the child has
locked itself down. The figure never leaves the child as an object: what crosses is plain
data (per axes: the points of each scatter and line, the labels, the title) and a small
PNG rendered at a bounded size, so a huge figure costs the child, not the grader. The
student's code runs in this process, so the grader judges all of it itself and refuses a
report outside `grader.kinds.plot.bounds`.
"""

from __future__ import annotations

import inspect
import io
from types import ModuleType
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from grader.kinds.plot.bounds import MAX_AXES, MAX_LABEL, MAX_LEGEND, MAX_POINTS, MAX_SERIES, MAX_TEXT  # noqa: E402
from grader.sandbox.child import StudentError  # noqa: E402

PNG_INCHES = (6.4, 4.8)
PNG_DPI = 72
MAX_PNG_BYTES = 400_000
_NO_LINE = {"None", "none", "", " "}


def draw(module: ModuleType | None, payload: Mapping[str, Any]) -> dict[str, Any]:
    """payload: function, args (positional), params (keyword, passed by the function's signature
    when by_signature is set: how reference solutions are called)."""
    plt.close("all")
    function = _function(module, payload["function"])
    args = list(payload.get("args") or [])
    kwargs = _by_signature(function, dict(payload.get("params") or {})) if payload.get("by_signature") else {}
    result = function(*args, **kwargs)
    figure, note = _figure_of(result)
    if figure is None:
        return {"returned": _type_name(result)[:MAX_TEXT], "note": note}
    return {"returned": _type_name(result)[:MAX_TEXT], "note": note, **describe(figure)}


def _function(module: ModuleType | None, name: str) -> Any:
    if module is None:
        raise StudentError("exception", "no module was handed in")
    function = module.__dict__.get(name)
    filename = module.__name__.split("_", 1)[-1] + ".py"
    if function is None:
        raise StudentError("exception", f"{filename} does not define {name}()")
    if not callable(function):
        raise StudentError("exception", f"{name} in {filename} is not a function")
    return function


def _by_signature(function: Any, params: dict[str, Any]) -> dict[str, Any]:
    parameters = inspect.signature(function).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return params
    return {k: v for k, v in params.items() if k in parameters}


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__


def _figure_of(result: Any) -> tuple[Figure | None, str]:
    """The figure to grade, and a note when it was not returned the way the question asks."""
    if isinstance(result, Figure):
        return result, ""
    if isinstance(result, Axes):
        return _root_figure(result), ""
    if isinstance(result, (tuple, list)) and len(result) <= 8:
        for item in result:
            if isinstance(item, (Figure, Axes)):
                figure = item if isinstance(item, Figure) else _root_figure(item)
                return figure, "the function returned a tuple; the figure in it was graded"
    if result is None and plt.get_fignums():
        return plt.gcf(), "the function returned None; the current figure was graded (return the Figure)"
    return None, ""


def _root_figure(axes: Axes) -> Figure | None:
    """The Figure an Axes is drawn on, through any SubFigure (which cannot be saved as a PNG)."""
    figure = axes.get_figure()
    while figure is not None and not isinstance(figure, Figure):
        figure = figure.get_figure()
    return figure


def describe(figure: Figure) -> dict[str, Any]:
    budget = [MAX_POINTS]
    axes = [_axes(ax, budget) for ax in figure.axes[:MAX_AXES]]
    suptitle = figure.get_suptitle()
    return {"axes": axes, "axes_count": len(figure.axes), "suptitle": str(suptitle)[:MAX_TEXT], "png": _png(figure)}


def _axes(ax: Axes, budget: list[int]) -> dict[str, Any]:
    series = []
    for collection in ax.collections:
        if isinstance(collection, PathCollection):
            series.append(("scatter", collection.get_offsets(), collection.get_label()))
    for line in ax.get_lines():
        markers = line.get_marker() not in (None, "None", "none", "", " ")
        kind = "scatter" if markers and line.get_linestyle() in _NO_LINE else "line"
        series.append((kind, line.get_xydata(), line.get_label()))
    legend = ax.get_legend()
    return {
        "title": " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t)[:MAX_TEXT],
        "xlabel": str(ax.get_xlabel())[:MAX_TEXT], "ylabel": str(ax.get_ylabel())[:MAX_TEXT],
        "legend": ([str(t.get_text())[:MAX_LABEL] for t in legend.get_texts()[:MAX_LEGEND]]
                   if legend is not None else None),
        "series": [_series(kind, data, label, budget) for kind, data, label in series[:MAX_SERIES]],
        "series_count": len(series),
    }


def _series(kind: str, data: Any, label: Any, budget: list[int]) -> dict[str, Any]:
    try:
        points = np.ma.filled(np.ma.asarray(data, dtype=np.float64), np.nan).reshape(-1, 2)
    except (TypeError, ValueError):
        return {"type": kind, "points": None, "count": 0, "label": str(label)[:MAX_LABEL]}
    count = len(points)
    if count > budget[0]:
        raise StudentError("exception", f"the figure draws more than {MAX_POINTS:,} points; "
                                        "plot the data the question gives")
    budget[0] -= count
    return {"type": kind, "points": np.ascontiguousarray(points), "count": count, "label": str(label)[:MAX_LABEL]}


def _png(figure: Figure) -> bytes | None:
    """A PNG of at most PNG_INCHES at PNG_DPI, whatever size the code asked for."""
    width, height = figure.get_size_inches()
    scale = min(1.0, PNG_INCHES[0] / max(width, 1e-3), PNG_INCHES[1] / max(height, 1e-3))
    figure.set_size_inches(max(width * scale, 1.0), max(height * scale, 1.0))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI)
    data = buffer.getvalue()
    return data if len(data) <= MAX_PNG_BYTES else None
