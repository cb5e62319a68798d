"""`grader review --serve`: the review page, served to a browser on this machine only.

Two parts:
- `Board`: what the page shows and does, as plain data in and out (JSON-shaped dicts), no
  HTTP: per question the prompt, the reference answer, the answer groups with their sizes
  and suggested scores, each answer with its rubric items, suggestion and decision, the
  next answer that teaches most (grader.grading.groups and .suggest, as the terminal walk),
  the reusable comments (review.comment_bank); decisions (score, comment, the rubric items
  judged present) and their undo, written to the same overrides file as the terminal walk
  (overrides.record / restore: locked, atomic). It follows a regrade: when the results
  under the folder change, the next request reads them again (`Board.current`), and the
  version the page polls changes with them.
- `server`: a standard-library ThreadingHTTPServer around a Board, bound to 127.0.0.1.

What the server lets through (every request, before anything else):
- the Host header must name 127.0.0.1 or localhost at the server's port (a page of another
  site whose name was made to point at 127.0.0.1, DNS rebinding, sends its own name);
- the token, made by secrets.token_urlsafe at start and printed in the URL, must come with
  the request (`?token=` or the `X-Review-Token` header), compared with hmac.compare_digest;
  else 403;
- a POST must carry the token in the header (a form cannot set one), `Content-Type:
  application/json`, no Origin but this server's, a Content-Length of at most
  `MAX_BODY` bytes.
The page is one file (templates/review.html) with its CSS and JavaScript inline, under a
Content-Security-Policy that allows only them (a per-response nonce) and requests to this
server; it fetches nothing from elsewhere and works offline. What students wrote reaches
the page only as JSON and is put in the page as text (textContent), never as HTML.
"""

from __future__ import annotations

import hmac
import itertools
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from grader.authoring import spec
from grader.core import lock, output
from grader.core.errors import GraderError
from grader.grading import groups, overrides, review, suggest
from grader.grading import rubric as rubrics
from grader.core.results import QuestionResult, StudentResult

PAGE = Path(__file__).resolve().parents[2] / "templates" / "review.html"
MAX_BODY = 64 * 1024
"""Largest request body accepted (a decision with a 2,000-character comment is far less)."""
MAX_SKIPPED = 500
HOSTS = ("127.0.0.1", "localhost")
JSONMap = dict[str, Any]


class Refused(Exception):
    """A request the board will not do; its message is shown on the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Question:
    id: str
    items: list[review.Item]
    analysis: groups.Analysis
    reference: str


@dataclass(frozen=True)
class Source:
    """Where a board's results come from, to read them again after a regrade."""

    spec_paths: tuple[Path, ...]
    folder: Path
    """The `grade --out` folder (or its results/)."""

    @property
    def grading_folder(self) -> Path:
        """The folder a `grade` run locks while it writes (grader.core.lock)."""
        return review.results_folder(self.folder).parent


@dataclass
class Snapshot:
    """The graded results as read at one time, and what the board made of them: what the
    page shows until the results change."""

    items: dict[str, list[review.Item]]
    """Question id (in course order) -> the answers to it that are, or were, for review."""
    references: Mapping[str, str]
    prints: Mapping[str, str]
    stamp: str = ""
    """`output.results_version` of the results before they were read ("" when not read from a folder)."""
    analysed: dict[str, _Question] = field(default_factory=dict)
    """Answers compared, per question, when first shown."""


