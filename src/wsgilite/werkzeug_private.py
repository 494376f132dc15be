"""werkzeug's private names that wsgilite relies on, all in this one module.

Each is used for speed (a measured shortcut on the hot path) or because werkzeug offers no public
hook for it. Nothing else in wsgilite reads a private name of werkzeug: when a werkzeug release
changes one, this module and `tests/test_werkzeug_private.py` are the only places to look, and
that test fails first, naming what changed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any

from werkzeug.datastructures import Headers
from werkzeug.formparser import FormDataParser
from werkzeug.wrappers import Request as _Request
from werkzeug.wrappers import Response as _Response

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage, MultiDict

HeaderList = list[tuple[str, str]]


# -- Headers: the list of (name, value) pairs behind werkzeug's Headers ----------------------------


#: `header_items(headers)`: the live list of `(name, value)` pairs behind `headers` (no copy).
# PERF: iterating Headers copies each pair through Python code; the list is read directly, by a
# C getter (a function here would cost a Python call on every response, ~0.1 µs each).
header_items: Callable[[Headers], HeaderList] = operator.attrgetter("_list")


def set_header_items(headers: Headers, items: HeaderList) -> None:
    """Replace every pair of `headers` with `items` (already checked)."""
    headers._list = items


# -- Response: the state werkzeug's __init__ and status setter fill --------------------------------


def init_response(
    response: _Response,
    body: bytes | Iterable[bytes] | Iterable[str],
    status_line: str,
    status_code: int,
    header_list: HeaderList,
    direct_passthrough: bool,
) -> None:
    """Set the state werkzeug's `Response.__init__` sets for a body and an int status."""
    # PERF: werkzeug's __init__ costs ~2 µs for a plain body; this sets the same state in ~0.5 µs
    # (tests/test_response.py checks both agree).
    headers = Headers.__new__(Headers)
    headers._list = header_list
    response.headers = headers
    response._status = status_line
    response._status_code = status_code
    response._on_close = []
    # A buffered body is a one-item list, as werkzeug keeps it; a stream is kept as it is.
    response.response = [body] if isinstance(body, bytes) else body
    response.direct_passthrough = direct_passthrough


def set_body(response: _Response, body: bytes) -> None:
    """Set a buffered `body` and its Content-Length, as werkzeug's `set_data` does."""
    # PERF: werkzeug's Headers.set checks the digits for newlines and rebuilds the header list in
    # Python (~2 µs); here the Content-Length pair is replaced where it is (~0.4 µs).
    response.response = [body]
    if not response.automatically_set_content_length:
        return
    items: HeaderList = response.headers._list
    length = ("Content-Length", str(len(body)))
    found = -1
    for at, (name, _) in enumerate(items):
        if len(name) == 14 and name.lower() == "content-length":
            if found >= 0:  # two of them: werkzeug keeps the first, replaced, and drops the rest
                response.headers["Content-Length"] = length[1]
                return
            found = at
    if found < 0:
        items.append(length)
    else:
        items[found] = length


#: `plain_parts(response)`: `(status line, status code, close callbacks)`, without werkzeug's
#: properties (they cost ~0.2 µs a response on the send path); a C getter, as header_items.
plain_parts: Callable[[_Response], tuple[str, int, list[Any]]] = operator.attrgetter(
    "_status", "_status_code", "_on_close"
)


# -- Request: the body werkzeug caches once read ---------------------------------------------------


def cached_body(request: _Request) -> bytes | None:
    """Return the body werkzeug's `get_data()` cached, or None if it was not read."""
    return getattr(request, "_cached_data", None)


def cache_body(request: _Request, body: bytes) -> None:
    """Make `get_data()` return `body`, already read from the socket (by the form reader)."""
    request._cached_data = body


# -- Form parsing: werkzeug's multipart step has no public hook ------------------------------------

MultipartResult = tuple[IO[bytes], "MultiDict[str, str]", "MultiDict[str, FileStorage]"]


class MultipartHook(FormDataParser):
    """werkzeug's form parser, with its multipart step handed to `parse_multipart`."""

    def parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> MultipartResult:
        """Parse a multipart body; subclasses replace werkzeug's own step here."""
        return super()._parse_multipart(stream, mimetype, content_length, options)

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> MultipartResult:
        return self.parse_multipart(stream, mimetype, content_length, options)


# -- The reloader: werkzeug's run_simple uses it; wsgiref serving reuses it ------------------------


def run_with_reloader(main: Callable[[], Any]) -> None:
    """Run `main` in a child process that restarts when a source file changes."""
    from werkzeug._reloader import run_with_reloader as _run

    _run(main)
