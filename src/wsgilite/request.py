"""Requests: werkzeug's `Request`, created for nothing, with a place for per-request state.

`Request(environ)` in werkzeug reads method, scheme, host, paths and headers up front. Here each
of those is read from `environ` the first time it is asked for, so a handler that only returns a
string pays for none of them; the query string and a urlencoded form of known length are parsed
by `bodies.py` (faster than werkzeug's general parsers), everything else (`files`, `json`,
`cookies`, multipart) is werkzeug's own code. The App hands each request what it needs when it
is made: the config (body limits, trusted hosts), the session store and the URL builder. The
request never reaches up into the App; `request.app` is there for the user's own code.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from werkzeug.datastructures import EnvironHeaders, ETags, Headers, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import parse_etags
from werkzeug.sansio.utils import get_current_url
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wsgi import get_content_length, get_host

from .bodies import (
    URLENCODED,
    FormParser,
    SafeJSON,
    decode_urlencoded,
    input_stream,
    parse_urlencoded,
    read_body,
    read_limited,
)
from .config import DEFAULTS
from .werkzeug_private import cache_body, cached_body

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from .routes import Route
    from .routing import RouteTable
    from .sessions import Session, SessionCookies


def wsgi_decode(value: str, errors: str = "replace") -> str:
    """Decode a PEP 3333 latin-1 string into the UTF-8 text the client sent."""
    if value.isascii():
        return value
    return value.encode("latin-1", "replace").decode("utf-8", errors)


_ETAG_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")


def etags_without_line_breaks(environ: WSGIEnvironment) -> WSGIEnvironment:
    """Return `environ` with CR and LF in If-Match and If-None-Match turned into spaces.

    werkzeug's `parse_etags` (werkzeug 3.1) loops forever on a value that ends in a newline: a
    single request would hold a worker at 100% CPU. A copy is made only when one is there.
    """
    dirty = [
        key
        for key in _ETAG_HEADERS
        if key in environ and ("\n" in environ[key] or "\r" in environ[key])
    ]
    if not dirty:
        return environ
    return {**environ, **{key: " ".join(environ[key].split()) for key in dirty}}


_EMPTY: ImmutableMultiDict[str, Any] = ImmutableMultiDict()
# The methods servers send upper-case already (werkzeug upper-cases any other).
_UPPER_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
T = TypeVar("T")


class _cached(Generic[T]):  # noqa: N801 - used as a decorator, like property
    """A cached property that, unlike werkzeug's, costs nothing after the first access."""

    # PERF: werkzeug's cached_property is a data descriptor, so every `request.args` runs Python
    # code (~0.25 µs); this one stores the value where attribute lookup finds it first.
    def __init__(self, function: Callable[[Any], T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> _cached[T]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any]) -> T: ...
    def __get__(self, instance: object | None, owner: type[Any]) -> T | _cached[T]:
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.name] = value
        return value


class State:
    """Per-request state for your own code, as Flask's `g`: `request.state.user = ...`."""

    def get(self, name: str, default: Any = None) -> Any:
        """Return attribute `name`, or `default` if it was never set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = None) -> Any:
        """Remove attribute `name` and return its value (or `default`)."""
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        """Return attribute `name`, setting it to `default` first if it was never set."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"request.state has no {name!r}; set it first (request.state.{name} = ...) or use "
            f"request.state.get({name!r})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        return f"<State {self.__dict__!r}>"