@dataclass
class Board:
    """One review session's data: the graded results, the specs' fingerprints and the
    overrides file. Answers are compared once per question, when first shown.

    With a `source`, every request first looks whether the results have changed (a `grade`
    run again into the folder) and, once that run has finished, reads them again: the page
    follows a regrade without a restart. Each result file is replaced whole (a rename), so
    none is ever read half written; results that cannot be read leave the page as it was,
    with `problem` saying why, until they change again."""

    path: Path
    by: str
    snapshot: Snapshot
    source: Source | None = None
    problem: str = ""
    """Why the changed results could not be read ("" when they could)."""
    _failed: str = ""
    _undo: dict[int, list[tuple[str, str, overrides.Override | None, overrides.Override]]] = \
        field(default_factory=dict)
    _actions: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reading: threading.Lock = field(default_factory=threading.Lock)
    now: Callable[[], str] = field(default=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @classmethod
    def load(cls, spec_paths: Sequence[Path], folder: Path, by: str, path: Path | None = None) -> Board:
        if not by.strip():
            raise GraderError("say who is reviewing with --by NAME (or set $USER)")
        source = Source(tuple(spec_paths), folder)
        path = path or overrides.default_path(spec_paths)
        return cls(path=path, by=by.strip(), snapshot=_read(source, path), source=source)

    @classmethod
    def of(cls, course_prints: Mapping[str, str], results: Sequence[StudentResult], path: Path, by: str,
           references: Mapping[str, str]) -> Board:
        """A board over results in hand (it never reads them again)."""
        return cls(path=path, by=by, snapshot=snapshot_of(course_prints, results, path, references))

    def current(self) -> Snapshot:
        """The snapshot to answer from: read again first when the results have changed since
        and no `grade` run is still writing them."""
        if self.source is None:
            return self.snapshot
        stamp = output.results_version(self.source.folder)
        if stamp in (self.snapshot.stamp, self._failed) or lock.running(self.source.grading_folder):
            return self.snapshot
        with self._reading:
            if self.snapshot.stamp == stamp:  # another request read them meanwhile
                return self.snapshot
            try:
                fresh = _read(self.source, self.path)
            except GraderError as error:
                self._failed, self.problem = stamp, error.show()
                return self.snapshot
            self.snapshot, self._failed, self.problem = fresh, "", ""
        return fresh

    # --- reading ---------------------------------------------------------------------

    def _decisions(self, qid: str, snap: Snapshot) -> dict[str, overrides.Override]:
        """Current decisions on a question (stale ones, made on another version of it, left out)."""
        entries = overrides.current(self.path)
        return {s: q[qid] for s, q in entries.items() if qid in q and q[qid].spec == snap.prints.get(qid)}

    def questions(self) -> JSONMap:
        snap = self.current()
        rows = []
        for qid, items in snap.items.items():
            decided = self._decisions(qid, snap)
            done = sum(item.student in decided for item in items)
            rows.append({"id": qid, "max_score": items[0].question.max_score, "answers": len(items),
                         "decided": done, "pending": len(items) - done})
        return {"by": self.by, "file": str(self.path), "version": self._version(snap), "questions": rows,
                "pending": sum(r["pending"] for r in rows), "answers": sum(r["answers"] for r in rows),
                "results": snap.stamp, "problem": self.problem}

    def version(self) -> JSONMap:
        """What the page polls: a version that changes with the overrides file and with the
        results, whether a `grade` run is writing the results now, and why changed results
        could not be read."""
        snap = self.current()
        grading = self.source is not None and lock.running(self.source.grading_folder)
        return {"version": self._version(snap), "results": snap.stamp, "grading": grading,
                "problem": self.problem}

    def _version(self, snap: Snapshot) -> str:
        return f"{overrides.version(self.path)}/{snap.stamp}"

    def _question(self, qid: str, snap: Snapshot) -> _Question:
        if qid not in snap.items:
            raise Refused(f"no answers to review for question {qid!r}", 404)
        with self._lock:
            found = snap.analysed.get(qid)
            if found is None:
                items = snap.items[qid]
                reference = snap.references.get(qid, "")
                analysis = groups.analyse(review.task_for(items, reference),
                                          [review.answer_for(item) for item in items])
                found = snap.analysed[qid] = _Question(qid, items, analysis, reference)
        return found

    def question(self, qid: str, skipped: Sequence[str] = ()) -> JSONMap:
        snap = self.current()
        q = self._question(qid, snap)
        decided = self._decisions(qid, snap)
        scores = {s: d.score for s, d in decided.items()}
        round_ = suggest.suggest(q.analysis, scores, skipped)
        advice = round_.by_key()
        first = q.items[0].question
        max_score = first.max_score
        answers = []
        for item in q.items:
            s = advice[item.student]
            d = decided.get(item.student)
            answers.append({
                "student": item.student, "text": (item.question.answer or "")[:review.MAX_SHOWN],
                "status": item.question.status, "feedback": item.question.feedback[:1000],
                "rubric": [{"concept": e.concept, "found": e.found, "matched": e.matched, "points": e.points}
                           for e in rubrics.entries(item.question)],
                "suggested": review.shown_score(s.score, max_score), "confidence": s.confidence,
                "basis": s.basis, "group": s.group, "outlier": s.outlier,
                "decision": None if d is None else {"score": d.score, "comment": d.comment, "by": d.by,
                                                    "at": d.at, "rubric": _listed(d.rubric)}})
        listed = []
        for g in q.analysis.groups:
            members = [advice[k] for k in g.members]
            open_ = [m for m in members if m.basis != "decided"]
            shown = open_ or members
            listed.append({"id": g.id, "size": g.size, "members": list(g.members), "outliers": list(g.outliers),
                           "decided": g.size - len(open_), "pending": len(open_),
                           "suggested": review.shown_score(sum(m.score for m in shown) / len(shown), max_score)})
        earlier = [d.comment for d in sorted(decided.values(), key=lambda d: d.at) if d.comment]
        return {"id": qid, "prompt": first.prompt, "reference": q.reference or first.expected or "",
                "max_score": max_score, "groups": listed, "answers": answers, "next": round_.next,
                "proposal": list(round_.proposal), "comments": review.comment_bank([first], earlier),
                "pending": sum(a["decision"] is None for a in answers), "version": self._version(snap),
                "results": snap.stamp}

    # --- deciding -------------------------------------------------------------------------

    def decide(self, body: Mapping[str, Any]) -> JSONMap:
        """`{question, student, score, comment, rubric, group}`: record the decision for the
        student's answer and, with `group` true, for the rest of its group not yet decided (not
        its outliers), all with the same rubric items judged present (`rubric`, a list of the
        answer's item names; left out: the decision says nothing of the rubric). Returns the
        action's number, for `undo`."""
        qid, student = _text(body, "question", 200), _text(body, "student", 200)
        snap = self.current()
        q = self._question(qid, snap)
        keys = {item.student: item for item in q.items}
        if student not in keys:
            raise Refused(f"{student!r} has no answer to {qid} here", 404)
        max_score = keys[student].question.max_score
        raw = body.get("score")
        score = review.parse_score(str(raw), max_score) if isinstance(raw, (str, int, float)) \
            and not isinstance(raw, bool) else "a score is needed"
        if isinstance(score, str):
            raise Refused(score)
        comment = review.typed_comment(_text(body, "comment", overrides.MAX_COMMENT * 2, ""))
        ticked = _ticked(body, keys[student].question)
        targets = [student]
        if body.get("group") is True:
            decided = self._decisions(qid, snap)
            group = q.analysis.group(student)
            targets += [k for k in group.members if k != student and k not in decided and k not in group.outliers]
        at = self.now()
        done = []
        with self._lock:
            for key in targets:
                before = overrides.current(self.path).get(key, {}).get(qid)
                decision = overrides.Override(float(score), comment, self.by, at, snap.prints[qid], ticked)
                overrides.record(self.path, key, qid, decision)
                done.append((key, qid, before, decision))
            action = next(self._actions)
            self._undo[action] = done
        return {"action": action, "saved": targets, "score": float(score), "rubric": _listed(ticked),
                "version": self._version(snap)}

    def undo(self, body: Mapping[str, Any]) -> JSONMap:
        """`{action}`: put back what an earlier decision replaced, for every answer it gave a
        score to that nobody has decided again since."""
        action = body.get("action")
        with self._lock:
            done = self._undo.pop(action, None) if isinstance(action, int) else None
            if done is None:
                raise Refused("nothing to undo by that number (already undone, or from another run)", 404)
            restored: list[str] = []
            kept: list[str] = []
            for key, qid, before, decision in done:
                (restored if overrides.restore(self.path, key, qid, before, unless_changed_from=decision)
                 else kept).append(key)
        return {"restored": restored, "kept": kept, "version": self._version(self.snapshot)}


def snapshot_of(course_prints: Mapping[str, str], results: Sequence[StudentResult], path: Path,
                references: Mapping[str, str], stamp: str = "") -> Snapshot:
    """What the page lists: every answer marked review, decided or not, and every answer a
    decision was given to, by question in course order."""
    decided = overrides.current(path)
    items = review.pending(results, {}, course_prints, again=True)
    listed = {(i.student, i.question.id) for i in items}
    for result in results:
        for question in result.questions:
            mine = decided.get(result.student, {}).get(question.id)
            if (mine is not None and (result.student, question.id) not in listed
                    and question.id in course_prints):
                items.append(review.Item(result.student, question, course_prints[question.id]))
    order = {qid: n for n, qid in enumerate(course_prints)}
    by_question: dict[str, list[review.Item]] = {}
    for item in sorted(items, key=lambda i: (order[i.question.id], i.student)):
        by_question.setdefault(item.question.id, []).append(item)
    return Snapshot(items=by_question, references=references, prints=course_prints, stamp=stamp)


def _read(source: Source, path: Path) -> Snapshot:
    """The specs and the results as they are now. The stamp is taken first: results that
    change while they are read show as changed again at the next request."""
    stamp = output.results_version(source.folder)
    course = spec.load_course(list(source.spec_paths))
    results = output.read_results(review.results_folder(source.folder))
    return snapshot_of(overrides.fingerprints(course), results, path, review.references(course), stamp)


def _listed(ticked: tuple[str, ...] | None) -> list[str] | None:
    return None if ticked is None else list(ticked)


def _ticked(body: Mapping[str, Any], question: QuestionResult) -> tuple[str, ...] | None:
    """The `rubric` of a decision's body: the items judged present, checked against the
    answer's rubric; None when the body has none."""
    given = body.get("rubric")
    if given is None:
        return None
    if (not isinstance(given, list) or len(given) > rubrics.MAX_ITEMS
            or not all(isinstance(name, str) and len(name) <= rubrics.MAX_CONCEPT for name in given)):
        raise Refused(f"rubric must be a list of at most {rubrics.MAX_ITEMS} item names")
    try:
        return rubrics.checked(given, question)
    except rubrics.UnknownItem as unknown:
        raise Refused(str(unknown)) from None


def _text(body: Mapping[str, Any], key: str, limit: int, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or len(value) > limit:
        raise Refused(f"{key} must be text of at most {limit} characters")
    return value


# --- HTTP ---------------------------------------------------------------------------------


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, board: Board, port: int, token: str) -> None:
        self.board = board
        self.token = token
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"


def server(board: Board, port: int = 0) -> ReviewServer:
    """The page's server on 127.0.0.1 (port 0: any free one), with a fresh token."""
    try:
        return ReviewServer(board, port, secrets.token_urlsafe(24))
    except OSError as exc:
        raise GraderError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}") from None


