"""HTML feedback reports: one self-contained page per student and a class overview.

Renderers read `StudentResult` data and nothing else; they never grade. Code questions
are shown from their typed records (`QuestionResult.cases` and `.run`); `details` only
adds a kind's extras (the answer's LaTeX, figures, a model's layers). Every string
from a result goes through jinja2's autoescape; the only markup built in Python is
whitelisted MathML (grader.render.math) and the histogram SVG (grader.render.svg).
A Content-Security-Policy in each page forbids any network access and any script
except the overview's own sorting script (allowed by its hash).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import statistics
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import jinja2
from markupsafe import Markup

from grader.core.results import STATUSES, CaseResult, QuestionResult, RunRecord, Status, StudentResult
from grader.render import math as mathml
from grader.render import text as rich
from grader.core.output import unique_file_names, write_atomic
from grader.render.svg import histogram

#: Where the report templates are: installed, the package data grader/templates/ (pyproject.toml
#: maps the repository's templates/ folder there); in a checkout, templates/ beside grader/.
TEMPLATE_FOLDERS = (Path(__file__).resolve().parents[1] / "templates",
                    Path(__file__).resolve().parents[2] / "templates")


def templates_dir() -> Path:
    """The first folder of TEMPLATE_FOLDERS that holds the templates (the checkout's when none)."""
    return next((folder for folder in TEMPLATE_FOLDERS if (folder / "student.html.j2").is_file()),
                TEMPLATE_FOLDERS[-1])


#: Icon and words for each status: the icon and the text carry the meaning, colour only helps.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "correct": ("✓", "Correct"),
    "partial": ("◐", "Partly correct"),
    "incorrect": ("✗", "Incorrect"),
    "missing": ("∅", "Not answered"),
    "invalid": ("⚠", "Could not read your answer"),
    "error": ("‼", "Error while grading"),
    "review": ("?", "Needs review by a teacher"),
}

#: An `error` told by whose doing it is (QuestionResult.fault): the student's code failed
#: (a crash, a timeout, an endless loop), the submission could not be read, or the grader
#: failed. Results written before the field was there keep the plain "Error while grading".
FAULT_LABELS: dict[str, tuple[str, str, str]] = {
    "code": ("code-failed", "✗", "Your code failed"),
    "submission": ("code-failed", "✗", "Submission unreadable"),
    "grader": ("error", "‼", "Grader fault"),
}

CASE_PASSED = {"key": "correct", "icon": "✓", "label": "Passed"}
CASE_FAILED = {"key": "incorrect", "icon": "✗", "label": "Failed"}

#: Statuses that put a student at the top of the overview.
ATTENTION: tuple[Status, ...] = ("review", "error")

