"""Server-Sent Events: the wire format, heartbeats, and the generator closed on disconnect."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import HOST, gunicorn_app
from werkzeug.test import Client

from wsgilite import App, Request, Response
from wsgilite.sse import Event, event_stream


def test_events_are_written_as_event_source_reads_them() -> None:
    assert Event("hi").encode() == b"data: hi\n\n"
    assert Event({"n": 1}, event="tick", id=7, retry=500).encode() == (
        b'id: 7\nevent: tick\nretry: 500\ndata: {"n": 1}\n\n'
    )
    assert Event("two\nlines").encode() == b"data: two\ndata: lines\n\n"
    with pytest.raises(ValueError, match="newline"):
        Event("x", event="a\nb").encode()


def test_a_generator_becomes_an_event_stream(app: App, client: Client) -> None:
    @app.get("/events")
    def events(request: Request) -> Response:
        def ticks() -> Iterator[Event | str | None]:
            yield Event("first", id=1)
            yield None  # nothing to send yet: skipped
            yield "second"

        return event_stream(ticks(), heartbeat=None, retry=3000)

    response = client.get("/events")

    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.data == b"retry: 3000\n\nid: 1\ndata: first\n\ndata: second\n\n"


def test_a_quiet_generator_gets_heartbeats(app: App, client: Client) -> None:
    @app.get("/events")
    def events(request: Request) -> Response:
        def slow() -> Iterator[str]:
            time.sleep(0.35)
            yield "late"

        return event_stream(slow(), heartbeat=0.1)

    response = client.get("/events")

    assert response.data.count(b": heartbeat\n\n") >= 2
    assert response.data.endswith(b"data: late\n\n")


@pytest.mark.parametrize("heartbeat", [None, 0.05])
def test_closing_the_response_closes_the_generator(
    app: App, client: Client, heartbeat: float | None
) -> None:
    closed = threading.Event()

    @app.get("/events")
    def events(request: Request) -> Response:
        def forever() -> Iterator[str | None]:
            try:
                while True:
                    yield "tick"
                    time.sleep(0.01)
            finally:
                closed.set()

        return event_stream(forever(), heartbeat=heartbeat)

    response = client.get("/events", buffered=False)
    first = next(iter(response.response))
    response.close()  # what a server does when the client has gone

    assert first == b"data: tick\n\n"
    assert closed.wait(2)


SERVED_APP = """
import os
import time

from wsgilite import App, Request
from wsgilite.sse import Event, event_stream

app = App(__name__)


@app.get("/events")
def events(request: Request):
    def forever():
        try:
            number = 0
            while True:
                number += 1
                yield Event({"n": number}, id=number)
                time.sleep(0.05)
        finally:
            with open(os.environ["CLOSED_MARK"], "a") as mark:
                mark.write("closed\\n")

    return event_stream(forever(), heartbeat=0.05)


@app.get("/")
def index(request: Request):
    return "ok"
"""


def test_a_client_that_goes_away_closes_the_generator_under_gunicorn(tmp_path: Path) -> None:
    mark = tmp_path / "closed.txt"
    with gunicorn_app(
        str(tmp_path), SERVED_APP, env={"CLOSED_MARK": str(mark)}, worker_class="gthread"
    ) as port:
        with socket.create_connection((HOST, port), timeout=5) as connection:
            connection.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while b'data: {"n": 2}' not in received:
                received += connection.recv(4096)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not mark.exists():
            time.sleep(0.05)

        assert b"text/event-stream" in received
        assert b'id: 1\ndata: {"n": 1}\n\n' in received
        assert mark.exists(), "the generator was not closed after the client left"


def test_200_streams_under_gevent_and_other_requests_still_answered(tmp_path: Path) -> None:
    pytest.importorskip("gevent")
    mark = tmp_path / "closed.txt"
    streams: list[socket.socket] = []
    with gunicorn_app(
        str(tmp_path),
        SERVED_APP,
        env={"CLOSED_MARK": str(mark)},
        worker_class="gevent",
        options=("--worker-connections", "1000"),
    ) as port:
        try:
            for _ in range(200):
                connection = socket.create_connection((HOST, port), timeout=10)
                connection.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
                streams.append(connection)
            for connection in streams:
                received = b""
                while b"data: " not in received:
                    received += connection.recv(4096)
            started = time.monotonic()
            with socket.create_connection((HOST, port), timeout=5) as plain:
                plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := plain.recv(4096):
                    answer += chunk
            elapsed = time.monotonic() - started
        finally:
            for connection in streams:
                connection.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_lines(mark)) < 200:
            time.sleep(0.1)

    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"ok")
    assert elapsed < 2.0
    assert len(_lines(mark)) == 200  # every generator was closed once its client left


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []
