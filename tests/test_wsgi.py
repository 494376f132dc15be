"""PEP 3333: every kind of response passes wsgiref's validator, and close() is always called.

The feature app (tests/featureapp.py) runs inside `wsgiref.validate.validator`, driven by
werkzeug's Client, with warnings as errors: the validator reports a PEP 3333 breach as an
assertion or a warning, so any complaint fails the test. The last tests prove that a server's call
to close() on the returned iterable reaches the handler's generator, whether the client read the
whole body or went away after the first chunk, and that an upload's temporary file is closed.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from wsgiref.validate import validator

import pytest
from featureapp import make_app
from werkzeug.test import Client, EnvironBuilder, TestResponse

from wsgilite import App, Request

pytestmark = pytest.mark.filterwarnings("error")


class TrackedBody:
    """A response body that is an iterable with close(), recording what the server did."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def __iter__(self) -> Iterator[bytes]:
        self.events.append("iterated")
        yield b"first chunk\n"
        yield b"second chunk\n"

    def close(self) -> None:
        self.events.append("closed")


@pytest.fixture
def events() -> list[str]:
    """What the tracked routes' bodies recorded."""
    return []


@pytest.fixture
def uploads() -> Iterator[list[IO[bytes]]]:
    """The file streams /tracked-upload received; closed after the test if the app did not."""
    streams: list[IO[bytes]] = []
    yield streams
    for stream in streams:
        stream.close()


@pytest.fixture
def app(tmp_path: Path, events: list[str], uploads: list[IO[bytes]]) -> App:
    """The feature app plus test-only routes: a crash, a kept upload, bodies that record close()."""
    app = make_app(tmp_path)

    @app.post("/tracked-upload", csrf=False)
    def tracked_upload(request: Request) -> dict[str, object]:
        uploaded = request.files["file"]
        uploads.append(uploaded.stream)
        return {"filename": uploaded.filename, "size": len(uploaded.read())}

    @app.get("/crash")
    def crash(request: Request) -> str:
        raise RuntimeError("a deliberate crash, for the 500 test")

    @app.get("/tracked-generator")
    def tracked_generator(request: Request) -> Iterator[bytes]:
        def chunks() -> Iterator[bytes]:
            try:
                for number in range(3):
                    yield f"chunk {number}\n".encode()
            finally:
                events.append("generator finally")

        return chunks()

    @app.get("/tracked-body")
    def tracked_body(request: Request) -> TrackedBody:
        return TrackedBody(events)

    return app


@pytest.fixture
def client(app: App) -> Client:
    """A test client over the app wrapped in wsgiref's PEP 3333 validator."""
    return Client(validator(app))


def open_validated(client: Client, url: str, **options: Any) -> TestResponse:
    """Send one request through the validator; the body is read and close() called at once."""
    return client.open(url, buffered=True, **options)


# -- every kind of response --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "options", "status", "mimetype"),
    [
        ("GET", "/", {}, 200, "text/html"),
        ("GET", "/bytes", {}, 200, "application/octet-stream"),
        ("GET", "/items/7", {}, 200, "application/json"),
        ("GET", "/api/ping", {}, 200, "text/html"),
        ("GET", "/stream?n=5", {}, 200, "text/html"),
        ("GET", "/static/hello.txt", {}, 200, "text/plain"),
        ("GET", "/static/hello.txt", {"headers": {"Range": "bytes=0-4"}}, 206, "text/plain"),
        ("GET", "/static/hello.txt", {"headers": {"Range": "bytes=999-"}}, 416, "text/html"),
        ("GET", "/next?next=/items/7", {}, 302, "text/html"),
        ("GET", "/nope", {}, 404, "application/json"),
        ("DELETE", "/items/7", {}, 405, "text/html"),
        ("GET", "/crash", {}, 500, "text/html"),
        ("GET", "/teapot", {}, 418, "application/json"),
        ("HEAD", "/", {}, 200, "text/html"),
        ("HEAD", "/stream", {}, 200, "text/html"),
        ("HEAD", "/static/hello.txt", {}, 200, "text/plain"),
        ("HEAD", "/nope", {}, 404, "application/json"),
        ("OPTIONS", "/items/7", {}, 200, "text/html"),
        ("OPTIONS", "/form", {}, 200, "text/html"),
        ("GET", "/page", {}, 200, "text/html"),
        ("GET", "/session/login?user=ada", {}, 200, "application/json"),
        ("POST", "/api/echo", {"json": {"a": [1, 2]}}, 200, "application/json"),
        ("POST", "/api/echo", {"data": b"{", "content_type": "application/json"}, 400, "text/html"),
        ("POST", "/api/echo", {"data": b"{}"}, 415, "text/html"),
        ("POST", "/form", {"data": {"a": "1"}}, 400, "text/html"),
    ],
)
def test_every_kind_of_response_passes_the_pep_3333_validator(
    client: Client, method: str, url: str, options: dict[str, Any], status: int, mimetype: str
) -> None:
    response = open_validated(client, url, method=method, **options)

    assert response.status_code == status
    assert response.mimetype == mimetype
    if method in ("HEAD", "OPTIONS"):
        assert response.data == b""


