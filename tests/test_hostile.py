"""Hostile clients: whatever a client sends, the app answers a 4xx and serves the next request.

The promise under test: no input gives a 500, a hang, a traceback in a response, a file from
outside the static folder, or a session the server did not sign. Each test sends one kind of bad
input to the feature app (tests/featureapp.py), checks the exact refusal, then proves the next good
request is still served. Most go through werkzeug's test client; bytes a client could send but
the test client would clean up go in a hand-made WSGI environ, as a server would build it. The
last section sends raw bytes to a real gunicorn, whose parser differs from the test client's.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
from featureapp import (
    GOOD_JSON,
    GOOD_PATH,
    MAX_CONTENT_LENGTH,
    MAX_FORM_MEMORY_SIZE,
    MAX_FORM_PARTS,
    SECRET_KEY,
    SECRET_TEXT,
    fetch_csrf_token,
    make_app,
)
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from serving import free_port, raw_http, served
from werkzeug.test import Client, EnvironBuilder

from wsgilite import App
from wsgilite.sessions import SessionCookies

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from _typeshed.wsgi import WSGIEnvironment

BOUNDARY = "hostile-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> App:
    """The feature app over a fresh site in tmp_path (overrides conftest's empty app)."""
    return make_app(tmp_path)


@dataclass
class Answer:
    """A response exactly as the app handed it to the server."""

    status_code: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[0] if values else None


def call(app: App, environ: WSGIEnvironment) -> Answer:
    """Call the app as a server would, and close what it returns."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    iterable = app(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return Answer(int(status[:3]), headers, body)


def make_environ(
    path: str,
    method: str = "GET",
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    **overrides: Any,
) -> WSGIEnvironment:
    """Build an environ whose PATH_INFO and QUERY_STRING are exactly the given WSGI strings.

    `path` is what a server puts in PATH_INFO: already percent-decoded, bytes as latin-1.
    """
    builder = EnvironBuilder(
        path="/",
        method=method,
        headers=list((headers or {}).items()),
        data=body,
        content_type=content_type,
    )
    environ = builder.get_environ()
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query
    environ.update(overrides)
    return environ


def latin1(raw: bytes) -> str:
    """Return raw request bytes as the latin-1 string PEP 3333 puts in the environ."""
    return raw.decode("latin-1")


def assert_clean(status_code: int, body: bytes) -> None:
    """Assert an answer is no 5xx and shows no traceback and no secret."""
    assert status_code < 500, body[:500]
    assert b"Traceback" not in body
    assert SECRET_TEXT.encode() not in body


def assert_served(client: Client) -> None:
    """Assert the app still answers the known good request exactly."""
    response = client.get(GOOD_PATH)
    assert response.status_code == 200
    assert response.json == GOOD_JSON
    assert response.headers["X-Feature-App"] == "1"


def csrf_headers(client: Client) -> dict[str, str]:
    """Open a session, and return the headers that make a form post pass the CSRF check."""
    token = fetch_csrf_token(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"X-CSRF-Token": token, "Cookie": f"session={cookie.value}"}


class CountingInput(io.RawIOBase):
    """A client body of `size` bytes that records how many of them the app read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer)
        count = min(len(view), self.size - self.bytes_read)
        view[:count] = b"{" * count
        self.bytes_read += count
        return count


