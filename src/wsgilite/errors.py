"""Errors: `abort`, HTTP errors turned into responses, and the lookup of error handlers.

An `HTTPException` becomes a JSON body when the client prefers JSON and an HTML page otherwise;
a default error body is built once per status and kind, then reused. `ErrorHandlers` finds the
user's handler for a status code or the nearest base class of an exception. This module knows
responses but nothing of routing or the App.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.exceptions import abort as _werkzeug_abort

from .response import HTML_UTF8, JSON_TYPE, Response, UnsafeHeaderValue, json_bytes

if TYPE_CHECKING:
    from .request import Request

ErrorHandler = Callable[["Request", Any], object]


def abort(status: int | Response, description: str | None = None, **kwargs: Any) -> NoReturn:
    """Stop the handler and answer with HTTP `status` (and an optional description)."""
    if description is not None:
        kwargs["description"] = description
    _werkzeug_abort(status, **kwargs)


def wants_json(accept: str | None) -> bool:
    """Tell whether an `Accept` header prefers JSON to HTML."""
    if not accept or "json" not in accept:
        # PERF: browsers and curl never mention json; skip parsing the header.
        return False
    from werkzeug.datastructures import MIMEAccept
    from werkzeug.http import parse_accept_header

    accepted = parse_accept_header(accept, MIMEAccept)
    return accepted.best_match([HTML_UTF8.split(";")[0], JSON_TYPE]) == JSON_TYPE


_HTML_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>{code} {name}</title>\n"
    "<h1>{name}</h1>\n<p>{description}</p>\n"
)

# PERF: (status, kind, description) -> body, so a repeated 404 or 405 costs no formatting.
_body_cache: dict[tuple[int, bool, str, str], bytes] = {}


def error_body(code: int, name: str, description: str, as_json: bool) -> bytes:
    """Return the error body for a status, as JSON or as a small HTML page."""
    key = (code, as_json, name, description)
    body = _body_cache.get(key)
    if body is None:
        if as_json:
            body = json_bytes({"error": name, "status": code, "description": description})
        else:
            body = _HTML_PAGE.format(
                code=code, name=html.escape(name), description=html.escape(description)
            ).encode()
        if len(_body_cache) < 512:
            _body_cache[key] = body
    return body


def http_error_response(exc: HTTPException, accept: str | None) -> Response:
    """Build the response for an `HTTPException`, JSON or HTML according to `accept`."""
    if exc.response is not None:
        return exc.response  # type: ignore[return-value]
    code = exc.code or 500
    as_json = wants_json(accept)
    body = error_body(code, exc.name, exc.description or "", as_json)
    response = Response(body, status=code, content_type=JSON_TYPE if as_json else HTML_UTF8)
    # Allow (405), WWW-Authenticate (401), Retry-After (429/503), Location (308)...
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers.add(name, value)
    return response


class ErrorHandlers:
    """The user's error handlers, by status code and by exception class."""

    def __init__(self) -> None:
        self.by_code: dict[int, ErrorHandler] = {}
        self.by_class: dict[type[BaseException], ErrorHandler] = {}

    @staticmethod
    def check(key: object) -> None:
        """Raise unless `key` is an error status (400-599) or an exception class."""
        if isinstance(key, int):
            if not 400 <= key <= 599:
                raise ValueError(f"errorhandler({key}): give an error status from 400 to 599")
        elif not (isinstance(key, type) and issubclass(key, BaseException)):
            raise TypeError(f"errorhandler() takes a status code or exception class, not {key!r}")

    def register(self, key: int | type[BaseException], handler: ErrorHandler) -> None:
        """Use `handler` for status `key` or for exceptions of class `key` and its subclasses."""
        self.check(key)
        if isinstance(key, int):
            self.by_code[key] = handler
        elif issubclass(key, HTTPException) and key.code is not None:
            # @errorhandler(NotFound) means the same as @errorhandler(404).
            self.by_code[key.code] = handler
        else:
            self.by_class[key] = handler

    def find(self, exc: BaseException) -> ErrorHandler | None:
        """Return the handler for `exc`: its code first, then the nearest base class."""
        if not self.by_code and not self.by_class:
            return None
        if isinstance(exc, HTTPException) and exc.code is not None:
            handler = self.by_code.get(exc.code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            handler = self.by_class.get(cls)
            if handler is not None:
                return handler
        return None


def client_fault(exc: Exception) -> HTTPException | None:
    """Return the 4xx for a failure that client input caused, else None."""
    if isinstance(exc, UnsafeHeaderValue) or (
        isinstance(exc, ValueError) and "must not contain newline" in str(exc)
    ):
        # A handler copied client text with CR/LF into a header; werkzeug refused to send it.
        return BadRequest("a value sent in the request cannot go into a response header")
    return None


def internal_error(exc: BaseException) -> InternalServerError:
    """Wrap an unexpected exception as a 500 that keeps the original for error handlers."""
    return InternalServerError(original_exception=exc)
