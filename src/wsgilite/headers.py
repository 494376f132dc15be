"""Header values a WSGI server can send: checked once, whoever set them.

PEP 3333 wants header names and values as latin-1 strings, and a CR, LF or NUL would split the
response. `check_header_value` refuses such a value with `UnsafeHeaderValue` (a 400 when the text
came from the request), `check_sendable` checks a whole response, and `sendable_name` checks one
`(name, value)` pair (`response.plain_headers` remembers the pairs it found good).
Nothing here knows a request or the App.
"""

from __future__ import annotations

import re

from werkzeug.wrappers import Response as _WerkzeugResponse

from .werkzeug_private import header_items


class UnsafeHeaderValue(ValueError):
    """A header value held CR, LF, NUL or a character beyond latin-1: it cannot be sent."""


def check_header_value(value: str) -> str:
    """Return `value`, or raise UnsafeHeaderValue if it could split or break the response."""
    if "\n" in value or "\r" in value or "\x00" in value:
        raise UnsafeHeaderValue(f"header value {value[:80]!r} holds CR, LF or NUL")
    if not value.isascii():
        try:
            value.encode("latin-1")  # PEP 3333: header values are latin-1 strings
        except UnicodeEncodeError:
            raise UnsafeHeaderValue(f"header value {value[:80]!r} is not latin-1") from None
    return value


def check_sendable(response: _WerkzeugResponse) -> None:
    """Raise UnsafeHeaderValue if a header of `response`, however it was set, cannot be sent."""
    for _, value in header_items(response.headers):
        if not value.isascii():  # PEP 3333: a header must be latin-1 to send
            check_header_value(value)


# CR, LF or NUL, or a character beyond latin-1: a header value that cannot be sent.
_UNSENDABLE = re.compile("[\r\n\x00]|[^\x00-\xff]")


def sendable_name(pair: object) -> str | None:
    """Return the lowered name of a `(str, str)` pair that can be sent as it is.

    None for anything else (a Content-Length, which must match the body, or a pair of other
    types); UnsafeHeaderValue, naming what is wrong, for a value no server can send.
    """
    if type(pair) is not tuple or len(pair) != 2:
        return None
    name, value = pair
    if type(value) is not str or type(name) is not str:
        return None
    text = name + value
    # Printable ASCII (most names and values) is sendable, known by C calls alone; the regex
    # looks closer at the rest (a tab, a latin-1 letter).
    if not (text.isascii() and text.isprintable()) and (
        _UNSENDABLE.search(name) or _UNSENDABLE.search(value)
    ):
        check_header_value(name)
        check_header_value(value)
    key = name.lower()
    return None if key == "content-length" else key
