"""Chunked request bodies: HTTP/1.1's chunked transfer coding, decoded as the app reads.

wsgiref hands a chunked body over still encoded, with no length and no `wsgi.input_terminated`;
`servers.py` wraps its socket in a `ChunkedBody`, so the app reads the body as sent. Nothing here
knows WSGI or the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class ChunkedBody:
    """A chunked request body, decoded as it is read, with every line and count bounded.

    A malformed body (a bad size, a missing CRLF, a line too long, the connection cut inside a
    chunk) raises ValueError, which the app answers 400. Reading stops at the last chunk, so
    the app's own limit (MAX_CONTENT_LENGTH) bounds how much is read.
    """

    MAX_LINE = 4096
    MAX_TRAILERS = 64

    def __init__(self, rfile: Any) -> None:
        self._rfile = rfile
        self._left = 0  # bytes left in the current chunk
        self._done = False

    def read(self, size: int | None = -1) -> bytes:
        """Return up to `size` decoded bytes (all that is left if `size` is negative)."""
        return self._take(self._rfile.read, size, line=False)

    def readline(self, size: int | None = -1) -> bytes:
        """Return one line of the decoded body (at most `size` bytes)."""
        return self._take(self._rfile.readline, size, line=True)

    def _take(self, read: Any, size: int | None, *, line: bool) -> bytes:
        parts: list[bytes] = []
        wanted = -1 if size is None or size < 0 else size
        while wanted != 0 and self._more():
            count = self._left if wanted < 0 else min(self._left, wanted)
            data: bytes = read(count)
            if not data:
                raise ValueError("the connection closed inside a chunk")
            parts.append(data)
            self._consumed(len(data))
            if wanted > 0:
                wanted -= len(data)
            if line and data.endswith(b"\n"):
                break
        return b"".join(parts)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def _more(self) -> bool:
        # Whether body bytes are left, reading the next chunk's size line when one is needed.
        if self._left == 0 and not self._done:
            size = self._line().split(b";", 1)[0].strip()  # a chunk extension is ignored
            if not size or len(size) > 16 or size.strip(b"0123456789abcdefABCDEF"):
                raise ValueError(f"invalid chunk size {size[:20]!r}")
            self._left = int(size, 16)
            if self._left == 0:
                self._done = True
                for _ in range(self.MAX_TRAILERS + 1):
                    if not self._line():
                        break
                else:
                    raise ValueError("too many trailer fields after the last chunk")
        return not self._done

    def _consumed(self, count: int) -> None:
        self._left -= count
        if self._left == 0 and self._rfile.read(2) != b"\r\n":
            raise ValueError("a chunk does not end with CRLF")

    def _line(self) -> bytes:
        line: bytes = self._rfile.readline(self.MAX_LINE + 1)
        if len(line) > self.MAX_LINE:
            raise ValueError("a chunk size or trailer line is too long")
        if not line.endswith(b"\r\n"):
            raise ValueError("a chunk size or trailer line is cut short or not ended by CRLF")
        return line[:-2]
