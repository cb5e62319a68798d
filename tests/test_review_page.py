"""`grader review --serve`: the review board's data, the server's gate (token, Host, Origin,
sizes), the page in headless Chromium (shortcuts, comments, a decision landing in the
overrides file, undo, a second tab seeing it, hostile answers shown as text), and the
INF 5860 text questions through the whole flow."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from grader import api
from grader.core import output
from grader.grading import overrides, page
from tests.conftest import EXAMPLES, EXERCISES
from tests.test_render_browser import CHROMIUM, Browser
from tests.test_review_cli import ANSWERS, SPEC

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> it converges faster'


@pytest.fixture()
def graded(tmp_path: Path) -> tuple[Path, Path]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ex.yaml").write_text(SPEC)
    answers = {**ANSWERS, "s4": {"t": "kills gradients", "u": HOSTILE}}
    for student, given in answers.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "answers.yaml").write_text(json.dumps({"ex": given}))
    api.grade_paths([specs], [tmp_path / "class"], tmp_path / "out", reports=False)
    return specs, tmp_path / "out"


def board_of(graded: tuple[Path, Path], by: str = "alice") -> page.Board:
    specs, out = graded
    return page.Board.load([specs], out, by)


@pytest.fixture()
def served(graded: tuple[Path, Path]) -> Iterator[page.ReviewServer]:
    server = api.review_page([graded[0]], graded[1], "alice")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def decided(specs: Path) -> dict[str, dict[str, overrides.Override]]:
    return overrides.load(specs / "overrides.yaml")


# --- the board ------------------------------------------------------------------------


def test_board_shows_each_question_with_groups_suggestions_and_comments(graded: tuple[Path, Path]) -> None:
    board = board_of(graded)
    listed = board.questions()
    assert [q["id"] for q in listed["questions"]] == ["ex.t", "ex.u"]
    assert listed["pending"] == listed["answers"] == 7
    q = board.question("ex.t")
    assert q["prompt"] == "Problems of the sigmoid?" and "zero-centred" in q["reference"]
    assert q["max_score"] == 2 and q["next"] in {a["student"] for a in q["answers"]}
    assert sum(g["size"] for g in q["groups"]) == 4
    s1 = next(a for a in q["answers"] if a["student"] == "s1")
    assert s1["rubric"][0] == {"concept": "kills gradients", "found": True, "matched": "kills gradients",
                               "points": 1}
    assert s1["basis"] == "prior" and 0 <= s1["suggested"] <= 2 and s1["decision"] is None
    assert q["comments"][:2] == ["Missing: kills gradients.", "Missing: not zero-centred."]


def test_board_decision_group_and_undo(graded: tuple[Path, Path]) -> None:
    specs, _ = graded
    board = board_of(graded)
    done = board.decide({"question": "ex.t", "student": "s1", "score": "1,5", "comment": "thin", "group": False})
    assert done["saved"] == ["s1"] and decided(specs)["s1"]["ex.t"].score == 1.5
    q = board.question("ex.t")
    assert q["pending"] == 3 and "thin" in q["comments"]
    assert next(a for a in q["answers"] if a["student"] == "s1")["decision"]["comment"] == "thin"
    assert board.questions()["pending"] == 6
    board.undo({"action": done["action"]})
    assert "s1" not in decided(specs)
    with pytest.raises(page.Refused):
        board.undo({"action": done["action"]})
    # a whole group: the rest of s1's group not yet decided gets the same decision
    group = next(g for g in board.question("ex.t")["groups"] if "s1" in g["members"])
    done = board.decide({"question": "ex.t", "student": "s1", "score": 1, "comment": "", "group": True})
    assert set(done["saved"]) == set(group["members"]) - set(group["outliers"]) | {"s1"}


@pytest.mark.parametrize("body, message", [
    ({"question": "ex.t", "student": "s1", "score": 3}, "from 0 to 2"),
    ({"question": "ex.t", "student": "s1", "score": True}, "a score is needed"),
    ({"question": "ex.t", "student": "s9", "score": 1}, "no answer"),
    ({"question": "ex.zz", "student": "s1", "score": 1}, "no answers to review"),
    ({"question": "ex.t", "student": "s1", "score": 1, "comment": 5}, "comment must be text"),
])
def test_board_refuses_bad_decisions(graded: tuple[Path, Path], body: dict[str, Any], message: str) -> None:
    with pytest.raises(page.Refused, match=message):
        board_of(graded).decide(body)
    assert not (graded[0] / "overrides.yaml").exists()


# --- the gate -------------------------------------------------------------------------


def request(server: page.ReviewServer, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    sent = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in sent.items():
        connection.putheader(key, value)
    if body is not None and "Content-Length" not in sent:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    reply = connection.getresponse()
    raw = reply.read()
    connection.close()
    kind = reply.getheader("Content-Type") or ""
    return reply.status, json.loads(raw) if kind.startswith("application/json") else {"html": raw.decode()}, \
        dict(reply.getheaders())


def post(server: page.ReviewServer, path: str, data: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    sent = {"X-Review-Token": server.token, "Content-Type": "application/json",
            "Origin": f"http://127.0.0.1:{server.port}", **{k.replace("_", "-"): v for k, v in headers.items()}}
    status, reply, _ = request(server, "POST", path, json.dumps(data).encode(), sent)
    return status, reply


def test_server_binds_to_loopback_with_a_fresh_token(served: page.ReviewServer) -> None:
    assert served.server_address[0] == "127.0.0.1"
    assert served.url == f"http://127.0.0.1:{served.port}/?token={served.token}" and len(served.token) >= 32
    status, reply, headers = request(served, "GET", f"/?token={served.token}")
    assert status == 200 and "<title>grader review</title>" in reply["html"]
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "unsafe-inline" not in policy
    assert "http" not in reply["html"].split("<body>")[1].replace("http://127.0.0.1", "")  # nothing from outside


@pytest.mark.parametrize("path, host", [
    ("/", None), ("/?token=wrong", None), ("/api/questions", None), ("/api/questions?token=x", None),
    ("/api/questions?token={token}", "evil.example:{port}"),  # DNS rebinding
    ("/api/questions?token={token}", "127.0.0.1:1"),
])
def test_requests_without_the_token_or_from_another_host_are_refused(served: page.ReviewServer, path: str,
                                                                     host: str | None) -> None:
    headers = {"Host": host.format(port=served.port)} if host else {}
    status, reply, _ = request(served, "GET", path.format(token=served.token), headers=headers)
    assert status == 403 and "questions" not in reply


def test_posts_need_header_token_json_same_origin_and_a_bounded_body(served: page.ReviewServer) -> None:
    body = {"question": "ex.t", "student": "s1", "score": 1}
    assert post(served, "/api/decide", body, Origin="http://evil.example")[0] == 403
    assert post(served, "/api/decide", body, Sec_Fetch_Site="cross-site")[0] == 403
    assert post(served, "/api/decide", body, Content_Type="text/plain")[0] == 415
    status, _, _ = request(served, "POST", f"/api/decide?token={served.token}", json.dumps(body).encode(),
                           {"Content-Type": "application/json"})
    assert status == 403  # the token in the URL alone does not allow a change
    status, reply, _ = request(served, "POST", "/api/decide", b"x" * (page.MAX_BODY + 1),
                               {"X-Review-Token": served.token, "Content-Type": "application/json"})
    assert status == 413
    assert post(served, "/api/decide", [1, 2])[0] == 400
    assert post(served, "/api/decide", {**body, "score": 9})[0] == 400
    assert not (served.board.path).exists()
    status, reply = post(served, "/api/decide", body)
    assert status == 200 and reply["saved"] == ["s1"] and served.board.path.exists()


# --- the page in Chromium ---------------------------------------------------------------



def key(browser: Any, name: str, code: str, text: str = "", vk: int = 0, shift: bool = False,
        session: str | None = None) -> None:
    base = {"key": name, "code": code, "windowsVirtualKeyCode": vk, "modifiers": 8 if shift else 0}
    browser.call("Input.dispatchKeyEvent", {"type": "keyDown", "text": text, **base}, session or browser.session)
    browser.call("Input.dispatchKeyEvent", {"type": "keyUp", **base}, session or browser.session)


def digit(browser: Any, d: str, shift: bool = False) -> None:
    key(browser, "!@#$%^&*("[int(d) - 1] if shift else d, f"Digit{d}", "" if shift else d, 48 + int(d), shift)


def letter(browser: Any, ch: str) -> None:
    key(browser, ch, f"Key{ch.upper()}", ch, ord(ch.upper()))


def until(check: Any, what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def shown_student(browser: Any, session: str | None = None) -> str:
    return browser.call("Runtime.evaluate", {"expression": "document.querySelector('#answer-meta strong')?.textContent"
                                             " || ''", "returnByValue": True},
                        session or browser.session)["result"].get("value") or ""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary on PATH")
def test_the_page_in_chromium(served: page.ReviewServer, tmp_path: Path) -> None:
    specs = served.board.path.parent
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(served.url)
        student = until(lambda: shown_student(browser), "the first answer")
        assert browser.evaluate("document.getElementById('totals').textContent") == "7 of 7 answers pending review"
        # a second tab on the same page
        target = browser.call("Target.createTarget", {"url": served.url})["targetId"]
        other = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        until(lambda: shown_student(browser, other), "the second tab")

        # score by a digit, a comment typed, a reusable comment by Shift+1, Enter saves
        digit(browser, "1")
        assert browser.evaluate("document.getElementById('score').value") == "1"
        browser.evaluate("document.activeElement.blur()")
        letter(browser, "c")
        assert browser.evaluate("document.activeElement.id") == "comment"
        browser.page("Input.insertText", {"text": "Names one."})
        browser.evaluate("document.activeElement.blur()")
        digit(browser, "1", shift=True)
        key(browser, "Enter", "Enter", "\r", 13)
        entry = until(lambda: decided(specs).get(student, {}).get("ex.t"), "the decision in the file")
        assert (entry.score, entry.comment, entry.by) == (1.0, "Names one. Missing: kills gradients.", "alice")
        until(lambda: "saved 1 for " + student in browser.evaluate("document.getElementById('status').textContent"),
              "the page to say it saved")
        until(lambda: shown_student(browser) not in ("", student), "the next answer")

        # the second tab sees the decision (it polls the file)
        until(lambda: browser.call("Runtime.evaluate", {"expression": "document.getElementById('totals').textContent",
                                                        "returnByValue": True}, other)["result"]["value"]
              == "6 of 7 answers pending review", "the second tab to see the decision")

        # undo takes it out of the file again and shows the answer once more
        letter(browser, "u")
        until(lambda: "ex.t" not in decided(specs).get(student, {}), "the undo")  # one read: the file may change between two
        until(lambda: shown_student(browser) == student, "the undone answer shown again")

        # the hostile answer to ex.u is text, not markup
        key(browser, "]", "BracketRight", "]", 221)
        until(lambda: "ex.u" in browser.evaluate("document.getElementById('qtitle').textContent"), "question ex.u")
        for _ in range(4):
            if shown_student(browser) == "s4":
                break
            letter(browser, "n")
            time.sleep(0.5)
        assert until(lambda: shown_student(browser) == "s4", "the hostile answer")
        assert browser.evaluate("document.getElementById('answer').textContent").startswith("<img src=x onerror=")
        assert browser.evaluate("document.querySelectorAll('main img, main script').length") == 0
        assert browser.evaluate("typeof window.__xss") == "undefined"
        # the rubric's matched words are marked
        marked = browser.evaluate("Array.from(document.querySelectorAll('#answer mark'), m => m.textContent)")
        assert marked and all(m in HOSTILE for m in marked)
        browser.screenshot(tmp_path / "review.png")
        assert browser.errors() == []
        local = f"http://127.0.0.1:{served.port}/"
        assert [url for url in browser.requests() if not url.startswith(local)] == []

        # a wrong token is refused
        browser.page("Page.navigate", {"url": served.url.replace(served.token, "wrong")})
        until(lambda: "wrong token" in (browser.evaluate("document.body && document.body.innerText") or ""),
              "the refusal")
    finally:
        browser.close()


# --- INF 5860, the whole flow -------------------------------------------------------------


@pytest.mark.slow
def test_inf5860_text_questions_through_the_whole_flow(tmp_path: Path) -> None:
    """grade → decisions (the page's JSON API and the one-decision command) → grade → report."""
    from click.testing import CliRunner

    from grader import cli

    out, decisions = tmp_path / "out", tmp_path / "decisions.yaml"
    api.grade_paths([EXERCISES], [EXAMPLES], out, overrides=decisions)
    board = page.Board.load([EXERCISES], out, "alice", decisions)
    listed = board.questions()
    text_questions = [q for q in listed["questions"] if q["pending"]]
    waiting = sum(q.status == "review" for r in output.read_results(out / "results") for q in r.questions)
    assert len(text_questions) == 40 and listed["pending"] == waiting
    first = board.question(text_questions[0]["id"])
    shown = first["next"]
    board.decide({"question": first["id"], "student": shown, "score": first["max_score"], "comment": "Well put.",
                  "group": True})
    # a regrade request on an auto-graded answer, through the command
    s2 = {q.id: q for q in next(r for r in output.read_results(out / "results") if r.student == "s100002").questions}
    auto = next(q for q in s2.values() if q.status in ("incorrect", "partial") and q.kind == "numeric")
    result = CliRunner().invoke(cli.main, ["review", str(EXERCISES), str(out), "--overrides", str(decisions),
                                           "--student", "s100002", "--question", auto.id, "--score",
                                           f"{auto.max_score:g}", "--comment", "Regrade: the rounding is fine.",
                                           "--by", "bob"])
    assert result.exit_code == 0, result.output
    api.grade_paths([EXERCISES], [EXAMPLES], out, overrides=decisions)
    after = {r.student: {q.id: q for q in r.questions} for r in output.read_results(out / "results")}
    decided_q = after[shown][first["id"]]
    assert decided_q.review and decided_q.review.comment == "Well put." and decided_q.score == first["max_score"]
    regraded = after["s100002"][auto.id]
    assert regraded.status == "correct" and regraded.review and regraded.review.by == "bob"
    assert "Regrade: the rounding is fine." in (out / "reports" / "students" / "s100002.html").read_text()
    again = page.Board.load([EXERCISES], out, "alice", decisions)
    assert again.questions()["pending"] < listed["pending"]


def test_serve_prints_its_url_and_ctrl_c_stops_it(graded: tuple[Path, Path]) -> None:
    """The real command: the URL it prints answers, and SIGINT ends it cleanly (exit 0)."""
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    from tests.conftest import ROOT

    specs, out = graded
    process = subprocess.Popen([sys.executable, "-m", "grader", "review", str(specs), str(out), "--serve",
                                "--by", "alice"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Review page: http://127.0.0.1:"), line + (process.stderr.read() if process.stderr else "")
        url = line.split(": ", 1)[1].strip()
        with urllib.request.urlopen(url.replace("/?", "/api/questions?"), timeout=10) as reply:
            assert json.loads(reply.read())["pending"] == 7
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr
        assert "stopped; decisions are saved in" in stdout
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- rubric items ticked ------------------------------------------------------------------


def test_board_records_the_rubric_items_ticked_and_shows_them_again(graded: tuple[Path, Path]) -> None:
    specs, _ = graded
    board = board_of(graded)
    s1 = next(a for a in board.question("ex.t")["answers"] if a["student"] == "s1")
    assert [r["concept"] for r in s1["rubric"]] == ["kills gradients", "not zero-centred"]
    done = board.decide({"question": "ex.t", "student": "s1", "score": 2, "comment": "",
                         "rubric": ["Not zero-centred", "kills gradients"]})
    assert done["rubric"] == ["kills gradients", "not zero-centred"]
    assert decided(specs)["s1"]["ex.t"].rubric == ("kills gradients", "not zero-centred")
    again = next(a for a in board_of(graded).question("ex.t")["answers"] if a["student"] == "s1")
    assert again["decision"]["rubric"] == ["kills gradients", "not zero-centred"]
    # none ticked is recorded as such; a body without `rubric` says nothing of the rubric
    board.decide({"question": "ex.t", "student": "s2", "score": 0, "rubric": []})
    board.decide({"question": "ex.t", "student": "s3", "score": 2})
    assert decided(specs)["s2"]["ex.t"].rubric == () and decided(specs)["s3"]["ex.t"].rubric is None
    # a group decision gives every member the same ticks, as it gives the score
    first = board.question("ex.u")["groups"][0]["members"][0]
    saved = board.decide({"question": "ex.u", "student": first, "score": 1, "rubric": ["faster convergence"],
                          "group": True})["saved"]
    assert all(decided(specs)[s]["ex.u"].rubric == ("faster convergence",) for s in saved)


@pytest.mark.parametrize("rubric, message", [
    (["made up"], "no rubric item 'made up' in ex.t (its items: 'kills gradients', 'not zero-centred')"),
    (["kills gradients", "made up"], "no rubric item 'made up'"),
    ("kills gradients", "rubric must be a list"),
    ([1], "rubric must be a list"),
    (["x" * 301], "rubric must be a list"),
    (["kills gradients"] * 101, "rubric must be a list of at most 100"),
])
def test_board_refuses_ticks_the_rubric_does_not_have(graded: tuple[Path, Path], rubric: Any, message: str) -> None:
    with pytest.raises(page.Refused, match=message.replace("(", r"\(").replace(")", r"\)")):
        board_of(graded).decide({"question": "ex.t", "student": "s1", "score": 1, "rubric": rubric})
    assert not (graded[0] / "overrides.yaml").exists()


# --- following a regrade ------------------------------------------------------------------


def regrade(graded: tuple[Path, Path], student: str, answers: dict[str, str]) -> None:
    """The class graded again with `student`'s answers changed, as `grader grade` does it."""
    specs, out = graded
    (out.parent / "class" / student / "answers.yaml").write_text(json.dumps({"ex": answers}))
    api.grade_paths([specs], [out.parent / "class"], out, reports=False)


def s1_text(board: page.Board) -> str:
    return next(a["text"] for a in board.question("ex.t")["answers"] if a["student"] == "s1")


def test_board_follows_a_regrade_on_the_next_request(graded: tuple[Path, Path]) -> None:
    board = board_of(graded)
    before = board.version()
    assert s1_text(board) == "It kills gradients" and before["grading"] is False
    regrade(graded, "s1", {"t": "It saturates and is always positive", "u": "It converges faster"})
    after = board.version()
    assert after["version"] != before["version"] and after["results"] != before["results"]
    assert s1_text(board) == "It saturates and is always positive"
    s1 = next(a for a in board.question("ex.t")["answers"] if a["student"] == "s1")
    assert [r["found"] for r in s1["rubric"]] == [True, True]  # the new reading of the answer
    assert board.version() == after  # read once: unchanged results are not read again


def test_board_waits_while_a_grade_run_writes_and_never_reads_a_temporary_file(graded: tuple[Path, Path]) -> None:
    import os
    import socket
    import subprocess
    import sys

    from grader.core import lock

    specs, out = graded
    board = board_of(graded)
    version = board.version()
    # a run that is still writing: the lock names a live process of this host
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / lock.LOCK_NAME).write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                                      "command": "grader grade"}))
        data = json.loads((out / "results" / "s1.json").read_text())
        data["questions"][0]["answer"] = "rewritten by the regrade"
        output.write_atomic(out / "results" / "s1.json", json.dumps(data))
        (out / "results" / ".s2.json.x1y2.tmp").write_text('{"half": ')  # a file being written
        assert board.version()["grading"] is True
        assert s1_text(board) == "It kills gradients"  # not yet: the run has not finished
    finally:
        holder.kill()
        holder.wait()
    assert board.version()["grading"] is False  # the run ended (its process is gone)
    assert s1_text(board) == "rewritten by the regrade" and board.version()["version"] != version["version"]
    (out / lock.LOCK_NAME).unlink()


