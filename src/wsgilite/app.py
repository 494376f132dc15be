"""The App: routes, hooks, error handlers, templates and config, and `__call__`, one request's path.

`App.__call__` reads as DESIGN.md's diagram: admit the request, match, before-hooks, handler,
response, after-hooks (which also write the session), teardown, send. Each step is one call that
nothing re-enters; whatever a step raises goes to `errors.error_response`, once. Everything a
route needs is compiled when it is registered. The App holds its routes and wires the other
modules together; none of them imports it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter
from werkzeug.wsgi import ClosingIterator

from . import csrf
from .bodies import check_framing
from .config import Config, seconds
from .csrf import UNSAFE_METHODS
from .errors import ErrorHandlers, error_response
from .headers import check_sendable
from .logs import log_access, log_crash
from .request import Request
from .response import Response, make_response, plain_answer
from .routes import Decorators, Hooks, Route, Router, check_callable
from .routing import RouteTable
from .sending import DefaultHeaders, send, with_defaults
from .sessions import SessionCookies
from .static import send_static
from .templating import TemplateResponse, Templates

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.test import Client

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("wsgilite")


class App(Decorators):
    """A WSGI application: routes, hooks, error handlers, templates, static files and config."""

    request_class = Request

    def __init__(
        self,
        import_name: str = "__main__",
        *,
        root_path: str | None = None,
        template_folder: str | None = "templates",
        static_folder: str | None = "static",
        static_url_path: str = "/static",
        config: dict[str, Any] | None = None,
    ) -> None:
        self.import_name = import_name
        self.root_path = root_path or _module_folder(import_name)
        self.config = Config(config, root_path=self.root_path)
        self.table = RouteTable()
        self.hooks = Hooks()
        self.startup_hooks: list[Callable[[App], object]] = []
        self._started = False
        self._start_lock: threading.Lock | None = None  # made at the first request (see _start)
        self._headers: tuple[object, DefaultHeaders] = (None, DefaultHeaders())
        _APPS.add(self)
        self.sessions = SessionCookies(self.config)
        self._request_type = self._bind_requests()
        folders = [os.path.join(self.root_path, template_folder)] if template_folder else []
        self.templates = Templates(folders, lambda: bool(self.config["DEBUG"]))
        self.static_folder = os.path.join(self.root_path, static_folder) if static_folder else None
        if self.static_folder is not None:
            self._add_static_route(static_url_path.rstrip("/"))

    # -- settings ------------------------------------------------------------------------------

    @property
    def debug(self) -> bool:
        """Whether errors propagate to the debugger and templates reload (`DEBUG`)."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value

    def add_converter(self, name: str, converter: type[BaseConverter]) -> None:
        """Make `<name:var>` available in rules registered after this call."""
        self.table.add_converter(name, converter)

    # -- registration --------------------------------------------------------------------------

    def _declare(self, route: Route) -> None:
        # Compiled now, so a conflict is an error at registration, never at request time.
        self.table.add(route)
        for folder in route.template_folders:
            self.templates.add_folder(folder)

    def _hooks(self) -> Hooks:
        return self.hooks

    def include(self, router: Router) -> None:
        """Mount `router`'s routes, with its hooks and error handlers around them."""
        for route in router.mount():
            self._declare(route)

    def routes(self) -> list[Route]:
        """Return every route of the app, in registration order."""
        return list(self.table.routes)

    def _add_static_route(self, url_path: str) -> None:
        folder = self.static_folder
        assert folder is not None

        def static(request: Request, filename: str) -> Response:
            max_age = seconds(self.config["SEND_FILE_MAX_AGE_DEFAULT"])
            return send_static(request, folder, filename, max_age)

        route = Route(f"{url_path}/<path:filename>", frozenset({"GET"}), static, "static",
                      options={"openapi": False})  # fmt: skip
        self._declare(route)

    def on_startup(self, hook: F) -> F:
        """Run `hook(app)` once per process: as a worker starts, or before its first request."""
        check_callable(hook, "on_startup", "(app)", 1)
        self.startup_hooks.append(hook)
        return hook

    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Make the decorated function a Jinja2 filter named `name` (default: its name)."""

        def decorator(function: F) -> F:
            self.templates.add_filter(name or function.__name__, function)
            return function

        return decorator

    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Make the decorated function a Jinja2 global named `name` (default: its name)."""

        def decorator(function: F) -> F:
            self.templates.add_global(name or function.__name__, function)
            return function

        return decorator

    # -- the request path ----------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request."""
        request = self._request_type(environ)
        route: Route | None = None
        error: BaseException | None = None
        hooks = self.hooks  # PERF: below, a step with nothing to do is not called
        try:
            if not self._started:
                self._start()
            # PERF: only a request with something to check pays a call (~0.2 µs).
            if (
                self.config["TRUSTED_HOSTS"]
                or "HTTP_TRANSFER_ENCODING" in environ
                or environ.get("CONTENT_LENGTH")
            ):
                self._admit(request, environ)
            route, params = self.table.match(request.method, request.path)
            request.route, request.path_params = route, params
            scope = route.scope
            # PERF: one flag each says whether the app or the route has any hook (~0.2 µs).
            hooked = hooks.hooked or scope.hooked
            response = None
            if (hooked and (hooks.before or scope.before)) or request.method in UNSAFE_METHODS:
                response = self._before(request, route)
            if response is None:
                if route.call is None:
                    result = route.handler(request, **params) if params else route.handler(request)
                else:  # a typed handler: params.Plan converts and checks its values first
                    result = route.call(request, params)
                # PERF: an answer no later step reads goes from its parts to the server, with
                # no Response made (~4 µs); a 204, say, still takes make_response.
                late = hooked and (hooks.after or hooks.teardown or scope.after or scope.teardown)
                if not late and request.loaded_session is None and (answer := plain_answer(result)):
                    body = self._send_plain(request, answer, start_response)
                    if body is not None:
                        return body
                response = make_response(result, route.handler, request)
        except Exception as exc:
            error = exc
            response = self._error_response(request, exc, route)
        try:
            # After-hooks run on error responses too, so headers they add survive abort().
            if (
                error is not None
                or hooks.after
                or route.scope.after  # type: ignore[union-attr] # a route matched: no error
                or request.loaded_session is not None
            ):
                response = self._after(request, response, route)
        except Exception as exc:
            error = error or exc
            response.close()  # a static file it held is released now, not at collection
            response = self._error_response(request, exc, route)
        if hooks.teardown or (route is not None and route.scope.teardown):
            self._teardown(request, route, error)
        return self._send(request, response, environ, start_response)

    def _bind_requests(self) -> type[Request]:
        # The class of this app's requests: `request_class`, with the app's config, session
        # store and URL table as class attributes (set again at start, if it was replaced).
        return self.request_class.bound(self.config, self.sessions, self.table, self)

    def _admit(self, request: Request, environ: WSGIEnvironment) -> None:
        # Before anything reads the request: the Host header, the body's framing and size.
        if self.config["TRUSTED_HOSTS"]:
            request.host  # noqa: B018 - raises SecurityError (400) for an untrusted Host
        # A body declared chunked that the server did not decode: 411, never read as empty.
        if "HTTP_TRANSFER_ENCODING" in environ:
            check_framing(environ)
        if environ.get("CONTENT_LENGTH"):
            # Answered before the handler: a body past the limit is refused even unread.
            limit = request.max_content_length
            length = request.content_length
            if limit is not None and length is not None and length > limit:
                raise RequestEntityTooLarge()

    def _before(self, request: Request, route: Route) -> Response | None:
        # The CSRF check, then the app's before-hooks, then each enclosing Router's, outermost
        # first; the first hook that returns a value answers instead of the handler.
        if route.csrf and request.method in UNSAFE_METHODS:
            self._check_csrf(request)
        for hook in (*self.hooks.before, *route.scope.before):
            result = hook(request)
            if result is not None:
                return make_response(result, hook, request)
        return None

    def _error_response(self, request: Request, exc: Exception, route: Route | None) -> Response:
        # The route's Routers' handlers first (innermost first), then the app's.
        scopes: tuple[ErrorHandlers, ...] = (self.hooks.error_handlers,)
        if route is not None and route.scope.error_handlers:
            scopes = (*route.scope.error_handlers, *scopes)
        return error_response(request, exc, scopes, self.debug)

    def _after(self, request: Request, response: Response, route: Route | None) -> Response:
        # The route's Routers' after-hooks (innermost first), then the app's, each in reverse
        # registration order as Flask runs them; then the session cookie and a header check.
        if route is not None:
            for hook in route.scope.after:
                result = hook(request, response)
                # PERF: most hooks return the response they got: nothing to make.
                response = result if result is response else make_response(result, hook, request)
        if self.hooks.after:
            for hook in reversed(self.hooks.after):
                result = hook(request, response)
                response = result if result is response else make_response(result, hook, request)
        if request.loaded_session is not None:
            self.sessions.save(request, response)
        # make_response checked the headers of a response it made; a hook or an error may not.
        check_sendable(response)
        return response

    def _teardown(self, request: Request, route: Route | None, error: BaseException | None) -> None:
        # Always, even after a failure; a teardown hook that fails is logged and the rest run.
        hooks = self.hooks.teardown[::-1]
        if route is not None and route.scope.teardown:
            hooks = [*route.scope.teardown, *hooks]
        for hook in hooks:
            try:
                hook(request, error)
            except Exception as exc:
                log_crash(request, exc, "a teardown_request hook failed")

    def _send(
        self,
        request: Request,
        response: Response,
        environ: WSGIEnvironment,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        if self.config["ACCESS_LOG"]:
            log_access(request, response.status_code)
        source, defaults = self._headers
        if source is not self.config["SECURITY_HEADERS"]:
            defaults = self._default_headers()
        body = send(response, environ, start_response, defaults, request.method == "HEAD")
        if request.has_open_files:
            # Uploaded files (temporary files past 500 kB) are closed once the body is sent.
            if type(body) is list:
                request.close()
            else:
                body = ClosingIterator(body, request.close)
        return body

    def _send_plain(
        self,
        request: Request,
        answer: tuple[str, int, list[tuple[str, str]], bytes],
        start_response: StartResponse,
    ) -> list[bytes] | None:
        # _send for `response.plain_answer`'s parts, with send's first path inline (PERF: one
        # call fewer, ~0.2 µs). None, with nothing sent, for an answer werkzeug must send: a 1xx,
        # 204 or 304 (no body), a non-ASCII Location (made a URI).
        status_line, status_code, items, body = answer
        if status_code == 204 or status_code == 304 or status_code < 200:
            return None
        source, defaults = self._headers
        if source is not self.config["SECURITY_HEADERS"]:
            defaults = self._default_headers()
        if len(items) == 2 and (pairs := defaults.plain.get(items[0])) is not None:
            items += pairs  # PERF: with_defaults' first path, inline; the list is the answer's own
        else:
            items, sized = with_defaults(items, defaults)
            if not sized:
                return None
        start_response(status_line, items)
        if self.config["ACCESS_LOG"]:
            log_access(request, status_code)
        if request.has_open_files:
            request.close()  # uploaded files, closed once the body is sent
        return [] if request.method == "HEAD" else [body]

    def _default_headers(self) -> DefaultHeaders:
        # PERF: the security headers are prepared once per SECURITY_HEADERS dict, not per
        # request (the senders call this only when `self._headers` holds another dict); source
        # and result are one attribute, so a thread never sees half of it.
        configured = self.config["SECURITY_HEADERS"]
        defaults = DefaultHeaders.of(configured)
        self._headers = (configured, defaults)
        return defaults

    def _check_csrf(self, request: Request) -> None:
        setting = self.config["CSRF"]
        if setting is None:  # the default: on with a SECRET_KEY, where a forgery could hurt
            if self.config["SECRET_KEY"]:
                csrf.check_form(
                    request, strict=False, session_cookie=self.config["SESSION_COOKIE_NAME"]
                )
        elif setting:
            csrf.check_form(request, strict=True, session_cookie=self.config["SESSION_COOKIE_NAME"])

    def start(self) -> None:
        """Run the startup hooks now, once per process (servers call it as a worker starts)."""
        if not self._started:
            self._start()

    def _start(self) -> None:
        # Threaded servers: a request arriving while the hooks run waits for them, and a hook
        # that fails is tried again by the next request.
        lock = self._start_lock
        if lock is None:
            # Made at the first request, not at import or fork: by then gunicorn's gevent worker
            # has patched threading, so a hook that sleeps or does I/O yields to the greenlets
            # waiting here instead of blocking the one thread they all run on (a deadlock).
            with _LOCK_MAKING:  # held for an instant, never across a hook
                if self._start_lock is None:
                    self._start_lock = threading.Lock()
                lock = self._start_lock
        with lock:
            if self._started:
                return
            if self._request_type.__base__ is not self.request_class:
                self._request_type = self._bind_requests()
            for hook in self.startup_hooks:
                hook(self)
            self._started = True

    # -- helpers for handlers and templates ----------------------------------------------------

    def render(self, template: str, /, **context: Any) -> TemplateResponse:
        """Return a text/html response rendered from `template` with `context`."""
        return TemplateResponse(template, context, self.templates)

    def render_source(self, source: str, /, **context: Any) -> TemplateResponse:
        """Return a text/html response rendered from template text, not a file."""
        return TemplateResponse(self.templates.from_source(source), context, self.templates)

    def render_to_string(
        self, template: str, /, request: Request | None = None, **context: Any
    ) -> str:
        """Render the template file `template` to a string now (with the request's helpers)."""
        return self.templates.render(template, context, request)

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
        """Build the URL of `endpoint` from the app's root; extra values become the query string.

        Inside a handler, `request.url_for` adds the mount point and, with `_external`, the host.
        """
        server_name = self.config["SERVER_NAME"]
        if _external and not server_name:
            raise RuntimeError(
                f"app.url_for({endpoint!r}, _external=True) needs app.config['SERVER_NAME'] "
                "(e.g. 'example.com') to know the host; inside a handler, use "
                "request.url_for(..., _external=True), which takes the request's host"
            )
        return self.table.build(
            endpoint,
            values,
            host=server_name or "localhost",
            scheme=self.config["PREFERRED_URL_SCHEME"] or "http",
            external=_external,
            method=_method,
            anchor=_anchor,
        )

    # -- OpenAPI ---------------------------------------------------------------------------------

    def openapi(
        self, *, title: str = "API", version: str = "0.1.0", description: str = ""
    ) -> dict[str, Any]:
        """Return the OpenAPI 3.1 document of every route, as a dict."""
        from .openapi import document

        return document(self.table.routes, title=title, version=version, description=description)

    def mount_docs(
        self,
        openapi_url: str = "/openapi.json",
        docs_url: str | None = "/docs",
        *,
        title: str = "API",
        version: str = "0.1.0",
        description: str = "",
    ) -> None:
        """Serve the OpenAPI document at `openapi_url` and an interactive page at `docs_url`.

        app.mount_docs()  # after the routes: GET /openapi.json and GET /docs
        """
        from .openapi import mount

        mount(self, openapi_url=openapi_url, docs_url=docs_url, title=title, version=version,
              description=description)  # fmt: skip

    # -- serving and testing -------------------------------------------------------------------

    def run(
        self, host: str = "127.0.0.1", port: int = 8000, *, server: str = "werkzeug", **options: Any
    ) -> None:
        """Serve the app on `host:port` with `server` ("werkzeug", "wsgiref", "gunicorn"...)."""
        from .loading import import_target
        from .servers import run

        run(self, server=server, host=host, port=port, target=import_target(self), **options)

    def test_client(self, use_cookies: bool = True) -> Client:
        """Return werkzeug's test `Client` over this app."""
        from werkzeug.test import Client

        return Client(self, use_cookies=use_cookies)


# A forked worker (gunicorn) runs the startup hooks again, in its own process.
_APPS: weakref.WeakSet[App] = weakref.WeakSet()


_LOCK_MAKING = threading.Lock()


def start_apps() -> None:
    """Run the startup hooks of every App in this process, as a server's worker starts.

    Called by `wsgilite run` (and `wsgilite.gunicorn` under plain gunicorn) in each worker after
    the fork, before it accepts a request, so a cache warmed there is never paid for by a client.
    A hook that fails is logged, and the first request tries it again.
    """
    for app in list(_APPS):
        try:
            app.start()
        except Exception:
            logger.exception("a startup hook of %s failed; the first request will retry it", app)


def _forget_starts() -> None:
    global _LOCK_MAKING
    _LOCK_MAKING = threading.Lock()  # a lock held at fork time stays held in the child
    for app in _APPS:
        app._started = False
        app._start_lock = None


os.register_at_fork(after_in_child=_forget_starts)


def _module_folder(import_name: str) -> str:
    module = sys.modules.get(import_name)
    file = getattr(module, "__file__", None)
    if file:
        return os.path.dirname(os.path.abspath(str(file)))
    return os.getcwd()