def test_a_set_session_cookie_passes_the_validator(client: Client) -> None:
    response = open_validated(client, "/session/login?user=ada")

    assert response.headers["Set-Cookie"].startswith("session=")
    assert open_validated(client, "/session").json == {"user": "ada", "flashes": ["welcome ada"]}


def test_a_304_carries_no_content_type_and_passes_the_validator(client: Client) -> None:
    etag = open_validated(client, "/static/hello.txt").headers["ETag"]

    response = open_validated(client, "/static/hello.txt", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert "Content-Type" not in response.headers
    assert response.data == b""


def test_a_form_post_with_its_csrf_token_passes_the_validator(client: Client) -> None:
    issued = open_validated(client, "/csrf").json
    assert issued is not None
    token = issued["token"]

    response = open_validated(client, "/form", method="POST", data={"a": "1", "csrf_token": token})

    assert response.status_code == 200
    assert response.json == {"fields": {"a": ["1"]}}


BOUNDARY = "validated"
UPLOAD_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
    f"hello\r\n--{BOUNDARY}--\r\n"
).encode()


def upload(client: Client) -> TestResponse:
    """Post UPLOAD_BODY to /tracked-upload through the validator."""
    return open_validated(
        client,
        "/tracked-upload",
        method="POST",
        data=UPLOAD_BODY,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def test_an_upload_passes_the_validator(client: Client) -> None:
    response = upload(client)

    assert response.status_code == 200
    assert response.json == {"filename": "a.txt", "size": 5}


def test_an_uploaded_file_is_closed_once_the_response_is_closed(
    client: Client, uploads: list[IO[bytes]]
) -> None:
    # Left open, each upload holds a temporary file (a descriptor, past 500 KB) until the garbage
    # collector finds it, and Python warns "ResourceWarning: Unclosed file".
    upload(client)

    assert len(uploads) == 1
    assert uploads[0].closed


def test_a_body_over_the_limit_passes_the_validator(client: Client) -> None:
    response = open_validated(
        client, "/api/echo", method="POST", data=b" " * 70_000, content_type="application/json"
    )

    assert response.status_code == 413


# -- close() -----------------------------------------------------------------------------------


def test_close_runs_the_generators_finally_when_the_body_is_read_whole(
    client: Client, events: list[str]
) -> None:
    response = open_validated(client, "/tracked-generator")

    assert response.data == b"chunk 0\nchunk 1\nchunk 2\n"
    assert events == ["generator finally"]


def test_close_is_called_on_an_iterable_body_read_whole(client: Client, events: list[str]) -> None:
    response = open_validated(client, "/tracked-body")

    assert response.data == b"first chunk\nsecond chunk\n"
    assert events == ["iterated", "closed"]


def test_close_is_called_on_an_iterable_body_never_read_for_head(
    client: Client, events: list[str]
) -> None:
    response = open_validated(client, "/tracked-body", method="HEAD")

    assert response.data == b""
    assert events == ["closed"]


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "validated"])
def test_close_after_one_chunk_runs_the_generators_finally(
    app: App, events: list[str], wrapped: bool
) -> None:
    # What a server does when the client disconnects mid-stream: stop iterating, call close().
    application = validator(app) if wrapped else app
    environ = EnvironBuilder(path="/tracked-generator").get_environ()

    result = application(environ, _start_response)
    first = next(iter(result))
    assert first == b"chunk 0\n"
    assert events == []

    result.close()  # type: ignore[attr-defined]

    assert events == ["generator finally"]


def test_close_after_one_chunk_reaches_an_iterable_body(app: App, events: list[str]) -> None:
    environ = EnvironBuilder(path="/tracked-body").get_environ()

    result = app(environ, _start_response)
    assert next(iter(result)) == b"first chunk\n"
    result.close()  # type: ignore[attr-defined]

    assert events == ["iterated", "closed"]


def test_an_unclosed_iterable_is_reported_by_the_validator(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control for the tests above: the validator does notice a server that forgets close().
    reported: list[BaseException | None] = []
    monkeypatch.setattr(
        sys, "unraisablehook", lambda unraisable: reported.append(unraisable.exc_value)
    )
    environ = EnvironBuilder(path="/tracked-generator").get_environ()
    result = validator(app)(environ, _start_response)
    next(iter(result))

    del result
    gc.collect()

    assert len(reported) == 1
    assert "without being closed" in str(reported[0])
