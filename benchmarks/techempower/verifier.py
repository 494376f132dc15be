"""TechEmpower's published rules, checked against running apps before anything is timed.

For every framework (a base URL) the verifier checks, in this order:

1. **Every answer** of every URL case: status 200; `Server`, `Date` (RFC 7231 format) and
   `Content-Length` (matching the body) or `Transfer-Encoding`; the exact Content-Type
   (TechEmpower's patterns: `application/json`, `text/plain`, each with an optional
   `charset=utf-8`, and `text/html; charset=utf-8` for fortunes); the body of its test type.
2. **Date changes**: every URL is asked again at least 3 s later; its `Date` must differ.
3. **Rows are real**: `/db` and `/queries` answer the table's current values; `/updates?queries=500`
   changes the rows it answers (the table is read before and after).
4. **Query counts**: `pg_stat_statements` is read before and after a bounded load of exactly K
   requests per test type: db runs 1 select per request, queries N, updates N selects plus N
   updates (or 1 bulk update) with N rows updated, fortunes 1 select; cached-queries no select
   by id.
   Any other statement on World or Fortune inside the window is reported as a warning, naming
   it (e.g. a cache loaded by a worker's first request).

`queries`/`count` cases are TechEmpower's: 2, 0, foo, 501 and empty (answers of 2, 1, 1, 500, 1
rows), plus 20; every answer is an array. A failure stops nothing: all findings are collected.
"""

from __future__ import annotations

import difflib
import html
import http.client
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import psycopg
from pgcluster import FORTUNES

HOST = "127.0.0.1"
TEST_TYPES = ("json", "plaintext", "db", "queries", "updates", "fortunes", "cached-queries")
QUERY_CASES = (("2", 2), ("0", 1), ("foo", 1), ("501", 500), ("", 1), ("20", 20))
COUNT_N = 20  # queries per request in the counted windows (TechEmpower counts at 20 too)

CONTENT_TYPES = {
    "json": re.compile(r"^application/json(; ?charset=(UTF|utf)-8)?$"),
    "plaintext": re.compile(r"^text/plain(; ?charset=(UTF|utf)-8)?$"),
    "html": re.compile(r"^text/html; ?charset=(UTF|utf)-8$"),
}
ADDITIONAL = (0, "Additional fortune added at request time.")


@dataclass(frozen=True)
class Finding:
    """One rule broken (`fail`) or bent (`warn`), for one test type and URL."""

    level: str  # "fail" or "warn"
    test: str
    url: str
    message: str

    def __str__(self) -> str:
        return f"{self.level.upper():4} {self.test:15} {self.url}: {self.message}"


@dataclass
class Verdict:
    """Everything the verifier found about one framework's app."""

    framework: str
    base_url: str
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, str] = field(default_factory=dict)  # test type -> what was counted
    seconds: float = 0.0

    def fail(self, test: str, url: str, message: str) -> None:
        self.findings.append(Finding("fail", test, url, message))

    def warn(self, test: str, url: str, message: str) -> None:
        self.findings.append(Finding("warn", test, url, message))

    @property
    def passed(self) -> bool:
        return not any(finding.level == "fail" for finding in self.findings)

    def test_passed(self, test: str) -> bool:
        return not any(f.level == "fail" and f.test == test for f in self.findings)

    def summary(self) -> str:
        fails = sum(finding.level == "fail" for finding in self.findings)
        warns = sum(finding.level == "warn" for finding in self.findings)
        state = "PASS" if self.passed else "FAIL"
        return f"{self.framework}: {state} ({fails} failures, {warns} warnings)"


# -- HTTP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def fetch(url: str, timeout: float = 30.0) -> Reply:
    """GET `url` on a new connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or HOST, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query or url.endswith("?") else "")
        connection.request("GET", path, headers={"Accept": "*/*"})
        response = connection.getresponse()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, headers, body)
    finally:
        connection.close()


def bounded_load(url: str, requests: int, concurrency: int) -> list[str]:
    """Send exactly `requests` GETs from `concurrency` keep-alive clients; return the problems."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    problems: list[str] = []
    lock = threading.Lock()
    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]

    def client(share: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname or HOST, parts.port, timeout=30)
        try:
            for _ in range(share):
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        with lock:
                            problems.append(f"status {response.status}")
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()  # the next request opens a new connection
                    with lock:
                        problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(share,)) for share in shares if share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


