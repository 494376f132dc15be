"""The floor: one hand-written WSGI function per scenario, doing only what its request needs.

No routing table, no request or response object: each function knows which request it gets.
`app` at the bottom dispatches between them, to serve the same scenarios under a real server
(e.g. `gunicorn --chdir benchmarks apps_bare:app`); the benchmark calls the functions directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qs

from bench_common import (
    FORTUNES_TEMPLATE,
    JSON_MESSAGE,
    PLAINTEXT,
    TEMPLATE_FOLDER,
    StartResponse,
    WSGIApp,
    WSGIEnvironment,
    fortune_rows,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"

_jinja = Environment(loader=FileSystemLoader(TEMPLATE_FOLDER), autoescape=select_autoescape())
_fortunes_template = _jinja.get_template(FORTUNES_TEMPLATE)


def _send(
    start_response: StartResponse, status: str, content_type: str, body: bytes
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def plaintext(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    return _send(start_response, "200 OK", _TEXT, PLAINTEXT.encode())


def json_(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    return _send(start_response, "200 OK", _JSON, json.dumps(JSON_MESSAGE).encode())


_MEMBER = re.compile(r"/api/v1/teams/(\d+)/members/(\d+)\Z")


def params(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    match = _MEMBER.match(environ["PATH_INFO"])
    if match is None:
        return notfound(environ, start_response)
    body = {"team": int(match[1]), "member": int(match[2])}
    return _send(start_response, "200 OK", _JSON, json.dumps(body).encode())


def query(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    args = parse_qs(environ.get("QUERY_STRING", ""))
    body = {"q": args["q"][0], "tags": args["tag"], "page": int(args["page"][0])}
    return _send(start_response, "200 OK", _JSON, json.dumps(body).encode())


def form(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    fields = parse_qs(environ["wsgi.input"].read(length).decode())
    body = {"username": fields["username"][0]}
    return _send(start_response, "200 OK", _JSON, json.dumps(body).encode())


def notfound(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    return _send(start_response, "404 Not Found", _TEXT, b"Not Found")


def fortunes(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    html = _fortunes_template.render(fortunes=fortune_rows())
    return _send(start_response, "200 OK", _HTML, html.encode())


SCENARIO_APPS: dict[str, WSGIApp] = {
    "plaintext": plaintext,
    "json": json_,
    "params": params,
    "query": query,
    "form": form,
    "notfound": notfound,
    "fortunes": fortunes,
}

_BY_PATH: dict[str, WSGIApp] = {
    "/plaintext": plaintext,
    "/json": json_,
    "/search": query,
    "/login": form,
    "/fortunes": fortunes,
}


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Dispatch on the path alone, for serving the scenarios under a real server."""
    path = environ.get("PATH_INFO", "/")
    return _BY_PATH.get(path, params)(environ, start_response)


def scenario_apps() -> dict[str, WSGIApp]:
    return dict(SCENARIO_APPS)