_NONCE = "{{nonce}}"


class Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "grader-review"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — the URLs hold the token
        pass

    # checks common to every request
    def _allowed(self) -> bool:
        host = self.headers.get("Host", "")
        match = re.fullmatch(r"(127\.0\.0\.1|localhost)(?::(\d+))?", host.strip().lower())
        if match is None or (match.group(2) is not None and int(match.group(2)) != self.server.port):
            self._fail(403, "this page answers only at 127.0.0.1 or localhost")
            return False
        query = parse_qs(urlsplit(self.path).query)
        given = self.headers.get("X-Review-Token") or (query.get("token") or [""])[0]
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.server.token.encode()):
            self._fail(403, "missing or wrong token: open the URL that `grader review --serve` printed")
            return False
        return True

    def do_GET(self) -> None:
        if not self._allowed():
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        board = self.server.board
        try:
            if parts.path == "/":
                self._page()
            elif parts.path == "/api/questions":
                self._json(200, board.questions())
            elif parts.path == "/api/question":
                skipped = [k for k in (query.get("skip") or [""])[0].split(",") if k][:MAX_SKIPPED]
                self._json(200, board.question((query.get("id") or [""])[0], skipped))
            elif parts.path == "/api/version":
                self._json(200, board.version())
            else:
                self._fail(404, "no such page")
        except Refused as refused:
            self._fail(refused.status, str(refused))
        except GraderError as error:
            self._fail(500, error.show())

    def do_POST(self) -> None:
        if not self._allowed():
            return
        if not self.headers.get("X-Review-Token"):
            return self._fail(403, "a change needs the token in the X-Review-Token header")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in (f"http://{h}:{self.server.port}" for h in HOSTS):
            return self._fail(403, "changes are accepted only from this page")
        if self.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
            return self._fail(403, "changes are accepted only from this page")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return self._fail(415, "send JSON")
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return self._fail(411, "say the body's length")
        if int(length) > MAX_BODY:
            return self._fail(413, f"the body is over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(int(length)) or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._fail(400, "the body is not JSON")
        if not isinstance(body, dict):
            return self._fail(400, "the body must be a JSON object")
        path = urlsplit(self.path).path
        board = self.server.board
        try:
            if path == "/api/decide":
                self._json(200, board.decide(body))
            elif path == "/api/undo":
                self._json(200, board.undo(body))
            else:
                self._fail(404, "no such action")
        except Refused as refused:
            self._fail(refused.status, str(refused))
        except GraderError as error:
            self._fail(500, error.show())

    def _headers(self, status: int, kind: str, length: int, policy: str = "default-src 'none'") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy", policy + "; frame-ancestors 'none'; base-uri 'none'; "
                                                            "form-action 'none'")
        self.end_headers()

    def _page(self) -> None:
        nonce = secrets.token_urlsafe(16)
        html = PAGE.read_text(encoding="utf-8").replace(_NONCE, nonce).encode()
        self._headers(200, "text/html; charset=utf-8", len(html),
                      f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                      "connect-src 'self'; img-src 'self' data:")
        self.wfile.write(html)

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=True).encode()
        self._headers(status, "application/json", len(body))
        self.wfile.write(body)

    def _fail(self, status: int, message: str) -> None:
        self._json(status, {"error": message})
