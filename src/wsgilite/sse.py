"""Server-Sent Events: a generator of events sent as `text/event-stream`, with heartbeats.

`event_stream(events)` returns a streamed response whose body writes each event in the
format browsers' `EventSource` reads (`id`, `event`, `retry`, `data` lines). With heartbeats on,
the generator runs in a helper thread (a greenlet under gevent) and a comment line is written
whenever it has been quiet that long: proxies keep the connection open, and a client that went
away is found on the next write. The server then calls `close()`, which closes the generator, so
its `finally` runs. The core never imports this module.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .response import Response

EVENT_STREAM = "text/event-stream"
_HEARTBEAT = b": heartbeat\n\n"
_DONE = object()


@dataclass(frozen=True, slots=True)
class Event:
    """One event: `data` (str, or anything JSON can encode), and optional id, name and retry."""

    data: Any = ""
    event: str | None = None
    id: str | int | None = None
    retry: int | None = None  # milliseconds the browser waits before reconnecting

    def encode(self) -> bytes:
        """Return the event in the text/event-stream format."""
        lines = []
        if self.id is not None:
            lines.append(f"id: {_field(str(self.id), 'id')}")
        if self.event is not None:
            lines.append(f"event: {_field(self.event, 'event')}")
        if self.retry is not None:
            lines.append(f"retry: {int(self.retry)}")
        data = self.data if isinstance(self.data, str) else json.dumps(self.data)
        # A newline inside the data would end the field: each line is a data line of its own.
        lines.extend(f"data: {line}" for line in data.splitlines() or [""])
        return ("\n".join(lines) + "\n\n").encode("utf-8")


def _field(value: str, name: str) -> str:
    if "\n" in value or "\r" in value or (name == "id" and "\x00" in value):
        raise ValueError(f"an event's {name} cannot hold a newline: {value!r}")
    return value


def event_stream(
    events: Iterable[Event | str | Any | None],
    *,
    heartbeat: float | None = 15.0,
    retry: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Return a text/event-stream response that sends each event `events` yields.

    return event_stream(ticks(), heartbeat=15)  # yields Event(...), str, dict, or None (idle)
    """
    body = EventStream(events, heartbeat=heartbeat, retry=retry)
    # no-cache: every client gets its own stream; X-Accel-Buffering: nginx sends each event now.
    sent = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})}
    return Response(body, mimetype=EVENT_STREAM, headers=sent)


class EventStream:
    """The body of an event stream: encoded events and heartbeats; `close()` ends the generator."""

    def __init__(
        self,
        events: Iterable[Event | str | Any | None],
        *,
        heartbeat: float | None = 15.0,
        retry: int | None = None,
    ) -> None:
        if heartbeat is not None and heartbeat <= 0:
            raise ValueError(f"heartbeat={heartbeat!r}: give seconds > 0, or None for none")
        self.events = events
        self.heartbeat = heartbeat
        self.retry = retry
        self._closed = threading.Event()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=64)
        self._producer: threading.Thread | None = None

    def __iter__(self) -> Iterator[bytes]:
        if self.retry is not None:
            yield f"retry: {int(self.retry)}\n\n".encode()
        if self.heartbeat is None:
            for item in self.events:
                if item is not None:
                    yield _encode(item)
            return
        self._producer = threading.Thread(target=self._produce, daemon=True, name="sse")
        self._producer.start()
        while True:
            try:
                item = self._queue.get(timeout=self.heartbeat)
            except queue.Empty:
                yield _HEARTBEAT  # a client that went away makes this write fail
                continue
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def _produce(self) -> None:
        # Runs the generator in its own thread, so a quiet one cannot hold back heartbeats; it
        # stops at the first value after close() (a generator yields None to say "nothing yet").
        iterator = iter(self.events)
        try:
            for item in iterator:
                if self._closed.is_set():
                    break
                if item is not None:
                    self._put(_encode(item))
        except Exception as exc:
            self._put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            self._put(_DONE)

    def _put(self, item: object) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Stop the stream: the server calls this when the client is gone or the stream ends."""
        self._closed.set()
        if self._producer is None:
            close = getattr(self.events, "close", None)
            if close is not None:
                close()


def _encode(item: object) -> bytes:
    if isinstance(item, Event):
        return item.encode()
    return Event(item).encode()
