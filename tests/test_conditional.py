"""Conditional GET: automatic ETags, 304 on If-None-Match, and what is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

from serving import HOST, gunicorn_app
from werkzeug.test import Client

from wsgilite import App, Request, Response, Router
from wsgilite.compress import Compress
from wsgilite.conditional import ETags, conditional

TEXT = "<p>" + "hello " * 200 + "</p>"


def test_the_helper_tags_and_answers_304(app: App, client: Client) -> None:
    @app.get("/page")
    def page(request: Request) -> Response:
        return conditional(request, Response(TEXT))

    first = client.get("/page")
    etag = first.headers["ETag"]
    again = client.get("/page", headers={"If-None-Match": etag})

    assert first.status_code == 200
    assert etag.startswith('"') and len(etag) == 34
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_a_changed_body_gets_another_etag(app: App, client: Client) -> None:
    version = ["one"]
    ETags(app)

    @app.get("/data")
    def data(request: Request) -> dict[str, str]:
        return {"version": version[0]}

    etag = client.get("/data").headers["ETag"]
    version[0] = "two"
    changed = client.get("/data", headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed.json == {"version": "two"}
    assert changed.headers["ETag"] != etag


def test_the_handlers_own_etag_is_kept(app: App, client: Client) -> None:
    ETags(app)

    @app.get("/")
    def index(request: Request) -> Response:
        response = Response("hi")
        response.set_etag("v7")
        return response

    assert client.get("/").headers["ETag"] == '"v7"'
    assert client.get("/", headers={"If-None-Match": '"v7"'}).status_code == 304


def test_posts_errors_and_streams_are_left_alone(app: App, client: Client) -> None:
    ETags(app)

    @app.route("/form", methods=["GET", "POST"])
    def form(request: Request) -> str:
        return "ok"

    @app.get("/stream")
    def stream(request: Request) -> Iterator[str]:
        yield "a"

    assert "ETag" not in client.post("/form").headers
    assert "ETag" not in client.get("/missing").headers
    assert "ETag" not in client.get("/stream").headers


def test_weak_etags_and_compression_agree(app: App, client: Client) -> None:
    Compress(app)  # first: the App runs after-hooks in reverse order, so it compresses last
    ETags(app)

    @app.get("/")
    def index(request: Request) -> str:
        return TEXT

    compressed = client.get("/", headers={"Accept-Encoding": "gzip"})
    etag = compressed.headers["ETag"]
    plain = client.get("/", headers={"If-None-Match": etag})

    assert etag.startswith('W/"')
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert plain.status_code == 304  # If-None-Match compares weakly


def test_etags_on_a_router_only(app: App, client: Client) -> None:
    api = Router("/api")
    ETags(api)

    @api.get("/items")
    def items(request: Request) -> list[int]:
        return [1, 2]

    @app.get("/other")
    def other(request: Request) -> str:
        return "x"

    app.include(api)

    assert "ETag" in client.get("/api/items").headers
    assert "ETag" not in client.get("/other").headers


SERVED_APP = """
from wsgilite import App, Request
from wsgilite.conditional import ETags

app = App(__name__)
ETags(app)


@app.get("/data")
def data(request: Request):
    return {"items": [1, 2, 3]}
"""


def test_a_304_through_gunicorn(tmp_path: Path) -> None:
    with gunicorn_app(str(tmp_path), SERVED_APP) as port:
        connection = HTTPConnection(HOST, port, timeout=5)
        connection.request("GET", "/data")
        first = connection.getresponse()
        first.read()
        etag = first.getheader("ETag") or ""
        connection.request("GET", "/data", headers={"If-None-Match": etag})
        again = connection.getresponse()
        body = again.read()

    assert first.status == 200
    assert again.status == 304
    assert body == b""
    assert again.getheader("ETag") == etag
