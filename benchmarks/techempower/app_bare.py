"""The floor: one WSGI function per test type, dispatched by path, no framework.

Serve it with `gunicorn --chdir benchmarks/techempower app_bare:app`. The module is imported in
each worker (no --preload), so the pool and the cache are made there, at worker start.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from database import Database, bounded
from jinja2 import Environment, FileSystemLoader, select_autoescape

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

TEMPLATES = Path(__file__).resolve().parent / "templates"
JSON = "application/json"
TEXT = "text/plain"
HTML = "text/html; charset=utf-8"

db = Database()
db.open()
db.load_cache()
fortunes_template = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape()
).get_template("fortunes.html")


def send(start_response: StartResponse, content_type: str, body: bytes) -> list[bytes]:
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def count_of(environ: Environ, name: str) -> int:
    values = parse_qs(environ.get("QUERY_STRING", "")).get(name)
    try:
        return bounded(int(values[0])) if values else 1
    except ValueError:
        return 1


def json_(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    return send(start_response, JSON, json.dumps({"message": "Hello, World!"}).encode())


def plaintext(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    return send(start_response, TEXT, b"Hello, World!")


def db_(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    return send(start_response, JSON, json.dumps(db.world()).encode())


def queries(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    worlds = db.worlds(count_of(environ, "queries"))
    return send(start_response, JSON, json.dumps(worlds).encode())


def updates(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    worlds = db.update_worlds(count_of(environ, "queries"))
    return send(start_response, JSON, json.dumps(worlds).encode())


def fortunes(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    body = fortunes_template.render(fortunes=db.fortunes()).encode()
    return send(start_response, HTML, body)


def cached_queries(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    worlds = db.cached_worlds(count_of(environ, "count"))
    return send(start_response, JSON, json.dumps(worlds).encode())


def not_found(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    body = b"Not Found"
    start_response("404 Not Found", [("Content-Type", TEXT), ("Content-Length", str(len(body)))])
    return [body]


ROUTES = {
    "/json": json_,
    "/plaintext": plaintext,
    "/db": db_,
    "/queries": queries,
    "/updates": updates,
    "/fortunes": fortunes,
    "/cached-queries": cached_queries,
}


def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    return ROUTES.get(environ["PATH_INFO"], not_found)(environ, start_response)
