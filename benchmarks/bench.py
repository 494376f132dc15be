"""In-process benchmark of wsgilite against a bare WSGI function, Falcon, Bottle and Flask.

Calls each framework's WSGI callable directly, as a server would (a fresh copy of a prepared
environ per call, a fresh body stream for POSTs, the returned iterable consumed and closed),
after checking every answer. See benchmarks/README.md for how to run it and read its output.

    python benchmarks/bench.py [--rounds N] [--only json,form] [--frameworks wsgilite,falcon]
                               [--json PATH] [--batch-ms MS] [--gc {collect,off}] [--seed S]
                               [--dump]
"""

from __future__ import annotations

import argparse
import gc
import html
import importlib
import io
import json
import platform
import random
import re
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from itertools import repeat
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

from bench_common import (
    FORTUNES,
    FORTUNES_TEMPLATE,
    SCENARIO_NAMES,
    TEMPLATE_FOLDER,
    WSGIApp,
    WSGIEnvironment,
    fortune_rows,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape

BENCH_DIR = Path(__file__).resolve().parent
SRC_DIR = BENCH_DIR.parent / "src"

FRAMEWORKS = ("bare", "wsgilite", "falcon", "bottle", "flask")
PEERS = ("falcon", "bottle", "flask")
RATIO_PEERS = ("falcon", "flask", "bottle")  # the order of the ratio columns
SUBJECT = "wsgilite"

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

DEFAULT_ROUNDS = 60
DEFAULT_BATCH_MS = 30.0
FORTUNES_TOLERANCE = 0.05  # "within 5 % of the fastest peer"


# --- What one call returns ---------------------------------------------------------------------


@dataclass
class Answer:
    """One response as a server would have sent it."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_code(self) -> int:
        return int(self.status.split(" ", 1)[0])

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def content_type(self) -> str:
        return self.header("Content-Type") or ""

    @property
    def mimetype(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        match = re.search(r";\s*charset=\"?([\w-]+)", self.content_type, re.IGNORECASE)
        return match[1].lower() if match else None


Check = Callable[[Answer], str | None]  # returns why the answer is wrong, or None


# --- Checks -----------------------------------------------------------------------------------


def _expect(status: int, mimetype: str | None, body: Check | None = None) -> Check:
    def check(answer: Answer) -> str | None:
        if answer.status_code != status:
            return f"status {answer.status!r}, expected {status}"
        if mimetype is not None and answer.mimetype != mimetype:
            return f"Content-Type {answer.content_type!r}, expected {mimetype}"
        return body(answer) if body is not None else None

    return check


def _exact_body(expected: bytes) -> Check:
    def check(answer: Answer) -> str | None:
        if answer.body != expected:
            return f"body {answer.body[:80]!r}, expected {expected!r}"
        return None

    return check


def _json_body(expected: object) -> Check:
    def check(answer: Answer) -> str | None:
        try:
            got = json.loads(answer.body)
        except ValueError as exc:
            return f"body is not JSON ({exc}): {answer.body[:80]!r}"
        if got != expected or _json_types(got) != _json_types(expected):
            return f"JSON {got!r}, expected {expected!r}"
        return None

    return check


def _json_types(value: object) -> object:
    """Describe a JSON value's shape with its types, so 42 and 42.0 or True and 1 differ."""
    if isinstance(value, dict):
        return {key: _json_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_types(item) for item in value]
    return type(value).__name__


_ROW = re.compile(r"<tr>\s*<td>\s*([^<]*?)\s*</td>\s*<td>(.*?)</td>\s*</tr>", re.DOTALL)


def _fortunes_body(answer: Answer) -> str | None:
    if answer.charset != "utf-8":
        return f"Content-Type {answer.content_type!r} does not say charset=utf-8"
    try:
        text = answer.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"body is not UTF-8: {exc}"
    if "&lt;script&gt;" not in text or "<script" in text:
        return "the <script> fortune is not HTML-escaped"
    rows = [(ident, html.unescape(message.strip())) for ident, message in _ROW.findall(text)]
    if len(rows) != len(FORTUNES) + 1:
        return f"{len(rows)} rows, expected {len(FORTUNES) + 1}"
    messages = [message for _, message in rows]
    if messages != sorted(messages):
        return "rows are not sorted by message"
    expected = [(str(row.id), row.message) for row in fortune_rows()]
    for got_row, expected_row in zip(rows, expected, strict=True):
        if got_row != expected_row:
            return f"row {got_row!r}, expected {expected_row!r}"
    return None


# --- Scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    method: str
    path: str
    check: Check
    query: str = ""
    body: bytes | None = None
    content_type: str | None = None
    accept: str = "*/*"

    def environ(self) -> WSGIEnvironment:
        """Return the template environ, as gunicorn builds it for this request."""
        environ: WSGIEnvironment = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path,
            "QUERY_STRING": self.query,
            "RAW_URI": self.path + (f"?{self.query}" if self.query else ""),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "50312",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_USER_AGENT": USER_AGENT,
            "HTTP_ACCEPT": self.accept,
            "HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.5",
            "HTTP_ACCEPT_ENCODING": "gzip, deflate",
            "HTTP_CONNECTION": "keep-alive",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if self.body is not None:
            environ["CONTENT_TYPE"] = self.content_type or "application/octet-stream"
            environ["CONTENT_LENGTH"] = str(len(self.body))
        return environ


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "plaintext",
            "GET /plaintext -> 200 text/plain 'Hello, World!'",
            "GET",
            "/plaintext",
            _expect(200, "text/plain", _exact_body(b"Hello, World!")),
        ),
        Scenario(
            "json",
            'GET /json -> 200 application/json {"message": "Hello, World!"}',
            "GET",
            "/json",
            _expect(200, "application/json", _json_body({"message": "Hello, World!"})),
        ),
        Scenario(
            "params",
            "GET /api/v1/teams/42/members/7, route 63 of 65, 2 int params -> JSON",
            "GET",
            "/api/v1/teams/42/members/7",
            _expect(200, "application/json", _json_body({"team": 42, "member": 7})),
        ),
        Scenario(
            "query",
            "GET /search?tag=a&tag=b&tag=c&q=hello&page=2 -> JSON (repeated key, int)",
            "GET",
            "/search",
            _expect(
                200,
                "application/json",
                _json_body({"q": "hello", "tags": ["a", "b", "c"], "page": 2}),
            ),
            query="tag=a&tag=b&tag=c&q=hello&page=2",
        ),
        Scenario(
            "form",
            "POST /login, urlencoded username=wupeiqi&password=123 -> JSON",
            "POST",
            "/login",
            _expect(200, "application/json", _json_body({"username": "wupeiqi"})),
            body=b"username=wupeiqi&password=123",
            content_type="application/x-www-form-urlencoded",
        ),
        Scenario(
            "notfound",
            "GET /does/not/exist, browser Accept -> 404, the framework's default page",
            "GET",
            "/does/not/exist",
            _expect(404, None),
            accept=BROWSER_ACCEPT,
        ),
        Scenario(
            "fortunes",
            "GET /fortunes -> 200 text/html, 13 sorted rows rendered by Jinja2, escaped",
            "GET",
            "/fortunes",
            _expect(200, "text/html", _fortunes_body),
            accept=BROWSER_ACCEPT,
        ),
    )
}
assert tuple(SCENARIOS) == SCENARIO_NAMES


