"""Servers: one `run(app, server=...)` for wsgiref, werkzeug, gunicorn, granian and waitress.

wsgiref comes with Python (threaded here, so one slow client does not stall the rest); werkzeug's
server adds the reloader and the interactive debugger; gunicorn runs embedded through its
application API, with its own workers. granian (a Rust HTTP server) serves through its WSGI
interface with worker processes of its own; waitress is pure Python, one process with threads.
gunicorn, granian and waitress are optional installs. This module knows only the WSGI callable it
serves.
"""

from __future__ import annotations

import importlib
import importlib.util
import ipaddress
import logging
import multiprocessing
import socketserver
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from .chunked import ChunkedBody
from .loading import import_target, load_app
from .logs import escape

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SERVERS = ("wsgiref", "werkzeug", "gunicorn", "granian", "waitress")
DEFAULT_THREADS = 4  # per gunicorn gthread worker, per granian worker, for waitress

logger = logging.getLogger("wsgilite.server")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """wsgiref's request handler, quiet, and decoding chunked bodies, which wsgiref does not."""

    # wsgiref's own request line, escaped, at DEBUG on a child logger: the access line a user
    # asks for (ACCESS_LOG) is the app's, one per request.
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), escape(format % args))

    def handle(self) -> None:
        # wsgiref's handle(), except for the body: wsgiref hands a chunked body over still
        # encoded, with no length and no wsgi.input_terminated, so an app would read it as empty.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # wsgiref has sent the error
            return
        environ = self.get_environ()
        body: Any = self.rfile
        coding = environ.get("HTTP_TRANSFER_ENCODING")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                self.send_error(501, "Only the chunked transfer coding is understood")
                return
            # The coding wins over a Content-Length (RFC 9112, 6.3); wsgiref closes the
            # connection after every request, so nothing can be smuggled after the body.
            environ.pop("CONTENT_LENGTH", None)
            environ["wsgi.input_terminated"] = True
            body = ChunkedBody(self.rfile)
        output: Any = self.wfile
        handler = ServerHandler(body, output, self.get_stderr(), environ, multithread=False)
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref logs through it
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


