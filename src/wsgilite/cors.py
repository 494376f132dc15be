"""CORS: which other sites' pages may call this app from a browser, and with what.

`CORS(app_or_router, origins=[...])` installs a before-hook that answers preflight OPTIONS
requests and an after-hook that adds `Access-Control-*` headers to the answers of allowed
origins. Everything is prepared once, when it is installed. The core never imports this module,
so an app without CORS pays nothing; it knows nothing of routing beyond the hooks it installs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .response import Response, add_vary, check_header_value, replace_headers
from .werkzeug_private import header_items

if TYPE_CHECKING:
    from .app import App
    from .request import Request
    from .routes import Router

OriginCheck = Callable[[str], bool]
DEFAULT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_PREFLIGHT = "wsgilite.cors.preflight"
_OURS = frozenset({"vary", "access-control-allow-origin", "access-control-allow-credentials",
                   "access-control-expose-headers"})  # fmt: skip


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
        target.before_request(self.preflight)
        target.after_request(self.add_headers)

    def allows(self, origin: str) -> bool:
        """Return whether a page from `origin` may read this app's answers."""
        if self.any_origin or origin in self.allowed:
            return True
        return self.check is not None and bool(self.check(origin))

    def preflight(self, request: Request) -> Response | None:
        """Answer a browser's preflight OPTIONS; other requests go on to the handler."""
        if request.method != "OPTIONS":
            return None
        environ = request.environ
        origin = environ.get("HTTP_ORIGIN")
        wanted = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if origin is None or wanted is None:
            return None  # a plain OPTIONS: the route's own, or the automatic one with Allow
        environ[_PREFLIGHT] = True
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

    def add_headers(self, request: Request, response: Response) -> Response:
        """Let an allowed origin read `response` (errors included)."""
        environ = request.environ
        if _PREFLIGHT in environ:
            return response
        origin: str | None = environ.get("HTTP_ORIGIN")
        granted: list[tuple[str, str]] = []
        if origin is not None and self.allows(origin):
            granted = [("Access-Control-Allow-Origin", "*" if self.any_origin else origin)]
            granted.extend(self._extra)
        items = header_items(response.headers)
        if self.check is None and not any(key.lower() in _OURS for key, _ in items):
            # PERF: the usual answer has none of these yet, and a listed origin was checked when
            # CORS was set up: the pairs are appended at once (~1.5 µs less).
            if not self.any_origin:
                items.append(("Vary", "Origin"))
            items.extend(granted)
            return response
        if not self.any_origin:
            # Cached answers differ by Origin, even the ones that carry no CORS header.
            add_vary(response.headers, "Origin")
        if granted:
            replace_headers(response.headers, granted)  # checks what a function let through
        return response
