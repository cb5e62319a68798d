"""HTML reports: content, escaping, MathML, file names and atomic writes (no browser)."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pytest

import dataclasses

from markupsafe import escape

from grader.core.results import CaseResult, RunRecord, StudentResult
from grader.render import render_overview, render_student, safe_file_name, write_reports
from grader.core.output import unique_file_names
from grader.render.html import question_view
from grader.render.math import latex_to_mathml, parse_vector, sanitize_mathml
from grader.render.svg import bin_counts, histogram
from tests.render_samples import (
    LONG_ANSWER, STUDENTS, XSS_STRINGS, all_status_student, graded, hostile_student, q, sample_results,
    synthetic_class, unicode_student,
)


@pytest.fixture(scope="module")
def good_html() -> str:
    return render_student(all_status_student(), "Set 1")


@pytest.fixture(scope="module")
def hostile_html() -> str:
    return render_student(hostile_student(), "<b>title</b>")


@pytest.fixture(scope="module")
def overview_html() -> str:
    return render_overview(sample_results(), "Set <1>")


# --- escaping ---------------------------------------------------------------------------

@pytest.mark.parametrize("payload", XSS_STRINGS)
def test_student_payloads_appear_only_escaped(hostile_html, payload):
    assert payload not in hostile_html
    assert str(__import__("markupsafe").escape(payload)) in hostile_html


def test_student_page_has_no_script_img_or_svg_element_from_data(hostile_html):
    body = hostile_html.split("<body>", 1)[1]
    assert "<script" not in body and "<img" not in body and "<svg" not in body
    assert "&lt;b&gt;title&lt;/b&gt;" in hostile_html


@pytest.mark.parametrize("payload", XSS_STRINGS)
def test_overview_payloads_appear_only_escaped(payload):
    html = render_overview([hostile_student(), all_status_student()])
    assert payload not in html
    assert html.count("<script") == 1  # the sorting script, nothing else


def test_latex_with_markup_is_not_passed_through(hostile_html):
    # latex2mathml copies \text{...} verbatim; the sanitiser must reject it.
    assert "<mtext><script" not in hostile_html
    assert "<code>\\text{&lt;script&gt;" in hostile_html


@pytest.mark.parametrize("html_name", ["good_html", "hostile_html", "overview_html"])
def test_pages_are_offline_and_locked_down(request, html_name):
    html = request.getfixturevalue(html_name)
    csp = html_lib.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "img-src data:" in csp
    # No external resource: every src is inline data; every href a local anchor or file, or
    # a link a prompt's Markdown made to a web page or a mail address (followed only if clicked).
    for attr in re.findall(r'\bsrc="([^"]*)"', html):
        assert attr.startswith("data:image/png;base64,"), attr
    for attr in re.findall(r'\bhref="([^"]*)"', html):
        assert attr.startswith(("#", "students/", "https://", "http://", "mailto:")), attr
    assert "url(" not in html and "@import" not in html


# --- student report content -------------------------------------------------------------

def test_header_shows_totals_per_exercise_and_provenance(good_html):
    assert "Total: 7 of 16 points (44&nbsp;%)" in good_html
    assert "Exercise ex01 <span class=\"muted\">— 1.5 of 4 points</span>" in good_html
    assert "Exercise ex03 <span class=\"muted\">— 4.5 of 8 points</span>" in good_html
    for text in ("2026-11-27T06:00:00Z", "0.1.0", "sha256:" + "ab" * 32, "unknown question ex01.z was ignored"):
        assert text in good_html


@pytest.mark.parametrize("status, label", [
    ("correct", "Correct"), ("partial", "Partly correct"), ("incorrect", "Incorrect"),
    ("missing", "Not answered"), ("invalid", "Could not read your answer"),
    ("code-failed", "Your code failed"),
])
def test_every_status_has_icon_and_words(good_html, status, label):
    assert re.search(rf'data-status="{status}"><span class="icon" aria-hidden="true">.</span>{label}<', good_html)


def test_review_status_has_icon_and_words(hostile_html):
    assert re.search(r'data-status="review"><span class="icon" aria-hidden="true">\?</span>Needs review by a teacher<',
                     hostile_html)


@pytest.mark.parametrize("status, fault, run, label", [
    ("error", "grader", None, "Grader fault"),
    ("error", "student", RunRecord(limits_hit="timeout"), "Your code failed"),
    ("error", "student", None, "Submission unreadable"),
    ("error", "", None, "Error while grading"),  # results written before `fault` was there
    ("incorrect", "", RunRecord(), "Incorrect"),
])
def test_an_error_says_whose_doing_it_is(status, fault, run, label):
    html = render_student(StudentResult("s1", 0, 1, (q("ex.c", "code", 0, 1, status, fault=fault, run=run),)))
    badge = article(html, "ex.c").split('<div class="qhead">', 1)[1]
    assert re.search(rf'<span class="icon" aria-hidden="true">.</span>{label}</span>', badge), badge[:600]


def text_of(html: str) -> str:
    """What a reader sees of some HTML: the text without tags, entities decoded."""
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def test_feedback_keeps_newlines_and_caret(good_html):
    assert "expected a term after &#39;+&#39;.\n  2x+\n     ^" in good_html


def test_formulas_and_vectors_are_mathml(good_html):
    assert good_html.count("<math") == 6  # two vectors, two formulas, one expected equation, a prompt's $J(w, b)$
    assert "<mfrac>" in good_html
    assert "<mn>−4.33</mn>" in good_html


def test_expected_hidden_when_not_revealed():
    shown = graded("good", "ex03.plot")
    assert shown.expected is not None and question_view(shown)["code"]["reference"]
    hidden = dataclasses.replace(shown, expected=None)  # as the engine does for `reveal: false`
    view = question_view(hidden)
    assert view["expected"] is None and view["expected_math"] is None
    assert view["code"]["reference"] is None and view["code"]["figure"] == shown.details["figure_png_b64"]
    html = render_student(StudentResult("s1", 0, 1, (hidden,)))
    assert "Expected answer" not in html and "Reference figure" not in html and "Your figure" in html


def test_review_and_stale_review(good_html, hostile_html):
    reviewed = text_of(article(good_html, "ex02.c"))
    assert "Reviewed by ta-kari on 2026-11-20T10:00:00Z" in reviewed and "Decision: 1 point of 1." in reviewed
    assert "Good point about singularity." in reviewed and "Awaiting" not in reviewed
    assert "Automatic feedback (before the review)" in reviewed
    # the rubric items the reviewer judged present, beside the rubric's own reading
    ticks = re.findall(r"<tr><th scope=\"row\">(.*?)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td></tr>",
                       article(good_html, "ex02.c"), re.S)
    assert [(item, text_of(reviewer), text_of(automatic)) for item, reviewer, automatic in ticks] == [
        ("no inverse of XᵀX needed", "✓ present", "✓ found"), ("scales to many features", "✗ not present", "✗ not found")]
    stale = text_of(article(hostile_html, "ex01.h"))
    assert "Outdated review (not applied)" in stale and "Awaiting review by an instructor." in stale


def test_code_cases_show_first_failures_in_full():
    cases = tuple(CaseResult(name=f"case {i}", passed=i == 0, inputs=f"in{i}", expected="e", got="g",
                             largest_difference=0.5, message=f"m{i}") for i in range(6))
    html = render_student(StudentResult("s1", 0, 1, (q("ex.c", "code", 0, 1, "incorrect", cases=cases),)))
    assert "Tests: 1 of 6 passed" in html
    assert [f"in{i}" in html for i in range(6)] == [False, True, True, True, False, False]
    assert "— m5" in html  # later failures still say why, briefly
    assert "Your answer" not in html  # code questions have no typed answer


@pytest.mark.parametrize("details", [
    None, {}, {"architecture": "x"}, {"architecture": [1, None, {"a": 2}]}, {"figure_png_b64": "AAAA"},
    {"figure_png_b64": "iVBORw0KGgo<script>"}, {"answer_latex": r"\frac{", "expected_latex": None},
    {"cases": [{"name": "a first-format case", "passed": False}], "stdout": 5},
])
def test_odd_details_never_break_the_page(details):
    result = StudentResult("s1", 0, 1, (q("ex.c", "code", 0, 1, "error", answer="1", details=details),))
    html = render_student(result)
    assert "Question ex.c" in html and "<script" not in html.split("<body>", 1)[1]
    assert "first-format case" not in html  # details are never read as cases


@pytest.mark.parametrize("case, run", [
    (CaseResult(name="", passed=False, largest_difference=float("nan")), RunRecord()),
    (CaseResult(name="x", passed=True, largest_difference=float("inf"), note="n"), RunRecord(limits_hit="output")),
])
def test_odd_records_never_break_the_page(case, run):
    html = render_student(StudentResult("s1", 0, 1, (q("ex.c", "code", 0, 1, "error", cases=(case,), run=run),)))
    assert "Tests: " in html and "Largest difference" not in html


# --- code questions, as the kinds grade them ------------------------------------------------

def article(html: str, question_id: str) -> str:
    """The <article> of one question in a student page."""
    anchor = 'id="q-' + re.sub(r"[^A-Za-z0-9_-]", "_", question_id) + '"'
    start = html.index(anchor)
    return html[start:html.index("</article>", start)]


def test_code_question_shows_its_tests_code_output_and_run(good_html):
    grad = article(good_html, "ex03.grad")
    assert "Tests: 1 of 4 passed" in grad
    for name in ("small batch", "random batch 1", "random batch 2", "large batch"):
        assert f"<strong>{name}</strong>" in grad
    source = STUDENTS["good"]["ex03.py"]
    shown = grad[grad.index('<pre class="source code">'):]
    assert "Your code" in grad and text_of(shown[:shown.index("</pre>")]) == source
    assert '<span class="k">def</span>' in shown  # highlighted
    assert "What your code printed" in grad and "grad: X has shape (16, 3)" in grad
    assert "Where they differ" in grad and "ValueError: shapes (3,16) and (5,) not aligned" in grad
    assert "Ran on</span>cpu" in grad and "Sandbox isolation: pidns+ipcns, rlimits" in grad
    assert "Your answer" not in grad and "(no answer given)" not in grad


def test_hidden_case_shows_only_that_it_failed(good_html):
    grad = article(good_html, "ex03.grad")
    table = grad[grad.index('<section class="cases"'):grad.index("</section>")]
    hidden = table[table.index("<strong>large batch</strong>"):]
    assert hidden.startswith("<strong>large batch</strong> <span class=\"muted\">(hidden)</span>")
    assert "the values are not right" in hidden and "Inputs" not in hidden and "Expected" not in hidden
    assert "(64, 3)" not in table  # the student's own print may say it; the grader does not


def test_a_syntax_error_shows_the_code_and_the_trace(good_html):
    loss = article(good_html, "ex04.loss")
    assert "Your code failed" in loss and "Your answer" not in loss
    assert text_of(loss[loss.index('<pre class="source code">'):].split("</pre>", 1)[0]) == STUDENTS["good"]["ex04.py"]
    trace = text_of(loss[loss.index("Error trace (your code)"):].split("</pre>", 1)[0])
    # Where it is, the line and a caret under the column; no args tuple, no temporary path.
    assert "SyntaxError: '(' was never closed (ex04.py, line 4, column 19)\n    return -np.log(p\n" \
           "                  ^" in trace, trace
    assert "grader-job-" not in loss and "', ('" not in trace


def test_model_and_plot_show_their_checks_and_figures(good_html):
    model = article(good_html, "ex03.model")
    assert "Tests: 2 of 2 passed" in model and "test accuracy" in model
    assert "Model layers" in model and "Linear(in_features=2, out_features=16" in model
    plot = article(good_html, "ex03.plot")
    assert "Tests: 3 of 4 passed" in plot and "the plot has no y-axis label" in plot
    assert "Your figure" in plot and "Reference figure" in plot and "def plot_data" in text_of(plot)


def test_unanswered_code_question_says_so():
    missing = q("ex03.grad", "code", 0, 1, "missing", feedback="No answer was given.")
    html = render_student(StudentResult("s1", 0, 1, (missing,)))
    assert "(no answer given)" in article(html, "ex03.grad")


def test_long_answers_are_cut_with_a_note():
    html = render_student(unicode_student())
    assert LONG_ANSWER not in html
    assert "more characters not shown" in html
    assert "Gradient­nedstigning ∇J(θ) 🙂" in html


def test_results_from_json_render_the_same():
    result = all_status_student()
    again = StudentResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert render_student(again, "t") == render_student(result, "t")


# --- overview ---------------------------------------------------------------------------

def test_overview_lists_attention_first_and_links_safely(overview_html):
    rows = re.findall(r'<td data-sort="[^"]*"><a href="(students/[^"]+)">', overview_html)
    names = unique_file_names(r.student for r in sample_results())
    assert sorted(rows) == sorted(f"students/{n}.html" for n in names)
    # The unicode student has no review/error and comes last.
    assert rows[-1] == f"students/{safe_file_name(unicode_student().student)}.html"


def test_overview_question_stats():
    html = render_overview(synthetic_class(200))
    assert "[-4.33, -2]</code>" in html  # the most frequent wrong vector answer
    assert "<code>fails random batch 1</code>" in html  # code: grouped by the first failing check
    assert "mistake #1 ×" in html and "You dropped the minus sign." in html
    assert html.count('<tr class="attention">') == sum(
        any(x.status in ("review", "error") for x in r.questions) or bool(r.error)
        for r in synthetic_class(200))


def test_histogram_counts_and_escapes():
    assert bin_counts([0, 0.5, 1, 9.99, 10, 11, -1, float("nan")], 10, 10) == [3, 1, 0, 0, 0, 0, 0, 0, 0, 3]
    svg = histogram([1, 2], 2, label="<b>")
    assert "<title id=\"hist-title\">&lt;b&gt;</title>" in svg
    assert svg.count("<rect") == 2
    assert histogram([], 0).count("<rect") == 10


# --- math -------------------------------------------------------------------------------

@pytest.mark.parametrize("latex, ok", [
    (r"\frac{13}{3}", True), (r"x^2 + \sigma(x)", True), (r"\sqrt{2}", True),
    (r"\frac{", False), ("", False), (r"\text{<script>alert(1)</script>}", False),
    (r"\text{a<b & c}", False), ("x" * 3000, False),
])
def test_latex_to_mathml(latex, ok):
    out = latex_to_mathml(latex)
    assert (out is not None) == ok
    if ok:
        assert out.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"')


@pytest.mark.parametrize("raw, ok", [
    ('<math xmlns="http://www.w3.org/1998/Math/MathML"><mi>x</mi></math>', True),
    ('<math><mi mathvariant="bold">x</mi></math>', True),
    ('<math><mi onclick="alert(1)">x</mi></math>', False),
    ('<math><script>alert(1)</script></math>', False),
    ('<math><mtext><img src="x"/></mtext></math>', False),
    ('<math><maction actiontype="statusline"><mi>x</mi></maction></math>', False),
    ('<math xmlns:h="http://www.w3.org/1999/xhtml"><h:script/></math>', False),
    ('<!DOCTYPE x [<!ENTITY a "b">]><math>&a;</math>', False),
    ('<svg><mi>x</mi></svg>', False), ("<math>", False),
])
def test_sanitize_mathml(raw, ok):
    assert (sanitize_mathml(raw) is not None) == ok


def test_sanitize_mathml_escapes_text():
    out = sanitize_mathml('<math><mi>&lt;b&gt;</mi></math>')
    assert out == '<math xmlns="http://www.w3.org/1998/Math/MathML"><mi>&lt;b&gt;</mi></math>'


@pytest.mark.parametrize("text, expected", [
    ("[4.33, 2]", [4.33, 2]), ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]), ("[1e400]", [float("inf")]),
    ("[]", None), ("[true]", None), ("[[1], [2, 3]]", None), ("[1, 'a']", None),
    ("{\"a\": 1}", None), ("4.33", None), (None, None), ("[" * 10 + "]" * 10, None),
    ("__import__('os')", None), ("[1, 2" + ", 3" * 10_000 + "]", None),
])
def test_parse_vector(text, expected):
    assert parse_vector(text) == expected


# --- files ------------------------------------------------------------------------------

@pytest.mark.parametrize("student, expected", [
    ("s123456", "s123456"), ("ola_n-1", "ola_n-1"),
    ("../../etc/passwd", None), ("", None), ("CON", None), ("a b", None), ("Åse", None),
    ("x" * 300, None), (".hidden", None), ("a/b", None), ("a\\b", None), ("a\0b", None),
])
def test_safe_file_name(student, expected):
    name = safe_file_name(student)
    assert re.fullmatch(r"[A-Za-z0-9_~-]{1,100}", name)
    if expected is not None:
        assert name == expected
    else:
        assert name != student and re.search(r"~[0-9a-f]{16}$", name)


def test_unique_file_names_never_collide():
    names = unique_file_names(["a b", "a_b", "a b", "s1", "s1", "a?b"])
    assert len(set(names)) == 6
    assert names[3:5] == ["s1", "s1~2"]


def test_write_reports(tmp_path: Path):
    (tmp_path / "students").mkdir()
    (tmp_path / "index.html").write_text("old")
    paths = write_reports(sample_results(), tmp_path, title="Set 1")
    assert paths[0] == tmp_path / "index.html" and len(paths) == 4
    assert all(p.is_file() and p.parent in (tmp_path, tmp_path / "students") for p in paths)
    assert "Class overview" in (tmp_path / "index.html").read_text(encoding="utf-8")
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(p.name for p in paths)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for href in re.findall(r'href="(students/[^"]+)"', index):
        assert (tmp_path / href).is_file()


@pytest.mark.parametrize("wrong, marked", [
    ([2], ["5"]), ([0, 2], ["28", "5"]), ([], []), ("2", []), ([True, -1, 99, "x"], []),
])
def test_wrong_vector_entries_are_marked(wrong, marked):
    result = q("ex06.1", "vector", 0, 1, "incorrect", answer="[28, 28, 5]", expected="[28, 28, 1]",
               details={"wrong_entries": wrong})
    html = render_student(StudentResult("s1", 0, 1, (result,)))
    assert re.findall(r'<mn class="wrong">([^<]*)</mn>', html) == marked
    assert ("Underlined entries are off" in html) == bool(marked)


def test_lateness_is_explained(good_html):
    assert ("Exercise ex03: handed in 2026-11-21T10:05:00Z, 2 h 5 min after the deadline "
            "(2026-11-21T08:00:00Z); 10&nbsp;% of its points were taken off.") in good_html


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (20, "20 s"), (60, "1 min"), (3600, "1 h"), (7500, "2 h 5 min"),
    (86400, "1 day"), (2 * 86400 + 7200, "2 days 2 h"), (-5, "-5"), ("x", "x"),
])
def test_fmt_duration(seconds, text):
    from grader.render.html import fmt_duration

    assert fmt_duration(seconds) == text


def test_overview_counts_answers_awaiting_review():
    results = synthetic_class(50)
    html = render_overview(results)
    pending = sum(q.status == "review" for r in results for q in r.questions)
    assert pending and f'<strong id="pending">{pending} answers awaiting review</strong>' in html
    assert "awaiting review</span>" in html  # per question too