# --- Calling an app ---------------------------------------------------------------------------


def call_app(app: WSGIApp, environ: WSGIEnvironment) -> Answer:
    """Call `app` once like a server: record start_response, consume and close the body."""
    recorded: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        if recorded and exc_info is None:
            raise AssertionError("start_response called twice without exc_info")
        recorded["status"], recorded["headers"] = status, list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            if chunk:
                chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not recorded:
        raise AssertionError("the app returned without calling start_response")
    return Answer(recorded["status"], recorded["headers"], b"".join(chunks))


def fresh_environ(template: WSGIEnvironment, body: bytes | None) -> WSGIEnvironment:
    environ = template.copy()
    environ["wsgi.input"] = io.BytesIO(body or b"")
    return environ


@dataclass
class CheckResult:
    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    answer: Answer | None = None


def check_framework(app: WSGIApp, scenario: Scenario) -> CheckResult:
    """Check three answers, the first under wsgiref's PEP 3333 validator."""
    template = scenario.environ()
    result = CheckResult()
    answers: list[Answer] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            answers.append(call_app(validator(app), fresh_environ(template, scenario.body)))
        result.notes += sorted({f"wsgiref.validate: {warning.message}" for warning in caught})
        answers += [call_app(app, fresh_environ(template, scenario.body)) for _ in range(2)]
    except AssertionError as exc:
        result.failure = f"PEP 3333 violation: {exc}"
        return result
    except Exception as exc:
        result.failure = f"raised {type(exc).__name__}: {exc}"
        result.notes.append(traceback.format_exc())
        return result
    result.answer = answers[0]
    for answer in answers:
        reason = scenario.check(answer)
        if reason is None:
            length = answer.header("Content-Length")
            if length is not None and length.strip() != str(len(answer.body)):
                reason = f"Content-Length {length} but the body has {len(answer.body)} bytes"
        if reason is not None:
            result.failure = reason
            return result
    if any(answer.body != answers[0].body for answer in answers[1:]):
        result.failure = "the body changes from one call to the next"
    elif scenario.name == "fortunes" and answers[0].body != _reference_fortunes():
        result.notes.append(
            "fortunes body is correct but not byte-identical to a plain Jinja2 rendering"
        )
    return result


