"""CORS: which other sites' pages may call this app from a browser, and with what.

`CORS(app_or_router, origins=[...])` installs one after-hook: it answers preflight OPTIONS
requests (even when a before-hook refused them: a preflight carries no credentials) and adds
`Access-Control-*` headers to the answers of allowed origins. Everything is prepared once, when
it is installed. The core never imports this module, so an app without CORS pays nothing; it
knows nothing of routing beyond the hook it installs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .headers import check_header_value
from .response import Response, add_vary, is_plain, replace_headers
from .werkzeug_private import header_items

if TYPE_CHECKING:
    from .app import App
    from .request import Request
    from .routes import Router

OriginCheck = Callable[[str], bool]
DEFAULT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class CORS:
    """Answer cross-origin requests from `origins` on an App, or a Router before it is included.

    CORS(app, origins=["https://app.example"], credentials=True, max_age=600)
    CORS(api, origins="*")  # any site may read, without cookies
    CORS(app, origins=lambda origin: origin.endswith(".example.com"))
    """

    def __init__(
        self,
        target: App | Router,
        *,
        origins: str | Iterable[str] | OriginCheck,
        methods: Iterable[str] = DEFAULT_METHODS,
        headers: str | Iterable[str] = (),
        credentials: bool = False,
        max_age: int | None = None,
        expose_headers: Iterable[str] = (),
    ) -> None:
        self.any_origin = origins == "*"
        if self.any_origin and credentials:
            # A page on any site could read this user's answers with their cookies.
            raise ValueError(
                "CORS(origins='*', credentials=True) would let every site read your users' "
                "data with their cookies; list the origins, or pass a function that checks one"
            )
        if headers == "*" and credentials:
            raise ValueError(
                "CORS(headers='*', credentials=True): browsers ignore '*' with credentials; "
                "list the request headers to allow"
            )
        self.allowed: frozenset[str] = frozenset()
        self.check: OriginCheck | None = None
        if callable(origins):
            self.check = origins
        elif isinstance(origins, str):
            self.allowed = frozenset() if self.any_origin else frozenset({origins})
        else:
            self.allowed = frozenset(origins)
            if "*" in self.allowed:
                raise ValueError("CORS(origins=...): pass origins='*' alone, not inside a list")
        for origin in self.allowed:
            check_header_value(origin)
            if origin.endswith("/") or "://" not in origin:
                raise ValueError(
                    f"CORS origin {origin!r} is not an origin; write it as a browser sends it: "
                    "'https://app.example' (scheme, host, port if any, no path or trailing /)"
                )
        self.methods = frozenset(method.upper() for method in methods)
        self.any_header = headers == "*"
        self.headers = frozenset() if isinstance(headers, str) else frozenset(
            header.lower() for header in headers
        )  # fmt: skip
        self.credentials = credentials
        # PERF: every header value is joined once, here, never per request.
        self._methods_value = ", ".join(sorted(self.methods))
        self._headers_value = ", ".join(sorted(self.headers))
        self._max_age = None if max_age is None else str(int(max_age))
        self._expose = ", ".join(expose_headers)
        # What every allowed answer carries besides the origin.
        self._extra: list[tuple[str, str]] = []
        if credentials:
            self._extra.append(("Access-Control-Allow-Credentials", "true"))
        if self._expose:
            self._extra.append(("Access-Control-Expose-Headers", self._expose))
        # PERF: what an allowed origin's plain answer gets, by origin (listed ones were checked
        # above); `_anyone` for any origin.
        self._prepared = {origin: (("Vary", "Origin"), ("Access-Control-Allow-Origin", origin),
                                   *self._extra) for origin in self.allowed}  # fmt: skip
        self._anyone = (
            (("Access-Control-Allow-Origin", "*"), *self._extra) if self.any_origin else None
        )
        target.after_request(self.add_headers)

    def allows(self, origin: str) -> bool:
        """Return whether a page from `origin` may read this app's answers."""
        if self.any_origin or origin in self.allowed:
            return True
        return self.check is not None and bool(self.check(origin))

    def add_headers(self, request: Request, response: Response) -> Response:
        """Let an allowed origin read `response` (errors included); answer a preflight."""
        environ = request.environ
        origin: str | None = environ.get("HTTP_ORIGIN")
        if origin is not None and request.method != "OPTIONS":
            items = header_items(response.headers)
            if is_plain(items):
                # PERF: an allowed origin on an answer with only its type and length: the pairs
                # (prepared at setup for a listed origin, or any) are appended at once.
                pairs = self._prepared.get(origin, self._anyone)
                if pairs is None and self.check is not None:  # asked once, here
                    if not self.check(origin):
                        items.append(("Vary", "Origin"))
                        return response
                    allowed = ("Access-Control-Allow-Origin", check_header_value(origin))
                    pairs = (("Vary", "Origin"), allowed, *self._extra)
                if pairs is not None:
                    items.extend(pairs)
                    return response
        return self._add_headers(request, response, origin)

    def _add_headers(self, request: Request, response: Response, origin: str | None) -> Response:
        environ = request.environ
        if origin is None:
            if not self.any_origin:  # cached answers differ by Origin, even ones with none
                self._vary(header_items(response.headers), response)
            return response
        if (
            request.method == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
            and request.route is not None
        ):
            return self.preflight(request, origin)
        if not self.allows(origin):
            if not self.any_origin:
                self._vary(header_items(response.headers), response)
            return response
        granted = [("Access-Control-Allow-Origin", "*" if self.any_origin else origin)]
        granted.extend(self._extra)
        if not self.any_origin:
            add_vary(response.headers, "Origin")
        replace_headers(response.headers, granted)  # checks what a function let through
        return response

    def _vary(self, items: list[tuple[str, str]], response: Response) -> None:
        if is_plain(items):
            items.append(("Vary", "Origin"))
        else:
            add_vary(response.headers, "Origin")

    def preflight(self, request: Request, origin: str) -> Response:
        """Answer a browser's preflight OPTIONS from `origin`, whatever the route would have."""
        # An after-hook, so that it answers even when a before-hook (a login check) refused:
        # browsers send no credentials with a preflight.
        environ = request.environ
        wanted = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "")
        response = Response(status=204)
        if not self.any_origin:
            response.headers["Vary"] = "Origin"
        if not self.allows(origin) or wanted.upper() not in self.methods:
            return response  # no Access-Control-Allow-Origin: the browser refuses the call
        asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        names = [name.strip() for name in asked.split(",") if name.strip()]
        if not self.any_header and any(name.lower() not in self.headers for name in names):
            return response
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = "*" if self.any_origin else origin
        headers["Access-Control-Allow-Methods"] = self._methods_value
        if self.any_header:
            if names:
                headers["Access-Control-Allow-Headers"] = ", ".join(names)
        elif self._headers_value:
            headers["Access-Control-Allow-Headers"] = self._headers_value
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        if self._max_age is not None:
            headers["Access-Control-Max-Age"] = self._max_age
        return response
