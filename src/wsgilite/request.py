"""Requests: werkzeug's `Request`, created for nothing.

`Request(environ)` in werkzeug reads method, scheme, host, paths and headers up front. Here each
of those is read from `environ` the first time it is asked for, so a handler that only returns a
string pays for none of them. Everything else (`args`, `form`, `files`, `json`, `cookies`) is
werkzeug's own code. The request knows its app (for config limits) but nothing of routing or
responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import EnvironHeaders, Headers
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as _WerkzeugRequest

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from .app import App
    from .sessions import Session


def wsgi_decode(value: str) -> str:
    """Decode a PEP 3333 latin-1 string into the UTF-8 text the client sent."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "replace")


class Request(_WerkzeugRequest):
    """The request a handler receives: werkzeug's, with `app` and `path_params`."""

    def __init__(
        self,
        environ: WSGIEnvironment,
        app: App | None = None,
        path_params: dict[str, Any] | None = None,
    ) -> None:
        # PERF: werkzeug's __init__ reads eight values eagerly (~2.5 µs); routing needs only the
        # method and path, the rest are read on first use below.
        self.environ = environ
        self.method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        self.path = "/" + wsgi_decode(environ.get("PATH_INFO") or "").lstrip("/")
        self.shallow = False
        self.app = app
        self.path_params: dict[str, Any] = path_params if path_params is not None else {}
        self._session: Session | None = None

    # -- what werkzeug's __init__ would have set, read on first use ------------------------------

    @cached_property
    def scheme(self) -> str:
        """The URL scheme, `http` or `https`."""
        return str(self.environ.get("wsgi.url_scheme", "http"))

    @cached_property
    def server(self) -> tuple[str, int | None] | None:
        """The server's `(host, port)`."""
        name = self.environ.get("SERVER_NAME")
        if name is None:
            return None
        try:
            port: int | None = int(self.environ.get("SERVER_PORT", ""))
        except ValueError:
            port = None
        return str(name), port

    @cached_property
    def root_path(self) -> str:
        """The prefix the app is mounted under (SCRIPT_NAME), without a trailing slash."""
        return wsgi_decode(self.environ.get("SCRIPT_NAME") or "").rstrip("/")

    @cached_property
    def query_string(self) -> bytes:
        """The raw query string."""
        return str(self.environ.get("QUERY_STRING", "")).encode("latin-1", "replace")

    @cached_property
    def headers(self) -> Headers:
        """The request headers."""
        return EnvironHeaders(self.environ)

    @cached_property
    def remote_addr(self) -> str | None:
        """The client's address."""
        value = self.environ.get("REMOTE_ADDR")
        return None if value is None else str(value)

    @property
    def trusted_hosts(self) -> list[str] | None:  # type: ignore[override]
        """The `Host` values accepted (`TRUSTED_HOSTS`); any other is answered 400."""
        return None if self.app is None else self.app.config.get("TRUSTED_HOSTS")

    # -- limits come from the app's config -----------------------------------------------------

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """The largest body accepted (`MAX_CONTENT_LENGTH`); past it, 413."""
        return None if self.app is None else self.app.config.get("MAX_CONTENT_LENGTH")

    @property
    def max_form_memory_size(self) -> int | None:  # type: ignore[override]
        """The largest non-file form field held in memory (`MAX_FORM_MEMORY_SIZE`)."""
        if self.app is None:
            return 500_000
        return self.app.config.get("MAX_FORM_MEMORY_SIZE")

    @property
    def max_form_parts(self) -> int | None:  # type: ignore[override]
        """The most multipart parts or fields accepted (`MAX_FORM_PARTS`)."""
        if self.app is None:
            return 1000
        return self.app.config.get("MAX_FORM_PARTS")

    # -- features that live in their own modules ------------------------------------------------

    @property
    def session(self) -> Session:
        """The signed-cookie session, loaded on first use."""
        if self._session is None:
            if self.app is None:
                raise RuntimeError("request.session needs a request created by an App")
            self._session = self.app.sessions.open(self)
        return self._session

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Answer 400 when the body is not valid JSON."""
        if e is None:  # werkzeug passes None for a wrong Content-Type; it then raises 415
            return super().on_json_loading_failed(e)
        raise BadRequest(f"request body is not valid JSON: {e}")

    def url_for(self, endpoint: str, **values: Any) -> str:
        """Build a URL for `endpoint` under this request's root (see `App.url_for`)."""
        if self.app is None:
            raise RuntimeError("request.url_for needs a request created by an App")
        return self.app.url_for(endpoint, _request=self, **values)