class BrokenInput(io.RawIOBase):
    """A body the server fails to read, as werkzeug's server does on a bad chunk header."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        raise self.error


def multipart(*parts: tuple[str, str | None, bytes], end: bool = True) -> bytes:
    """Encode `(name, filename, content)` parts as a multipart/form-data body."""
    chunks = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        chunks.append(f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        chunks.append(content + b"\r\n")
    if end:
        chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


def sign_session(data: object, key: str = SECRET_KEY, age: float = 0.0) -> str:
    """Sign `data` as a session cookie the way wsgilite does, `age` seconds in the past."""

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    serializer = URLSafeTimedSerializer(
        key,
        salt=SessionCookies.salt,
        signer=Backdated,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )
    return serializer.dumps(data)


# -- bad bytes in the path, the query, cookies and form fields -------------------------------


@pytest.mark.parametrize(
    ("path_info", "status"),
    [
        (latin1(b"/items/\xff"), 404),
        (latin1(b"/\xc3\x28"), 404),
        (latin1(b"/\xed\xa0\x80"), 404),  # an encoded UTF-16 surrogate
        (latin1(b"/\xc0\xaf"), 404),  # an overlong "/"
        ("/%zz", 404),
        ("/%", 404),
        ("/%E0%A4%A", 404),
        (latin1(b"/files/\xff\xfe"), 200),  # a path converter takes any text
        ("/items/\x00", 404),
        ("/items/7\r\n", 404),
    ],
)
def test_undecodable_or_odd_path_bytes_get_a_clean_answer(
    app: App, client: Client, path_info: str, status: int
) -> None:
    answer = call(app, make_environ(path_info))

    assert answer.status_code == status
    assert_clean(answer.status_code, answer.body)
    assert answer.header("Content-Type") == "application/json"
    json.loads(answer.body)
    assert_served(client)


@pytest.mark.parametrize("url", ["/items/%ff", "/items/%zz", "/%C3%28", "/items/%", "/items/7%00"])
def test_bad_percent_escapes_in_a_url_are_404(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert response.json is not None
    assert response.json["error"] == "not found"
    assert_served(client)


@pytest.mark.parametrize(
    "query",
    [
        "q=%ff%fe",
        latin1(b"q=\xff\xfe"),
        "q=%zz&tag=%&tag=%%&page=%",
        "q=%00%0d%0a",
        "&&&==&=&&",
        "page=" + "9" * 5000,
        "page=-1e999",
        "tag=" + "%" * 2000,
    ],
)
def test_undecodable_query_strings_still_parse(app: App, client: Client, query: str) -> None:
    answer = call(app, make_environ("/search", query=query))

    assert answer.status_code == 200
    result = json.loads(answer.body)
    assert isinstance(result["q"], str)
    assert all(isinstance(tag, str) for tag in result["tags"])
    assert isinstance(result["page"], int)
    assert_served(client)


def test_a_good_query_string_is_parsed_exactly(client: Client) -> None:
    response = client.get("/search", query_string="q=caf%C3%A9&tag=a&tag=b+c&page=3")

    assert response.json == {"q": "café", "tags": ["a", "b c"], "page": 3}


@pytest.mark.parametrize(
    "cookie",
    [
        latin1(b"session=\xff\xfe"),
        "session=%zz%",
        'session="unterminated',
        "session",
        "=;=;;;=",
        "session=" + "A" * 5000,
        latin1(b"\xff=\xfe; session=\x00"),
        "session=a.b.c.d.e",
    ],
)
def test_undecodable_cookies_read_as_an_empty_session(
    app: App, client: Client, cookie: str
) -> None:
    answer = call(app, make_environ("/session", HTTP_COOKIE=cookie))

    assert answer.status_code == 200
    assert json.loads(answer.body) == {"user": None, "flashes": []}
    assert_served(client)


def test_undecodable_urlencoded_fields_keep_the_good_ones(app: App, client: Client) -> None:
    body = b"ok=1&name=%ff%fe&raw=\xff\xfe&bad=%zz&=&&"
    environ = make_environ(
        "/form", "POST", body=body, content_type=URLENCODED, headers=csrf_headers(client)
    )

    answer = call(app, environ)

    assert answer.status_code == 200
    fields = json.loads(answer.body)["fields"]
    assert fields["ok"] == ["1"]
    assert fields["bad"] == ["%zz"]
    assert all(isinstance(value, str) for values in fields.values() for value in values)
    assert_served(client)


def test_undecodable_multipart_fields_keep_the_good_ones(app: App, client: Client) -> None:
    body = multipart(("ok", None, b"1"), ("name", None, b"\xff\xfe"), ("\xff", None, b"x"))
    environ = make_environ(
        "/form", "POST", body=body, content_type=MULTIPART, headers=csrf_headers(client)
    )

    answer = call(app, environ)

    assert answer.status_code == 200
    fields = json.loads(answer.body)["fields"]
    assert fields["ok"] == ["1"]
    assert all(isinstance(value, str) for values in fields.values() for value in values)
    assert_served(client)


# -- JSON bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{", b"[1,]", b"\xff\xfe", b"", b"{'single': 1}", b"nul", b'{"a": 1} trailing', b"\x00"],
)
@pytest.mark.parametrize(("method", "path"), [("POST", "/api/echo"), ("PUT", "/api/json-attr")])
def test_invalid_json_is_a_400_that_says_so(
    client: Client, method: str, path: str, body: bytes
) -> None:
    response = client.open(path, method=method, data=body, content_type=JSON)

    assert response.status_code == 400
    assert "request body is not valid JSON" in response.text
    assert_served(client)


def test_an_invalid_json_error_is_json_when_the_client_asks_for_json(client: Client) -> None:
    response = client.post(
        "/api/echo", data=b"{", content_type=JSON, headers={"Accept": "application/json"}
    )

    assert response.status_code == 400
    assert response.json is not None
    assert response.json["status"] == 400
    assert response.json["description"].startswith("request body is not valid JSON")


@pytest.mark.parametrize(
    "body",
    [b"[" * 50_000, b'{"a":' * 10_000, b"[" * 2000 + b"]" * 2000],
    ids=["arrays", "objects", "closed"],
)
def test_deeply_nested_json_is_a_400_not_a_500(client: Client, body: bytes) -> None:
    # json.loads raises RecursionError, which is not a ValueError: werkzeug does not catch it.
    response = client.post("/api/echo", data=body, content_type=JSON)

    assert response.status_code == 400
    assert "request body is not valid JSON" in response.text
    assert_served(client)


@pytest.mark.parametrize(
    ("content_type", "statuses"),
    [
        (None, {415}),
        ("application/xml", {415}),
        ("text/json-ish", {415}),
        ("application/jsonx", {415}),
        # Form types are also CSRF-checked: without a token they are refused before the handler.
        ("text/plain", {400, 415}),
        (URLENCODED, {400, 415}),
        ("multipart/form-data", {400, 415}),
    ],
)
def test_json_with_a_wrong_or_missing_content_type_is_refused(
    client: Client, content_type: str | None, statuses: set[int]
) -> None:
    response = client.post("/api/echo", data=b'{"a": 1}', content_type=content_type)

    assert response.status_code in statuses
    assert_clean(response.status_code, response.data)
    assert_served(client)


def test_valid_json_round_trips(client: Client) -> None:
    response = client.post("/api/echo", json={"a": [1, 2.5, None, "é"]})

    assert response.status_code == 200
    assert response.json == {"received": {"a": [1, 2.5, None, "é"]}}


# -- body limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/api/echo", JSON),
        ("PUT", "/api/json-attr", JSON),
        ("POST", "/form", URLENCODED),
        ("POST", "/upload", MULTIPART),
    ],
)
def test_a_body_over_max_content_length_is_413_and_never_read(
    app: App, client: Client, method: str, path: str, content_type: str
) -> None:
    size = 10 * 1024 * 1024
    body = CountingInput(size)
    environ = make_environ(path, method, content_type=content_type, headers=csrf_headers(client))
    environ.update({"CONTENT_LENGTH": str(size), "wsgi.input": body})

    answer = call(app, environ)

    assert answer.status_code == 413
    assert body.bytes_read == 0
    assert_served(client)


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [("POST", "/api/echo", JSON), ("POST", "/form", URLENCODED), ("POST", "/upload", MULTIPART)],
)
def test_a_chunked_body_past_the_limit_stops_being_read(
    app: App, client: Client, method: str, path: str, content_type: str
) -> None:
    body = CountingInput(10 * 1024 * 1024)
    environ = make_environ(path, method, content_type=content_type, headers=csrf_headers(client))
    environ.pop("CONTENT_LENGTH", None)
    environ.update(
        {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": body}
    )

    answer = call(app, environ)

    assert answer.status_code == 413
    assert body.bytes_read <= MAX_CONTENT_LENGTH + 64 * 1024
    assert_served(client)


def test_a_urlencoded_form_over_max_form_memory_size_is_413(client: Client) -> None:
    body = "big=" + "x" * (MAX_FORM_MEMORY_SIZE + 1)

    response = client.post(
        "/form", data=body, content_type=URLENCODED, headers=csrf_headers(client)
    )

    assert response.status_code == 413
    assert_served(client)


def test_a_chunked_urlencoded_form_over_max_form_memory_size_is_413(
    app: App, client: Client
) -> None:
    # No Content-Length to check up front: the limit must hold while reading.
    body = b"big=" + b"x" * (MAX_FORM_MEMORY_SIZE + 1)
    environ = make_environ(
        "/form", "POST", body=body, content_type=URLENCODED, headers=csrf_headers(client)
    )
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})

    answer = call(app, environ)

    assert answer.status_code == 413
    assert_served(client)


def test_a_multipart_field_over_max_form_memory_size_is_413(client: Client) -> None:
    body = multipart(("big", None, b"x" * (MAX_FORM_MEMORY_SIZE + 1)))

    response = client.post("/form", data=body, content_type=MULTIPART, headers=csrf_headers(client))

    assert response.status_code == 413
    assert_served(client)


def test_a_file_larger_than_max_form_memory_size_is_still_accepted(client: Client) -> None:
    # The memory limit is for fields held in memory; files go to a temporary file.
    content = b"x" * (MAX_FORM_MEMORY_SIZE * 2)
    body = multipart(("file", "big.bin", content), ("note", None, b"hi"))

    response = client.post(
        "/upload", data=body, content_type=MULTIPART, headers=csrf_headers(client)
    )

    assert response.status_code == 200
    assert response.json == {"filename": "big.bin", "size": len(content), "note": "hi"}


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_more_form_fields_than_max_form_parts_is_413(client: Client, encoding: str) -> None:
    names = [f"field{number}" for number in range(MAX_FORM_PARTS + 5)]
    if encoding == "urlencoded":
        body = "&".join(f"{name}=x" for name in names).encode()
        content_type = URLENCODED
    else:
        body = multipart(*((name, None, b"x") for name in names))
        content_type = MULTIPART

    response = client.post(
        "/form", data=body, content_type=content_type, headers=csrf_headers(client)
    )

    assert response.status_code == 413
    assert_served(client)


def test_form_fields_up_to_max_form_parts_are_accepted(client: Client) -> None:
    # The CSRF token travels in a header, so every one of the MAX_FORM_PARTS parts is a field.
    names = [f"field{number}" for number in range(MAX_FORM_PARTS)]
    body = multipart(*((name, None, b"x") for name in names))

    response = client.post("/form", data=body, content_type=MULTIPART, headers=csrf_headers(client))

    assert response.status_code == 200
    assert response.json is not None
    assert sorted(response.json["fields"]) == sorted(names)


# -- malformed and truncated multipart ---------------------------------------------------------


MALFORMED_MULTIPART = {
    "truncated-in-content": (MULTIPART, multipart(("file", "a.txt", b"abc"), end=False)[:-2]),
    "truncated-in-headers": (MULTIPART, f"--{BOUNDARY}\r\nContent-Disposition: form-da".encode()),
    "no-part-headers": (MULTIPART, f"--{BOUNDARY}\r\n\r\nabc\r\n--{BOUNDARY}--\r\n".encode()),
    "no-disposition-name": (
        MULTIPART,
        f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--{BOUNDARY}--\r\n".encode(),
    ),
    "garbage": (MULTIPART, b"\x00\xff garbage \r\n\r\n--"),
    "empty": (MULTIPART, b""),
    "no-boundary-parameter": ("multipart/form-data", multipart(("file", "a.txt", b"abc"))),
    "empty-boundary": ("multipart/form-data; boundary=", multipart(("file", "a.txt", b"abc"))),
    "wrong-boundary": ("multipart/form-data; boundary=other", multipart(("file", "a", b"abc"))),
    "overlong-boundary": ("multipart/form-data; boundary=" + "b" * 200, b"--" + b"b" * 200),
    "huge-part-header": (
        MULTIPART,
        f"--{BOUNDARY}\r\nX-Pad: {'p' * 40_000}\r\n\r\nabc\r\n--{BOUNDARY}--\r\n".encode(),
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_MULTIPART))
def test_malformed_multipart_is_400_or_413(app: App, client: Client, case: str) -> None:
    content_type, body = MALFORMED_MULTIPART[case]
    environ = make_environ(
        "/upload", "POST", body=body, content_type=content_type, headers=csrf_headers(client)
    )

    answer = call(app, environ)

    assert answer.status_code in (400, 413)
    assert_clean(answer.status_code, answer.body)
    assert_served(client)


def test_a_body_shorter_than_its_content_length_is_400(app: App, client: Client) -> None:
    body = multipart(("file", "a.txt", b"abc"))
    environ = make_environ(
        "/upload", "POST", body=body, content_type=MULTIPART, headers=csrf_headers(client)
    )
    environ["CONTENT_LENGTH"] = str(len(body) + 1000)

    answer = call(app, environ)

    assert answer.status_code == 400
    assert_served(client)


def test_a_well_formed_upload_is_accepted(client: Client) -> None:
    body = multipart(("file", "notes.txt", b"hello"), ("note", None, "é".encode()))

    response = client.post(
        "/upload", data=body, content_type=MULTIPART, headers=csrf_headers(client)
    )

    assert response.status_code == 200
    assert response.json == {"filename": "notes.txt", "size": 5, "note": "é"}


# -- chunked bodies and bodies a server fails to read ------------------------------------------


def test_a_chunked_body_the_server_decoded_is_read(app: App, client: Client) -> None:
    environ = make_environ("/api/echo", "POST", body=b'{"a": 1}', content_type=JSON)
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})

    answer = call(app, environ)

    assert answer.status_code == 200
    assert json.loads(answer.body) == {"received": {"a": 1}}


@pytest.mark.parametrize(
    ("method", "path", "content_type", "transfer_encoding", "content_length"),
    [
        ("POST", "/api/echo", JSON, "chunked", None),
        ("POST", "/api/echo", JSON, "Chunked", None),
        ("POST", "/api/echo", JSON, "gzip, chunked", None),
        ("POST", "/api/echo", JSON, "chunked", "2"),
        ("PUT", "/api/json-attr", JSON, "chunked", None),
        ("POST", "/form", URLENCODED, "chunked", None),
        ("POST", "/upload", MULTIPART, "chunked", None),
        ("GET", "/items/7", None, "chunked", None),
    ],
)
def test_a_chunked_body_the_server_left_undecoded_is_411_never_empty(
    app: App,
    client: Client,
    method: str,
    path: str,
    content_type: str | None,
    transfer_encoding: str,
    content_length: str | None,
) -> None:
    # wsgiref and any server that passes the coding on: no length, no wsgi.input_terminated.
    # Reading the body as empty would lose it (a 200 with nothing saved): 411 before the handler.
    seen: list[str] = []
    app.before_request(lambda request: seen.append(request.path))
    body = b'5\r\n{"a":\r\n0\r\n\r\n'
    environ = make_environ(path, method, body=body, content_type=content_type)
    environ.pop("CONTENT_LENGTH", None)
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    environ["HTTP_TRANSFER_ENCODING"] = transfer_encoding

    answer = call(app, environ)

    assert answer.status_code == 411
    assert b"Content-Length" in answer.body
    assert seen == []  # refused before any hook or handler could read the body
    assert_served(client)


@pytest.mark.parametrize(
    "error",
    [OSError("Invalid chunk header"), ValueError("invalid literal for int() with base 16")],
    ids=["OSError", "ValueError"],
)
@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/echo", JSON), ("/form", URLENCODED), ("/upload", MULTIPART)],
)
def test_a_body_the_server_cannot_read_is_a_400(
    app: App, client: Client, error: Exception, path: str, content_type: str
) -> None:
    environ = make_environ(path, "POST", content_type=content_type, headers=csrf_headers(client))
    environ.pop("CONTENT_LENGTH", None)
    environ.update(
        {
            "HTTP_TRANSFER_ENCODING": "chunked",
            "wsgi.input_terminated": True,
            "wsgi.input": BrokenInput(error),
        }
    )

    answer = call(app, environ)

    assert answer.status_code == 400
    assert_clean(answer.status_code, answer.body)
    assert_served(client)


def test_a_body_read_failing_with_a_server_specific_exception_is_a_400(
    app: App, client: Client
) -> None:
    # gunicorn 27 raises its own InvalidChunkSize (an Exception, not an OSError) from read().
    class InvalidChunkSize(Exception):
        pass

    environ = make_environ("/api/echo", "POST", content_type=JSON)
    environ.pop("CONTENT_LENGTH", None)
    environ.update(
        {
            "HTTP_TRANSFER_ENCODING": "chunked",
            "wsgi.input_terminated": True,
            "wsgi.input": BrokenInput(InvalidChunkSize("Invalid chunk size: b'zz'")),
        }
    )

    answer = call(app, environ)

    assert answer.status_code == 400
    assert_served(client)


# -- header injection --------------------------------------------------------------------------


CRLF_VALUES = [
    "a\r\nSet-Cookie: injected=1",
    "a\nSet-Cookie: injected=1",
    "a\rSet-Cookie: injected=1",
    "a\r\n\r\n<script>injected</script>",
]


def _assert_no_split_headers(answer: Answer) -> None:
    for name, value in answer.headers:
        assert not any(char in name + value for char in "\r\n\x00"), (name, value)
        assert "injected" not in name
    assert b"injected" not in answer.body
    assert all(name.lower() != "set-cookie" for name, _ in answer.headers)


@pytest.mark.parametrize("value", CRLF_VALUES)
def test_crlf_in_an_echoed_header_never_splits_the_response(
    app: App, client: Client, value: str
) -> None:
    answer = call(app, make_environ("/echo-header", HTTP_X_ECHO=value))

    _assert_no_split_headers(answer)
    assert_served(client)


@pytest.mark.parametrize("value", CRLF_VALUES)
def test_crlf_in_a_request_header_is_a_client_error_not_a_500(
    app: App, client: Client, value: str
) -> None:
    # RFC 9110 5.5: a CR, LF or NUL in a field value is rejected (400) or replaced by a space.
    answer = call(app, make_environ("/echo-header", HTTP_X_ECHO=value))

    assert answer.status_code in (200, 400)
    assert_clean(answer.status_code, answer.body)
    _assert_no_split_headers(answer)
    assert_served(client)


def test_a_plain_header_is_echoed(client: Client) -> None:
    response = client.get("/echo-header", headers={"X-Echo": "hello there"})

    assert response.headers["X-Echo"] == "hello there"


# -- open redirects ----------------------------------------------------------------------------


OFFSITE_TARGETS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "HTTPS://evil.example/path",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\r\nSet-Cookie: injected=1",
    "\r\n//evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\x00//evil.example",
    "\x01//evil.example",
    "\u3000//evil.example",
    "//evil.example@site.example",
    "evil.example",
    "./evil",
    "",
]


def _browser_destination(location: str) -> str:
    """Resolve `location` the way a browser would, from a page on site.example."""
    # Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash.
    cleaned = "".join(char for char in location if char not in "\t\r\n")
    cleaned = cleaned.strip("\x00\x01\x02\x03\x04\x05 ").replace("\\", "/")
    return urljoin("https://site.example/next", cleaned)


@pytest.mark.parametrize("target", OFFSITE_TARGETS)
def test_next_redirects_never_leave_the_site(client: Client, target: str) -> None:
    response = client.get("/next", query_string="next=" + quote(target, safe=""))

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/"
    assert urlsplit(_browser_destination(location)).netloc == "site.example"
    assert_served(client)


@pytest.mark.parametrize("target", ["/items/7", "/search?q=a&tag=b", "/files/a/b#frag", "/%2F/x"])
def test_next_redirects_to_a_path_on_the_site(client: Client, target: str) -> None:
    response = client.get("/next", query_string="next=" + quote(target, safe=""))

    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert urlsplit(_browser_destination(target)).netloc == "site.example"


def test_a_raw_double_encoded_next_stays_on_the_site(app: App, client: Client) -> None:
    answer = call(app, make_environ("/next", query="next=%252F%252Fevil.example"))

    assert answer.status_code == 302
    location = answer.header("Location")
    assert location is not None
    assert urlsplit(_browser_destination(location)).netloc == "site.example"


# -- cookies -----------------------------------------------------------------------------------


def test_a_huge_number_of_cookies_is_answered(app: App, client: Client) -> None:
    cookies = "; ".join(f"c{number}=v{number}" for number in range(5000))

    answer = call(app, make_environ("/session", HTTP_COOKIE=cookies))

    assert answer.status_code == 200
    assert json.loads(answer.body) == {"user": None, "flashes": []}
    assert_served(client)


def test_a_huge_cookie_is_answered(app: App, client: Client) -> None:
    answer = call(app, make_environ("/session", HTTP_COOKIE="session=" + "x." * 500_000))

    assert answer.status_code == 200
    assert json.loads(answer.body) == {"user": None, "flashes": []}
    assert_served(client)


def test_many_session_cookies_all_forged_read_as_empty(app: App, client: Client) -> None:
    forged = sign_session({"user": "admin"}, key="not-the-key")
    cookies = "; ".join(f"session={forged}" for _ in range(1000))

    answer = call(app, make_environ("/session", HTTP_COOKIE=cookies))

    assert answer.status_code == 200
    assert json.loads(answer.body)["user"] is None


# -- static files: traversal in every encoding ---------------------------------------------


TRAVERSAL_URLS = [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/%252e%252e/secret.txt",
    "/static/%252e%252e%252fsecret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/..%5Csecret.txt",
    "/static/..\\secret.txt",
    "/static/\\..\\secret.txt",
    "/static/sub/..%2f..%2fsecret.txt",
    "/static/sub/../../secret.txt",
    "/static/./../secret.txt",
    "/static/....//secret.txt",
    "/static/...",
    "/static/..",
    "/static/%2e%2e",
    "/static/../static-private/secret.txt",
    "/static/%2e%2e%2fstatic-private%2fsecret.txt",
    "/static//etc/passwd",
    "/static/%2fetc/passwd",
    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/../../../../../../../../etc/passwd",
    "/static/C:%5cWindows%5cwin.ini",
    "/static/hello.txt%00",
    "/static/hello.txt%00.png",
    "/static/%00../secret.txt",
    "/static/%c0%ae%c0%ae/secret.txt",
    "/static/%c0%ae%c0%ae%c0%afsecret.txt",
    "/static/%e0%80%ae%e0%80%ae/secret.txt",
    "/static/%e2%80%a5/secret.txt",  # U+2025 TWO DOT LEADER
    "/static/%ef%bc%8e%ef%bc%8e/secret.txt",  # U+FF0E FULLWIDTH FULL STOP, twice
    "/static/%ef%bc%8e%ef%bc%8e%ef%bc%8fsecret.txt",  # ... and U+FF0F FULLWIDTH SOLIDUS
    "/static/link-out.txt",
    "/static/link-dir/secret.txt",
    "/static/link-dir/static-private/secret.txt",
    "/static/sub/",
    "/static/",
    "/static",
]


def _assert_no_leak(status_code: int, body: bytes, location: str | None = None) -> None:
    if status_code == 308:
        # As werkzeug does, "//" is merged: a redirect to the same path under /static/.
        assert location is not None and location.startswith("/static/"), location
        assert "//" not in location
        return
    assert status_code in (400, 404), body[:300]
    assert_clean(status_code, body)
    assert b"root:" not in body
    assert b"[fonts]" not in body


@pytest.mark.parametrize("url", TRAVERSAL_URLS)
def test_static_traversal_urls_never_leave_the_static_folder(client: Client, url: str) -> None:
    response = client.get(url)

    _assert_no_leak(response.status_code, response.data, response.headers.get("Location"))
    assert_served(client)


TRAVERSAL_PATH_INFOS = [
    "/static/../secret.txt",
    "/static/..\\secret.txt",
    "/static/..%2fsecret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/hello.txt\x00",
    "/static/\x00",
    latin1(b"/static/\xc0\xae\xc0\xae/secret.txt"),
    latin1("/static/\uff0e\uff0e/secret.txt".encode()),
    latin1(b"/static/\xff/../../secret.txt"),
    "/static/ /../secret.txt",
    "/static/sub/../../static-private/secret.txt",
]


@pytest.mark.parametrize("path_info", TRAVERSAL_PATH_INFOS)
def test_static_traversal_path_infos_never_leave_the_static_folder(
    app: App, client: Client, path_info: str
) -> None:
    answer = call(app, make_environ(path_info))

    _assert_no_leak(answer.status_code, answer.body)
    assert_served(client)


def test_an_absolute_path_to_the_secret_is_404(app: App, client: Client, tmp_path: Path) -> None:
    secret = str(tmp_path / "secret.txt")

    by_url = client.get("/static/" + quote(secret))
    by_path_info = call(app, make_environ("/static/" + secret))
    by_double_slash = call(app, make_environ("/static/" + secret.lstrip("/")))

    _assert_no_leak(by_url.status_code, by_url.data, by_url.headers.get("Location"))
    _assert_no_leak(by_path_info.status_code, by_path_info.body, by_path_info.header("Location"))
    # Relative to the static folder, this names a file that does not exist there.
    _assert_no_leak(by_double_slash.status_code, by_double_slash.body)
    assert_served(client)


@pytest.mark.parametrize(
    ("url", "content"),
    [
        ("/static/hello.txt", b"hello, static world\n"),
        ("/static/sub/deep.txt", b"a file one folder down\n"),
        ("/static/sub/../hello.txt", b"hello, static world\n"),
        ("/static/link-in.txt", b"hello, static world\n"),
        # A symlink to a folder outside, whose target path leads back inside: served.
        ("/static/link-dir/static/hello.txt", b"hello, static world\n"),
    ],
)
def test_files_inside_the_static_folder_are_served(
    client: Client, url: str, content: bytes
) -> None:
    # The control for the traversal tests: static files do work.
    response = client.get(url)

    assert response.status_code == 200
    assert response.data == content


@pytest.mark.parametrize(
    "headers",
    [
        {"Range": "bytes=999-"},
        {"Range": "bytes=abc"},
        {"Range": "bytes=5-1"},
        {"Range": "bytes=-0"},
        {"Range": "bytes=" + ",".join(["0-0"] * 2000)},
        {"Range": "lines=1-2"},
        {"If-None-Match": 'garbage, W/, ""'},
        {"If-Modified-Since": "not a date"},
        {"If-Modified-Since": "Mon, 99 Foo 99999 99:99:99 GMT"},
        {"If-Range": "garbage", "Range": "bytes=0-3"},
        {"If-Unmodified-Since": "0"},
    ],
)
def test_hostile_conditional_and_range_headers_on_static_files(
    client: Client, headers: dict[str, str]
) -> None:
    response = client.get("/static/hello.txt", headers=headers)

    assert response.status_code in (200, 206, 304, 412, 416)
    assert_clean(response.status_code, response.data)
    assert_served(client)


# -- sessions ----------------------------------------------------------------------------------


def test_a_session_signed_with_the_key_is_read(client: Client) -> None:
    # The control for the forgery tests below: sign_session signs the way the app does.
    client.set_cookie("session", sign_session({"user": "ada"}))

    assert client.get("/session").json == {"user": "ada", "flashes": []}


def _tampered(cookie: str) -> str:
    payload, timestamp, signature = cookie.rsplit(".", 2)
    swapped = "B" if payload[3] != "B" else "C"
    return f"{payload[:3]}{swapped}{payload[4:]}.{timestamp}.{signature}"


FORGED_SESSIONS: dict[str, Callable[[], str]] = {
    "tampered-payload": lambda: _tampered(sign_session({"user": "ada"})),
    "truncated-signature": lambda: sign_session({"user": "admin"})[:-5],
    "wrong-key": lambda: sign_session({"user": "admin"}, key="attacker-key"),
    "empty-key": lambda: sign_session({"user": "admin"}, key=""),
    "expired": lambda: sign_session({"user": "admin"}, age=32 * 24 * 3600),
    "not-a-dict": lambda: sign_session(["user", "admin"]),
    "a-string": lambda: sign_session("admin"),
    "unsigned": lambda: "eyJ1c2VyIjoiYWRtaW4ifQ",
    "unsigned-with-dots": lambda: "eyJ1c2VyIjoiYWRtaW4ifQ..",
    "garbage": lambda: "!!!not-base64!!!.???.***",
    "only-dots": lambda: "." * 5000,
    "huge": lambda: "A" * 100_000,
}


# Oversized cookies are the point here; the test client's warning about them is not.
@pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")
@pytest.mark.parametrize("case", sorted(FORGED_SESSIONS))
def test_forged_session_cookies_read_as_an_empty_session(client: Client, case: str) -> None:
    client.set_cookie("session", FORGED_SESSIONS[case]())

    response = client.get("/session")

    assert response.status_code == 200
    assert response.json == {"user": None, "flashes": []}
    assert_served(client)


def test_a_forged_session_cannot_pass_the_csrf_check(client: Client) -> None:
    token = fetch_csrf_token(client)
    client.set_cookie("session", sign_session({"_csrf": "A" * 44}, key="attacker-key"))

    response = client.post("/form", data={"csrf_token": token, "a": "1"})

    assert response.status_code == 400
    assert "CSRF token" in response.text
    assert_served(client)


def test_a_session_cookie_from_a_rotated_key_still_reads(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.config["SECRET_KEY_FALLBACKS"] = [SECRET_KEY]
    app.config["SECRET_KEY"] = "the-new-key-0123456789abcdef0123456789"
    client = app.test_client()
    client.set_cookie("session", sign_session({"user": "ada"}))

    assert client.get("/session").json == {"user": "ada", "flashes": []}


# -- methods, OPTIONS and HEAD -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/items/7", "GET, HEAD, OPTIONS"),
        ("POST", "/search", "GET, HEAD, OPTIONS"),
        ("GET", "/form", "OPTIONS, POST"),
        ("PUT", "/api/echo", "OPTIONS, POST"),
        ("GET", "/api/json-attr", "OPTIONS, PUT"),
        ("BREW", "/", "GET, HEAD, OPTIONS"),
        ("PROPFIND", "/static/hello.txt", "GET, HEAD, OPTIONS"),
        ("CONNECT", "/", "GET, HEAD, OPTIONS"),
        ("TRACE", "/", "GET, HEAD, OPTIONS"),
    ],
)
def test_a_wrong_method_is_405_with_allow(
    client: Client, method: str, path: str, allow: str
) -> None:
    response = client.open(path, method=method)

    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert_served(client)


@pytest.mark.parametrize("method", ["", " ", "G\x00T", "GET /", "\xff"])
def test_a_garbage_method_is_405(app: App, client: Client, method: str) -> None:
    answer = call(app, make_environ("/", REQUEST_METHOD=method))

    assert answer.status_code == 405
    assert_served(client)


GET_URLS = [
    "/",
    "/bytes",
    "/items/7",
    "/things/12345678-1234-5678-1234-567812345678",
    "/files/a/b.txt",
    "/prices/1.5",
    "/search?q=x",
    "/csrf",
    "/echo-header",
    "/next?next=/items/7",
    "/stream",
    "/page",
    "/session",
    "/session/login",
    "/api/ping",
    "/teapot",
    "/static/hello.txt",
]
POST_URLS = {"/form": "OPTIONS, POST", "/upload": "OPTIONS, POST", "/api/echo": "OPTIONS, POST"}


@pytest.mark.parametrize("url", GET_URLS)
def test_options_answers_allow_on_every_get_route(client: Client, url: str) -> None:
    response = client.options(url)

    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.data == b""


@pytest.mark.parametrize(("url", "allow"), sorted(POST_URLS.items()))
def test_options_answers_allow_on_every_post_route(client: Client, url: str, allow: str) -> None:
    response = client.options(url)

    assert response.status_code == 200
    assert response.headers["Allow"] == allow


def test_options_on_an_unknown_path_is_404(client: Client) -> None:
    assert client.options("/no/such/path").status_code == 404


@pytest.mark.parametrize("url", GET_URLS)
def test_head_answers_like_get_without_a_body(client: Client, url: str) -> None:
    get = client.get(url)
    head = client.head(url)

    assert head.status_code == get.status_code
    assert head.data == b""
    assert head.headers.get("Content-Type") == get.headers.get("Content-Type")
    if "Content-Length" in get.headers and url not in ("/csrf", "/page"):
        # /csrf and /page embed a fresh masked token, so their length may differ per request.
        assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert_served(client)


# -- long paths and query strings --------------------------------------------------------------


def test_a_very_long_path_is_404(client: Client) -> None:
    response = client.get("/" + "a" * 100_000)

    assert response.status_code == 404
    assert_served(client)


def test_a_very_long_path_parameter_is_passed_through(client: Client) -> None:
    subpath = "a/" * 20_000 + "end"

    response = client.get("/files/" + subpath)

    assert response.status_code == 200
    assert response.json == {"subpath": subpath}


@pytest.mark.parametrize(("digits", "status"), [(20, 200), (4301, 404), (100_000, 404)])
def test_a_huge_int_path_parameter_is_404_not_a_500(
    client: Client, digits: int, status: int
) -> None:
    # int() refuses strings past 4300 digits with ValueError (Python 3.11's int_max_str_digits).
    response = client.get("/items/" + "9" * digits)

    assert response.status_code == status
    assert_clean(response.status_code, response.data)
    assert_served(client)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def test_a_huge_float_path_parameter_never_produces_invalid_json(client: Client) -> None:
    # float("9" * 400 + ".5") is inf, and Python's json writes it as the non-JSON `Infinity`.
    response = client.get("/prices/" + "9" * 400 + ".5")

    assert response.status_code in (200, 404)
    json.loads(response.data, parse_constant=_refuse_constant)
    assert_served(client)


def test_a_very_long_query_string_is_answered(client: Client) -> None:
    response = client.get("/search", query_string="q=" + "x" * 1_000_000 + "&page=2")

    assert response.status_code == 200
    assert response.json is not None
    assert len(response.json["q"]) == 1_000_000
    assert response.json["page"] == 2


def test_a_query_string_with_very_many_fields_is_answered(client: Client) -> None:
    response = client.get("/search", query_string="tag=x&" * 50_000)

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["tags"] == ["x"] * 50_000


def test_a_before_request_hook_answers_in_place_of_the_handler(client: Client) -> None:
    response = client.get(GOOD_PATH, headers={"X-Block": "yes"})

    assert response.status_code == 403
    assert response.json == {"error": "blocked by a before-request hook"}
    assert response.headers["X-Feature-App"] == "1"
    assert_served(client)


# -- a real gunicorn ---------------------------------------------------------------------------

GUNICORN_MODULE = """\
import sys
from pathlib import Path

