"""The `plot` kind through the real sandbox: what the student's function drew is compared with
the reference's drawing; hostile plotting code ends as `error`/`incorrect` with a clear message."""

from __future__ import annotations

import base64
import json
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import api
from grader.core import registry
from grader.kinds.plot import kind as plot_kind
from grader.core.model import CodeAnswer, Question, Reference, Verdict
from grader.sandbox import Outcome

from tests.conftest import EXAMPLES, EXERCISES

KIND = registry.get("plot")
PARAMS = {"x": [1, 2, 3], "y": [1.5, 2, 2.5]}
OPTIONS = {"function": "plot_data", "args": ["x", "y"], "plot_type": "scatter", "require": ["xlabel", "ylabel"]}
REFERENCE = """
import matplotlib.pyplot as plt
def plot_data(x, y):
    fig, ax = plt.subplots()
    ax.scatter(x, y)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return fig
def two_panels(x, y):
    fig, (left, right) = plt.subplots(1, 2)
    left.scatter(x, y)
    right.plot(x, [v * 2 for v in y])
    return fig
"""
HEADER = "import matplotlib.pyplot as plt\nimport numpy as np\n"


def question(**changes: Any) -> Question:
    return Question(id="d", kind="plot", points=1, prompt="", answer=None,
                    options=KIND.load_options({**OPTIONS, **changes}))


@pytest.fixture(scope="module")
def solutions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("solutions")
    (root / "ref.py").write_text(REFERENCE)
    return root


def grade(folder: Path, solutions: Path, body: str, reference: str = "plot_data", **changes: Any) -> Verdict:
    module = folder / "ex01.py"
    module.write_text(HEADER + textwrap.dedent(body))
    value = CodeAnswer(folder, module, "s1", "ex01", PARAMS)
    return KIND.check(question(**changes), value, Reference(solutions, "ref", reference, PARAMS))