# -- bodies --------------------------------------------------------------------------------------


def check_headers(verdict: Verdict, test: str, url: str, reply: Reply, kind: str) -> None:
    """The rules every answer follows: status, Server, Date, length, Content-Type."""
    if reply.status != 200:
        verdict.fail(test, url, f"status {reply.status}, expected 200: {reply.body[:200]!r}")
    for name in ("server", "date", "content-type"):
        if name not in reply.headers:
            verdict.fail(test, url, f"required header {name.title()} missing")
    length = reply.headers.get("content-length")
    if length is None and "transfer-encoding" not in reply.headers:
        verdict.fail(test, url, "neither Content-Length nor Transfer-Encoding")
    if length is not None and length.strip() != str(len(reply.body)):
        verdict.fail(test, url, f"Content-Length {length} but the body has {len(reply.body)} bytes")
    date = reply.headers.get("date")
    if date is not None and not _is_http_date(date):
        verdict.fail(test, url, f"Date {date!r} is not an RFC 7231 date")
    content_type = reply.headers.get("content-type")
    if content_type is not None and not CONTENT_TYPES[kind].match(content_type):
        verdict.fail(
            test, url, f"Content-Type {content_type!r} does not match {CONTENT_TYPES[kind].pattern}"
        )


def _is_http_date(value: str) -> bool:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return value.endswith(" GMT") and parsed is not None


def _json(verdict: Verdict, test: str, url: str, reply: Reply) -> Any:
    try:
        return json.loads(reply.body)
    except ValueError as exc:
        verdict.fail(test, url, f"invalid JSON ({exc}): {reply.body[:200]!r}")
        return None


def check_world(verdict: Verdict, test: str, url: str, world: Any) -> bool:
    """A World object: exactly integer `id` (1..10000) and `randomNumber` (1..10000)."""
    if type(world) is not dict:
        verdict.fail(test, url, f"expected a JSON object, got {str(world)[:40]}")
        return False
    if set(world) != {"id", "randomNumber"}:
        verdict.fail(test, url, f"keys {sorted(world)}, expected ['id', 'randomNumber']")
        return False
    for key in ("id", "randomNumber"):
        value = world[key]
        if type(value) is not int:
            verdict.fail(test, url, f"{key} is {value!r}, not an integer")
            return False
        if not 1 <= value <= 10_000:
            verdict.fail(test, url, f"{key} {value} is outside 1..10000")
            return False
    return True


def check_world_list(verdict: Verdict, test: str, url: str, reply: Reply, expected: int) -> None:
    """An array of `expected` World objects (never a bare object, even for one)."""
    worlds = _json(verdict, test, url, reply)
    if worlds is None:
        return
    if type(worlds) is not list:
        verdict.fail(test, url, "the answer is not an array")
        return
    if len(worlds) != expected:
        verdict.fail(test, url, f"{len(worlds)} objects, expected {expected}")
    bad = 0
    for world in worlds:
        if not check_world(verdict, test, url, world):
            bad += 1
            if bad >= 3:
                break


# -- fortunes ------------------------------------------------------------------------------------


def expected_fortunes_rows() -> list[tuple[int, str]]:
    rows = [*FORTUNES, ADDITIONAL]
    rows.sort(key=lambda row: row[1])  # code-point order
    return rows


def _canonical(text: str) -> str:
    # One spelling for every character a page may or may not escape in text.
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def expected_fortunes_tokens() -> list[str]:
    tokens = ["<!doctype html>", "<html>", "<head>", "<title>", "Fortunes", "</title>", "</head>"]
    tokens += ["<body>", "<table>", "<tr>", "<th>", "id", "</th>", "<th>", "message", "</th>"]
    tokens += ["</tr>"]
    for fortune_id, message in expected_fortunes_rows():
        tokens += ["<tr>", "<td>", str(fortune_id), "</td>", "<td>", _canonical(message), "</td>"]
        tokens += ["</tr>"]
    return [*tokens, "</table>", "</body>", "</html>"]


