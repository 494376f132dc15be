# mypy: disable-error-code="untyped-decorator"
"""The `style-*` scenarios as a Bottle 0.13 app, each handler the way Bottle's docs write it.

Bottle returns a str (HTML), bytes, a dict (JSON through its JSONPlugin), a generator or an
HTTPResponse(body, status, headers); status and headers otherwise go on the thread-local
`response`, and `redirect()` and `abort()` raise. A list is not JSON to Bottle (it would be sent
as body chunks), so that handler encodes it. The REST table is the one of apps_bottle.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from apps_bottle import add_api_routes
from bench_common import (
    BINARY_BODY,
    CREATED,
    CREATED_LOCATION,
    HELLO_HTML,
    ITEMS,
    MAX_AGE,
    NO_CACHE,
    PLAINTEXT,
    REDIRECT_TARGET,
    STYLE_NAMES,
    USER,
    USERS,
    WSGIApp,
    stream_chunks,
)
from bottle import Bottle, HTTPResponse, abort, redirect, request, response

app = Bottle()


@app.get("/plaintext")
def plaintext() -> str:
    response.content_type = "text/plain"
    return PLAINTEXT


@app.post("/login")
def login() -> dict[str, object]:
    return {"username": request.forms.getunicode("username")}


@app.get("/str")
def as_str() -> str:
    return HELLO_HTML


@app.get("/bytes")
def as_bytes() -> bytes:
    response.content_type = "application/octet-stream"
    return BINARY_BODY


@app.get("/dict")
def as_dict() -> dict[str, object]:
    return USER


@app.get("/list")
def as_list() -> str:
    response.content_type = "application/json"
    return json.dumps(USERS)


@app.get("/response")
def as_response() -> HTTPResponse:
    return HTTPResponse(
        PLAINTEXT, headers={"Content-Type": "text/plain", "Cache-Control": NO_CACHE}
    )


@app.get("/body-status")
def body_status() -> dict[str, object]:
    response.status = 201
    return CREATED


@app.get("/body-headers")
def body_headers() -> dict[str, object]:
    response.set_header("Cache-Control", MAX_AGE)
    return USER


@app.get("/tuple-dict")
def tuple_dict() -> HTTPResponse:
    return HTTPResponse(CREATED, 201, {"Location": CREATED_LOCATION})


@app.get("/tuple-list")
def tuple_list() -> HTTPResponse:
    return HTTPResponse(
        PLAINTEXT, 200, [("Content-Type", "text/plain"), ("Cache-Control", NO_CACHE)]
    )


@app.get("/generator")
def generator() -> Iterator[str]:
    return stream_chunks()


@app.get("/redirect")
def to_login() -> None:
    redirect(REDIRECT_TARGET, 302)  # Bottle's default for HTTP/1.1 is 303; the others send 302


@app.get("/items/<item_id:int>")
def show_item(item_id: int) -> dict[str, object]:
    if item_id not in ITEMS:
        abort(404)
    return ITEMS[item_id]


add_api_routes(app)


def scenario_apps() -> dict[str, WSGIApp]:
    return dict.fromkeys(STYLE_NAMES, app)
