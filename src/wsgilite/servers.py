"""Servers: one `run(app, server=...)` for wsgiref, werkzeug's development server and gunicorn.

wsgiref comes with Python (threaded here, so one slow client does not stall the rest); werkzeug's
server adds the reloader and the interactive debugger; gunicorn runs embedded through its
application API, with its own workers. This module knows only the WSGI callable it serves.
"""

from __future__ import annotations

import ipaddress
import logging
import socketserver
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SERVERS = ("wsgiref", "werkzeug", "gunicorn")

logger = logging.getLogger("wsgilite")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s - %s", self.address_string(), format % args)


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
    **options: Any,
) -> None:
    """Serve `app` on `host:port` with `server` until interrupted."""
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")
    check_debug_host(host, debug, allow_remote_debug)
    if debug and hasattr(app, "debug"):
        app.debug = True
    if server == "werkzeug":
        from werkzeug.serving import run_simple

        run_simple(
            host, port, app, use_reloader=reload, use_debugger=debug, threaded=True, **options
        )
    elif server == "wsgiref":
        _run_wsgiref(_debugged(app) if debug else app, host, port, reload)
    else:
        _run_gunicorn(_debugged(app) if debug else app, host, port, workers, reload, options)


def _debugged(app: WSGIApplication) -> WSGIApplication:
    from werkzeug.debug import DebuggedApplication

    return DebuggedApplication(app, evalex=True)


def _run_wsgiref(app: WSGIApplication, host: str, port: int, reload: bool) -> None:
    def threaded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # wsgiref's handler always says multithread=False; here each request has a thread.
        environ["wsgi.multithread"] = True
        return app(environ, start_response)

    def serve() -> None:
        with make_server(
            host, port, threaded, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        ) as httpd:
            print(f" * wsgilite on wsgiref: http://{host}:{port}/ (Ctrl+C to quit)", flush=True)
            httpd.serve_forever()

    if reload:
        from werkzeug._reloader import run_with_reloader

        run_with_reloader(serve)
    else:
        serve()


def _run_gunicorn(
    app: WSGIApplication, host: str, port: int, workers: int, reload: bool, options: dict[str, Any]
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
        "reload": reload,
        # gthread keeps connections alive; each worker serves `threads` clients at once, so as
        # many slow clients can hold it. For many slow clients use worker_class="gevent".
        "worker_class": "gthread",
        "threads": 4,
        "accesslog": "-",
        **options,
    }

    class _Embedded(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Callable[..., Any]:
            return app

    _Embedded().run()
