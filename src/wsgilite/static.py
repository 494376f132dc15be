"""Static files: `/static/<path:filename>` served from one folder, and never from outside it.

werkzeug's `send_from_directory` does the HTTP work: Content-Type, ETag, Last-Modified, 304 on
conditional requests, Range (206/416) and Cache-Control max-age. This module adds the refusals
werkzeug leaves to the platform (backslashes and NUL on every OS, symlinks that lead out of the
folder), each answered 404 so a probe learns nothing, and keeps werkzeug's ETag parser away
from line breaks, on which it loops forever.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join
from werkzeug.utils import send_file

from .request import etags_without_line_breaks
from .response import Response

if TYPE_CHECKING:
    from .request import Request


def resolve(folder: str, filename: str) -> str:
    """Return the real path of `filename` inside `folder`, or raise NotFound."""
    if "\\" in filename or "\x00" in filename or not filename:
        raise NotFound()
    joined = safe_join(folder, filename)
    if joined is None:
        raise NotFound()
    root = os.path.realpath(folder)
    real = os.path.realpath(joined)
    # A symlink inside the folder may point anywhere; only what resolves inside is served.
    if os.path.commonpath([root, real]) != root or not os.path.isfile(real):
        raise NotFound()
    return real


def send_static(request: Request, folder: str, filename: str, max_age: int | None) -> Response:
    """Answer `request` with the file `filename` from `folder` (304, 206 and 416 included)."""
    path = resolve(folder, filename)
    response = send_file(
        path,
        etags_without_line_breaks(request.environ),
        conditional=True,
        etag=True,
        max_age=max_age,
        response_class=Response,
    )
    return response  # type: ignore[return-value]