sys.path.insert(0, {tests!r})
from featureapp import make_app

app = make_app(Path({site!r}))
"""


def _request(head: str, body: bytes = b"") -> bytes:
    """Build raw request bytes: `head` lines joined by CRLF, then a blank line and `body`."""
    return head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body


RAW_CORPUS: dict[str, bytes] = {
    "traversal-dots": _request("GET /static/../secret.txt HTTP/1.1\nHost: t"),
    "traversal-encoded": _request("GET /static/%2e%2e/secret.txt HTTP/1.1\nHost: t"),
    "traversal-encoded-slash": _request("GET /static/..%2fsecret.txt HTTP/1.1\nHost: t"),
    "traversal-double-encoded": _request("GET /static/%252e%252e/secret.txt HTTP/1.1\nHost: t"),
    "traversal-backslash": _request("GET /static/..%5csecret.txt HTTP/1.1\nHost: t"),
    "traversal-raw-backslash": _request("GET /static/..\\secret.txt HTTP/1.1\nHost: t"),
    "traversal-absolute": _request("GET /static//etc/passwd HTTP/1.1\nHost: t"),
    "traversal-nul": _request("GET /static/hello.txt%00 HTTP/1.1\nHost: t"),
    "traversal-overlong-utf8": _request("GET /static/%c0%ae%c0%ae/secret.txt HTTP/1.1\nHost: t"),
    "traversal-symlink": _request("GET /static/link-out.txt HTTP/1.1\nHost: t"),
    "traversal-symlink-dir": _request("GET /static/link-dir/secret.txt HTTP/1.1\nHost: t"),
    "absolute-form-target": _request("GET http://t/static/../secret.txt HTTP/1.1\nHost: t"),
    "path-bad-utf8": _request("GET /items/%ff%fe HTTP/1.1\nHost: t"),
    "path-raw-bytes": b"GET /items/\xff\xfe HTTP/1.1\r\nHost: t\r\n\r\n",
    "path-bad-escape": _request("GET /%zz% HTTP/1.1\nHost: t"),
    "query-bad-utf8": _request("GET /search?q=%ff&tag=%zz&page=x HTTP/1.1\nHost: t"),
    "query-raw-bytes": b"GET /search?q=\xff\xfe HTTP/1.1\r\nHost: t\r\n\r\n",
    "huge-int": _request(f"GET /items/{'9' * 3000} HTTP/1.1\nHost: t"),
    "long-request-line": _request(f"GET /{'a' * 10_000} HTTP/1.1\nHost: t"),
    "long-header": _request(f"GET / HTTP/1.1\nHost: t\nX-Pad: {'p' * 10_000}"),
    "many-headers": _request(
        "GET / HTTP/1.1\nHost: t\n" + "\n".join(f"X-H{n}: v" for n in range(200))
    ),
    "cookie-garbage": b"GET /session HTTP/1.1\r\nHost: t\r\nCookie: session=\xff\xfe%zz\r\n\r\n",
    "cookie-forged": _request(
        "GET /session HTTP/1.1\nHost: t\nCookie: session=eyJ1c2VyIjoiYWRtaW4ifQ.AAAA.BBBB"
    ),
    "obs-fold-header": _request("GET /echo-header HTTP/1.1\nHost: t\nX-Echo: a\n Set-Cookie: x=1"),
    "bare-cr-header": b"GET /echo-header HTTP/1.1\r\nHost: t\r\nX-Echo: a\rSet-Cookie: x=1\r\n\r\n",
    "bare-lf-header": b"GET /echo-header HTTP/1.1\r\nHost: t\r\nX-Echo: a\nSet-Cookie: x=1\r\n\r\n",
    "nul-in-header": b"GET /echo-header HTTP/1.1\r\nHost: t\r\nX-Echo: a\x00b\r\n\r\n",
    "space-before-colon": _request("GET / HTTP/1.1\nHost : t"),
    "redirect-offsite": _request("GET /next?next=//evil.example HTTP/1.1\nHost: t"),
    "redirect-backslash": _request("GET /next?next=/%5cevil.example HTTP/1.1\nHost: t"),
    "redirect-crlf": _request("GET /next?next=/%0d%0aSet-Cookie:%20x=1 HTTP/1.1\nHost: t"),
    "redirect-javascript": _request("GET /next?next=javascript:alert(1) HTTP/1.1\nHost: t"),
    "unknown-method": _request("BREW / HTTP/1.1\nHost: t"),
    "lowercase-method": _request("get / HTTP/1.1\nHost: t"),
    "options-star": _request("OPTIONS * HTTP/1.1\nHost: t"),
    "head": _request("HEAD /stream HTTP/1.1\nHost: t"),
    "http-0.9": b"GET /\r\n\r\n",
    "http-2.0-version": _request("GET / HTTP/2.0\nHost: t"),
    "bad-version": _request("GET / HTTP/1.x\nHost: t"),
    "binary-request-line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "garbage": b"\x00\xff\xfe garbage\r\n\r\n",
    "json-invalid": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\nContent-Length: 1", b"{"
    ),
    "json-nested": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\nContent-Length: 5000",
        b"[" * 5000,
    ),
    "json-no-content-type": _request("POST /api/echo HTTP/1.1\nHost: t\nContent-Length: 2", b"{}"),
    "body-over-limit": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Content-Length: 100000000"
    ),
    "content-length-garbage": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\nContent-Length: x", b"{}"
    ),
    "content-length-negative": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\nContent-Length: -1"
    ),
    "content-length-twice": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Content-Length: 2\nContent-Length: 3",
        b"{}",
    ),
    "chunked-and-content-length": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Content-Length: 2\nTransfer-Encoding: chunked",
        b"2\r\n{}\r\n0\r\n\r\n",
    ),
    "chunked-valid": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked",
        b"2\r\n{}\r\n0\r\n\r\n",
    ),
    "chunked-extension-and-trailer": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked",
        b"2;ext=1\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n",
    ),
    "chunked-bad-size": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked",
        b"zz\r\n{}\r\n0\r\n\r\n",
    ),
    "chunked-missing-terminator": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked",
        b"2\r\n{}XX0\r\n\r\n",
    ),
    "chunked-bad-trailer": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked",
        b"2\r\n{}\r\n0\r\nBad Trailer Line\r\n\r\n",
    ),
    "chunked-over-limit": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked",
        b"".join(b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(6)) + b"0\r\n\r\n",
    ),
    "transfer-encoding-unknown": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Transfer-Encoding: gzip, chunked",
        b"2\r\n{}\r\n0\r\n\r\n",
    ),
    "multipart-truncated": _request(
        f"POST /upload HTTP/1.1\nHost: t\nContent-Type: {MULTIPART}\nContent-Length: 60",
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filena'.encode()[:60],
    ),
    "multipart-garbage": _request(
        f"POST /upload HTTP/1.1\nHost: t\nContent-Type: {MULTIPART}\nContent-Length: 9",
        b"\x00\xffgarbage",
    ),
    "form-without-csrf": _request(
        f"POST /form HTTP/1.1\nHost: t\nContent-Type: {URLENCODED}\nContent-Length: 3", b"a=1"
    ),
    "form-too-many-fields": _request(
        f"POST /form HTTP/1.1\nHost: t\nContent-Type: {URLENCODED}\nContent-Length: 299",
        ("&".join(f"f{n:02d}=x" for n in range(50)))[:299].encode(),
    ),
    "expect-100": _request(
        "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        "Content-Length: 2\nExpect: 100-continue",
        b"{}",
    ),
    "expect-unknown": _request("GET / HTTP/1.1\nHost: t\nExpect: 200-ok"),
    "no-host": _request("GET / HTTP/1.1"),
    "two-hosts": _request("GET / HTTP/1.1\nHost: a\nHost: b"),
    "weird-host": _request("GET / HTTP/1.1\nHost: evil.example:99999\\@x"),
    "range-garbage": _request("GET /static/hello.txt HTTP/1.1\nHost: t\nRange: bytes=9-1,abc"),
}

GOOD_REQUEST = _request(f"GET {GOOD_PATH} HTTP/1.1\nHost: t\nConnection: close")


def _status_of(reply: bytes) -> int:
    """Return the final status of a raw reply, after any interim 1xx (100 Continue)."""
    while reply.startswith(b"HTTP/1.1 1"):
        reply = reply.split(b"\r\n\r\n", 1)[1]
    status_line = reply.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1."), reply[:200]
    return int(status_line.split()[1])


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A gunicorn (sync worker) serving the feature app; its port."""
    folder = tmp_path_factory.mktemp("gunicorn")
    site = folder / "site"
    site.mkdir()
    module = GUNICORN_MODULE.format(tests=str(Path(__file__).parent), site=str(site))
    (folder / "hostile_site.py").write_text(module, encoding="utf-8")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--timeout",
        "20",
        "--graceful-timeout",
        "1",
        "hostile_site:app",
    ]
    with served(command, port, cwd=str(folder)):
        yield port


