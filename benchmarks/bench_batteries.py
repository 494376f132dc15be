"""The batteries' cost, in process: a plain GET with each battery off, unused, and on.

Calls each WSGI callable directly (no server, no socket), as bench.py does, and prints the
fastest of `--rounds` rounds, in microseconds per request. CORS is compared with Falcon's own
`CORSMiddleware` on the same GET from an allowed origin.

    PYTHONPATH=$PWD/src python benchmarks/bench_batteries.py --rounds 15
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import Any

import falcon

from wsgilite import App, Request
from wsgilite.compress import Compress
from wsgilite.conditional import ETags
from wsgilite.cors import CORS
from wsgilite.ratelimit import RateLimit

SITE = "https://app.example"
WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _environ(origin: bool) -> dict[str, Any]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/plaintext",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": None,
    }
    if origin:
        environ["HTTP_ORIGIN"] = SITE
    return environ


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


def wsgilite_app(*batteries: Callable[[App], object]) -> App:
    app = App(__name__, template_folder=None, static_folder=None)
    for battery in batteries:
        battery(app)

    @app.get("/plaintext")
    def plaintext(request: Request) -> str:
        return "Hello, World!"

    return app


def falcon_app(cors: bool) -> WSGI:
    class Plaintext:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.content_type = falcon.MEDIA_HTML
            resp.text = "Hello, World!"

    middleware = [falcon.CORSMiddleware(allow_origins=SITE)] if cors else []
    app = falcon.App(middleware=middleware)
    app.add_route("/plaintext", Plaintext())
    return app


def measure(app: WSGI, origin: bool, rounds: int, calls: int = 2000) -> float:
    base = _environ(origin)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            body = app(dict(base), _start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        timings.append((time.perf_counter() - started) / calls * 1e6)
    return min(timings)  # the least disturbed round: the machine is shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    cases: list[tuple[str, WSGI, bool]] = [
        ("wsgilite, no battery", wsgilite_app(), True),
        ("wsgilite, CORS on", wsgilite_app(lambda app: CORS(app, origins=[SITE])), True),
        ("falcon, no middleware", falcon_app(cors=False), True),
        ("falcon, CORSMiddleware", falcon_app(cors=True), True),
        ("wsgilite, Compress on (body too small)", wsgilite_app(Compress), True),
        ("wsgilite, ETags on", wsgilite_app(ETags), True),
        (
            "wsgilite, RateLimit memory store",
            wsgilite_app(lambda app: RateLimit("1000000000/second").install(app)),
            True,
        ),
    ]
    print(f"| GET /plaintext, Origin: {SITE} | µs per request |")
    print("| --- | ---: |")
    for name, app, origin in cases:
        print(f"| {name} | {measure(app, origin, rounds):.2f} |")


if __name__ == "__main__":
    main()
