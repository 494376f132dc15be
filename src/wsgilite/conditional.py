"""Conditional GET for dynamic answers: an ETag from the body's hash, and 304 on If-None-Match.

`conditional(request, response)` tags one buffered answer and lets werkzeug's
`make_conditional` answer 304 when the client's copy is current; `ETags(app_or_router)` does it
for every GET and HEAD as an after-hook. The body is still built (a 304 saves the bytes on the
wire, not the work); a handler that can tell cheaply whether data changed should set its own ETag
or Last-Modified, which is kept. The core never imports this module.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import App
    from .request import Request
    from .response import Response
    from .routes import Router


def conditional(request: Request, response: Response, *, weak: bool = False) -> Response:
    """Tag a 200 GET or HEAD answer with its body's hash and answer 304 if the client has it."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if response.is_streamed or response.direct_passthrough:
        return response  # a stream's bytes are not known before they are sent
    if "ETag" not in response.headers:
        # blake2b: fast, and 16 bytes make an accidental match between versions unthinkable.
        digest = hashlib.blake2b(response.get_data(), digest_size=16).hexdigest()
        response.set_etag(digest, weak=weak)
    # werkzeug compares If-None-Match weakly (RFC 9110) and drops the body of a 304.
    response.make_conditional(request)  # changes `response` in place
    return response


class ETags:
    """Give every buffered 200 GET answer an ETag, and answer 304 to a client that has it.

    ETags(app)  # or a Router, before app.include(router)
    ETags(app, weak=True)  # for answers equivalent but not byte-identical (compressed)
    """

    def __init__(self, target: App | Router, *, weak: bool = False) -> None:
        self.weak = weak
        target.after_request(self.tag)

    def tag(self, request: Request, response: Response) -> Response:
        """Apply `conditional` to `response`."""
        return conditional(request, response, weak=self.weak)