class _FortunesParser(HTMLParser):
    """Tokens of a fortunes page, with text in one canonical escaping (see `_canonical`).

    Whitespace between tags, attributes, and meta/thead/tbody tags do not matter. A character
    reference for a character outside ASCII is a failure: the page must keep UTF-8 as text.
    """

    IGNORED = frozenset({"meta", "thead", "tbody"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tokens: list[str] = []
        self.problems: list[str] = []
        self._text: list[str] = []

    def _flush(self) -> None:
        text = "".join(self._text)
        self._text = []
        if text.strip():
            self.tokens.append(_canonical(text.strip()))

    def handle_decl(self, decl: str) -> None:
        self._flush()
        self.tokens.append(f"<!{decl.lower()}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        if tag not in self.IGNORED:
            self.tokens.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self._flush()
        if tag not in self.IGNORED:
            self.tokens.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_entityref(self, name: str) -> None:
        text = html.unescape(f"&{name};")
        if text == f"&{name};":
            self.problems.append(f"unknown entity &{name};")
        self._text.append(text)

    def handle_charref(self, name: str) -> None:
        text = html.unescape(f"&#{name};")
        if not text.isascii() and text != "\u2014":  # &mdash; is TechEmpower-tolerated
            self.problems.append(f"&#{name}; where UTF-8 text is expected")
        self._text.append(text)


def _rows(tokens: list[str]) -> list[str]:
    # One line per table row (and one for the head), for a readable diff.
    lines, line = [], ""
    for token in tokens:
        line += token
        if token in ("</tr>", "<table>"):
            lines.append(line)
            line = ""
    return [*lines, line] if line else lines


def check_fortunes(verdict: Verdict, url: str, reply: Reply) -> None:
    """The exact fortunes document: escaped, UTF-8 kept, sorted by message."""
    test = "fortunes"
    try:
        page = reply.body.decode("utf-8")
    except UnicodeDecodeError:
        verdict.fail(test, url, "the page is not UTF-8")
        return
    parser = _FortunesParser()
    parser.feed(page)
    parser.close()
    parser._flush()
    for problem in parser.problems:
        verdict.fail(test, url, problem)
    expected = expected_fortunes_tokens()
    if parser.tokens != expected:
        diff = "\n".join(
            difflib.unified_diff(
                _rows(expected), _rows(parser.tokens), "expected", "answer", n=0, lineterm=""
            )
        )
        verdict.fail(test, url, f"the document differs from TechEmpower's:\n{diff[:3000]}")
    if "<script>" in page:
        verdict.fail(test, url, "an unescaped <script> in the page")


# -- the checks of one URL -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    test: str
    path: str
    kind: str  # Content-Type family: json, plaintext, html
    check: Callable[[Verdict, str, Reply], None]


def url_cases() -> list[Case]:
    """Every URL the verifier asks, with its checks."""

    def json_body(verdict: Verdict, url: str, reply: Reply) -> None:
        body = _json(verdict, "json", url, reply)
        if body is not None and body != {"message": "Hello, World!"}:
            verdict.fail("json", url, f'body {body!r}, expected {{"message": "Hello, World!"}}')

    def plaintext_body(verdict: Verdict, url: str, reply: Reply) -> None:
        if reply.body != b"Hello, World!":
            verdict.fail("plaintext", url, f"body {reply.body[:100]!r}, expected b'Hello, World!'")

    def db_body(verdict: Verdict, url: str, reply: Reply) -> None:
        world = _json(verdict, "db", url, reply)
        if world is not None:
            check_world(verdict, "db", url, world)

    def fortunes_body(verdict: Verdict, url: str, reply: Reply) -> None:
        check_fortunes(verdict, url, reply)

    def world_list(test: str, expected: int) -> Callable[[Verdict, str, Reply], None]:
        return lambda verdict, url, reply: check_world_list(verdict, test, url, reply, expected)

    cases = [
        Case("json", "/json", "json", json_body),
        Case("plaintext", "/plaintext", "plaintext", plaintext_body),
        Case("db", "/db", "json", db_body),
    ]
    for test, parameter in (("queries", "queries"), ("updates", "queries")):
        for value, expected in QUERY_CASES:
            path = f"/{test}?{parameter}={value}"
            cases.append(Case(test, path, "json", world_list(test, expected)))
    cases.append(Case("fortunes", "/fortunes", "html", fortunes_body))
    for value, expected in QUERY_CASES:
        cases.append(
            Case("cached-queries", f"/cached-queries?count={value}", "json",
                 world_list("cached-queries", expected))
        )  # fmt: skip
    return cases


# -- the database ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    query: str
    calls: int
    rows: int


def statements(conn: psycopg.Connection[Any]) -> dict[int, Statement]:
    """Return pg_stat_statements' counters of this database, by query id."""
    rows = conn.execute(
        "SELECT queryid, query, calls, rows FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND queryid IS NOT NULL"
    ).fetchall()
    return {queryid: Statement(query, calls, rows) for queryid, query, calls, rows in rows}


def statement_delta(before: dict[int, Statement], after: dict[int, Statement]) -> list[Statement]:
    """Statements run between two snapshots, with their calls and rows in between."""
    delta = []
    for queryid, now in after.items():
        then = before.get(queryid, Statement(now.query, 0, 0))
        if now.calls > then.calls:
            delta.append(Statement(now.query, now.calls - then.calls, now.rows - then.rows))
    return delta


def classify(query: str) -> tuple[str, str, bool] | None:
    """Return (table, verb, by id) of a statement on World or Fortune, else None."""
    text = query.strip().lower()
    table = "world" if re.search(r"\bworld\b", text) else None
    table = table or ("fortune" if re.search(r"\bfortune\b", text) else None)
    if table is None:
        return None
    verb = text.split(None, 1)[0]
    return table, verb, " where " in f" {text} "


def world_table(conn: psycopg.Connection[Any]) -> dict[int, int]:
    return dict(conn.execute("SELECT id, randomNumber FROM World").fetchall())


# -- the verifier --------------------------------------------------------------------------------


@dataclass
class Settings:
    """How many requests each counted window sends, and from how many clients."""

    concurrency: int = 8
    requests: dict[str, int] = field(
        default_factory=lambda: {
            "db": 100, "queries": 25, "updates": 25, "fortunes": 100, "cached-queries": 50,
        }
    )  # fmt: skip
    date_wait: float = 3.0


def verify(
    targets: dict[str, str],
    dsn: str,
    settings: Settings | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Verdict]:
    """Check every target (framework -> base URL); return a verdict per framework."""
    settings = settings or Settings()
    verdicts = {name: Verdict(name, url) for name, url in targets.items()}
    started = time.monotonic()
    cases = url_cases()
    first: dict[tuple[str, str], Reply] = {}
    for name, verdict in verdicts.items():
        for case in cases:
            url = verdict.base_url + case.path
            reply = _fetch_or_fail(verdict, case.test, url)
            if reply is None:
                continue
            first[name, case.path] = reply
            check_headers(verdict, case.test, url, reply, case.kind)
            case.check(verdict, url, reply)
    log(f"answers checked ({len(cases)} URLs each); asking again in {settings.date_wait:.0f} s")
    time.sleep(settings.date_wait)
    for name, verdict in verdicts.items():
        for case in cases:
            url = verdict.base_url + case.path
            reply = _fetch_or_fail(verdict, case.test, url)
            earlier = first.get((name, case.path))
            if reply is None or earlier is None:
                continue
            date1, date2 = earlier.headers.get("date"), reply.headers.get("date")
            if date1 is not None and date1 == date2:
                verdict.fail(case.test, url, f"Date {date1!r} did not change in 3 s (cached?)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for verdict in verdicts.values():
            check_rows(verdict, conn)
            for test in ("db", "queries", "updates", "fortunes", "cached-queries"):
                count_queries(verdict, conn, test, settings)
            log(verdict.summary())
    elapsed = time.monotonic() - started
    for verdict in verdicts.values():
        verdict.seconds = elapsed
    return verdicts


def _fetch_or_fail(verdict: Verdict, test: str, url: str) -> Reply | None:
    try:
        return fetch(url)
    except (OSError, http.client.HTTPException) as exc:
        verdict.fail(test, url, f"no answer: {type(exc).__name__}: {exc}")
        return None


def check_rows(verdict: Verdict, conn: psycopg.Connection[Any]) -> None:
    """/db and /queries answer the table's values; /updates changes the rows it answers."""
    for test, path in (("db", "/db"), ("queries", "/queries?queries=20")):
        url = verdict.base_url + path
        reply = _fetch_or_fail(verdict, test, url)
        if reply is None or reply.status != 200:
            continue
        answer = _json(verdict, test, url, reply)
        worlds = answer if isinstance(answer, list) else [answer]
        table = world_table(conn)
        wrong = [
            w
            for w in worlds
            if isinstance(w, dict) and table.get(w.get("id", 0)) != w.get("randomNumber")
        ]
        if wrong:
            verdict.fail(test, url, f"{len(wrong)} rows differ from the table, e.g. {wrong[0]}")
    url = verdict.base_url + "/updates?queries=500"
    before = world_table(conn)
    reply = _fetch_or_fail(verdict, "updates", url)
    if reply is None or reply.status != 200:
        return
    after = world_table(conn)
    answer = _json(verdict, "updates", url, reply)
    if not isinstance(answer, list):
        return
    ids = [w.get("id") for w in answer if isinstance(w, dict)]
    once = {i for i in ids if ids.count(i) == 1}
    changed = sum(1 for i in set(ids) if i in before and before[i] != after.get(i))
    if changed == 0:
        verdict.fail("updates", url, "no row of the table changed")
    elif changed < 0.9 * len(set(ids)):
        verdict.fail("updates", url, f"only {changed} of {len(set(ids))} rows changed")
    mismatched = [
        w for w in answer if w.get("id") in once and after.get(w["id"]) != w.get("randomNumber")
    ]
    if mismatched:
        verdict.fail(
            "updates", url, f"{len(mismatched)} answered numbers are not in the table, "
            f"e.g. {mismatched[0]}"
        )  # fmt: skip


def count_queries(
    verdict: Verdict, conn: psycopg.Connection[Any], test: str, settings: Settings
) -> None:
    """Read pg_stat_statements around exactly K requests; compare with the rules."""
    requests = settings.requests[test]
    n = COUNT_N
    path = {
        "db": "/db",
        "queries": f"/queries?queries={n}",
        "updates": f"/updates?queries={n}",
        "fortunes": "/fortunes",
        "cached-queries": f"/cached-queries?count={n}",
    }[test]
    url = verdict.base_url + path
    before = statements(conn)
    problems = bounded_load(url, requests, settings.concurrency)
    after = statements(conn)
    if problems:
        verdict.fail(test, url, f"{len(problems)} of {requests} requests failed: {problems[:3]}")
        return
    seen: dict[tuple[str, str, bool], list[int]] = {}
    others: list[Statement] = []
    for statement in statement_delta(before, after):
        key = classify(statement.query)
        if key is None:
            continue
        totals = seen.setdefault(key, [0, 0])
        totals[0] += statement.calls
        totals[1] += statement.rows
        others.append(statement)
    world_by_id = ("world", "select", True)
    update = ("world", "update", True)
    fortune = ("fortune", "select", False)
    each = n * requests
    expected: dict[tuple[str, str, bool], tuple[int, int]] = {
        "db": {world_by_id: (requests, requests)},
        "queries": {world_by_id: (each, each)},
        "updates": {world_by_id: (each, each), update: (each, each)},
        "fortunes": {fortune: (requests, len(FORTUNES) * requests)},
        "cached-queries": {world_by_id: (0, 0)},  # served from the cache: no row read
    }[test]
    described = []
    for key, (calls, rows) in expected.items():
        got_calls, got_rows = seen.get(key, [0, 0])
        table, verb, _ = key
        described.append(f"{got_calls} {verb}s on {table} ({got_rows} rows)")
        bulk_ok = key == update and got_calls == requests and got_rows == rows
        if (got_calls, got_rows) != (calls, rows) and not bulk_ok:
            verdict.fail(
                test, url, f"{got_calls} {verb} statements on {table} returning/changing "
                f"{got_rows} rows for {requests} requests; expected {calls} and {rows}"
            )  # fmt: skip
    verdict.counts[test] = f"{requests} requests: " + (", ".join(described) or "no statements")
    for statement in others:
        if classify(statement.query) not in expected:
            verdict.warn(
                test, url, f"also ran inside the counted window: {statement.query!r} "
                f"x{statement.calls} ({statement.rows} rows)"
            )  # fmt: skip


def format_verdicts(verdicts: Iterable[Verdict]) -> str:
    """Return the verdicts as text: a summary line each, then every finding."""
    lines = []
    for verdict in verdicts:
        lines.append(verdict.summary())
        for test, counted in verdict.counts.items():
            lines.append(f"    counted {test:15} {counted}")
        lines.extend(f"    {finding}" for finding in verdict.findings)
    return "\n".join(lines)
