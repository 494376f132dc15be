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
import os
import socketserver
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .logs import escape

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SERVERS = ("wsgiref", "werkzeug", "gunicorn", "granian", "waitress")
DEFAULT_THREADS = 4  # per gunicorn gthread worker, per granian worker, for waitress

logger = logging.getLogger("wsgilite.server")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    # wsgiref's own request line, escaped, at DEBUG on a child logger: the access line a user
    # asks for (ACCESS_LOG) is the app's, one per request.
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), escape(format % args))


class AppNotFound(SystemExit):
    """The named module or attribute does not exist."""


def load_app(target: str, fresh: bool = False) -> Any:
    """Import and return the WSGI app named by `module:attribute` or `file.py:attribute`.

    `fresh` imports the app's modules anew (from their folder), for a reloading worker.
    """
    module_name, _, attribute = target.partition(":")
    attribute = attribute or "app"
    if fresh:
        _forget_modules_beside(module_name)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if module_name.endswith(".py") or os.sep in module_name:
        path = os.path.abspath(module_name)
        if not os.path.isfile(path):
            raise AppNotFound(f"no such file: {module_name}")
        sys.path.insert(0, os.path.dirname(path))
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name.split(".")[0] and exc.name != module_name:
                raise
            raise AppNotFound(
                f"cannot import {module_name!r}: run from the folder that contains it, "
                "or name the file: wsgilite run path/to/app.py:app"
            ) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise AppNotFound(f"{module_name!r} has no attribute {attribute!r}") from None


def _forget_modules_beside(module_name: str) -> None:
    # The app's folder: its file's, or its top package's. Every module loaded from there is
    # dropped, so the next import reads the code as it is now.
    if module_name.endswith(".py") or os.sep in module_name:
        folder = os.path.dirname(os.path.abspath(module_name))
    else:
        top = sys.modules.get(module_name.split(".")[0])
        file = getattr(top, "__file__", None)
        if file is None:
            return
        folder = os.path.dirname(os.path.abspath(file))
        if os.path.basename(file) == "__init__.py":
            folder = os.path.dirname(folder)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and os.path.abspath(file).startswith(folder + os.sep):
            del sys.modules[name]


def import_target(app: Any) -> str | None:
    """Return `module:attribute` (or `file.py:attribute`) that names `app`, if one does."""
    module = sys.modules.get(getattr(app, "import_name", "") or "")
    if module is None:
        return None
    for attribute, value in vars(module).items():
        if value is app:
            if module.__name__ == "__main__":
                file = getattr(module, "__file__", None)
                return f"{file}:{attribute}" if file else None
            return f"{module.__name__}:{attribute}"
    return None


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
        run_simple(
            host, port, app, use_reloader=reload, use_debugger=debug, threaded=True, **options
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
        # gthread keeps connections alive; each worker serves `threads` clients at once, so as
        # many slow clients can hold it. For many slow clients use worker_class="gevent".
        "worker_class": "gthread",
        "threads": DEFAULT_THREADS,
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