#: Longest text shown from one field (answers, stdout, traces); the rest is cut with a note.
MAX_TEXT = 4_000
#: Longest answer shown; a student who pasted an essay sees the start and a note.
MAX_ANSWER = 2_000
#: Longest student module shown (the RunRecord keeps at most 20,000 characters).
MAX_SOURCE_SHOWN = 20_000
#: What the report says when the code ran into a sandbox limit.
LIMIT_WORDS = {"timeout": "ran out of time", "memory": "ran out of memory", "output": "printed too much"}
#: Failing test cases shown in full; further failures are listed by name only.
FAILURES_IN_FULL = 3
#: Most frequent wrong answers listed per question in the overview.
TOP_WRONG = 3
_PNG_B64 = re.compile(r"iVBORw0KGgo[A-Za-z0-9+/=\s]*")
MAX_IMAGE_B64 = 4_000_000

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, col) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    button.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
        var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return up ? r : -r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _script_hash(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of the report templates; autoescape is always on."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.filters["points"] = fmt_points
    return env


def fmt_number(value: Any) -> str:
    """Points as people write them: 2, 1.5, 0.333 (no float noise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fmt_points(value: Any) -> str:
    text = fmt_number(value)
    return f"{text} point" if text == "1" else f"{text} points"


def _clip(text: Any, limit: int = MAX_TEXT) -> str:
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters not shown)"


def exercise_of(question_id: str) -> str:
    return question_id.split(".", 1)[0]


def _status(status: str) -> dict[str, str]:
    icon, label = STATUS_LABELS.get(status, ("•", status))
    return {"key": status if status in STATUS_LABELS else "unknown", "icon": icon, "label": label}


def _fault(q: QuestionResult) -> str:
    """Whose doing an error is, as FAULT_LABELS names it; "" when not an error or not known."""
    if q.status != "error" or not q.fault:
        return ""
    if q.fault == "grader":
        return "grader"
    return "code" if q.run is not None else "submission"


def question_status(q: QuestionResult) -> dict[str, str]:
    """The badge of a question: its status, and for an error whose doing it is."""
    fault = _fault(q)
    if not fault:
        return _status(q.status)
    key, icon, label = FAULT_LABELS[fault]
    return {"key": key, "icon": icon, "label": label}


def _is_latex(latex: Any) -> bool:
    return isinstance(latex, str) and bool(latex.strip())


def _rendered_value(text: str | None, latex: Any, wrong: frozenset[int] = frozenset()) -> Markup | None:
    """MathML for a formula or a vector; None when plain text reads best."""
    if _is_latex(latex):
        return mathml.math_or_code(latex)
    vector = mathml.parse_vector(text)
    return mathml.vector_mathml(vector, wrong) if vector is not None else None


def _wrong_entries(details: Mapping[str, Any], answer: str | None) -> frozenset[int]:
    """Flat indices of the answer's vector entries a checker flagged (details["wrong_entries"])."""
    raw = details.get("wrong_entries")
    if not isinstance(raw, list):
        return frozenset()
    vector = mathml.parse_vector(answer)
    if vector is None:
        return frozenset()
    size = len(vector) * (len(vector[0]) if isinstance(vector[0], list) else 1)
    return frozenset(i for i in raw if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < size)


def _png(details: Mapping[str, Any], key: str) -> str | None:
    data = details.get(key)
    if isinstance(data, str) and len(data) <= MAX_IMAGE_B64 and _PNG_B64.fullmatch(data):
        return "".join(data.split())
    return None


def _cases(cases: Sequence[CaseResult]) -> dict[str, Any] | None:
    """The test table of a code question: the first failures in full, later ones by name."""
    if not cases:
        return None
    failures = 0
    rows = []
    for index, case in enumerate(cases, 1):
        full = not case.passed and failures < FAILURES_IN_FULL
        failures += not case.passed
        largest = case.largest_difference
        rows.append({
            "name": _clip(case.name or f"test {index}", 200),
            "passed": case.passed,
            "hidden": case.hidden,
            "status": CASE_PASSED if case.passed else CASE_FAILED,
            "full": full,
            "inputs": _clip(case.inputs, 1_000),
            "expected": _clip(case.expected, 1_000),
            "got": _clip(case.got, 1_000),
            "max_diff": largest if largest is not None and math.isfinite(largest) else None,
            "where": _clip(case.where, 200),
            "message": _clip(case.message, 2_000),
            "note": _clip(case.note, 1_000),
        })
    return {"rows": rows, "passed": len(cases) - failures, "total": len(cases)}


def _run_view(run: RunRecord | None) -> dict[str, Any]:
    """What the report shows of the student's run: the code, its output and trace, where it ran."""
    if run is None:
        return {"source": "", "stdout": "", "trace": "", "device": "", "isolation": "", "limit": ""}
    source = _clip(run.source, MAX_SOURCE_SHOWN)
    return {
        "source": rich.python(source) if source else "",
        "stdout": _clip(run.stdout),
        "trace": _clip(run.traceback),
        "device": _clip(run.device, 100),
        "isolation": _clip(", ".join(run.layers), 300),
        "limit": LIMIT_WORDS.get(run.limits_hit, ""),
    }


def _texts(value: Any, limit: int) -> list[str]:
    """A list of strings from a kind's details (the model's architecture), else nothing."""
    if not isinstance(value, list):
        return []
    return [_clip(item, limit) for item in value[:100] if isinstance(item, str)]


def _code_view(q: QuestionResult, details: Mapping[str, Any], reveal: bool) -> dict[str, Any]:
    view = {
        "cases": _cases(q.cases),
        **_run_view(q.run),
        "architecture": _texts(details.get("architecture"), 300),
        "figure": _png(details, "figure_png_b64"),
        # The reference figure reveals the answer: it follows the same rule as `expected`.
        "reference": _png(details, "reference_png_b64") if reveal else None,
    }
    view["any"] = q.run is not None or any(view.values())
    return view


def question_view(q: QuestionResult) -> dict[str, Any]:
    """What the student template shows for one question."""
    details = q.details if isinstance(q.details, Mapping) else {}
    reveal = q.expected is not None
    wrong = _wrong_entries(details, q.answer)
    review = None
    if q.review is not None:
        review = {"score": q.review.score, "comment": _clip(q.review.comment), "by": _clip(q.review.by, 200),
                  "at": _clip(q.review.at, 100), "stale": q.review.stale,
                  "rubric": [{"concept": _clip(t.concept, 300), "ticked": t.ticked, "found": t.found}
                             for t in q.review.rubric]}
    return {
        "id": q.id,
        "anchor": "q-" + re.sub(r"[^A-Za-z0-9_-]", "_", q.id),
        "kind": q.kind,
        "prompt": rich.markdown(_clip(q.prompt)) if q.prompt else "",
        "status": question_status(q),
        # Awaiting a human: a review status with no decision applied (a stale one is not).
        "awaiting": q.status == "review" and (q.review is None or q.review.stale),
        "score": q.score,
        "max_score": q.max_score,
        "answer": _clip(q.answer, MAX_ANSWER) if q.answer is not None else None,
        "answer_math": _rendered_value(q.answer, details.get("answer_latex"), wrong),
        "wrong_entries": ", ".join(str(i + 1) for i in sorted(wrong)) if wrong else "",
        "answer_is_formula": _is_latex(details.get("answer_latex")),
        "feedback": _clip(q.feedback),
        "expected": _clip(q.expected) if reveal else None,
        "expected_math": _rendered_value(q.expected, q.expected_latex) if reveal else None,
        "expected_is_formula": reveal and _is_latex(q.expected_latex),
        "review": review,
        "code": _code_view(q, details, reveal),
    }


def _exercises(questions: Sequence[QuestionResult]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for q in questions:
        group = groups.setdefault(exercise_of(q.id), {
            "id": exercise_of(q.id), "score": 0.0, "max_score": 0.0, "questions": []})
        group["score"] += q.score
        group["max_score"] += q.max_score
        group["questions"].append(question_view(q))
    return list(groups.values())


def fmt_duration(seconds: Any) -> str:
    """A lateness as people say it: 3 days 2 h, 5 h 10 min, 40 min, 20 s."""
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return str(seconds)
    s = int(seconds)
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min" if minutes else f"{s} s"


def _lateness(result: StudentResult) -> list[dict[str, Any]]:
    return [{"exercise": late.exercise, "submitted_at": late.submitted_at,
             "deadline": late.deadline, "late_by": fmt_duration(late.seconds_late),
             "penalty": late.penalty, "extended_from": late.extended_from}
            for late in getattr(result, "lateness", ()) or ()]


_TIME_SOURCES = {"times file": "as the course's LMS recorded the upload",
                 "manifest": "self-reported: from the manifest in your own zip",
                 "zip name": "self-reported: from the name of your zip"}


def _timing(result: StudentResult) -> dict[str, Any] | None:
    """When it was handed in and by whose word, the flags on that time, the extension."""
    timing = result.timing
    if timing is None or not (timing.submitted_at or timing.flags or timing.extension):
        return None
    return {"submitted_at": timing.submitted_at, "source": _TIME_SOURCES.get(timing.source, ""),
            "trusted": timing.trusted, "flags": [_clip(flag.message, 1_000) for flag in timing.flags],
            "extension": timing.extension}


def render_student(result: StudentResult, title: str = "") -> str:
    """One student's self-contained feedback page."""
    badges = [question_status(q) for q in sorted(result.questions, key=lambda q: STATUSES.index(q.status))]
    counts = Counter(badge["label"] for badge in badges)
    shown = {badge["label"]: badge for badge in badges}
    summary = [{"status": badge, "count": counts[label]} for label, badge in shown.items()]
    return environment().get_template("student.html.j2").render(
        title=title,
        student=result.student,
        score=result.score,
        max_score=result.max_score,
        graded_at=result.graded_at,
        grader_version=result.grader_version,
        spec_digest=result.spec_digest,
        warnings=[_clip(w, 1_000) for w in result.warnings],
        error=_clip(result.error) if result.error else None,
        lateness=_lateness(result),
        timing=_timing(result),
        exercises=_exercises(result.questions),
        summary=summary,
        statuses=[_status(s) for s in STATUSES],
        highlight_css=Markup(rich.highlight_css()),
        csp="default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "script-src 'none'; base-uri 'none'; form-action 'none'",
    )


def _needs_a_human(q: QuestionResult) -> bool:
    """An answer waiting for a decision, or an error that is not the student's code failing
    (a grader fault, or an error from before errors said whose doing they are)."""
    return q.status == "review" or (q.status == "error" and _fault(q) != "code")


def needs_attention(result: StudentResult) -> bool:
    return bool(result.error) or any(_needs_a_human(q) for q in result.questions)


def _is_wrong(q: QuestionResult) -> bool:
    """Counted among the wrong answers: wrong or partly right, or code of the student's that failed."""
    return q.status in ("incorrect", "partial") or _fault(q) == "code"


def _wrong_key(q: QuestionResult) -> str:
    """What groups wrong answers in the overview: the answer, or for code (which has no
    typed answer) the first check it fails, or how the run failed."""
    if q.answer not in (None, ""):
        return _clip(q.answer, 80)
    failed = next((case for case in q.cases if not case.passed), None)
    if failed is not None:
        return f"fails {_clip(failed.name, 70)}"
    if q.run is not None and q.status == "error":
        return "no result: " + (LIMIT_WORDS.get(q.run.limits_hit) or "the code failed to run")
    return ""


def _question_stats(results: Sequence[StudentResult]) -> list[dict[str, Any]]:
    by_id: dict[str, list[QuestionResult]] = {}
    for result in results:
        for q in result.questions:
            by_id.setdefault(q.id, []).append(q)
    stats = []
    for qid, answers in by_id.items():
        wrong = Counter(key for q in answers if _is_wrong(q) and (key := _wrong_key(q)))
        mistakes = Counter(q.mistake for q in answers if isinstance(q.mistake, int))
        feedback = {q.mistake: q.feedback for q in answers if isinstance(q.mistake, int)}
        max_score = max(q.max_score for q in answers)
        mean = statistics.fmean(q.score for q in answers)
        stats.append({
            "id": qid,
            "kind": answers[0].kind,
            "n": len(answers),
            "mean": mean,
            "max_score": max_score,
            "mean_share": mean / max_score if max_score else 0.0,
            "correct_share": sum(q.status == "correct" for q in answers) / len(answers),
            "wrong": wrong.most_common(TOP_WRONG),
            "mistakes": [
                {"index": i, "count": n, "feedback": _clip(feedback.get(i), 160)}
                for i, n in sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))
            ],
            "statuses": Counter(q.status for q in answers),
        })
    return stats


