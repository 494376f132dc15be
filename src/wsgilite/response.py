"""Responses: what a handler returns, turned into something a WSGI server can send.

The return conventions live here, in `make_response`: `str` is HTML, `bytes` is sent as is,
`dict` and `list` are JSON (`jsonbody.py`), a `Response` passes through, a tuple adds a status
and headers, and an iterator is streamed (`sending.py` hands the result to the server). This
module knows nothing of routing, hooks or the App.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from types import NoneType
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.urls import iri_to_uri
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Response as _WerkzeugResponse

from .headers import (
    UnsafeHeaderValue,
    check_header_value,
    check_sendable,
    sendable_name,
)
from .jsonbody import json_bytes
from .werkzeug_private import (
    HeaderList,
    header_items,
    init_response,
    set_body,
    set_header_items,
)

if TYPE_CHECKING:
    from .request import Request

HTML_UTF8 = "text/html; charset=utf-8"
TEXT_UTF8 = "text/plain; charset=utf-8"
JSON_TYPE = "application/json"
BINARY = "application/octet-stream"

# The content types wsgilite itself sets: known to be safe, so not checked per response.
_OWN_TYPES = frozenset({HTML_UTF8, TEXT_UTF8, JSON_TYPE, BINARY})

HeadersLike: TypeAlias = "Mapping[str, str] | Iterable[tuple[str, str]] | Headers"
Body: TypeAlias = "str | bytes | dict[str, Any] | list[Any] | Response | Iterable[Any]"
ReturnValue: TypeAlias = (
    "Body | tuple[Body, int | str] | tuple[Body, HeadersLike] | tuple[Body, int | str, HeadersLike]"
)

# PERF: status lines are formatted once, not per response.
STATUS_LINES: dict[int, str] = {
    code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()
}


@functools.lru_cache(maxsize=64)
def _content_type(mimetype: str) -> str:
    return check_header_value(get_content_type(mimetype, "utf-8"))


class Response(_WerkzeugResponse):
    """An HTTP response: werkzeug's, with HTML as the default type."""

    default_mimetype = "text/html"
    #: True for a response whose body is made from the request (a template): make_response
    #: calls `complete(request)` on it before anything reads the body.
    needs_request = False

    def complete(self, request: Request | None) -> None:
        """Fill a body that depends on the request (nothing to do for a plain response)."""

    def __init__(
        self,
        response: Iterable[bytes] | Iterable[str] | bytes | str | None = None,
        status: int | str | HTTPStatus | None = None,
        headers: HeadersLike | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        kind = type(response)
        # PERF: a plain body and an int status skip werkzeug's __init__ (see init_response).
        if (kind is str or kind is bytes) and type(status) in (int, NoneType):
            explicit = content_type or (_content_type(mimetype) if mimetype else None)
            if content_type and content_type not in _OWN_TYPES:
                check_header_value(content_type)
            # "replace": a lone surrogate (from client JSON, say) must not make a 500.
            body: bytes = response.encode("utf-8", "replace") if kind is str else response  # type: ignore[union-attr,assignment]
            code: int = status or 200  # type: ignore[assignment]
            default = explicit or _content_type(self.default_mimetype)
            line = STATUS_LINES.get(code)
            if line is not None:
                if headers is None:  # PERF: plain_headers' first case, inline (~0.15 µs)
                    length = _LENGTHS.get(len(body)) or _length_pair(body)
                    items: HeaderList | None = [("Content-Type", default), length]
                else:
                    items = plain_headers(headers, default, bool(explicit), body)
                if items is not None:
                    init_response(self, body, line, code, items, direct_passthrough)
                    return
        super().__init__(response, status, headers, mimetype, content_type, direct_passthrough)

    def set_data(self, value: bytes | str) -> None:
        """Set the body (a str is sent as UTF-8) and its Content-Length."""
        # "replace", as __init__: a lone surrogate from client JSON in a template is no 500.
        set_body(self, value.encode("utf-8", "replace") if isinstance(value, str) else value)


def is_plain(items: HeaderList) -> bool:
    """Return whether `items` are just the Content-Type and Content-Length plain_headers sets."""
    return len(items) == 2 and items[0][0] == "Content-Type" and items[1][0] == "Content-Length"


def _length_pair(body: bytes) -> tuple[str, str]:
    """Return the Content-Length header of `body`."""
    size = len(body)
    pair = _LENGTHS.get(size)
    if pair is None:
        pair = ("Content-Length", str(size))
        if len(_LENGTHS) < 4096:  # bounded: the usual sizes come back
            _LENGTHS[size] = pair
    return pair


#: Content-Length headers by size, as sizes are met.
# PERF: a lookup instead of str() and a tuple (~0.25 µs); callers try it before _length_pair.
_LENGTHS: dict[int, tuple[str, str]] = {}


def plain_headers(
    headers: object, content_type: str, override: bool, body: bytes
) -> HeaderList | None:
    """Return the header list of a buffered `body`: `headers`, its Content-Type, its length.

    `headers` is None, or a dict or list of `(str, str)` pairs; `content_type` is used unless
    they give one (or `override`: then it replaces theirs). None for headers werkzeug must take
    (a Content-Length of their own, values of other types).
    """
    length = _LENGTHS.get(len(body)) or _length_pair(body)
    if headers is None:
        return [("Content-Type", content_type), length]
    kind = type(headers)
    if kind is dict:
        pairs: Iterable[Any] = headers.items()  # type: ignore[attr-defined]
    elif kind is list:
        pairs = headers  # type: ignore[assignment]
    else:
        return None
    items: HeaderList = []
    typed = False
    known = _SENDABLE
    for pair in pairs:
        # PERF: a pair seen before is known sendable, with its lowered name (~1 µs a pair).
        try:
            key = known.get(pair)
        except TypeError:  # a list, or a list of values: werkzeug's __init__ takes it
            return None
        if key is None:
            key = sendable_name(pair)
            if key is None:
                return None
            if len(known) < 1024:  # bounded, as values vary; the usual ones come first
                known[pair] = key
        if key == "content-type":
            if override:
                continue
            typed = True
        items.append(pair)
    if not typed:
        items.append(("Content-Type", content_type))
    items.append(length)
    return items


#: `(name, value)` pairs plain_headers found sendable, to their lowered names.
_SENDABLE: dict[tuple[str, str], str] = {}


#: The types of the return values plain_answer may take; anything else is not worth a call.
PLAIN_KINDS = frozenset({str, bytes, dict, list, tuple})


def plain_answer(result: object) -> tuple[str, int, HeaderList, bytes] | None:
    """Return `(status line, status, headers, body)` for a return value with a buffered body.

    That is a str, bytes, dict or list, alone or in a tuple with an int status and a dict or list
    of str headers; None for anything else (`make_response` builds those).
    """
    if type(result) is tuple:
        if len(result) == 2:
            body, extra = result
            if type(extra) is int:
                status, headers = extra, None
            else:
                status, headers = 200, extra
        elif len(result) == 3:
            body, status, headers = result
            if type(status) is not int:
                return None
        else:
            return None
    else:
        body, status, headers = result, 200, None
    # PERF: encode_body, inline (~0.3 µs).
    kind = type(body)
    if kind is str:
        data, content_type = body.encode("utf-8", "replace"), HTML_UTF8
    elif kind is dict or kind is list:
        data, content_type = json_bytes(body), JSON_TYPE
    elif kind is bytes:
        data, content_type = body, BINARY
    else:
        return None
    line = STATUS_LINES.get(status)
    if line is None:
        return None
    if headers is None:
        length = _LENGTHS.get(len(data)) or _length_pair(data)
        return line, status, [("Content-Type", content_type), length], data
    items = plain_headers(headers, content_type, False, data)
    if items is None:
        return None
    return line, status, items, data


def encode_body(result: object) -> tuple[bytes, str] | None:
    """Return `(body, content_type)` for a str, bytes, dict or list; None for anything else."""
    kind = type(result)
    if kind is str:
        return result.encode("utf-8", "replace"), HTML_UTF8  # type: ignore[attr-defined]
    if kind is dict or kind is list:
        return json_bytes(result), JSON_TYPE
    if kind is bytes:
        return result, BINARY  # type: ignore[return-value]
    return None


def _bad_return(handler: Callable[..., object] | None, result: object) -> TypeError:
    name = "the handler"
    if handler is not None:
        name = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
    return TypeError(
        f"{name} returned {result!r} ({type(result).__name__}); return a str, bytes, dict, list, "
        "Response, iterator, or a (body, status, headers) tuple"
    )


def make_response(
    result: object,
    handler: Callable[..., object] | None = None,
    request: Request | None = None,
) -> Response:
    """Turn a handler's return value into a `Response`, or raise TypeError naming the handler.

    A response made from the request (a template) is completed for `request` here, so a template
    that fails to render fails in this step, like any other handler mistake.
    """
    if type(result) in PLAIN_KINDS and (answer := plain_answer(result)) is not None:
        # PERF: the usual answers, checked once and set straight
        response = Response.__new__(Response)
        init_response(response, answer[3], answer[0], answer[1], answer[2], False)
        return response
    if not isinstance(result, tuple):
        if isinstance(result, _WerkzeugResponse):
            if request is not None and getattr(result, "needs_request", False):
                result.complete(request)  # type: ignore[attr-defined]
            check_sendable(result)  # made elsewhere: its headers are not known good
            return result  # type: ignore[return-value]
        return _other_body(result, handler)
    status: int | str | None = None
    headers: Any = None
    if len(result) == 3:
        body, status, headers = result
    elif len(result) == 2:
        body, extra = result
        if isinstance(extra, (int, str)):
            status = extra
        else:
            headers = extra
    else:
        raise _bad_return(handler, result)
    # PERF: an int status (200 when the tuple gives none) goes straight into the fast path.
    code = 200 if status is None else status if type(status) is int else None
    encoded = encode_body(body)  # first: a str, bytes, dict or list is no tuple or Response
    if encoded is not None:
        response = Response(encoded[0], status=code, content_type=encoded[1])
        if code is None:
            response.status = status  # type: ignore[assignment]
    elif isinstance(body, tuple):
        raise _bad_return(handler, result)
    elif isinstance(body, _WerkzeugResponse):
        response = body  # type: ignore[assignment]
        if status is not None:
            response.status = status
        if request is not None and getattr(response, "needs_request", False):
            response.complete(request)
        check_sendable(response)
    else:
        response = _other_body(body, handler, code)
        if status is not None and code is None:
            response.status = status
    if headers:
        _add_headers(response, headers)
    return response


def _add_headers(response: Response, headers: Any) -> None:
    # A handler's header replaces the response's own of that name (its Content-Type, say);
    # a list may repeat a name, and then all are sent (two Set-Cookie).
    items = list(headers.items() if isinstance(headers, Mapping | Headers) else headers)
    replaced = {name.lower() for name, _ in items}
    # PERF: one pass over werkzeug's header list, not one werkzeug `set` per header (~0.5 µs).
    kept = [item for item in header_items(response.headers) if item[0].lower() not in replaced]
    for name, value in items:
        kept.append((check_header_value(name), check_header_value(str(value))))
    set_header_items(response.headers, kept)


def _other_body(
    result: object, handler: Callable[..., object] | None, status: int | None = None
) -> Response:
    # What encode_body does not take: str/bytes/dict/list subclasses, iterators, or a mistake.
    if isinstance(result, str):  # a str subclass such as markupsafe.Markup
        return Response(str(result), status=status, content_type=HTML_UTF8)
    if isinstance(result, bytes | bytearray | memoryview):
        # Before the iterator check: bytes are iterable and would stream one int at a time.
        return Response(bytes(result), status=status, content_type=BINARY)
    if isinstance(result, dict | list):
        return Response(json_bytes(result), status=status, content_type=JSON_TYPE)
    if isinstance(result, Iterator) or (
        isinstance(result, Iterable) and not isinstance(result, Mapping | set)
    ):
        code = status or 200
        line = STATUS_LINES.get(code)
        if line is None:
            return Response(result, status=status, content_type=HTML_UTF8)
        # PERF: a stream skips werkzeug's __init__ too (benchmarks/: style-generator).
        response = Response.__new__(Response)
        init_response(response, result, line, code, [("Content-Type", HTML_UTF8)], False)
        return response
    raise _bad_return(handler, result)


def add_vary(headers: Headers, name: str) -> None:
    """Add `name` to the `Vary` header, unless it is there already."""
    # PERF: werkzeug's response.vary parses into a HeaderSet with callbacks: 6 µs against 0.3.
    items = header_items(headers)
    for index, (key, value) in enumerate(items):
        if key.lower() == "vary":
            tokens = {token.strip().lower() for token in value.split(",")}
            if name.lower() not in tokens and "*" not in tokens:
                items[index] = (key, f"{value}, {name}")
            return
    items.append(("Vary", name))


def replace_headers(headers: Headers, pairs: list[tuple[str, str]]) -> None:
    """Set each `(name, value)` of `pairs`, dropping earlier values of those names (checked)."""
    # PERF: one pass over the live list instead of one werkzeug __setitem__ per header (~1 µs).
    for _, value in pairs:
        check_header_value(value)
    items = header_items(headers)
    names = {name.lower() for name, _ in pairs}
    if any(key.lower() in names for key, _ in items):
        items[:] = [pair for pair in items if pair[0].lower() not in names]
    items.extend(pairs)


def redirect(location: str, code: int = 302) -> Response:
    """Return a redirect response to `location` (CR/LF refused, so no header injection)."""
    check_header_value(location)
    if not location.isascii():
        try:
            location = iri_to_uri(location)  # as werkzeug would when sending it
        except ValueError:
            raise UnsafeHeaderValue(f"redirect location {location[:80]!r} is not a URL") from None
    return Response(b"", status=code, headers={"Location": location}, content_type=HTML_UTF8)


def safe_next_url(target: str | None, fallback: str = "/") -> str:
    """Return `target` if it is a path on this site, else `fallback` (no open redirects)."""
    if not isinstance(target, str) or not target.strip():
        return fallback
    target = target.strip()
    if any(char in target for char in "\r\n\x00\\") or not target.isprintable():
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:  # "/[x" and friends: not a URL this site would write
        return fallback
    if parts.scheme or parts.netloc:
        return fallback
    return target