def test_board_keeps_what_it_shows_when_new_results_cannot_be_read(graded: tuple[Path, Path]) -> None:
    _specs, out = graded
    board = board_of(graded)
    good = (out / "results" / "s1.json").read_text()
    (out / "results" / "s1.json").write_text("{not json")
    listed = board.questions()
    assert "s1.json: not a grader result file" in listed["problem"] and listed["pending"] == 7
    assert s1_text(board) == "It kills gradients"
    data = json.loads(good)
    data["questions"][0]["answer"] = "fixed"
    output.write_atomic(out / "results" / "s1.json", json.dumps(data))
    assert s1_text(board) == "fixed" and board.questions()["problem"] == ""


def test_the_server_shows_rewritten_results_on_the_next_request(served: page.ReviewServer,
                                                                graded: tuple[Path, Path]) -> None:
    token = {"X-Review-Token": served.token}
    _, before, _ = request(served, "GET", "/api/version", headers=token)
    regrade(graded, "s1", {"t": "Answer after the regrade", "u": "It converges faster"})
    _, after, _ = request(served, "GET", "/api/version", headers=token)
    assert after["version"] != before["version"] and after["grading"] is False
    status, question, _ = request(served, "GET", "/api/question?id=ex.t", headers=token)
    assert status == 200 and "Answer after the regrade" in [a["text"] for a in question["answers"]]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary on PATH")