# ----------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize("body, status, fraction, says", [
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(x, y)
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "correct", 1.0, "The figure shows the right points."),
    # order does not matter; an Axes is as good as a Figure; markers without a line are a scatter
    ("""
     def plot_data(x, y):
         ax = plt.figure().gca()
         ax.plot(x[::-1], y[::-1], "o")
         ax.set_xlabel("x [m]"); ax.set_ylabel("y [m]")
         return ax
     """, "correct", 1.0, "right points"),
    # float32 rounding stays inside the tolerance
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(np.float32(x) + 1e-6, np.float32(y))
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "correct", 1.0, "right points"),
    # returning (fig, ax) is graded, with a note
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(x, y)
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig, ax
     """, "correct", 1.0, "Note: The function returned a tuple"),
    # returned None after drawing with pyplot: graded, with a note; labels missing cost half
    ("""
     def plot_data(x, y):
         plt.scatter(x, y)
     """, "partial", 0.5, "The plot has no x-axis label. The plot has no y-axis label. Note: The function returned None"),
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.plot(x, y)
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "partial", 0.5, "The points are right, but the question asks for a scatter plot"),
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(x, y)
         ax.set_xlabel("x")
         return fig
     """, "partial", 0.75, "The plot has no y-axis label."),
    # a fitted line over the right scatter is tolerated
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(x, y)
         ax.plot([0, 4], [1, 3], "r-")
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "correct", 1.0, "right points"),
    # wrong points
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(y, x)
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "incorrect", 0.0, "The points have x and y swapped."),
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(x, [v + 1 for v in y])
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "incorrect", 0.0, "3 expected points are not drawn and 3 drawn points are not in the data (e.g. (1, 2.5))"),
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(x[:2], y[:2])
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "incorrect", 0.0, "Your figure draws 2 points, the reference 3; 1 expected points are not drawn"),
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.scatter(x + x, y + y)
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "incorrect", 0.0, "Your figure draws 6 points, the reference 3"),
    ("""
     def plot_data(x, y):
         fig, ax = plt.subplots()
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "incorrect", 0.0, "Nothing was drawn"),
    # not a figure at all
    ("""
     def plot_data(x, y):
         return 42
     """, "incorrect", 0.0, "plot_data() returned int; it must return the matplotlib Figure"),
    ("""
     def plot_data(x, y):
         return None
     """, "incorrect", 0.0, "plot_data() returned NoneType"),
    ("""
     def plot_data(x, y):
         return [x, y]
     """, "incorrect", 0.0, "plot_data() returned list"),
    # the Axes of a sub-figure: the whole figure is graded (a SubFigure cannot be saved)
    ("""
     def plot_data(x, y):
         fig = plt.figure()
         ax = fig.subfigures(1, 1).subplots()
         ax.scatter(x, y)
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return ax
     """, "correct", 1.0, "right points"),
    # a huge figure is rendered small: the PNG stays bounded and the points are still judged
    ("""
     def plot_data(x, y):
         fig = plt.figure(figsize=(2000, 2000), dpi=300)
         ax = fig.gca()
         ax.scatter(x, y)
         ax.set_xlabel("x"); ax.set_ylabel("y")
         return fig
     """, "correct", 1.0, "right points"),
])
def test_verdicts(tmp_path: Path, solutions: Path, body: str, status: str, fraction: float, says: str) -> None:
    verdict = grade(tmp_path, solutions, body)
    assert (verdict.status, verdict.fraction) == (status, fraction), verdict.feedback
    assert says in verdict.feedback
    json.dumps(verdict.details, allow_nan=False)
    reference_png = base64.b64decode(verdict.details["reference_png_b64"])
    assert reference_png.startswith(b"\x89PNG")
    figure = verdict.details.get("figure_png_b64")
    if figure is not None:
        assert len(figure) < 600_000 and base64.b64decode(figure).startswith(b"\x89PNG")
        assert verdict.cases[0].name == "points" and verdict.cases[0].passed == (fraction > 0)
    assert verdict.run is not None and verdict.run.source.startswith(HEADER) and verdict.run.device == "cpu"
    assert not {"cases", "isolation", "stdout", "trace"} & set(verdict.details)  # typed fields now


@pytest.mark.parametrize("body, limits, says", [
    ("import no_such_package_xyz\n", {}, "importing ex01.py failed: ModuleNotFoundError"),
    ("def plot_data(x, y):\n    raise ValueError('no data')\n", {}, "ValueError: no data"),
    ("def other(x, y):\n    pass\n", {}, "ex01.py does not define plot_data()"),
    ("def plot_data(x, y):\n    while True:\n        pass\n", {"limits": {"wall_s": 2}}, "did not finish within 2 s"),
    ("def plot_data(x, y):\n    fig, ax = plt.subplots()\n    ax.scatter(np.zeros(30_000), np.zeros(30_000))\n"
     "    return fig\n", {}, "the figure draws more than 20,000 points"),
    ("import sys\ndef plot_data(x, y):\n    sys.exit(0)\n", {}, "sys.exit()"),
])
def test_hostile_plots_end_as_errors(tmp_path: Path, solutions: Path, body: str, limits: dict, says: str) -> None:
    verdict = grade(tmp_path, solutions, body, **limits)
    assert (verdict.status, verdict.fraction) == ("error", 0.0)
    assert says in verdict.feedback, verdict.feedback
    assert verdict.run is not None and verdict.run.source.startswith(HEADER)  # what ran, also when it failed
    if "Error" in says:
        assert says.split(":")[-1].strip() in verdict.run.traceback
    assert verdict.run.limits_hit == ("timeout" if limits else "")


# ----------------------------------------------------------------------------- the child grades nothing
#
# The driver runs in the student's process. These functions rewrite it while they run (after
# the sandbox has put its names back): whatever it then sends is refused unless it is a
# report an honest driver could have written, with a small, whole PNG.

MAKE_PNG = """
import struct, zlib
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
def make_png(width, height, pixels=None, header=None, tail=b""):
    header = header or struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    pixels = (b"\\0" + b"\\0" * 4 * width) * height if pixels is None else pixels
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels))
            + chunk(b"IEND", b"") + tail)