def is_loopback(host: str) -> bool:
    """Tell whether `host` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def check_debug_host(host: str, debug: bool, allow_remote_debug: bool) -> None:
    """Refuse the interactive debugger on a host others can reach, unless explicitly allowed."""
    if debug and not allow_remote_debug and not is_loopback(host):
        raise RemoteDebugRefused(
            f"refusing --debug on {host}: the debugger lets anyone who reaches it run code. "
            "Serve on 127.0.0.1, or add --allow-remote-debug if you really mean it."
        )


class RemoteDebugRefused(ValueError):
    """debug=True was asked for on a host that is not loopback."""


def run(
    app: WSGIApplication,
    server: str = "werkzeug",
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    debug: bool = False,
    reload: bool = False,
    allow_remote_debug: bool = False,
    target: str | None = None,
    **options: Any,
) -> None:
    """Serve `app` on `host:port` with `server` until interrupted.

    `target` names the app (`module:app`); gunicorn's workers re-import it from there when
    `reload` is on, as their copy of `app` would never change.
    """
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")
    check_debug_host(host, debug, allow_remote_debug)
    if debug and hasattr(app, "debug"):
        app.debug = True
    if server == "werkzeug":
        from werkzeug.serving import is_running_from_reloader, run_simple

        if not reload or is_running_from_reloader():
            start_in_worker()  # in the process that serves, not in the reloader's watcher
        served = _raw_bytes_as_sent(app)
        run_simple(
            host, port, served, use_reloader=reload, use_debugger=debug, threaded=True, **options
        )
    elif server == "wsgiref":
        _run_wsgiref(_debugged(app) if debug else app, host, port, reload)
    elif server == "waitress":
        _run_waitress(_debugged(app) if debug else app, host, port, workers, reload, options)
    elif server == "granian":
        _run_granian(app, host, port, workers, options, target, reload, debug)
    else:
        if reload and target is None:
            target = import_target(app)
            if target is None:
                raise ValueError(
                    "reload under gunicorn needs to know where the app lives; serve it with "
                    "`wsgilite run module:app --server gunicorn --reload`"
                )
        _run_gunicorn(app, host, port, workers, options, target if reload else None, debug=debug)


def start_in_worker(worker: object = None) -> None:
    """Run every App's startup hooks in this process (gunicorn's post_worker_init signature)."""
    from .app import start_apps

    start_apps()


def _raw_bytes_as_sent(app: WSGIApplication) -> WSGIApplication:
    """Wrap `app` so raw non-ASCII bytes in the URL reach it as sent, under werkzeug's server.

    werkzeug's server reads the request line as latin-1, then encodes it as UTF-8 for the
    environ: a raw `?q=\xc3\xa9` arrives as the four bytes of "Ã©" (double-encoded), where
    wsgiref and PEP 3333 pass the two bytes sent. Percent-escapes are not affected.
    """

    def undance(value: str) -> str:
        return value.encode("latin-1").decode("utf-8")  # exact: the value was UTF-8 encoded

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("REQUEST_URI", "")
        if not target.isascii():
            try:
                raw = undance(target)
                environ["REQUEST_URI"] = environ["RAW_URI"] = raw
                environ["QUERY_STRING"] = undance(environ.get("QUERY_STRING", ""))
                path = raw.partition("?")[0]
                if "://" in path[:12]:  # an absolute-form target: keep only its path
                    path = "/" + path.split("://", 1)[1].partition("/")[2]
                environ["PATH_INFO"] = unquote(path, "latin-1")
            except (UnicodeError, KeyError):
                pass  # not werkzeug's doing: leave the environ as the server made it
        return app(environ, start_response)

    return wrapped


def _debugged(app: WSGIApplication) -> WSGIApplication:
    from werkzeug.debug import DebuggedApplication

    return DebuggedApplication(app, evalex=True)


def _run_wsgiref(app: WSGIApplication, host: str, port: int, reload: bool) -> None:
    def threaded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # wsgiref's handler always says multithread=False; here each request has a thread.
        environ["wsgi.multithread"] = True
        return app(environ, start_response)

    def serve() -> None:
        start_in_worker()  # in the reloader's child, never in the parent that only watches
        with make_server(
            host, port, threaded, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        ) as httpd:
            print(f" * wsgilite on wsgiref: http://{host}:{port}/ (Ctrl+C to quit)", flush=True)
            httpd.serve_forever()

    if reload:
        from .werkzeug_private import run_with_reloader

        run_with_reloader(serve)
    else:
        serve()


def gunicorn_defaults(worker_class: str | None = None) -> dict[str, Any]:
    """Return gunicorn settings a handful of slow clients cannot stall.

    gevent when it is installed: a connection costs a greenlet, not a thread, and a request
    whose headers take longer than the keep-alive (5 s) is dropped. Otherwise gthread with 32
    threads a worker: a client that sends its headers slowly holds a thread while it does. Either
    way, this is for serving behind a buffering proxy (nginx), which is what shields the app from
    slow clients in production.
    """
    if worker_class is None:
        worker_class = "gevent" if importlib.util.find_spec("gevent") is not None else "gthread"
    settings: dict[str, Any] = {
        "worker_class": worker_class,
        "keepalive": 5,  # seconds an idle connection, or a gevent request's headers, may take
        "timeout": 30,  # a worker silent this long is killed and replaced
        "graceful_timeout": 10,
    }
    if worker_class == "gthread":
        settings["threads"] = 32  # not with sync: gunicorn turns sync with threads into gthread
    elif worker_class == "gevent":
        settings["worker_connections"] = 1000
    return settings


def _run_gunicorn(
    app: WSGIApplication,
    host: str,
    port: int,
    workers: int,
    options: dict[str, Any],
    reload_target: str | None,
    debug: bool,
) -> None:
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise SystemExit(
            "server='gunicorn' needs gunicorn: pip install 'wsgilite[gunicorn]'"
        ) from None

    settings: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "reload": reload_target is not None,
        **gunicorn_defaults(options.get("worker_class")),
        "accesslog": "-",
        **options,
    }

    # Each worker runs the apps' startup hooks after the fork, before it accepts a request.
    settings.setdefault("post_worker_init", start_in_worker)

    class _Embedded(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Callable[..., Any]:
            # A reloading worker imports the app's code anew; otherwise the app at hand serves.
            served = load_app(reload_target, fresh=True) if reload_target else app
            if debug and hasattr(served, "debug"):
                served.debug = True
            return _debugged(served) if debug else served

    _Embedded().run()


def _run_waitress(
    app: WSGIApplication,
    host: str,
    port: int,
    workers: int,
    reload: bool,
    options: dict[str, Any],
) -> None:
    try:
        import waitress
    except ImportError:
        raise SystemExit(
            "server='waitress' needs waitress: pip install 'wsgilite[waitress]'"
        ) from None
    if workers != 1:
        raise ValueError(
            "waitress serves from one process with threads; use threads=N instead of workers"
        )
    settings = {"threads": DEFAULT_THREADS, **options}

    def serve() -> None:
        start_in_worker()
        print(f" * wsgilite on waitress: http://{host}:{port}/ (Ctrl+C to quit)", flush=True)
        waitress.serve(app, host=host, port=port, **settings)

    if reload:
        from .werkzeug_private import run_with_reloader

        run_with_reloader(serve)
    else:
        serve()


class _GranianLoader:
    """What a granian worker calls to get the app: the app at hand, or the app imported by name.

    A forked worker inherits the app (as gunicorn's do). Where workers are spawned instead of
    forked, this object is pickled, so it carries the app's import name rather than the app.
    """

    def __init__(
        self, app: WSGIApplication | None, target: str | None, debug: bool, processes: bool
    ) -> None:
        self.app = app
        self.target = target
        self.debug = debug
        self.processes = processes

    def __call__(self) -> WSGIApplication:
        served = self.app if self.app is not None else load_app(str(self.target))
        if self.debug and hasattr(served, "debug"):
            served.debug = True
        start_in_worker()
        if self.debug:
            served = _debugged(served)
        return _multiprocess(served) if self.processes else served

    def __getstate__(self) -> dict[str, Any]:
        return {**vars(self), "app": None}


def _multiprocess(app: WSGIApplication) -> WSGIApplication:
    def several_processes(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # granian says wsgi.multiprocess=False whatever its worker count; PEP 3333 wants True.
        environ["wsgi.multiprocess"] = True
        return app(environ, start_response)

    return several_processes


def _run_granian(
    app: WSGIApplication,
    host: str,
    port: int,
    workers: int,
    options: dict[str, Any],
    target: str | None,
    reload: bool,
    debug: bool,
) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces
    except ImportError:
        raise SystemExit(
            "server='granian' needs granian: pip install 'wsgilite[granian]'"
        ) from None
    if reload:
        raise ValueError(
            "server='granian' does not reload; develop with server='werkzeug' and reload=True"
        )
    settings = dict(options)
    threads = settings.pop("threads", DEFAULT_THREADS)
    forked = multiprocessing.get_start_method() == "fork"
    if not forked and target is None:
        target = import_target(app)
        if target is None:
            raise ValueError(
                "granian starts its workers by importing the app here; serve it with "
                "`wsgilite run module:app --server granian`"
            )
    loader = _GranianLoader(app if forked else None, target, debug, processes=workers > 1)
    server = Granian(
        target or "wsgilite",
        address=host.strip("[]"),
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        websockets=False,
        **settings,
    )
    print(f" * wsgilite on granian: http://{host}:{port}/ (Ctrl+C to quit)", flush=True)
    server.serve(target_loader=loader, wrap_loader=False)
