"""`python -m examples.conduit migrate` creates or upgrades the tables; `serve` runs the API.

Both read the same settings as the app (DATABASE_URL, WSGILITE_* variables).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .app import create_app
from .schema import migrate
from .state import services_of


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="python -m examples.conduit")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the database tables")
    serve = commands.add_parser("serve", help="serve the API (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--server", default="werkzeug", choices=("werkzeug", "wsgiref"))
    args = parser.parse_args(argv)
    app = create_app({"AUTO_MIGRATE": args.command == "serve"})
    database = services_of(app).database
    if args.command == "migrate":
        applied = migrate(database)
        database.close()
        print(f"{database.kind}: {applied} migration(s) applied; the schema is up to date")
        return 0
    app.run(server=args.server, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