"""
TAMPER = """
import sys
driver = sys.modules["grader.kinds.plot.driver"]
""" + MAKE_PNG


def tampering(patch: str, draw: str = "ax.scatter(x, y)") -> str:
    return TAMPER + textwrap.dedent(f"""
        def plot_data(x, y):
            {patch}
            fig, ax = plt.subplots()
            {draw}
            ax.set_xlabel("x"); ax.set_ylabel("y")
            return fig
        """)


def test_a_module_level_patch_of_the_driver_is_undone(tmp_path: Path, solutions: Path) -> None:
    verdict = grade(tmp_path, solutions, TAMPER + textwrap.dedent("""
        driver.describe = lambda figure: {"axes": "everything is fine", "png": b"not a png"}
        driver._png = lambda figure: b"\\x89PNG\\r\\n\\x1a\\n" + b"x" * 40_000_000
        def plot_data(x, y):
            fig, ax = plt.subplots()
            ax.scatter(x, y); ax.set_xlabel("x"); ax.set_ylabel("y")
            return fig
        """))
    assert verdict.status == "correct", verdict.feedback
    assert plot_kind.png_problem(base64.b64decode(verdict.details["figure_png_b64"])) is None


@pytest.mark.parametrize("patch, draw, says", [
    ("driver.describe = lambda figure: {'axes': 'everything is fine', 'png': b'not a png'}", "", "axes are malformed"),
    ("driver._png = lambda figure: b'\\x89PNG\\r\\n\\x1a\\n' + b'x' * 500_000",
     "ax.scatter(x, y)", "the figure's PNG ends inside a chunk"),
    ("driver._png = lambda figure: make_png(10, 10)[:8] + make_png(10, 10)[33:]",
     "ax.scatter(x, y)", "the figure's PNG does not begin with its header (IHDR)"),
    ("driver._png = lambda figure: b'GIF89a' + bytes(100)", "ax.scatter(x, y)",
     "the figure's PNG does not start with the PNG signature"),
    ("driver._png = lambda figure: make_png(3000, 3000)", "ax.scatter(x, y)",
     "the figure's PNG is 3000×3000 pixels (at most 2000×2000)"),
    ("driver._png = lambda figure: make_png(100, 100, pixels=bytes(10))", "ax.scatter(x, y)",
     "the figure's PNG has image data for other than 100×100 pixels"),
    ("driver._png = lambda figure: make_png(10, 10)[:-20]", "ax.scatter(x, y)", "the figure's PNG ends inside a chunk"),
    ("driver.MAX_POINTS = 10 ** 9", "ax.scatter(np.arange(50_000), np.arange(50_000))",
     "it sent 50,000 points (the driver sends at most 20,000)"),
    ("driver.MAX_AXES = 100", "fig.subplots(5, 5)", "it describes 26 axes (the driver sends at most 16)"),
    ("driver.MAX_SERIES = 1000", "[ax.scatter(x, y) for _ in range(70)]",
     "an axes has 70 series described (the driver sends at most 64)"),
    ("driver.MAX_LEGEND = 1000", "[ax.scatter(x, y, label=str(i)) for i in range(60)]; ax.legend()",
     "a legend has 60 entries (the driver sends at most 50)"),
])
def test_a_report_outside_the_bounds_is_refused(tmp_path: Path, solutions: Path, patch: str, draw: str,
                                                says: str) -> None:
    verdict = grade(tmp_path, solutions, tampering(patch, draw))
    assert (verdict.status, verdict.fraction) == ("error", 0.0), verdict.feedback
    assert verdict.feedback.startswith("The results your code sent back do not add up (tampering?)")
    assert says in verdict.feedback, verdict.feedback
    assert "figure_png_b64" not in verdict.details  # nothing of it went into the result


@pytest.mark.parametrize("patch", [
    "driver._png = lambda figure: b'\\x89PNG\\r\\n\\x1a\\n' + b'x' * 40_000_000",  # the 40 MB results file
    "driver._axes = lambda ax, budget: {'series': [], 'title': '', 'xlabel': '', 'ylabel': '', "
    "'legend': ['x' * 999_999] * 8}",
])
def test_result_size_bombs_are_the_students_error(tmp_path: Path, solutions: Path, patch: str) -> None:
    verdict = grade(tmp_path, solutions, tampering(patch))
    assert (verdict.status, verdict.fraction) == ("error", 0.0), verdict.feedback
    assert f"returned more than {plot_kind.bounds.RESULT_BYTES:,} bytes of results" in verdict.feedback
    assert verdict.run is not None and verdict.run.limits_hit == "output"


def _make_png() -> Any:
    namespace: dict[str, Any] = {}
    exec(MAKE_PNG, namespace)
    return namespace["make_png"]


def test_the_png_check() -> None:
    import struct

    from grader.kinds.plot import driver as plot_driver

    make_png = _make_png()
    figure, ax = plot_driver.plt.subplots(figsize=(30, 30))
    ax.scatter([1, 2], [3, 4])
    honest = plot_driver._png(figure)
    assert honest is not None and plot_kind.png_problem(honest) is None
    rows = [
        (make_png(2000, 1), None),
        (make_png(1, 1, header=struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0), pixels=b"\0" * 4), None),  # RGB
        (b"x" * 1_000_001, "is 1,000,001 bytes (at most 1,000,000)"),
        (make_png(2001, 1), "is 2001×1 pixels"),
        (make_png(1, 0), "is 1×0 pixels"),
        (make_png(4, 4, header=struct.pack(">IIBBBBB", 4, 4, 8, 6, 0, 0, 1)), "a header unlike any PNG"),
        (make_png(4, 4, header=struct.pack(">IIBBBBB", 4, 4, 3, 6, 0, 0, 0)), "a header unlike any PNG"),
        (make_png(4, 4, pixels=(b"\7" + bytes(16)) * 4), "a row with an unknown filter"),
        (make_png(4, 4, pixels=bytes(17 * 4 + 1)), "image data for other than 4×4 pixels"),
        (make_png(4, 4, tail=b"more"), "does not end with IEND"),
        (make_png(4, 4)[:-1] + b"!", "whose checksum is wrong"),
        (honest[:8] + honest[33:], "does not begin with its header (IHDR)"),
        (honest[:-12], "does not end with IEND"),
        ("a string", "is not bytes"),
    ]
    for data, problem in rows:
        got = plot_kind.png_problem(data)
        assert (got is None) == (problem is None) and (problem is None or problem in got), (problem, got)


def test_a_students_job_cannot_find_the_reference_drawing(tmp_path: Path) -> None:
    """The reference draws in a child of its own; the student's job, run right after it, finds none
    of its points or labels in its memory (Python objects, then every readable page)."""
    import os

    title = "REFERENCE-TITLE-" + os.urandom(6).hex()
    secret = 1000 + int.from_bytes(os.urandom(4), "big") / 2 ** 32
    root = tmp_path / "solutions"
    root.mkdir()
    (root / "secret.py").write_text(HEADER + textwrap.dedent(f"""
        def plot_data(x, y):
            fig, ax = plt.subplots()
            ax.scatter([{secret!r}] * 3, [{secret!r}] * 3)
            ax.set_title({title!r}); ax.set_xlabel("x"); ax.set_ylabel("y")
            return fig
        """))
    options = question(limits={"wall_s": 60}).options
    drawn = plot_kind.reference_drawing(options, Reference(root, "secret", "plot_data", PARAMS))
    assert drawn.axes is not None and drawn.axes[0]["title"] == title
    assert drawn.axes[0]["series"][0]["points"][0, 0] == secret
    folder = tmp_path / "student"
    folder.mkdir()
    module = folder / "ex01.py"
    control = "REFERENCE-TITLE-" + os.urandom(6).hex(), 1000 + int.from_bytes(os.urandom(4), "big") / 2 ** 32
    module.write_text(HEADER + textwrap.dedent(f"""
        import gc, struct
        def plot_data(x, y):
            # the reference's title and point, and a control pair made the same way that no job drew
            needles = [({title[:12]!r} + {title[12:]!r}, float.fromhex({secret.hex()!r})),
                       ({control[0][:12]!r} + {control[0][12:]!r}, float.fromhex({control[1].hex()!r}))]
            counts = []
            for needle, value in needles:
                packed = needle.encode(), struct.pack("<d", value)

                def suspect(o):
                    return ((type(o) is str and needle in o and o is not needle)
                            or (type(o) is float and o == value and o is not value)
                            or (isinstance(o, np.ndarray) and o.dtype.kind == "f" and bool((o == value).any())))

                found = 0
                for o in gc.get_objects():
                    items = (list(o.keys()) + list(o.values()) if type(o) is dict
                             else list(o) if type(o) in (list, tuple, set) else [o])
                    found += sum(1 for item in items if suspect(item))
                memory = [0, 0]
                with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
                    for line in maps:
                        start, end = (int(v, 16) for v in line.split()[0].split("-"))
                        if "r" not in line.split()[1] or end - start > 1 << 30:
                            continue
                        try:
                            mem.seek(start)
                            page = mem.read(end - start)
                        except OSError:
                            continue
                        memory[0] += page.count(packed[0])
                        memory[1] += page.count(packed[1])
                        del page
                counts += [found, *memory]
            fig, ax = plt.subplots()
            ax.scatter(x, y)
            ax.set_title(" ".join(map(str, counts)))
            return fig
        """))
    outcome = plot_kind.run_student(options, CodeAnswer(folder, module, "s1", "ex01", PARAMS))
    assert outcome.ok, (outcome.error, outcome.stdout)
    report = plot_kind.read_drawing(outcome.value)
    assert report.axes is not None
    found, text, value, control_found, control_text, control_value = map(int, report.axes[0]["title"].split())
    # the needles live in this job's own code and constants; nothing more of the reference's job
    assert found == control_found == 0 and text <= control_text and value <= control_value


def test_several_axes_are_compared_in_order(tmp_path: Path, solutions: Path) -> None:
    right = """
        def plot_data(x, y):
            fig, (a, b) = plt.subplots(1, 2)
            a.scatter(x, y); b.plot(x, [v * 2 for v in y])
            return fig
        """
    swapped = """
        def plot_data(x, y):
            fig, (a, b) = plt.subplots(1, 2)
            b.scatter(x, y); a.plot(x, [v * 2 for v in y])
            return fig
        """
    one = """
        def plot_data(x, y):
            fig, a = plt.subplots()
            a.scatter(x, y)
            return fig
        """
    settings = {"reference": "two_panels", "plot_type": "any", "require": []}
    assert grade(tmp_path, solutions, right, **settings).status == "correct"
    verdict = grade(tmp_path, solutions, swapped, **settings)
    assert verdict.status == "incorrect" and "in plot 1" in verdict.feedback
    verdict = grade(tmp_path, solutions, one, **settings)
    assert verdict.status == "incorrect" and "has 1 plots with data; the question expects 2" in verdict.feedback


@pytest.mark.parametrize("require, body, ok", [
    (["title"], "ax.set_title('Data')", True),
    (["title"], "fig.suptitle('Data')", True),
    (["title"], "", False),
    (["legend"], "ax.legend(['data'])", True),
    (["legend"], "", False),
])
def test_required_labels(tmp_path: Path, solutions: Path, require: list, body: str, ok: bool) -> None:
    verdict = grade(tmp_path, solutions, f"""
        def plot_data(x, y):
            fig, ax = plt.subplots()
            ax.scatter(x, y)
            {body}
            return fig
        """, require=require)
    assert verdict.status == ("correct" if ok else "partial")


# ----------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize("got, expected, match, missing, extra", [
    ([[1, 2], [3, 4]], [[3, 4], [1, 2]], True, 0, 0),
    ([[1, 2], [3, 4.00001]], [[1, 2], [3, 4]], True, 0, 0),
    ([[1, 2], [3, 5]], [[1, 2], [3, 4]], False, 1, 1),
    ([[1, 2]], [[1, 2], [1, 2]], False, 0, 0),            # a point drawn once too few
    ([[1, 2], [1, 2], [1, 2]], [[1, 2], [1, 2]], False, 0, 0),
    ([], [[1, 2]], False, 1, 0),
    ([[np.nan, 2]], [[1, 2]], False, 1, 1),
])
def test_same_points(got: list, expected: list, match: bool, missing: int, extra: int) -> None:
    got_array, expected_array = np.array(got, dtype=float).reshape(-1, 2), np.array(expected, dtype=float)
    tol = plot_kind.tolerance_for(expected_array, 1e-3, 1e-9)
    assert plot_kind.same_points(got_array, expected_array, tol) == (match, missing, extra)


@pytest.mark.parametrize("degenerate", [False, True])
def test_matching_many_points_is_bounded_and_fast(degenerate: bool) -> None:
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((20_000, 2))
    if degenerate:  # a vertical line and many copies of one point: windows along x hold everything
        expected[:10_000, 0] = 1.0
        expected[10_000:] = [1.0, 0.5]
    got = expected[rng.permutation(len(expected))]
    tol = plot_kind.tolerance_for(expected, 1e-6, 0)
    started = time.process_time()  # CPU time: a busy machine stretches wall time, not this
    assert plot_kind.same_points(got, expected, tol)[0]
    moved = got.copy()
    moved[123] += 1.0
    assert plot_kind.same_points(moved, expected, tol)[::2] == (False, 1)
    assert time.process_time() - started < 2  # about 0.15 s


@pytest.mark.parametrize("changes, key, message", [
    ({"function": 3}, "function", "function must name the plotting function"),
    ({"args": "x, y"}, "args", "args must be a list of exercise param names"),
    ({"args": ["x y"]}, "args", "args must be a list"),
    ({"plot_type": "bar"}, "plot_type", "plot_type must be one of scatter, line, any"),
    ({"require": ["colour"]}, "require", "require must be a list of xlabel, ylabel, title, legend"),
    ({"tolerance": {"rel": -1}}, "tolerance", "tolerance must be"),
    ({"tolerance": {"sigfigs": 2}}, "tolerance", "tolerance must be"),
    ({"limits": {"wall_s": 0}}, "limits.wall_s", "limits.wall_s must be a number from 0.1"),
    ({"limits": {"memory_mb": 5}}, "limits.memory_mb", "limits.memory_mb must be a number from 256"),
    ({"limits": {"wall": 5}}, "limits.wall", "limits does not take wall"),
])
def test_bad_options_name_the_key(changes: dict, key: str, message: str) -> None:
    with pytest.raises(registry.OptionError, match=message) as caught:
        KIND.load_options({**OPTIONS, **changes})
    assert caught.value.key == key


@pytest.mark.parametrize("value, message", [
    ("figure", "the report is not a mapping"),
    ({"returned": 3}, "returned is not text"),
    ({"returned": "Figure", "note": "", "axes": {}}, "axes are malformed"),
    ({"returned": "Figure", "note": "", "axes": [], "png": b"GIF89a"}, "the figure's PNG does not start with the "
                                                                      "PNG signature"),
    ({"returned": "Figure", "note": "", "axes": [], "png": "iVBORw0KGgo="}, "the figure's PNG is not bytes"),
    ({"returned": "Figure", "note": "", "axes": [{"series": []}] * 17}, "it describes 17 axes"),
    ({"returned": "Figure", "note": "", "axes": [{"title": "", "xlabel": "", "ylabel": "", "legend": None,
                                               "series": [{"type": "line", "points": np.zeros((10_001, 2))}] * 2}]},
     "it sent 20,002 points"),
    ({"returned": "Figure", "note": "", "axes": [{"series": []}]}, "title is not text"),
    ({"returned": "Figure", "note": "", "axes": [{"title": "", "xlabel": "", "ylabel": "", "legend": None,
                                               "series": [{"type": "bar"}]}]}, "a series is malformed"),
    ({"returned": "Figure", "note": "", "axes": [{"title": "", "xlabel": "", "ylabel": "", "legend": None,
                                               "series": [{"type": "scatter", "points": np.zeros((3, 3))}]}]},
     "series points are malformed"),
    ({"returned": "Figure", "note": "", "axes": [{"title": "", "xlabel": "", "ylabel": "", "legend": [1],
                                               "series": []}]}, "a legend is malformed"),
])
def test_the_childs_report_is_read_strictly(value: Any, message: str) -> None:
    with pytest.raises(plot_kind._Malformed, match=message):
        plot_kind.read_drawing(value)


def test_sandbox_faults_are_grader_faults() -> None:
    outcome = Outcome(ok=False, value=None, error="the sandbox failed", error_kind="sandbox", stdout="",
                      layers=(), warnings=(), wall_s=0.1)
    reference = plot_kind.Drawn("Figure", "", ())
    verdict = plot_kind.verdict_for(question().options, outcome, reference)
    assert verdict.status == "error" and "grader fault" in verdict.feedback


def test_answers_yaml_is_not_a_plot() -> None:
    assert KIND.parse("scatter", question()).message.startswith("a plot question is answered with code")
    with pytest.raises(ValueError, match="must be {solution: function}"):
        KIND.parse_reference([1, 2], question())


# ----------------------------------------------------------------------------- the INF 5860 question


@pytest.fixture(scope="module")
def ex01() -> Any:
    course = api.load([EXERCISES / "ex01-linear-regression.yaml"])
    exercise = course.exercises[0]
    return course, exercise, exercise.question("d")


def test_ex01_reference_proves_itself_and_a_broken_one_does_not(ex01: Any, solutions: Path) -> None:
    course, exercise, q = ex01
    params = dict(exercise.params)
    assert KIND.prove(q, Reference(course.solutions_root, exercise.solutions, "plot_data", params)) == []
    unlabelled = KIND.prove(question(require=["title"]), Reference(solutions, "ref", "plot_data", PARAMS))
    assert unlabelled == ["the reference lacks a required title"]
    missing = KIND.prove(question(), Reference(solutions, "ref", "no_such_function", PARAMS))
    assert missing[0].startswith("the reference no_such_function() did not draw")


def test_ex01_demo_student(ex01: Any) -> None:
    course, exercise, q = ex01
    folder = EXAMPLES / "s100001"
    value = CodeAnswer(folder, folder / "ex01.py", "s100001", "ex01", dict(exercise.params))
    verdict = KIND.check(q, value, Reference(course.solutions_root, exercise.solutions, "plot_data",
                                             dict(exercise.params)))
    assert verdict.status == "correct", verdict.feedback
    assert verdict.details["figure_png_b64"] and verdict.details["reference_png_b64"]


def test_block_fallback_agrees_with_the_sorted_matcher(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    expected = np.round(rng.standard_normal((500, 2)), 1)  # many ties and near neighbours
    got = expected + rng.choice([0.0, 1e-5, 0.3], size=expected.shape)
    tol = plot_kind.tolerance_for(expected, 1e-4, 0)
    sorted_answer = plot_kind.same_points(got, expected, tol)
    monkeypatch.setattr(plot_kind, "MAX_CANDIDATES", 0)
    assert plot_kind.same_points(got, expected, tol) == sorted_answer
    assert sorted_answer[0] is False and 0 < sorted_answer[1] < 500
