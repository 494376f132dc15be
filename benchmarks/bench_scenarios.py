"""The scenarios of the benchmark: the request each one sends and how its answer is checked.

`Scenario.environ()` builds the environ a server would pass; `check_framework()` calls an app
like a server (under wsgiref's PEP 3333 validator first) and says what, if anything, is wrong
with its answers. Nothing here is timed.
"""

from __future__ import annotations

import html
import io
import json
import re
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from wsgiref.validate import validator

from bench_common import (
    BINARY_BODY,
    CREATED,
    CREATED_LOCATION,
    FORTUNES,
    FORTUNES_TEMPLATE,
    HELLO_HTML,
    MAX_AGE,
    NO_CACHE,
    REDIRECT_TARGET,
    ROUTE_COUNTS,
    SCENARIO_NAMES,
    STYLE_NAMES,
    TEMPLATE_FOLDER,
    USER,
    USERS,
    WSGIApp,
    WSGIEnvironment,
    fortune_rows,
    last_resource,
    stream_chunks,
)

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


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


def _header(name: str, value: str, check: Check) -> Check:
    def checked(answer: Answer) -> str | None:
        got = answer.header(name)
        if got != value:
            return f"{name} {got!r}, expected {value!r}"
        return check(answer)

    return checked


def _location_path(path: str) -> Check:
    # Bottle's redirect() makes the Location absolute; the others send it as given.
    def check(answer: Answer) -> str | None:
        location = answer.header("Location")
        if location is None or urlsplit(location).path != path:
            return f"Location {location!r}, expected {path!r} (or an absolute URL to it)"
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

_PLAINTEXT_CHECK = _expect(200, "text/plain", _exact_body(b"Hello, World!"))

# Each framework's app is written the way its docs write it; the answers are the same.
STYLE_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "style-plaintext",
        "GET /plaintext; wsgilite returns (str, 200, {'Content-Type': 'text/plain'})",
        "GET",
        "/plaintext",
        _PLAINTEXT_CHECK,
    ),
    Scenario(
        "style-params",
        "GET /api/v1/teams/42/members/7, the 60 REST routes under a Router(prefix='/api/v1')",
        "GET",
        "/api/v1/teams/42/members/7",
        _expect(200, "application/json", _json_body({"team": 42, "member": 7})),
    ),
    Scenario(
        "style-form",
        "POST /login, urlencoded, request.form['username'] -> JSON",
        "POST",
        "/login",
        _expect(200, "application/json", _json_body({"username": "wupeiqi"})),
        body=b"username=wupeiqi&password=123",
        content_type="application/x-www-form-urlencoded",
    ),
    Scenario(
        "style-str",
        "GET /str; wsgilite returns a str -> 200 text/html",
        "GET",
        "/str",
        _expect(200, "text/html", _exact_body(HELLO_HTML.encode())),
        accept=BROWSER_ACCEPT,
    ),
    Scenario(
        "style-bytes",
        "GET /bytes; wsgilite returns bytes -> 200 application/octet-stream, 64 bytes",
        "GET",
        "/bytes",
        _expect(200, "application/octet-stream", _exact_body(BINARY_BODY)),
    ),
    Scenario(
        "style-dict",
        "GET /dict; wsgilite returns a dict -> 200 JSON object (a user)",
        "GET",
        "/dict",
        _expect(200, "application/json", _json_body(USER)),
    ),
    Scenario(
        "style-list",
        "GET /list; wsgilite returns a list -> 200 JSON array of 3 users",
        "GET",
        "/list",
        _expect(200, "application/json", _json_body(USERS)),
    ),
    Scenario(
        "style-response",
        "GET /response; wsgilite returns Response(str, headers={...}, mimetype='text/plain')",
        "GET",
        "/response",
        _header("Cache-Control", NO_CACHE, _PLAINTEXT_CHECK),
    ),
    Scenario(
        "style-body-status",
        "GET /body-status; wsgilite returns (dict, 201) -> 201 JSON",
        "GET",
        "/body-status",
        _expect(201, "application/json", _json_body(CREATED)),
    ),
    Scenario(
        "style-body-headers",
        "GET /body-headers; wsgilite returns (dict, {'Cache-Control': ...}) -> 200 JSON",
        "GET",
        "/body-headers",
        _header("Cache-Control", MAX_AGE, _expect(200, "application/json", _json_body(USER))),
    ),
    Scenario(
        "style-tuple-dict",
        "GET /tuple-dict; wsgilite returns (dict, 201, {'Location': ...}) -> 201 JSON",
        "GET",
        "/tuple-dict",
        _header(
            "Location", CREATED_LOCATION, _expect(201, "application/json", _json_body(CREATED))
        ),
    ),
    Scenario(
        "style-tuple-list",
        "GET /tuple-list; wsgilite returns (str, 200, [(name, value), ...]) -> text/plain",
        "GET",
        "/tuple-list",
        _header("Cache-Control", NO_CACHE, _PLAINTEXT_CHECK),
    ),
    Scenario(
        "style-generator",
        "GET /generator; wsgilite returns a generator of 12 str chunks -> streamed text/html",
        "GET",
        "/generator",
        _expect(200, "text/html", _exact_body("".join(stream_chunks()).encode())),
        accept=BROWSER_ACCEPT,
    ),
    Scenario(
        "style-redirect",
        f"GET /redirect; wsgilite returns redirect('{REDIRECT_TARGET}') -> 302",
        "GET",
        "/redirect",
        _expect(302, None, _location_path(REDIRECT_TARGET)),
        accept=BROWSER_ACCEPT,
    ),
    Scenario(
        "style-abort",
        "GET /items/99, Accept: application/json; the handler calls abort(404) -> 404",
        "GET",
        "/items/99",
        _expect(404, None),
        accept="application/json",
    ),
)
assert tuple(scenario.name for scenario in STYLE_SCENARIOS) == STYLE_NAMES


