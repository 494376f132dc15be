"""Compression: negotiation, what is skipped, streams chunk by chunk, Vary and ETags."""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest
from serving import HOST, free_port, served
from werkzeug.test import Client

import wsgilite
from wsgilite import App, Request, Response
from wsgilite.compress import Compress

SRC = Path(wsgilite.__file__).resolve().parent.parent
TEXT = "<p>" + "hello compressed world " * 100 + "</p>"
GZIP = {"Accept-Encoding": "gzip"}


def test_a_large_html_body_is_gzipped(app: App, client: Client) -> None:
    Compress(app)

    @app.get("/")
    def index(request: Request) -> str:
        return TEXT

    response = client.get("/", headers=GZIP)

    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) == len(response.data) < len(TEXT)
    assert gzip.decompress(response.data).decode() == TEXT


def test_a_list_body_is_measured_and_compressed(app: App, client: Client) -> None:
    Compress(app)

    @app.get("/parts")
    def parts(request: Request) -> Response:
        return Response([b"a" * 600, b"b" * 600], mimetype="text/plain")

    response = client.get("/parts", headers=GZIP)

    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == b"a" * 600 + b"b" * 600


def test_without_accept_encoding_the_body_is_plain_but_varies(app: App, client: Client) -> None:
    Compress(app)

    @app.get("/")
    def index(request: Request) -> str:
        return TEXT

    plain = client.get("/")
    refused = client.get("/", headers={"Accept-Encoding": "gzip;q=0, identity"})

    for response in (plain, refused):
        assert "Content-Encoding" not in response.headers
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.text == TEXT


def test_q_values_pick_the_coding(app: App, client: Client) -> None:
    Compress(app)

    @app.get("/")
    def index(request: Request) -> str:
        return TEXT

    star = client.get("/", headers={"Accept-Encoding": "*"})
    gzip_preferred = client.get("/", headers={"Accept-Encoding": "br;q=0.5, gzip;q=1"})

    assert star.headers["Content-Encoding"] in {"gzip", "br"}
    assert gzip_preferred.headers["Content-Encoding"] == "gzip"


def test_brotli_when_installed(app: App, client: Client) -> None:
    brotli = pytest.importorskip("brotli", reason="brotli is optional: pip install brotli")
    Compress(app)

    @app.get("/")
    def index(request: Request) -> str:
        return TEXT

    response = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    without = Compress(App(__name__), brotli=False)

    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data).decode() == TEXT
    assert not without.use_brotli


@pytest.mark.parametrize(
    ("path", "method"),
    [("/small", "GET"), ("/png", "GET"), ("/encoded", "GET"), ("/", "HEAD"), ("/304", "GET")],
)
def test_what_is_not_compressed(app: App, client: Client, path: str, method: str) -> None:
    Compress(app)

    @app.get("/")
    def index(request: Request) -> str:
        return TEXT

    @app.get("/small")
    def small(request: Request) -> str:
        return "<p>hi</p>"

    @app.get("/png")
    def png(request: Request) -> Response:
        return Response(b"\x89PNG" * 500, mimetype="image/png")

    @app.get("/encoded")
    def encoded(request: Request) -> Response:
        body = gzip.compress(TEXT.encode())
        return Response(body, headers={"Content-Encoding": "gzip"}, mimetype="text/plain")

    @app.get("/304")
    def not_modified(request: Request) -> Response:
        return Response(status=304)

    response = client.open(path, method=method, headers={"Accept-Encoding": "gzip, br"})

    assert response.headers.get("Content-Encoding") in (
        None,
        "gzip" if path == "/encoded" else None,
    )
    if path == "/encoded":
        assert gzip.decompress(response.data).decode() == TEXT  # not gzipped twice


def test_a_stream_is_compressed_chunk_by_chunk(app: App, client: Client) -> None:
    Compress(app)
    closed = []

    @app.get("/stream")
    def stream(request: Request) -> Response:
        def chunks() -> Iterator[str]:
            try:
                for number in range(3):
                    yield f"line {number}\n"
            finally:
                closed.append(True)

        return Response(chunks(), mimetype="text/plain")

    response = client.get("/stream", headers=GZIP, buffered=False)
    pieces = [piece for piece in response.response if isinstance(piece, bytes)]
    response.close()

    assert response.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in response.headers
    assert len(pieces) == 4  # one per chunk, each decodable on arrival, then the trailer
    decoder = zlib.decompressobj(31)
    assert decoder.decompress(pieces[0]) == b"line 0\n"
    assert gzip.decompress(b"".join(pieces)) == b"line 0\nline 1\nline 2\n"
    assert closed == [True]


def test_a_stream_in_brotli(app: App, client: Client) -> None:
    brotli = pytest.importorskip("brotli", reason="brotli is optional: pip install brotli")
    Compress(app)

    @app.get("/stream")
    def stream(request: Request) -> Iterator[str]:
        for number in range(3):
            yield f"line {number}\n"

    response = client.get("/stream", headers={"Accept-Encoding": "br"})

    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data) == b"line 0\nline 1\nline 2\n"


def test_a_bad_level_is_refused(app: App) -> None:
    with pytest.raises(ValueError, match="gzip levels"):
        Compress(app, level=11)


def test_a_strong_etag_becomes_weak(app: App, client: Client) -> None:
    Compress(app)

    @app.get("/")
    def index(request: Request) -> Response:
        response = Response(TEXT)
        response.set_etag("v1")
        return response

    compressed = client.get("/", headers=GZIP)
    plain = client.get("/")

    assert compressed.headers["ETag"] == 'W/"v1"'
    assert plain.headers["ETag"] == '"v1"'


SERVED_APP = """
from wsgilite import App, Request
from wsgilite.compress import Compress

app = App(__name__)
Compress(app)


@app.get("/")
def index(request: Request):
    return "<p>" + "hello compressed world " * 100 + "</p>"


@app.get("/stream")
def stream(request: Request):
    return ("line %d\\n" % number for number in range(50))
"""


def test_compression_through_gunicorn(tmp_path: Path) -> None:
    (tmp_path / "compress_app.py").write_text(SERVED_APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(tmp_path)])}
    command = [sys.executable, "-m", "gunicorn", "-b", f"{HOST}:{port}", "compress_app:app"]

    with served(command, port, cwd=str(tmp_path), env=env):
        connection = HTTPConnection(HOST, port, timeout=5)
        connection.request("GET", "/", headers=GZIP)
        page = connection.getresponse()
        page_body = page.read()
        connection.request("GET", "/stream", headers=GZIP)
        stream = connection.getresponse()
        stream_body = stream.read()

    assert page.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(page_body).decode() == TEXT
    assert stream.getheader("Content-Encoding") == "gzip"
    assert stream.getheader("Transfer-Encoding") == "chunked"
    expected = "".join(f"line {number}\n" for number in range(50))
    assert gzip.decompress(stream_body).decode() == expected