def _reference_fortunes() -> bytes:
    jinja = Environment(loader=FileSystemLoader(TEMPLATE_FOLDER), autoescape=select_autoescape())
    return jinja.get_template(FORTUNES_TEMPLATE).render(fortunes=fortune_rows()).encode()


# --- Timing -----------------------------------------------------------------------------------


def _discard(data: bytes) -> None:
    pass


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], object]:
    return _discard


def run_batch(app: WSGIApp, template: WSGIEnvironment, body: bytes | None, calls: int) -> int:
    """Make `calls` requests; return the nanoseconds they took."""
    copy = template.copy
    start_response = _start_response
    perf_counter_ns = time.perf_counter_ns
    bytes_io = io.BytesIO
    if body is None:
        started = perf_counter_ns()
        for _ in repeat(None, calls):
            result = app(copy(), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return perf_counter_ns() - started
    started = perf_counter_ns()
    for _ in repeat(None, calls):
        environ = copy()
        environ["wsgi.input"] = bytes_io(body)
        result = app(environ, start_response)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return perf_counter_ns() - started


def calibrate(app: WSGIApp, template: WSGIEnvironment, body: bytes | None, target_ns: int) -> int:
    """Warm the app up and return how many calls make a batch of about `target_ns`."""
    calls = 1
    while True:
        elapsed = run_batch(app, template, body, calls)
        if elapsed >= target_ns // 4:
            break
        calls *= 2
    calls = max(1, round(calls * target_ns / elapsed))
    elapsed = run_batch(app, template, body, calls)  # one more warm-up, at full size
    return max(1, round(calls * target_ns / elapsed))


def timed_batch(
    app: WSGIApp, template: WSGIEnvironment, body: bytes | None, calls: int, gc_mode: str
) -> float:
    """Return µs per request over one batch."""
    gc.collect()
    if gc_mode == "off":
        gc.disable()
    try:
        elapsed = run_batch(app, template, body, calls)
    finally:
        gc.enable()
    return elapsed / calls / 1000


# --- Results ----------------------------------------------------------------------------------


@dataclass
class Cell:
    """One framework in one scenario."""

    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    answer: Answer | None = None
    calls_per_batch: int = 0
    samples_us: list[float] = field(default_factory=list)

    @property
    def median_us(self) -> float | None:
        return statistics.median(self.samples_us) if self.samples_us else None

    def quartiles_us(self) -> tuple[float, float] | None:
        if len(self.samples_us) < 4:
            return None
        q1, _, q3 = statistics.quantiles(self.samples_us, n=4)
        return q1, q3


Results = dict[str, dict[str, Cell]]  # scenario -> framework -> cell


def load_apps(frameworks: Sequence[str]) -> tuple[dict[str, dict[str, WSGIApp]], dict[str, str]]:
    """Import each framework's app module; return its apps and, for those that failed, why."""
    apps: dict[str, dict[str, WSGIApp]] = {}
    errors: dict[str, str] = {}
    for name in frameworks:
        try:
            if name == SUBJECT:
                _make_wsgilite_importable()
            module = importlib.import_module(f"apps_{name}")
            apps[name] = module.scenario_apps()
        except Exception as exc:
            errors[name] = f"could not build the app: {type(exc).__name__}: {exc}"
            print(f"{name}: {errors[name]}\n{traceback.format_exc()}", file=sys.stderr)
    return apps, errors


def _make_wsgilite_importable() -> None:
    try:
        importlib.import_module(SUBJECT)
    except ModuleNotFoundError as exc:
        if exc.name != SUBJECT:
            raise
        sys.path.insert(0, str(SRC_DIR))
        importlib.import_module(SUBJECT)


def versions(frameworks: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {"python": platform.python_version()}
    for name in ("wsgilite", "falcon", "bottle", "flask", "werkzeug", "jinja2"):
        if name not in frameworks and name not in ("werkzeug", "jinja2"):
            continue
        module = sys.modules.get(name)
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:  # wsgilite from ../src, not installed
            version = str(getattr(module, "__version__", "not installed"))
        where = getattr(module, "__file__", None) if name == SUBJECT else None
        found[name] = f"{version} ({where})" if where else str(version)
    return found


def benchmark(
    scenarios: Sequence[Scenario],
    frameworks: Sequence[str],
    rounds: int,
    batch_ms: float,
    gc_mode: str,
    seed: int,
) -> Results:
    apps, load_errors = load_apps(frameworks)
    results: Results = {}
    for scenario in scenarios:
        row = results[scenario.name] = {}
        for name in frameworks:
            if name in load_errors:
                row[name] = Cell(failure=load_errors[name])
                continue
            checked = check_framework(apps[name][scenario.name], scenario)
            row[name] = Cell(failure=checked.failure, notes=checked.notes, answer=checked.answer)
    if rounds <= 0:
        return results

    gc.collect()
    gc.freeze()  # the apps, modules and templates stay out of every later collection
    rng = random.Random(seed)
    target_ns = int(batch_ms * 1_000_000)
    for scenario in scenarios:
        began = time.perf_counter()
        row = results[scenario.name]
        template = scenario.environ()
        timed = [name for name in frameworks if row[name].failure is None]
        for name in timed:
            row[name].calls_per_batch = calibrate(
                apps[name][scenario.name], template, scenario.body, target_ns
            )
        for _ in range(rounds):
            order = list(timed)
            rng.shuffle(order)
            for name in order:
                cell = row[name]
                cell.samples_us.append(
                    timed_batch(
                        apps[name][scenario.name],
                        template,
                        scenario.body,
                        cell.calls_per_batch,
                        gc_mode,
                    )
                )
        print(f"  {scenario.name:<10} {time.perf_counter() - began:5.1f} s", file=sys.stderr)
    return results


def ratios(results: Results, frameworks: Sequence[str]) -> dict[str, dict[str, float]]:
    """Return peer_us / wsgilite_us per scenario and peer (> 1: wsgilite is faster)."""
    table: dict[str, dict[str, float]] = {}
    if SUBJECT not in frameworks:
        return table
    for scenario, row in results.items():
        subject = row[SUBJECT].median_us
        if subject is None:
            continue
        table[scenario] = {}
        for peer in RATIO_PEERS:
            peer_us = row[peer].median_us if peer in row else None
            if peer_us is not None:
                table[scenario][peer] = peer_us / subject
        fastest = fastest_peer(row)
        if fastest is not None:
            table[scenario]["fastest peer"] = fastest[1] / subject
    return table


def fastest_peer(row: dict[str, Cell]) -> tuple[str, float] | None:
    """Return the peer with the lowest median in `row`, and that median."""
    timed = {peer: row[peer].median_us for peer in PEERS if peer in row}
    medians = {peer: us for peer, us in timed.items() if us is not None}
    if not medians:
        return None
    name = min(medians, key=medians.__getitem__)
    return name, medians[name]


# --- Output -----------------------------------------------------------------------------------


def _us(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(header), *map(list, rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(results: Results, frameworks: Sequence[str], timed: bool) -> str:
    out: list[str] = []
    if timed:
        out.append("Median µs per request (lower is better)\n")
        out.append(
            _table(
                ["scenario", *frameworks],
                (
                    [scenario]
                    + [
                        "FAILED" if row[name].failure else _us(row[name].median_us)
                        for name in frameworks
                    ]
                    for scenario, row in results.items()
                ),
            )
        )
        out.append("\nNoise: interquartile range of the batches, % of the median\n")
        out.append(
            _table(
                ["scenario", *frameworks],
                (
                    [scenario] + [_spread(row[name]) for name in frameworks]
                    for scenario, row in results.items()
                ),
            )
        )
        table = ratios(results, frameworks)
        if table:
            out.append("\nRatios: peer µs / wsgilite µs (> 1: wsgilite is faster)\n")
            out.append(_ratio_table(results, frameworks, table))
        out.append("")
        out.extend(_fortunes_verdict(results, frameworks))
    else:
        out.append("Checks only (--rounds 0)\n")
        out.append(
            _table(
                ["scenario", *frameworks],
                (
                    [scenario] + ["FAILED" if row[name].failure else "ok" for name in frameworks]
                    for scenario, row in results.items()
                ),
            )
        )
    failures = [
        f"  {name} / {scenario}: {row[name].failure}"
        for scenario, row in results.items()
        for name in frameworks
        if row[name].failure
    ]
    if failures:
        out.append("\nFAILED checks (not timed):")
        out.extend(failures)
    notes = sorted(
        {
            f"  {name} / {scenario}: {note}"
            for scenario, row in results.items()
            for name in frameworks
            for note in row[name].notes
            if not note.startswith("Traceback")
        }
    )
    if notes:
        out.append("\nNotes:")
        out.extend(notes)
    return "\n".join(out)


def _ratio_table(
    results: Results, frameworks: Sequence[str], table: dict[str, dict[str, float]]
) -> str:
    columns = [peer for peer in RATIO_PEERS if peer in frameworks]
    if columns:
        columns.append("fastest peer")
    header = ["scenario", *[f"wsgilite vs {column}" for column in columns]]
    with_bare = "bare" in frameworks
    if with_bare:
        header.append("wsgilite - bare µs")
    rows = []
    for scenario, row in results.items():
        ratio_row = table.get(scenario, {})
        cells = [scenario] + [
            f"{ratio_row[column]:.2f}" if column in ratio_row else "-" for column in columns
        ]
        if with_bare:
            subject, bare = row[SUBJECT].median_us, row["bare"].median_us
            cells.append(_us(subject - bare) if subject is not None and bare is not None else "-")
        rows.append(cells)
    return _table(header, rows)


def _spread(cell: Cell) -> str:
    quartiles = cell.quartiles_us()
    median = cell.median_us
    if cell.failure or quartiles is None or not median:
        return "-"
    return f"{(quartiles[1] - quartiles[0]) / median * 100:.1f}"


def _fortunes_verdict(results: Results, frameworks: Sequence[str]) -> list[str]:
    row = results.get("fortunes")
    if row is None or SUBJECT not in frameworks:
        return []
    subject = row[SUBJECT].median_us
    peer = fastest_peer(row)
    if subject is None or peer is None:
        return ["fortunes: no verdict (wsgilite or every peer failed or was not timed)"]
    name, peer_us = peer
    ratio = peer_us / subject
    verdict = "yes" if ratio >= 1 - FORTUNES_TOLERANCE else "NO"
    return [
        f"fortunes: wsgilite {_us(subject)} µs vs fastest peer {name} {_us(peer_us)} µs: "
        f"ratio {ratio:.3f}; within 5 % of the fastest peer (ratio >= 0.95): {verdict}"
    ]


def dump(results: Results, frameworks: Sequence[str]) -> str:
    """Show every framework's answer: status, headers, the start of the body."""
    out: list[str] = []
    for scenario, row in results.items():
        out.append(f"=== {scenario}: {SCENARIOS[scenario].summary}")
        for name in frameworks:
            cell = row[name]
            verdict = f"FAILED: {cell.failure}" if cell.failure else "ok"
            out.append(f"--- {name} ({verdict})")
            if cell.answer is not None:
                out.append(f"    {cell.answer.status}")
                out.extend(f"    {key}: {value}" for key, value in cell.answer.headers)
                out.append(f"    {cell.answer.body[:400]!r}")
            out.extend(f"    {line}" for note in cell.notes for line in note.splitlines())
    return "\n".join(out)


def to_json(
    results: Results, frameworks: Sequence[str], settings: dict[str, object]
) -> dict[str, object]:
    scenarios: dict[str, object] = {}
    for scenario, row in results.items():
        cells: dict[str, object] = {}
        for name in frameworks:
            cell = row[name]
            quartiles = cell.quartiles_us()
            cells[name] = {
                "status": "failed" if cell.failure else ("timed" if cell.samples_us else "ok"),
                "failure": cell.failure,
                "notes": cell.notes,
                "median_us": cell.median_us,
                "p25_us": quartiles[0] if quartiles else None,
                "p75_us": quartiles[1] if quartiles else None,
                "calls_per_batch": cell.calls_per_batch,
                "samples_us": cell.samples_us,
            }
        scenarios[scenario] = {"summary": SCENARIOS[scenario].summary, "frameworks": cells}
    fortunes = results.get("fortunes", {})
    peer = fastest_peer(fortunes) if fortunes else None
    subject = fortunes[SUBJECT].median_us if SUBJECT in fortunes else None
    return {
        "settings": settings,
        "versions": versions(frameworks),
        "platform": platform.platform(),
        "scenarios": scenarios,
        "ratios": ratios(results, frameworks),
        "fortunes_vs_fastest_peer": (
            {
                "peer": peer[0],
                "ratio": peer[1] / subject,
                "within_5_percent": peer[1] / subject >= 1 - FORTUNES_TOLERANCE,
            }
            if peer and subject
            else None
        ),
    }


# --- Command line -----------------------------------------------------------------------------


def _names(value: str, allowed: Sequence[str], what: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(allowed)}"
        )
    return [name for name in allowed if name in names]  # keep the canonical order


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"timed rounds per scenario (default {DEFAULT_ROUNDS}; 0: checks only)",
    )
    parser.add_argument(
        "--only",
        type=lambda v: _names(v, SCENARIO_NAMES, "scenario"),
        default=list(SCENARIO_NAMES),
        metavar="SCENARIO,...",
        help=f"scenarios to run (default all: {','.join(SCENARIO_NAMES)})",
    )
    parser.add_argument(
        "--frameworks",
        type=lambda v: _names(v, FRAMEWORKS, "framework"),
        default=list(FRAMEWORKS),
        metavar="NAME,...",
        help=f"frameworks to run (default all: {','.join(FRAMEWORKS)})",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--batch-ms",
        type=float,
        default=DEFAULT_BATCH_MS,
        help=f"target duration of one batch (default {DEFAULT_BATCH_MS:g} ms)",
    )
    parser.add_argument(
        "--gc",
        choices=("collect", "off"),
        default="collect",
        help="collect: gc.collect() before each batch, collector on during it "
        "(default); off: also disable the collector during each batch",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the per-round shuffle")
    parser.add_argument(
        "--dump",
        action="store_true",
        help="print every answer (status, headers, body) and exit without timing",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = [SCENARIOS[name] for name in args.only]
    frameworks: list[str] = args.frameworks
    rounds = 0 if args.dump else args.rounds
    settings: dict[str, object] = {
        "rounds": rounds,
        "batch_ms": args.batch_ms,
        "gc": args.gc,
        "seed": args.seed,
        "scenarios": args.only,
        "frameworks": frameworks,
    }
    began = time.perf_counter()
    results = benchmark(scenarios, frameworks, rounds, args.batch_ms, args.gc, args.seed)
    print(f"wsgilite in-process benchmark  ({platform.platform()})")
    print("  " + ", ".join(f"{k} {v}" for k, v in versions(frameworks).items()))
    print(
        f"  rounds {rounds}, batches of ~{args.batch_ms:g} ms, gc {args.gc}, seed {args.seed},"
        f" {time.perf_counter() - began:.0f} s\n"
    )
    print(dump(results, frameworks) if args.dump else report(results, frameworks, rounds > 0))
    if args.json:
        args.json.write_text(json.dumps(to_json(results, frameworks, settings), indent=2) + "\n")
        print(f"\nwrote {args.json}")
    failed = any(cell.failure for row in results.values() for cell in row.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
