"""The `wsgilite` command: `wsgilite run module:app` serves an app, `wsgilite routes` lists it.

`wsgilite --version` prints the installed version.

An app is named as `package.module:attribute` or `path/to/file.py:attribute` (the attribute
defaults to `app`). The current folder is importable, as it is for gunicorn.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .loading import load_app
from .servers import SERVERS, RemoteDebugRefused, check_debug_host, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsgilite", description="Serve and inspect wsgilite apps."
    )
    parser.add_argument("--version", action="version", version=f"wsgilite {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("run", help="serve an app")
    serve.add_argument("app", help="module:app or path/to/file.py:app")
    serve.add_argument("--server", choices=SERVERS, default="werkzeug")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (gunicorn, granian)"
    )
    serve.add_argument(
        "--worker-class",
        default=None,
        help="gunicorn worker class: gevent (default when installed), else gthread; or sync",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per gunicorn gthread worker (32), per granian worker, or of waitress (4)",
    )
    serve.add_argument("--debug", action="store_true", help="interactive debugger (never public)")
    serve.add_argument("--reload", action="store_true", help="restart when code changes")
    serve.add_argument(
        "--allow-remote-debug",
        action="store_true",
        help="allow --debug on a host other than loopback (it lets anyone run code)",
    )
    routes = commands.add_parser("routes", help="print the route table")
    routes.add_argument("app", help="module:app or path/to/file.py:app")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `wsgilite` command line."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        try:
            check_debug_host(args.host, args.debug, args.allow_remote_debug)
        except RemoteDebugRefused as exc:
            print(exc, file=sys.stderr)
            return 2
        refusal = _refusal(args)
        if refusal:
            print(refusal, file=sys.stderr)
            return 2
    app = load_app(args.app)
    if args.command == "routes":
        print(format_routes(app))
        return 0
    server_options = {
        name: value
        for name, value in (("worker_class", args.worker_class), ("threads", args.threads))
        if value is not None
    }
    run(
        app,
        server=args.server,
        host=args.host,
        port=args.port,
        workers=args.workers,
        debug=args.debug,
        reload=args.reload,
        allow_remote_debug=args.allow_remote_debug,
        target=args.app,
        **server_options,
    )
    return 0


THREADED_SERVERS = ("gunicorn", "granian", "waitress")


def _refusal(args: argparse.Namespace) -> str | None:
    # Options the chosen server has no use for are refused rather than silently ignored.
    if args.worker_class is not None and args.server != "gunicorn":
        return "--worker-class applies to --server gunicorn only"
    if args.threads is not None and args.server not in THREADED_SERVERS:
        return "--threads applies to --server gunicorn, granian or waitress only"
    if args.server == "waitress" and args.workers != 1:
        return "waitress serves from one process: use --threads, not --workers"
    if args.server == "granian" and args.reload:
        return "granian does not reload: develop with --server werkzeug --reload"
    return None


def format_routes(app: Any) -> str:
    """Return the app's route table as aligned text: methods, rule, endpoint."""
    rows = [("METHODS", "RULE", "ENDPOINT")]
    for route in app.routes():
        methods = set(route.methods)
        if "GET" in methods:
            methods.add("HEAD")
        rows.append((",".join(sorted(methods)), route.rule, route.endpoint))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


if __name__ == "__main__":
    raise SystemExit(main())
