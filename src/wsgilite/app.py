"""The App: decorators, hooks, and `__call__`, the path of one request through the framework.

`App.__call__` reads as DESIGN.md's diagram: wrap environ, match, before-hooks, handler,
make_response, after-hooks and session cookie, send. Everything a route needs is compiled when it
is registered. The App wires the other modules together; none of them imports it.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import BaseConverter
from werkzeug.routing.exceptions import RequestRedirect
from werkzeug.wsgi import ClosingIterator

from . import csrf
from .config import Config
from .csrf import UNSAFE_METHODS
from .errors import ErrorHandlers, client_fault, http_error_response, internal_error
from .logs import log_access, log_crash
from .request import Request
from .response import DefaultHeaders, Response, check_header_value, make_response, redirect, send
from .routes import Route, Router
from .routing import PATH_SAFE, RouteTable
from .sessions import SessionCookies
from .static import send_static
from .templating import TemplateResponse, Templates

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.test import Client

BeforeHook = Callable[[Request], object]
AfterHook = Callable[[Request, Response], Response]
F = TypeVar("F", bound=Callable[..., Any])


class App(Router):
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
        super().__init__()
        self.import_name = import_name
        self.root_path = root_path or _module_folder(import_name)
        self.config = Config(config)
        self.table = RouteTable()
        self.error_handlers = ErrorHandlers()
        self.before_hooks: list[BeforeHook] = []
        self.after_hooks: list[AfterHook] = []
        self.startup_hooks: list[Callable[[App], object]] = []
        self._started = False
        self._start_lock = threading.Lock()
        self._headers: tuple[object, DefaultHeaders] = (None, DefaultHeaders())
        _APPS.add(self)
        self.sessions = SessionCookies(self.config)
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
        self.table.url_map.converters[name] = converter

    # -- registration --------------------------------------------------------------------------

    def _add(self, route: Route) -> None:
        # Compiled now, so a conflict is an error at registration, never at request time.
        self.table.add(route)
        for folder in route.template_folders:
            self.templates.add_folder(folder)

    def routes(self) -> list[Route]:  # type: ignore[override]
        """Return every route of the app, in registration order."""
        return list(self.table.routes)

    def _add_static_route(self, url_path: str) -> None:
        folder = self.static_folder
        assert folder is not None

        def static(request: Request, filename: str) -> Response:
            return send_static(request, folder, filename, self.config["STATIC_MAX_AGE"])

        self._add(Route(f"{url_path}/<path:filename>", frozenset({"GET"}), static, "static", False))

    def before_request(self, hook: F) -> F:
        """Run `hook(request)` before each handler; a value it returns answers instead.

        @app.before_request
        def require_login(request): ...
        """
        self.before_hooks.append(hook)
        return hook

    def after_request(self, hook: F) -> F:
        """Run `hook(request, response)` on every response; it returns the response to send.

        @app.after_request
        def add_cors(request, response): ...
        """
        self.after_hooks.append(hook)
        return hook

    def on_startup(self, hook: F) -> F:
        """Run `hook(app)` once per process, before its first request is handled."""
        self.startup_hooks.append(hook)
        return hook

    def errorhandler(self, key: int | type[BaseException]) -> Callable[[F], F]:
        """Answer status `key`, or exceptions of class `key`, with `handler(request, error)`.

        @app.errorhandler(404)
        def not_found(request, error): ...
        """

        self.error_handlers.check(key)

        def decorator(handler: F) -> F:
            self.error_handlers.register(key, handler)
            return handler

        return decorator

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
        request = self.request_class(environ, self)
        try:
            response = self.dispatch(request)
        except HTTPException as exc:
            response = self.error_response(request, exc)
        except Exception as exc:  # any other failure: logged with traceback, answered 500
            response = self.crash_response(request, exc)
        # After-hooks run on error responses too, so headers they add survive abort().
        response = self.finish(request, response)
        body = send(response, environ, start_response, self._default_headers())
        if "files" in request.__dict__ and request.files:
            # Uploaded files (temporary files past 500 kB) are closed once the body is sent.
            if type(body) is list:
                request.close()
            else:
                body = ClosingIterator(body, request.close)
        return body

    def dispatch(self, request: Request) -> Response:
        """Match the request, run before-hooks and the handler; return the handler's response."""
        if not self._started:
            self._start()
        if self.config["TRUSTED_HOSTS"]:
            request.host  # noqa: B018 - raises SecurityError (400) for an untrusted Host
        if request.environ.get("CONTENT_LENGTH"):
            # Answered before the handler: a body past the limit is refused even unread.
            limit = request.max_content_length
            length = request.content_length
            if limit is not None and length is not None and length > limit:
                raise RequestEntityTooLarge()
        route, params = self.table.match(request.method, request.path)
        request.path_params = params
        if route.csrf and request.method in UNSAFE_METHODS:
            self._check_csrf(request)
        for hook in self.before_hooks:
            result = hook(request)
            if result is not None:
                return make_response(result, hook)
        result = route.handler(request, **params) if params else route.handler(request)
        return make_response(result, route.handler)

    def error_response(self, request: Request, exc: HTTPException) -> Response:
        """Answer an HTTP error through the user's handler or the default JSON/HTML body."""
        if isinstance(exc, RequestRedirect):
            # The table's location is quoted; keep the mount point and the query string.
            location = quote(request.root_path, safe=PATH_SAFE) + exc.new_url
            query = request.environ.get("QUERY_STRING")
            return redirect(location + (f"?{query}" if query else ""), exc.code)
        try:
            response = self._handled(request, exc)
        except Exception as handler_exc:
            return self.crash_response(request, handler_exc)
        if response is not None:
            return response
        return http_error_response(exc, request.headers.get("Accept"))

    def crash_response(self, request: Request, exc: Exception) -> Response:
        """Answer an exception through its error handler, or log it with its traceback as a 500."""
        try:
            response = self._handled(request, exc)
            if response is not None:
                return response
        except Exception as handler_exc:
            exc = handler_exc
        fault = client_fault(exc)
        if fault is not None:
            return http_error_response(fault, request.headers.get("Accept"))
        if self.debug:
            raise exc  # the interactive debugger (app.run(debug=True)) shows it
        log_crash(request, exc, "500")
        error = internal_error(exc)
        try:
            response = self._handled(request, error)
        except Exception as handler_exc:
            log_crash(request, handler_exc, "the error handler for 500 failed too")
            response = None
        if response is not None:
            return response
        return http_error_response(error, request.headers.get("Accept"))

    def _handled(self, request: Request, error: BaseException) -> Response | None:
        # The user's handler for `error`, if there is one; what it raises, the caller handles.
        handler = self.error_handlers.find(error)
        return None if handler is None else make_response(handler(request, error), handler)

    def finish(self, request: Request, response: Response) -> Response:
        """Render a template body, run after-hooks, write the session and security headers."""
        try:
            if isinstance(response, TemplateResponse):
                response.render(request)
            for hook in self.after_hooks:
                response = make_response(hook(request, response), hook)
            if request._session is not None:
                self.sessions.save(request, response)
            for _, value in response.headers._list:
                if not value.isascii():  # however it was set, a header must be latin-1 to send
                    check_header_value(value)
        except Exception as exc:
            response.close()  # a static file it held is released now, not at collection
            response = self._last_resort(request, exc)
        if self.config["ACCESS_LOG"]:
            log_access(request, response.status_code)
        return response

    def _last_resort(self, request: Request, exc: Exception) -> Response:
        response = self.crash_response(request, exc)
        if isinstance(response, TemplateResponse):
            try:
                response.render(request)
            except Exception as template_exc:
                log_crash(request, template_exc, "the 500 page failed to render")
                return http_error_response(internal_error(exc), request.headers.get("Accept"))
        return response

    def _default_headers(self) -> DefaultHeaders:
        # PERF: the security headers are prepared once per SECURITY_HEADERS dict, not per
        # request; source and result are one attribute, so a thread never sees half of it.
        configured = self.config["SECURITY_HEADERS"]
        source, defaults = self._headers
        if configured is not source:
            defaults = DefaultHeaders.of(configured)
            self._headers = (configured, defaults)
        return defaults

    def _check_csrf(self, request: Request) -> None:
        setting = self.config["CSRF"]
        if setting is None:  # the default: on with a SECRET_KEY, where a forgery could hurt
            if self.config["SECRET_KEY"]:
                csrf.check_form(request, False, self.config["SESSION_COOKIE_NAME"])
        elif setting:
            csrf.check_form(request, True, self.config["SESSION_COOKIE_NAME"])

    def _start(self) -> None:
        # Threaded servers: a request arriving while the hooks run waits for them, and a hook
        # that fails is tried again by the next request.
        with self._start_lock:
            if self._started:
                return
            for hook in self.startup_hooks:
                hook(self)
            self._started = True

    # -- helpers for handlers and templates ----------------------------------------------------

    def render(self, template: str, /, **context: Any) -> TemplateResponse:
        """Return a text/html response rendered from `template` with `context`."""
        return TemplateResponse(template, context, self.templates)

    def render_string(
        self, template: str, /, request: Request | None = None, **context: Any
    ) -> str:
        """Render `template` to a string now (with the request's helpers when given)."""
        return str(self.templates.render(template, context, request))

    def url_for(
        self,
        endpoint: str,
        *,
        _external: bool = False,
        _method: str | None = None,
        _anchor: str | None = None,
        _request: Request | None = None,
        **values: Any,
    ) -> str:
        """Build the URL of `endpoint`; extra values become the query string."""
        if _request is not None:
            host = _request.host if _external else "localhost"
            script_name, scheme = _request.root_path, _request.scheme
        else:
            host = self.config["SERVER_NAME"] or "localhost"
            script_name, scheme = "", self.config["PREFERRED_URL_SCHEME"] or "http"
        return self.table.build(
            endpoint,
            values,
            script_name=script_name,
            host=host,
            scheme=scheme,
            external=_external,
            method=_method,
            anchor=_anchor,
        )

    # -- serving and testing -------------------------------------------------------------------

    def run(
        self,
        server: str = "werkzeug",
        host: str = "127.0.0.1",
        port: int = 8000,
        **options: Any,
    ) -> None:
        """Serve the app with `server` ("wsgiref", "werkzeug" or "gunicorn") until stopped."""
        from .servers import import_target, run

        run(self, server=server, host=host, port=port, target=import_target(self), **options)

    def test_client(self, use_cookies: bool = True) -> Client:
        """Return werkzeug's test `Client` over this app."""
        from werkzeug.test import Client

        return Client(self, use_cookies=use_cookies)


# A forked worker (gunicorn) runs the startup hooks again, in its own process.
_APPS: weakref.WeakSet[App] = weakref.WeakSet()


def _forget_starts() -> None:
    for app in _APPS:
        app._started = False
        app._start_lock = threading.Lock()  # a lock held at fork time stays held in the child


os.register_at_fork(after_in_child=_forget_starts)


def _module_folder(import_name: str) -> str:
    module = sys.modules.get(import_name)
    file = getattr(module, "__file__", None)
    if file:
        return os.path.dirname(os.path.abspath(str(file)))
    return os.getcwd()
