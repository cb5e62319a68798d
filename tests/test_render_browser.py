"""The reports as a person sees them: headless Chromium driven over the DevTools protocol.

Chromium is driven through `--remote-debugging-pipe` (NUL-delimited JSON on fds 3/4), so
the test needs only the standard library. It skips where no Chromium binary exists.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from grader.render import write_reports
from tests.render_samples import STUDENTS, all_status_student, hostile_student, sample_results, unicode_student

CHROMIUM = next(
    (path for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
     if (path := shutil.which(name))), None)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary on PATH (install Debian's `chromium` package to run this test)")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--remote-debugging-pipe"]
TIMEOUT = 30.0
TITLE = "INF 5860 · Exercise set 1"


def _high(fd: int) -> int:
    """A close-on-exec duplicate of `fd` numbered 10 or above; `fd` is closed."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Browser:
    """A minimal DevTools client over Chromium's debugging pipe, with one page session."""

    def __init__(self, profile: Path) -> None:
        # Keep our pipe ends above fd 10 so that moving them onto 3 and 4 in the child
        # can never clobber one with the other (the pipe may itself have got fd 3 or 4).
        to_chrome_r, self._to_chrome = (_high(fd) for fd in os.pipe())
        self._from_chrome, from_chrome_w = (_high(fd) for fd in os.pipe())

        def wire_fds() -> None:  # Chromium reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.page(f"{domain}.enable")

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the debugging pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def page(self, method: str, params: dict | None = None) -> dict:
        return self.call(method, params, self.session)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open(self, url: str) -> None:
        self.events.clear()
        self.page("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        self.evaluate("1")  # drain events queued before the load finished

    def evaluate(self, expression: str) -> Any:
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, width: int = 1000, mobile: bool = False) -> Path:
        self.page("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile})
        height = self.evaluate("document.documentElement.scrollHeight")
        shot = self.page("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 6000), "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(str(params.get("exceptionDetails")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(str(params.get("args")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(str(params["entry"].get("text")))
        return found

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    paths = write_reports(sample_results(), out, title=TITLE)
    return {"dir": out, "index": paths[0], "good": paths[1], "hostile": paths[2], "unicode": paths[3]}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _only_local(requests: list[str], page: Path) -> list[str]:
    """Requests other than the page itself and inline data: a report must make none."""
    return [url for url in requests if url != page.as_uri() and not url.startswith("data:")]


@pytest.mark.parametrize("name", ["good", "hostile", "unicode", "index"])
def test_page_loads_without_errors_or_network(site, browser, shots, name):
    browser.open(site[name].as_uri())
    assert browser.errors() == []
    assert _only_local(browser.requests(), site[name]) == []
    assert browser.evaluate("typeof window.__xss") == "undefined"
    # The title is the escaped text the template wrote; an executed payload would change it.
    student = {"good": all_status_student, "hostile": hostile_student,
               "unicode": unicode_student}.get(name)
    expected = f"Feedback for {student().student} · {TITLE}" if student else f"Class overview · {TITLE}"
    assert browser.evaluate("document.title") == expected
    browser.screenshot(shots / f"{name}.png", width=1280)
    browser.screenshot(shots / f"{name}-phone.png", width=390, mobile=True)
    # On a phone nothing may force sideways scrolling of the whole page: a wide table
    # scrolls inside its own box.
    assert browser.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), name
    browser.page("Emulation.clearDeviceMetricsOverride")


def test_formulas_are_mathml(site, browser):
    browser.open(site["good"].as_uri())
    assert browser.evaluate("document.querySelectorAll('math').length") >= 4
    assert browser.evaluate("document.querySelector('math mfrac') !== null")
    # A vector answer is typeset as numbers in brackets, with real minus signs.
    assert browser.evaluate("document.querySelector('#q-ex01_f math').textContent") == "[−4.33,−2]"


def test_status_badges_carry_text(site, browser):
    browser.open(site["good"].as_uri())
    labels = browser.evaluate(
        "Array.from(document.querySelectorAll('article .qhead .badge'), b => b.textContent)")
    assert labels == ["✓Correct", "✗Incorrect", "◐Partly correct", "∅Not answered",
                      "⚠Could not read your answer", "✓Correct",
                      "◐Partly correct", "◐Partly correct", "✓Correct", "✗Your code failed"]


def test_question_links_jump_to_their_question(site, browser):
    browser.open(site["good"].as_uri())
    target = browser.evaluate(
        "(() => { const a = document.querySelector('a[href=\"#q-ex03_grad\"]'); a.click();"
        " return location.hash; })()")
    assert target == "#q-ex03_grad"
    assert browser.evaluate("document.getElementById('q-ex03_grad').tagName") == "ARTICLE"


def test_figures_are_decoded_images_with_alt_text(site, browser):
    browser.open(site["good"].as_uri())
    images = browser.evaluate(
        "Array.from(document.images, i => [i.alt, i.naturalWidth > 0, i.complete])")
    assert images == [["Your figure for question ex03.plot", True, True],
                      ["Reference figure for question ex03.plot", True, True]]


def test_code_question_shows_its_test_table_and_code(site, browser):
    browser.open(site["good"].as_uri())
    text = browser.evaluate("document.getElementById('q-ex03_grad').innerText")
    assert "Tests: 1 of 4 passed" in text and "Your code" in text and "def grad(X, y, theta):" in text
    assert "What your code printed" in text and "Your answer" not in text


def test_hostile_strings_are_text(site, browser):
    browser.open(site["hostile"].as_uri())
    assert browser.evaluate("document.querySelectorAll('body script, body img, body svg').length") == 0
    text = browser.evaluate("document.body.innerText")
    assert "<script>window.__xss='script'" in text
    assert "<img src=x onerror=" in text


def test_overview_links_open_each_student_report(site, browser):
    browser.open(site["index"].as_uri())
    hrefs = browser.evaluate(
        "Array.from(document.querySelectorAll('#students-table a'), a => a.href)")
    assert len(hrefs) == 3
    for href in hrefs:
        browser.open(href)
        assert browser.evaluate("document.querySelector('h1').textContent").startswith("Feedback for")
        assert browser.errors() == []


def test_overview_lists_attention_first_and_sorts(site, browser):
    browser.open(site["index"].as_uri())
    first = browser.evaluate(
        "document.querySelector('#students-table tbody tr td').textContent.trim()")
    assert first in (all_status_student().student, hostile_student().student)
    assert browser.evaluate("document.querySelectorAll('svg.histogram rect').length") == 16  # one per point
    # The sorting script (allowed by its CSP hash) ran and sorts by score.
    browser.evaluate("document.querySelectorAll('#students-table th button.sort')[1].click()")
    scores = browser.evaluate(
        "Array.from(document.querySelectorAll('#students-table tbody tr'),"
        " r => parseFloat(r.cells[1].dataset.sort))")
    assert scores == sorted(scores)
    assert browser.errors() == []
    assert unicode_student().student in browser.evaluate("document.body.innerText")


def test_harness_sees_errors_network_and_scripts(tmp_path, browser):
    """Negative control: the checks above would fail on a page that misbehaves."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><title>bad</title><img src='http://192.0.2.1/x.png' alt=''>"
        "<script>window.__xss = 1; console.error('boom'); undefinedFunction();</script>",
        encoding="utf-8")
    browser.open(page.as_uri())
    assert browser.evaluate("window.__xss") == 1
    assert any("boom" in e for e in browser.errors())
    assert any("undefinedFunction" in e for e in browser.errors())
    assert _only_local(browser.requests(), page) == ["http://192.0.2.1/x.png"]


def test_overview_readable_without_javascript(site, browser):
    browser.page("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.open(site["index"].as_uri())
        assert browser.evaluate("document.querySelectorAll('button.sort').length") == 0
        assert browser.evaluate("document.querySelectorAll('#students-table tbody tr').length") == 3
    finally:
        browser.page("Emulation.setScriptExecutionDisabled", {"value": False})


def test_print_layout_shows_everything(site, browser, shots):
    browser.page("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        browser.open(site["good"].as_uri())
        assert browser.evaluate("getComputedStyle(document.querySelector('pre')).maxHeight") == "none"
        pdf = browser.page("Page.printToPDF", {"printBackground": True})
        (shots / "good.pdf").write_bytes(base64.b64decode(pdf["data"]))
        assert (shots / "good.pdf").read_bytes().startswith(b"%PDF")
    finally:
        browser.page("Emulation.setEmulatedMedia", {"media": ""})


def _at_phone_width(browser: Browser) -> None:
    browser.page("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 900, "deviceScaleFactor": 1, "mobile": True})


def test_wide_tables_scroll_in_their_box_on_a_phone(site, browser):
    _at_phone_width(browser)
    try:
        browser.open(site["index"].as_uri())
        facts = browser.evaluate(
            "(() => { const t = document.getElementById('questions-table'), w = t.parentElement;"
            " return {page: document.scrollingElement.scrollWidth, view: innerWidth, table: t.scrollWidth,"
            " box: w.clientWidth, overflow: getComputedStyle(w).overflowX}; })()")
        assert facts["page"] <= facts["view"] == 390
        assert facts["table"] > facts["box"] and facts["overflow"] == "auto"  # scrolls inside its box
        browser.open(site["good"].as_uri())
        assert browser.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        assert browser.evaluate("Array.from(document.querySelectorAll('table.case'), t =>"
                                " t.getBoundingClientRect().right <= innerWidth + 1).every(Boolean)")
    finally:
        browser.page("Emulation.clearDeviceMetricsOverride")


def test_expected_and_given_formulas_are_both_typeset(site, browser):
    browser.open(site["good"].as_uri())
    answer, expected = browser.evaluate(
        "Array.from(document.querySelectorAll('#q-ex01_a .answer-box'), b => b.querySelector('math mfrac') !== null)")
    assert answer and expected
    assert browser.evaluate("document.querySelector('#q-ex02_a .answer-box math').textContent") == "x=−12"


def test_prompts_are_markdown(site, browser):
    browser.open(site["good"].as_uri())
    prompt = "document.querySelector('#q-ex02_c .prompt')"
    assert browser.evaluate(f"{prompt}.querySelector('em').textContent") == "iterative"
    assert browser.evaluate(f"{prompt}.querySelector('code').textContent") == "normal equations"
    assert browser.evaluate(f"{prompt}.querySelectorAll('li').length") == 2
    assert browser.evaluate(f"{prompt}.querySelector('a').href").startswith("https://en.wikipedia.org/")
    assert browser.evaluate("document.querySelector('#q-ex01_a .prompt math') !== null")  # $J(w, b)$
    assert browser.evaluate("document.querySelector('#q-ex03_grad .prompt code').textContent") == "grad(X, y, theta)"


def test_markdown_in_a_prompt_cannot_script_or_load(site, browser):
    browser.open(site["hostile"].as_uri())
    prompt = "document.querySelector('#q-ex01_f .prompt')"
    hrefs = browser.evaluate(f"Array.from({prompt}.querySelectorAll('a'), a => a.getAttribute('href'))")
    assert not any(h.lower().startswith(("javascript:", "data:")) for h in hrefs), hrefs
    assert browser.evaluate(f"{prompt}.querySelectorAll('img, script, iframe, [onerror]').length") == 0
    text = browser.evaluate(f"{prompt}.innerText")
    assert "[a link](javascript:" in text and '<a href="javascript:' in text and "<b>code</b>" in text
    browser.evaluate(f"{prompt}.querySelectorAll('a').forEach(a => a.click())")
    assert browser.evaluate("typeof window.__xss") == "undefined"


def test_code_is_highlighted_and_the_failing_case_is_a_table(site, browser, shots):
    browser.open(site["good"].as_uri())
    grad = "document.getElementById('q-ex03_grad')"
    assert browser.evaluate(f"{grad}.querySelectorAll('pre.code .line').length") == \
        STUDENTS["good"]["ex03.py"].count("\n")
    keyword = browser.evaluate(f"getComputedStyle({grad}.querySelector('pre.code .k')).color")
    assert keyword not in ("rgb(27, 27, 27)", "rgb(0, 0, 0)")  # coloured, not body text
    rows = browser.evaluate(
        f"Array.from({grad}.querySelector('table.case').rows, r => r.cells[0].textContent)")
    assert rows == ["Inputs", "Expected", "Your code gave", "Where they differ", "Why it fails"]
    where = browser.evaluate(f"{grad}.querySelector('table.case').rows[3].cells[1].textContent")
    assert where.startswith("at [") and "off by" in where
    box = browser.evaluate(f"(() => {{ const r = {grad}.getBoundingClientRect(); return [r.y + scrollY, r.height]; }})()")
    shot = browser.page("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": {
        "x": 0, "y": box[0], "width": 1000, "height": min(box[1], 3000), "scale": 1}})
    (shots / "good-ex03-grad.png").write_bytes(base64.b64decode(shot["data"]))


def test_a_syntax_error_points_at_its_column(site, browser):
    browser.open(site["good"].as_uri())
    trace = browser.evaluate("Array.from(document.querySelectorAll('#q-ex04_loss pre'), p => p.textContent).pop()")
    lines = trace.splitlines()
    line = next(i for i, text in enumerate(lines) if "return -np.log(p" in text)
    assert lines[line + 1].index("^") == lines[line].index("(")  # the caret under the open bracket
    assert "grader-job-" not in trace and "/tmp/" not in trace


def test_review_decision_replaces_awaiting(site, browser):
    browser.open(site["good"].as_uri())
    text = browser.evaluate("document.getElementById('q-ex02_c').innerText")
    assert "Reviewed by ta-kari" in text and "Awaiting" not in text
    browser.open(site["hostile"].as_uri())
    assert "Awaiting review by an instructor." in browser.evaluate("document.getElementById('q-ex01_h').innerText")


def test_overview_tells_code_failures_from_grader_faults(tmp_path, browser):
    from grader.core.results import QuestionResult, RunRecord, StudentResult

    def student(name: str, fault: str, run: RunRecord | None) -> StudentResult:
        question = QuestionResult("ex03.grad", "code", 0.0, 1.0, "error", fault=fault, run=run)  # type: ignore[arg-type]
        return StudentResult(name, 0.0, 1.0, (question,))
    index = write_reports([student("s1", "student", RunRecord(limits_hit="timeout")),
                           student("s2", "grader", RunRecord()), student("s3", "", None)], tmp_path)[0]
    browser.open(index.as_uri())
    rows = browser.evaluate("Array.from(document.querySelectorAll('#students-table tbody tr'),"
                            " r => [r.cells[0].textContent.trim(), r.cells[3].innerText.replace(/\\s+/g, ' ').trim()])")
    assert rows == [["s2", "‼Grader fault ×1"], ["s3", "‼Error while grading ×1"], ["s1", "✗Your code failed ×1"]]
    wrong = browser.evaluate("document.querySelector('#questions-table tbody tr').cells[3].innerText")
    assert "no result: ran out of time" in wrong