def _flag_order(item: tuple[str, int]) -> tuple[int, str]:
    """Grader faults first, then what waits for a review, then the student's own failures."""
    order = {FAULT_LABELS["grader"][2]: 0, STATUS_LABELS["error"][1]: 1, STATUS_LABELS["review"][1]: 2}
    return order.get(item[0], 3), item[0]


def _student_rows(results: Sequence[StudentResult]) -> list[dict[str, Any]]:
    rows = []
    for result, name in zip(results, unique_file_names(r.student for r in results)):
        counts = Counter(question_status(q)["label"] for q in result.questions
                         if q.status in ATTENTION and not (result.error and q.status == "error"))
        badges = {question_status(q)["label"]: question_status(q) for q in result.questions}
        flags = [badges[label] | {"count": n} for label, n in sorted(counts.items(), key=_flag_order)]
        rows.append({
            "student": result.student,
            "href": f"students/{name}.html",
            "score": result.score,
            "max_score": result.max_score,
            "share": result.score / result.max_score if result.max_score else 0.0,
            "attention": needs_attention(result),
            "flags": flags,
            "error": _clip(result.error, 200) if result.error else None,
        })
    # Students who need a human first; stable within each group (by id).
    return sorted(rows, key=lambda row: (not row["attention"], row["student"]))