def route_scenarios(count: int) -> tuple[Scenario, Scenario]:
    """Return the two timed requests of a table of `count` routes: its last route, a 404."""
    last = last_resource(count)
    return (
        Scenario(
            f"routes{count}-last",
            f"GET /api/r{last}/7/labels/x, the last of {count} routes under /api -> JSON",
            "GET",
            f"/api/r{last}/7/labels/x",
            _expect(200, "application/json", _json_body({"resource": last, "id": 7, "name": "x"})),
            accept="application/json",
        ),
        Scenario(
            f"routes{count}-404",
            f"GET /api/r{last}/7/nothing, no route among {count} under /api -> 404",
            "GET",
            f"/api/r{last}/7/nothing",
            _expect(404, None),
            accept="application/json",
        ),
    )


SCENARIOS.update((scenario.name, scenario) for scenario in STYLE_SCENARIOS)
SCENARIOS.update(
    (scenario.name, scenario) for count in ROUTE_COUNTS for scenario in route_scenarios(count)
)


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
        reason = check_answer(scenario, answer)
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


def check_answer(scenario: Scenario, answer: Answer) -> str | None:
    """Return what is wrong with one answer to `scenario` (None: nothing)."""
    reason = scenario.check(answer)
    if reason is None:
        length = answer.header("Content-Length")
        if length is not None and length.strip() != str(len(answer.body)):
            reason = f"Content-Length {length} but the body has {len(answer.body)} bytes"
    return reason


def _reference_fortunes() -> bytes:
    # Imported here: the fresh processes that time building a route table import this module
    # and must not have Jinja2 loaded for the frameworks.
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    jinja = Environment(loader=FileSystemLoader(TEMPLATE_FOLDER), autoescape=select_autoescape())
    return jinja.get_template(FORTUNES_TEMPLATE).render(fortunes=fortune_rows()).encode()