@pytest.mark.parametrize("case", list(RAW_CORPUS))
def test_gunicorn_answers_raw_hostile_requests_without_a_5xx(gunicorn_port: int, case: str) -> None:
    reply = raw_http(gunicorn_port, RAW_CORPUS[case], timeout=5.0)

    assert _status_of(reply) < 500, reply[:500]
    assert b"Traceback" not in reply
    assert SECRET_TEXT.encode() not in reply
    assert b"root:" not in reply
    good = raw_http(gunicorn_port, GOOD_REQUEST)
    assert _status_of(good) == 200
    assert good.endswith(b'{"item_id":7}')


def test_gunicorn_serves_a_static_file_the_control_for_traversal(gunicorn_port: int) -> None:
    reply = raw_http(
        gunicorn_port, _request("GET /static/hello.txt HTTP/1.1\nHost: t\nConnection: close")
    )

    assert _status_of(reply) == 200
    assert reply.endswith(b"hello, static world\n")


def test_gunicorn_keeps_redirects_on_the_site(gunicorn_port: int) -> None:
    reply = raw_http(gunicorn_port, RAW_CORPUS["redirect-offsite"])

    assert _status_of(reply) == 302
    assert b"\r\nLocation: /\r\n" in reply


def _chunked(body: bytes, size: int = 8000) -> bytes:
    """Encode `body` with chunked transfer coding, in chunks of `size` bytes."""
    pieces = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def test_gunicorn_answers_413_to_a_chunked_body_over_the_limit(gunicorn_port: int) -> None:
    # Valid JSON in its first MAX_CONTENT_LENGTH bytes: only a limit check can refuse it.
    body = b'{"a": 1}' + b" " * (MAX_CONTENT_LENGTH + 4096)
    head = "POST /api/echo HTTP/1.1\nHost: t\nContent-Type: application/json\n"
    head += "Transfer-Encoding: chunked"

    reply = raw_http(gunicorn_port, _request(head, _chunked(body)))

    assert _status_of(reply) == 413, reply[-200:]