def render_overview(results: Sequence[StudentResult], title: str = "") -> str:
    """The class overview: histogram, per-question table, students (attention first)."""
    totals = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0.0)
    return environment().get_template("overview.html.j2").render(
        title=title,
        n=len(results),
        mean=statistics.fmean(totals) if totals else 0.0,
        median=statistics.median(totals) if totals else 0.0,
        max_score=max_score,
        histogram=histogram(totals, max_score),
        questions=_question_stats(results),
        students=_student_rows(results),
        attention=sum(needs_attention(r) for r in results),
        pending=sum(q.status == "review" for r in results for q in r.questions),
        sort_script=Markup(SORT_SCRIPT),
        highlight_css=Markup(rich.highlight_css()),
        csp="default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src 'sha256-{_script_hash(SORT_SCRIPT)}'; base-uri 'none'; form-action 'none'",
    )


def write_reports(results: Sequence[StudentResult], out_dir: Path, title: str = "") -> list[Path]:
    """Write out_dir/index.html and out_dir/students/<student>.html; returns the paths,
    index first. Each file is replaced atomically."""
    out_dir = Path(out_dir)
    students_dir = out_dir / "students"
    students_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for result, name in zip(results, unique_file_names(r.student for r in results)):
        paths.append(write_atomic(students_dir / f"{name}.html", render_student(result, title)))
    index = write_atomic(out_dir / "index.html", render_overview(results, title))
    return [index, *paths]
