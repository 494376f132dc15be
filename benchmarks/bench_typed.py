"""In-process benchmark of one typed handler: wsgilite, Falcon by hand, FastAPI, Flask+OpenAPI.

    python benchmarks/bench_typed.py [--rounds N]

Each app answers POST /items/<int:item_id>?count=3 with the JSON body
{"name": "Ada", "age": 36, "tags": ["a", "b"]}: the path int, the query int (1..100), the body's
name (1..50 characters), age (0..150) and tags (strings) checked, and the answer a model sent as
JSON. WSGI apps are called as bench.py calls them (a prepared environ, the body as a fresh stream,
the answer consumed and closed). FastAPI is driven by the smallest ASGI call: a scope, a `receive`
that hands over the body, a `send` that collects, on one event loop. Every answer is checked
before timing; rounds are interleaved and the median is reported, in µs per request.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

BODY = b'{"name": "Ada", "age": 36, "tags": ["a", "b"]}'
EXPECTED = {"id": 7, "count": 3, "name": "Ada", "age": 36, "tags": ["a", "b"]}
PATH, QUERY = "/items/7", "count=3"


def environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": PATH,
        "QUERY_STRING": QUERY,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


# -- the apps ----------------------------------------------------------------------------------


def wsgilite_app() -> Callable[..., Any]:
    from typed_apps import wsgilite_typed

    return wsgilite_typed()


def wsgilite_by_hand_app() -> Callable[..., Any]:
    from typed_apps import wsgilite_by_hand

    return wsgilite_by_hand()


def falcon_app() -> Callable[..., Any]:
    import falcon

    class Items:
        def on_post(self, req: falcon.Request, resp: falcon.Response, item_id: int) -> None:
            count = req.get_param_as_int("count", required=True, min_value=1, max_value=100)
            media = req.get_media()
            if not isinstance(media, dict):
                raise falcon.HTTPUnprocessableEntity(description="body must be an object")
            name, age, tags = media.get("name"), media.get("age"), media.get("tags", [])
            errors = []
            if not isinstance(name, str) or not 1 <= len(name) <= 50:
                errors.append("name")
            if type(age) is not int or not 0 <= age <= 150:
                errors.append("age")
            if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
                errors.append("tags")
            if errors:
                raise falcon.HTTPUnprocessableEntity(description=", ".join(errors))
            resp.media = {"id": item_id, "count": count, "name": name, "age": age, "tags": tags}

    app = falcon.App()
    app.add_route("/items/{item_id:int}", Items())
    return app


def flask_app() -> Callable[..., Any]:
    from typed_apps import flask_openapi3_typed

    return flask_openapi3_typed()


def fastapi_app() -> Callable[..., Any]:
    from typed_apps import fastapi_typed

    asgi = fastapi_typed()
    loop = asyncio.new_event_loop()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": QUERY.encode(),
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
        ],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        # The same contract as a WSGI call, so one loop times all four apps.
        chunks: list[bytes] = []
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": BODY, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        loop.run_until_complete(asgi(dict(scope), receive, send))
        start_response(f"{status[0]} X", [])
        return chunks

    return call


APPS: dict[str, Callable[[], Callable[..., Any]]] = {
    "wsgilite": wsgilite_app,
    "wsgilite (by hand)": wsgilite_by_hand_app,
    "falcon (by hand)": falcon_app,
    "fastapi (ASGI)": fastapi_app,
    "flask+flask-openapi3": flask_app,
}


def call(app: Callable[..., Any]) -> tuple[str, bytes]:
    environ_ = environ()
    environ_["wsgi.input"] = io.BytesIO(BODY)
    status: list[str] = []
    result = app(environ_, lambda s, h, e=None: status.append(s))
    body = b"".join(result)
    close = getattr(result, "close", None)
    if close is not None:
        close()
    return status[0], body


def batch(app: Callable[..., Any], calls: int) -> float:
    template = environ()
    noop = lambda s, h, e=None: None  # noqa: E731
    gc.collect()
    started = time.perf_counter_ns()
    for _ in range(calls):
        environ_ = template.copy()
        environ_["wsgi.input"] = io.BytesIO(BODY)
        result = app(environ_, noop)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return (time.perf_counter_ns() - started) / calls / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    apps: dict[str, Callable[..., Any]] = {}
    for name, make in APPS.items():
        try:
            app = make()
        except ImportError as exc:
            print(f"{name}: skipped ({exc.name} is not installed)")
            continue
        status, body = call(app)
        if not status.startswith("200") or json.loads(body) != EXPECTED:
            raise SystemExit(f"{name} answered {status} {body!r}")
        apps[name] = app
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(args.rounds):
        for name, app in apps.items():
            samples[name].append(batch(app, args.calls))
    base = statistics.median(samples["wsgilite"])
    print(f"{'app':24} {'µs/request':>10} {'vs wsgilite':>11}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:24} {median:10.1f} {median / base:10.2f}x")


if __name__ == "__main__":
    main()