class Request(_WerkzeugRequest):
    """The request a handler receives: werkzeug's, with `path_params`, `route` and `state`."""

    json_module = SafeJSON  # type: ignore[assignment]
    # PERF: class-level defaults cost nothing per request; the App sets them on a match.
    shallow = False
    path_params: Mapping[str, Any] = MappingProxyType({})
    route: Route | None = None
    #: The session if this request used it, else None (its cookie was never read).
    loaded_session: Session | None = None
    #: Whether uploaded files were parsed (they are closed once the body is sent).
    has_open_files = False
    form_data_parser_class = FormParser

    #: The app's config, session store and URL table; an App's requests are of a subclass
    #: that sets them (see `bound`), a request made by hand has the defaults.
    config: Mapping[str, Any] = DEFAULTS
    sessions: SessionCookies | None = None
    urls: RouteTable | None = None
    #: The App answering this request, for your own code (the framework never uses it).
    app: Any = None

    def __init__(self, environ: WSGIEnvironment) -> None:
        # PERF: werkzeug's __init__ reads eight values eagerly (~2.5 µs); routing needs only the
        # method and path, the rest are read on first use below. A usual method is not upper-cased
        # again (a new string each time).
        self.environ = environ
        method = environ.get("REQUEST_METHOD", "GET")
        self.method = method if method in _UPPER_METHODS else method.upper()
        path = environ.get("PATH_INFO") or "/"
        if not path.isascii() or path[0] != "/" or (len(path) > 1 and path[1] == "/"):
            path = "/" + wsgi_decode(path).lstrip("/")
        self.path = path

    @classmethod
    def bound(
        cls, config: Mapping[str, Any], sessions: SessionCookies, urls: RouteTable, app: Any
    ) -> type[Request]:
        """Return a subclass whose requests belong to an app: its config, sessions and URLs."""
        # PERF: four class attributes instead of four per request (~0.3 µs).
        namespace = {"config": config, "sessions": sessions, "urls": urls, "app": app,
                     "__module__": cls.__module__, "__qualname__": cls.__qualname__}  # fmt: skip
        return type(cls.__name__, (cls,), namespace)

    @property
    def endpoint(self) -> str | None:
        """The endpoint name of the route that matched (None before matching, or on a 404)."""
        return None if self.route is None else self.route.endpoint

    @_cached
    def state(self) -> State:
        """A place for this request's own data (the user, a database connection)."""
        return State()

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
        root = wsgi_decode(self.environ.get("SCRIPT_NAME") or "").rstrip("/")
        # As PATH_INFO: "//evil.com" must never become a redirect to another host.
        return "/" + root.lstrip("/") if root.startswith("//") else root

    @cached_property
    def query_string(self) -> bytes:
        """The raw query string."""
        return str(self.environ.get("QUERY_STRING", "")).encode("latin-1", "replace")

    @_cached
    def content_length(self) -> int | None:
        """The body's declared length (0 if malformed), None for a chunked body; read once."""
        raw = self.environ.get("CONTENT_LENGTH", "")
        if raw.isascii() and raw.isdigit() and "HTTP_TRANSFER_ENCODING" not in self.environ:
            if len(raw) > 18 and len(raw.lstrip("0")) > 18:
                # Past any body a server could hold (and int() refuses 4,300 digits): a 413.
                return sys.maxsize
            return int(raw)  # PERF: the plain case; werkzeug's parser takes the rest
        return get_content_length(self.environ)

    @_cached
    def mimetype(self) -> str:
        """The body's content type without parameters, lower case (`text/html`)."""
        # PERF: werkzeug's builds the request's headers and parses the parameters too.
        return str(self.environ.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower()

    @cached_property
    def headers(self) -> Headers:
        """The request headers."""
        return EnvironHeaders(self.environ)

    @cached_property
    def if_match(self) -> ETags:
        """The `If-Match` header's entity tags (a line break in it never hangs the parser)."""
        return parse_etags(etags_without_line_breaks(self.environ).get("HTTP_IF_MATCH"))

    @cached_property
    def if_none_match(self) -> ETags:
        """The `If-None-Match` header's entity tags (a line break never hangs the parser)."""
        return parse_etags(etags_without_line_breaks(self.environ).get("HTTP_IF_NONE_MATCH"))

    @cached_property
    def remote_addr(self) -> str | None:
        """The client's address."""
        value = self.environ.get("REMOTE_ADDR")
        return None if value is None else str(value)

    @property
    def trusted_hosts(self) -> list[str] | None:  # type: ignore[override]
        """The `Host` values accepted (`TRUSTED_HOSTS`); any other is answered 400."""
        hosts = self.config.get("TRUSTED_HOSTS")
        # Host names are case-insensitive; werkzeug compares them as they are.
        return [host.lower() for host in hosts] if hosts else None

    @cached_property
    def host(self) -> str:
        """The host the client asked for (lower case), checked against `TRUSTED_HOSTS`."""
        environ = self.environ
        if "HTTP_HOST" in environ:
            environ = {**environ, "HTTP_HOST": str(environ["HTTP_HOST"]).lower()}
        host = get_host(environ, trusted_hosts=self.trusted_hosts)
        try:
            # `url`, `host_url`, url_for(_external=True) and the CSRF check build URLs from it:
            # a port out of range, "[::1" or a broken IDNA label ("xn--zz") must not raise there.
            get_current_url(self.scheme, host)
        except (ValueError, UnicodeError):
            raise BadRequest("the Host header is not a valid host") from None
        return host

    # -- the query string and urlencoded forms ------------------------------------------------

    @_cached
    def args(self) -> MultiDict[str, str]:
        """The query string's parameters, decoded as UTF-8."""
        # PERF: werkzeug's version re-encodes the string and decodes strictly (a raw non-UTF-8
        # byte raised UnicodeDecodeError there); this reads the WSGI string directly.
        query = self.environ.get("QUERY_STRING", "")
        if not query:
            return _EMPTY
        return parse_urlencoded(wsgi_decode(query, "werkzeug.url_quote"), None)

    @_cached
    def form(self) -> ImmutableMultiDict[str, str]:
        """The form fields of a urlencoded or multipart body, parsed on first use."""
        self._load_form_data()
        return self.__dict__["form"]  # type: ignore[no-any-return]

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        try:
            if not self._load_urlencoded():
                super()._load_form_data()
                self.has_open_files = bool(self.__dict__.get("files"))
        except (OSError, ValueError) as exc:
            # The server failed reading the body (a bad chunk, a cut connection): the client's
            # fault, so a 400 and never a 500.
            raise BadRequest(f"the request body could not be read: {exc}") from None

    def _load_urlencoded(self) -> bool:
        if self.mimetype != URLENCODED or self.shallow:
            return False
        body = cached_body(self)
        if body is None:
            length = self.content_length  # None for a chunked body
            if length is not None:
                # PERF: a plain urlencoded form of known length is read and parsed directly
                # (~3 µs); werkzeug's general parser sets up streams and a parser for it (~15 µs).
                # The App refused a body past MAX_CONTENT_LENGTH already; this one is a form.
                limit = self.max_form_memory_size
                if limit is not None and length > limit:
                    raise RequestEntityTooLarge()
                body = read_body(self.environ, length)
            else:
                # Chunked: read no further than the form limit (the smaller of the two), never
                # the whole MAX_CONTENT_LENGTH first.
                limit, maximum = self.max_form_memory_size, self.max_content_length
                if limit is None or (maximum is not None and maximum < limit):
                    limit = maximum
                body = read_limited(self.environ, limit)
        self.__dict__["form"] = decode_urlencoded(
            body, self.max_form_memory_size, self.max_form_parts
        )
        self.__dict__["files"] = _EMPTY
        # The body was read: get_data() and `stream` give it from here (a webhook may check a
        # signature over it), so nothing reads the socket past the body.
        cache_body(self, body)
        return True

    @cached_property
    def stream(self) -> IO[bytes]:
        """The body as a stream: stops at its length, 413 past `MAX_CONTENT_LENGTH`."""
        if self.shallow:
            raise RuntimeError("this request was created with shallow=True; its body is unread")
        body = cached_body(self)
        if body is not None:
            return io.BytesIO(body)  # the form reader has read the body
        return input_stream(self.environ, self.content_length, self.max_content_length)

    # -- limits come from the config ------------------------------------------------------------

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """The largest body accepted (`MAX_CONTENT_LENGTH`); past it, 413."""
        return self.config.get("MAX_CONTENT_LENGTH")

    @property
    def max_form_memory_size(self) -> int | None:  # type: ignore[override]
        """The largest non-file form field held in memory (`MAX_FORM_MEMORY_SIZE`)."""
        return self.config.get("MAX_FORM_MEMORY_SIZE")

    @property
    def max_form_parts(self) -> int | None:  # type: ignore[override]
        """The most multipart parts or fields accepted (`MAX_FORM_PARTS`)."""
        return self.config.get("MAX_FORM_PARTS")

    # -- features that live in their own modules ------------------------------------------------

    @_cached
    def session(self) -> Session:
        """The signed-cookie session, loaded on first use."""
        if self.sessions is None:
            raise RuntimeError("request.session needs a request created by an App")
        self.loaded_session = self.sessions.open(self)
        return self.loaded_session

    @overload
    def get_data(
        self, cache: bool = True, as_text: Literal[False] = False, parse_form_data: bool = False
    ) -> bytes: ...
    @overload
    def get_data(
        self, cache: bool = True, as_text: Literal[True] = ..., parse_form_data: bool = False
    ) -> str: ...
    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """Read the body (see werkzeug); a body the server cannot read is a 400."""
        if cache and not as_text and not parse_form_data and not self.shallow:
            body = cached_body(self)
            if body is not None:
                return body
            length = self.content_length  # None for a chunked body: werkzeug's stream reads it
            if length is not None and "stream" not in self.__dict__:
                # PERF: a body of known length is read in one call (~1 µs); werkzeug's get_data
                # builds its limited stream first (~6 µs). The App refused one past the limit.
                body = read_body(self.environ, length)
                cache_body(self, body)
                return body
        try:
            return super().get_data(cache, as_text, parse_form_data)  # type: ignore[call-overload,no-any-return]
        except (OSError, ValueError) as exc:
            raise BadRequest(f"the request body could not be read: {exc}") from None

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Answer 400 when the body is not valid JSON."""
        if e is None:  # werkzeug passes None for a wrong Content-Type; it then raises 415
            return super().on_json_loading_failed(e)
        raise BadRequest(f"request body is not valid JSON: {e}")

    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _external: bool = False,
        _method: str | None = None,
        _anchor: str | None = None,
        **values: Any,
    ) -> str:
        """Build the URL of `endpoint` under this request's root (and host, if `_external`)."""
        if self.urls is None:
            raise RuntimeError("request.url_for needs a request created by an App")
        return self.urls.build(
            endpoint,
            values,
            script_name=self.root_path,
            host=self.host if _external else "localhost",
            scheme=self.scheme,
            external=_external,
            method=_method,
            anchor=_anchor,
        )
