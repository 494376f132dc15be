"""An app that misbehaves on purpose, for fault tests of real servers.

`/die` kills the worker process that serves it, `/boom` raises, `/slow` takes a while; `/` and
`/pid` show that serving goes on, and `/wsgi` what the server told the app about itself. Serve it
with `gunicorn --chdir examples -w 2 crashy:app`. Never deploy it: anyone who reaches `/die` stops
a worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from wsgilite import App, Request

app = App(__name__)

SECRET = "crashy-secret-in-the-exception-message"
SLOW_SECONDS = 0.2
STREAM_CHUNKS = 300


@app.get("/")
def index(request: Request) -> str:
    """Answer a plain ok."""
    return "ok"


@app.get("/pid")
def pid(request: Request) -> dict[str, int]:
    """Tell which worker process answered."""
    return {"pid": os.getpid()}


@app.get("/die")
def die(request: Request) -> str:
    """Kill this worker at once, without answering (as a segfault or the OOM killer would)."""
    os._exit(1)


@app.get("/boom")
def boom(request: Request) -> str:
    """Raise an exception whose message must stay in the log, never in the response."""
    raise RuntimeError(SECRET)


@app.get("/slow")
def slow(request: Request) -> str:
    """Answer after a short sleep."""
    time.sleep(SLOW_SECONDS)
    return "slow ok"


class _Chunks:
    """A body of 64 KiB chunks whose close() leaves a note in CRASHY_CLOSED_DIR."""

    # A class with close(), not a generator: a generator's finally also runs when it is garbage
    # collected, so only close() proves the server called it (PEP 3333).
    def __init__(self, name: str) -> None:
        self.name = name

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(STREAM_CHUNKS):
            yield b"x" * 65536
            time.sleep(0.01)

    def close(self) -> None:
        folder = os.environ.get("CRASHY_CLOSED_DIR")
        if folder:
            with open(os.path.join(folder, f"closed-{self.name}"), "w"):
                pass


@app.get("/stream")
def stream(request: Request) -> _Chunks:
    """Stream 64 KiB chunks for a few seconds; its close() is noted in CRASHY_CLOSED_DIR."""
    return _Chunks(f"{os.getpid()}-{id(request)}")


@app.get("/wsgi")
def wsgi(request: Request) -> dict[str, Any]:
    """Tell what the server promised in the WSGI environ: threads, processes, protocol."""
    environ = request.environ
    return {
        "multithread": environ["wsgi.multithread"],
        "multiprocess": environ["wsgi.multiprocess"],
        "run_once": environ["wsgi.run_once"],
        "protocol": environ["SERVER_PROTOCOL"],
    }
