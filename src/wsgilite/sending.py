"""Sending: a response handed to the WSGI server, with the app's default headers.

`send` starts the response and returns its body iterable: a buffered body with its length, or a
stream of encoded chunks, straight from the header list (werkzeug's `get_wsgi_headers` copying
is skipped where it has nothing to fix); anything else is werkzeug's own path. The security
headers an app adds to every response are `DefaultHeaders`. Nothing here knows the App.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.datastructures import Headers

from .headers import check_header_value
from .response import Response
from .werkzeug_private import HeaderList, header_items, plain_parts

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


_NAME = operator.itemgetter(0)

# The names responses usually carry, in their usual spelling.
_USUAL = frozenset({
    "Content-Type", "Content-Length", "Vary", "Cache-Control", "ETag", "Last-Modified",
    "Expires", "Location", "Set-Cookie", "Content-Encoding", "Content-Disposition",
    "Content-Language", "Accept-Ranges", "Content-Range", "Allow", "WWW-Authenticate",
    "Retry-After", "Link",
    "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers", "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers", "Access-Control-Max-Age", "RateLimit-Limit",
    "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "X-Request-ID",
})  # fmt: skip


#: What with_defaults needs to know of a header list, found from its names alone: the index of its
#: Content-Type (-1 for none), whether it has a Content-Length, the indexes of its Locations, and
#: the lowered names it shares with the defaults (which it then replaces).
Plan = tuple[int, bool, tuple[int, ...], frozenset[str]]


# Headers only a page obeys: sent on answers a browser may show as a page, not on data.
PAGE_ONLY = frozenset({"x-frame-options"})
# Types a browser never shows as a page that a frame could hold (their major type, or the
# whole type); every other type, and an answer with none, counts as a page.
_DATA_TYPES = frozenset({
    "audio", "video", "font", "application/json", "application/x-ndjson", "text/plain",
    "text/css", "text/csv", "text/javascript", "application/javascript", "text/event-stream",
    "application/octet-stream", "application/zip", "application/gzip", "application/wasm",
})  # fmt: skip


def is_page(content_type: str | None) -> bool:
    """Return whether a browser may show an answer of `content_type` as a page (HTML, SVG...)."""
    if content_type is None:
        return True
    mimetype = content_type.partition(";")[0].strip().lower()
    major = mimetype.partition("/")[0]
    if major == "image":
        return mimetype == "image/svg+xml"
    return not (mimetype in _DATA_TYPES or major in _DATA_TYPES or mimetype.endswith("+json"))


@dataclass(frozen=True, slots=True)
class DefaultHeaders:
    """Headers added to every response that does not set its own (the security headers).

    X-Frame-Options goes only on pages (`is_page`): JSON, text, images and other data get the
    rest, which spares the server a header on every API answer.
    """

    pairs: tuple[tuple[str, str], ...] = ()
    #: The pairs for data: `pairs` without the PAGE_ONLY ones.
    data_pairs: tuple[tuple[str, str], ...] = ()
    #: The lowered names of `pairs`.
    names: frozenset[str] = frozenset()
    #: Header names, as usually spelt, that none of the pairs replaces.
    usual: frozenset[str] = _USUAL
    #: The pairs by the answer's Content-Type pair, as pairs are met (bounded: values can vary).
    by_type: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    #: `by_type` for a plain answer (`send`'s first path); empty when a pair replaces its
    #: Content-Type or Content-Length, which then needs merging.
    plain: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    #: Each header list's `Plan`, by its names, as lists are met (bounded: an app has few).
    plans: dict[tuple[str, ...], Plan] = field(default_factory=dict)

    @classmethod
    def of(cls, mapping: Mapping[str, str] | None) -> DefaultHeaders:
        """Return the defaults for `mapping` of name to value, each value checked."""
        pairs = tuple((name, check_header_value(value)) for name, value in (mapping or {}).items())
        names = frozenset(name.lower() for name, _ in pairs)
        data = tuple(pair for pair in pairs if pair[0].lower() not in PAGE_ONLY)
        by_type: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        plain = {} if names & {"content-type", "content-length"} else by_type
        usual = frozenset(name for name in _USUAL if name.lower() not in names)
        return cls(pairs, data, names, usual, by_type, plain)

    def for_type(self, pair: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        """Return the pairs for an answer whose Content-Type header is `pair`."""
        found = self.by_type.get(pair)
        if found is None:
            found = self.pairs if is_page(pair[1]) else self.data_pairs
            if len(self.by_type) < 256:
                self.by_type[pair] = found
        return found

    def plan(self, names: tuple[str, ...]) -> Plan:
        """Return the `Plan` of a header list with `names`."""
        plan = self.plans.get(names)
        if plan is None:
            lowered = [name.lower() for name in names]
            typed_at = lowered.index("content-type") if "content-type" in lowered else -1
            locations = tuple(at for at, name in enumerate(lowered) if name == "location")
            plan = (
                typed_at,
                "content-length" in lowered,
                locations,
                self.names.intersection(lowered),
            )
            if len(self.plans) < 256:
                self.plans[names] = plan
        return plan


def with_defaults(items: HeaderList, defaults: DefaultHeaders) -> tuple[HeaderList, bool]:
    """Return `items` and the defaults they do not replace, and whether a length is among them.

    The length counts only where werkzeug would leave the headers as they are (it makes a
    non-ASCII Location a URI).
    """
    if (
        len(items) == 2
        and items[1][0] == "Content-Length"
        and (pairs := defaults.plain.get(items[0])) is not None
    ):
        # PERF: the two headers of every plain answer (response.is_plain, inline on the hottest
        # path), with a Content-Type met before: one lookup (~0.3 µs).
        return [*items, *pairs], True
    typed: tuple[str, str] | None = None
    sized = False
    located = True  # no Location, or only ASCII ones (werkzeug would make another a URI)
    usual = defaults.usual
    for pair in items:
        # PERF: names in their usual spelling that no default replaces, in one pass (~1 µs).
        name = pair[0]
        if name not in usual:
            return _merged(items, defaults)
        if name == "Content-Type":
            typed = typed or pair
        elif name == "Content-Length":
            sized = True
        elif name == "Location":
            located = located and pair[1].isascii()
    if typed is None:
        return [*items, *defaults.pairs], sized
    pairs = defaults.by_type.get(typed) or defaults.for_type(typed)
    return [*items, *pairs], sized and located


def _merged(items: HeaderList, defaults: DefaultHeaders) -> tuple[HeaderList, bool]:
    # with_defaults for names in other spellings, or that a default replaces: their Plan.
    names = tuple(map(_NAME, items))
    typed_at, sized, locations, replaced = defaults.plan(names)
    pairs = defaults.pairs if typed_at < 0 else defaults.for_type(items[typed_at])
    if replaced:
        pairs = tuple(pair for pair in pairs if pair[0].lower() not in replaced)
    if sized and locations:
        sized = all(items[at][1].isascii() for at in locations)
    return [*items, *pairs], sized


def send(
    response: Response,
    environ: WSGIEnvironment,
    start_response: StartResponse,
    defaults: DefaultHeaders = DefaultHeaders(),
    head: bool = False,
) -> Iterable[bytes]:
    """Start `response` on the server and return its body iterable (none for a `head` request)."""
    # PERF: werkzeug's own state (werkzeug_private) instead of its properties: 0.76 -> 0.54 µs.
    items = header_items(response.headers)
    headers, sized = with_defaults(items, defaults)
    body = response.response
    # A body with nothing for werkzeug's get_wsgi_headers to copy or fix (~4 µs) is started
    # here: a buffered one with its length, or a stream; werkzeug does the rest (1xx, 204, 304:
    # no body; files, close callbacks, a non-ASCII Location).
    status_line, status_code, closes = plain_parts(response)
    if status_code != 204 and status_code != 304 and status_code >= 200 and not closes:
        if sized and type(body) is list:
            start_response(status_line, headers)
            if head:
                return []
            return body
        if not sized and type(body) is not list and not response.direct_passthrough:
            # PERF: a generator's chunks, encoded as werkzeug's iter_encoded does: 2.5x less
            # than werkzeug's path (benchmarks/: style-generator).
            start_response(status_line, headers)
            stream = Stream(body)
            if head:
                stream.close()
                return []
            return stream
    if status_code == 204:
        # PEP 3333 validators, and RFC 9110, expect no Content-Type on a response with no content.
        headers = [(name, value) for name, value in headers if name.lower() != "content-type"]
    if headers != items:
        response.headers = Headers(headers)
    return response(environ, start_response)


class Stream:
    """A streamed body as the server iterates it: str chunks UTF-8 encoded, `close()` passed on."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: Iterable[bytes | str]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            yield chunk.encode("utf-8", "replace") if type(chunk) is str else chunk  # type: ignore[misc]

    def close(self) -> None:
        """Close the handler's iterator (a generator's `finally` runs now, not at collection)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
