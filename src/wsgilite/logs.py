"""Logs: what wsgilite writes to the `wsgilite` logger, with every client-made text escaped.

A crash is one record: the request's method and path, the exception, and its traceback, which
is formatted here rather than by logging so that exception messages are escaped too. An access
line is one record per request. CR, LF and other control characters become `\\r`, `\\n`, ...
and long texts are cut, so nothing a client sends can forge or flood a log line.
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .request import Request

logger = logging.getLogger("wsgilite")


def escape(text: str, limit: int = 1000) -> str:
    """Return `text` with control characters escaped and cut at `limit` characters."""
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text)} characters)"
    return text.encode("unicode_escape", "backslashreplace").decode("ascii")


def format_traceback(exc: BaseException) -> str:
    """Format `exc` and the exceptions chained to it, each message escaped."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts = []
    for index, item in enumerate(reversed(chain)):
        if index:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(escape(f"{type(item).__qualname__}: {item}"))
    return "".join(parts)


def log_crash(request: Request, exc: BaseException, what: str) -> None:
    """Log `exc`, raised while answering `request`, with its traceback."""
    logger.error(
        "%s on %s %s: %s\n%s",
        what,
        escape(request.method),
        escape(request.path),
        escape(f"{type(exc).__name__}: {exc}"),
        format_traceback(exc),
    )


def log_access(request: Request, status: int) -> None:
    """Log one line for an answered request."""
    query = request.environ.get("QUERY_STRING")
    # The raw query, its bytes as the client sent them: escaped below, never decoded strictly.
    path = f"{request.path}?{query}" if query else request.path
    logger.info(
        '%s "%s %s" %s', request.remote_addr or "-", escape(request.method), escape(path), status
    )
