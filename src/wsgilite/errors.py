"""Errors: `abort`, the error handlers, and the one path from an exception to its response.

`error_response` answers whatever a hook or handler raised, each step once and in one place: a
routing redirect as it is; the user's handler for the exception's class, or for its status; the
default body of an HTTP error; the 4xx of a failure the client's input caused; the debugger;
then the log line with the traceback and the 500 handler or the default 500 body. A default
error body is JSON when the client prefers JSON and a small HTML page otherwise, built once per
status and kind. This module knows requests and responses, nothing of routing or the App.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.exceptions import abort as _werkzeug_abort
from werkzeug.routing.exceptions import RequestRedirect

from .headers import UnsafeHeaderValue
from .jsonbody import json_bytes
from .logs import log_crash
from .response import (
    HTML_UTF8,
    JSON_TYPE,
    Response,
    make_response,
    redirect,
)

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
    return _prefers_json(accept)


@functools.lru_cache(maxsize=256)
def _prefers_json(accept: str) -> bool:
    # PERF: parsed once per Accept value a client sends (~25 µs each time otherwise).
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
    """The error handlers of one App or Router, by status code and by exception class."""

    def __init__(self) -> None:
        self.by_code: dict[int, ErrorHandler] = {}
        self.by_class: dict[type[BaseException], ErrorHandler] = {}

    def __bool__(self) -> bool:
        return bool(self.by_code or self.by_class)

    @staticmethod
    def check(key: object) -> None:
        """Raise unless `key` is an error status (400-599) or an exception class."""
        if isinstance(key, bool) or not isinstance(key, int | type):
            raise TypeError(
                f"errorhandler() takes a status code or an exception class, not {key!r}; "
                "write @app.errorhandler(404) or @app.errorhandler(ValueError)"
            )
        if isinstance(key, int):
            if not 400 <= key <= 599:
                raise ValueError(f"errorhandler({key}): give an error status from 400 to 599")
        elif not issubclass(key, BaseException):
            raise TypeError(f"errorhandler({key.__name__}): give an exception class")

    def register(self, key: int | type[BaseException], handler: ErrorHandler) -> None:
        """Use `handler` for status `key`, or for exceptions of class `key` and its subclasses."""
        self.check(key)
        if isinstance(key, int):
            self.by_code[key] = handler
        else:
            self.by_class[key] = handler


def find_handler(exc: BaseException, scopes: Sequence[ErrorHandlers]) -> ErrorHandler | None:
    """Return the handler for `exc`: the most specific class first, the innermost scope on a tie.

    A handler for a status code stands for werkzeug's class of that status, so a handler for a
    subclass of Forbidden wins over one for 403, and one for 404 over one for HTTPException.
    """
    if not any(scopes):
        return None
    mro = type(exc).__mro__
    code = exc.code if isinstance(exc, HTTPException) else None
    code_at = 0
    if code is not None:
        # The status stands where the last class of the MRO that still has this code stands.
        code_at = max((at for at, cls in enumerate(mro) if getattr(cls, "code", None) == code),
                      default=0)  # fmt: skip
    for at, cls in enumerate(mro):
        for scope in scopes:
            handler = scope.by_class.get(cls)
            if handler is not None:
                return handler
        if at == code_at and code is not None:
            for scope in scopes:
                handler = scope.by_code.get(code)
                if handler is not None:
                    return handler
    return None


def error_response(
    request: Request, exc: Exception, scopes: Sequence[ErrorHandlers], debug: bool
) -> Response:
    """Answer `exc`, raised while answering `request`, through each step once, in order."""
    if isinstance(exc, RequestRedirect):
        return _redirect(request, exc)  # routing's own answer (/a to /a/), never an error
    accept = request.environ.get("HTTP_ACCEPT")
    handler = find_handler(exc, scopes)
    if handler is not None:
        try:
            return make_response(handler(request, exc), handler, request)
        except Exception as failure:  # the handler failed: answer that, without handlers
            exc = failure
    if isinstance(exc, HTTPException):
        return http_error_response(exc, accept)
    fault = client_fault(exc)
    if fault is not None:
        return http_error_response(fault, accept)
    if debug:
        raise exc  # the interactive debugger (app.run(debug=True)) shows it
    log_crash(request, exc, "500")
    error = InternalServerError(original_exception=exc)
    last = find_handler(error, scopes)
    if last is not None and last is not handler:
        try:
            return make_response(last(request, error), last, request)
        except Exception as failure:
            log_crash(request, failure, "the error handler for 500 failed too")
    return http_error_response(error, accept)


# RFC 3986's query characters: a raw byte a server passed on (NUL, UTF-8) is percent-encoded.
_QUERY_SAFE = "!$&'()*+,;=:@/?%"


def _redirect(request: Request, exc: RequestRedirect) -> Response:
    # The table's location is a quoted path; keep the mount point and the query string.
    location = quote(request.root_path, safe="/:@!$&'()*+,;=~") + exc.new_url
    query = request.environ.get("QUERY_STRING")
    if query:
        location += "?" + quote(query.encode("latin-1", "replace"), safe=_QUERY_SAFE)
    return redirect(location, exc.code)


def client_fault(exc: Exception) -> HTTPException | None:
    """Return the 4xx for a failure that client input caused, else None."""
    if isinstance(exc, UnsafeHeaderValue) or (
        isinstance(exc, ValueError) and "must not contain newline" in str(exc)
    ):
        # A handler copied client text with CR/LF into a header; werkzeug refused to send it.
        return BadRequest("a value sent in the request cannot go into a response header")
    return None