def test_the_page_ticks_rubric_items_by_keyboard_and_follows_a_regrade(served: page.ReviewServer,
                                                                      tmp_path: Path) -> None:
    specs, out = served.board.path.parent, served.board.source.folder if served.board.source else Path()
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(served.url)
        student = until(lambda: shown_student(browser), "the first answer")
        boxes = "Array.from(document.querySelectorAll('#rubric input[type=checkbox]'), b => b.checked)"
        start = browser.evaluate(boxes)
        assert len(start) == 2 and browser.evaluate("document.getElementById('rubric-box').hidden") is False
        # r goes to the first item, Tab to the second, Space ticks (or unticks) it
        letter(browser, "r")
        assert browser.evaluate("document.activeElement.id") == "tick-0"
        key(browser, "Tab", "Tab", "", 9)
        assert browser.evaluate("document.activeElement.id") == "tick-1"
        key(browser, " ", "Space", " ", 32)
        ticked = until(lambda: (now := browser.evaluate(boxes)) != start and now, "the second item ticked")
        assert ticked == [start[0], not start[1]]
        digit(browser, "2")
        key(browser, "Enter", "Enter", "\r", 13)
        entry = until(lambda: decided(specs).get(student, {}).get("ex.t"), "the decision in the file")
        names = ["kills gradients", "not zero-centred"]
        assert entry.score == 2 and entry.rubric == tuple(n for n, on in zip(names, ticked) if on)
        until(lambda: shown_student(browser) not in ("", student), "the next answer")
        # shown again with the decision: the boxes are the reviewer's ticks
        browser.evaluate(f"state.current = {json.dumps(student)}; render()")
        assert browser.evaluate(boxes) == ticked
        assert "present: " in browser.evaluate("document.getElementById('decision').textContent")

        # `grader grade` again while the page is open: the page shows the new results
        data = json.loads((out / "results" / f"{student}.json").read_text())
        data["questions"][0]["answer"] = "A regraded answer, kills gradients"
        output.write_atomic(out / "results" / f"{student}.json", json.dumps(data))
        until(lambda: "graded again" in browser.evaluate("document.getElementById('status').textContent"),
              "the page to notice the regrade")
        browser.evaluate(f"state.current = {json.dumps(student)}; render()")
        assert browser.evaluate("document.getElementById('answer').textContent") == "A regraded answer, kills gradients"
        assert browser.errors() == []
    finally:
        browser.close()
