"""`create_app(settings)`: the Conduit API as a wsgilite App, on SQLite or PostgreSQL.

Settings come from, in order of precedence: the `settings` mapping, `WSGILITE_<NAME>`
environment variables, `DATABASE_URL` (the usual variable of hosted databases), the defaults
below. `DATABASE_URL=postgresql://...` selects PostgreSQL; without it the SQLite file
`DATABASE` is used (created, with its tables, on the first request).

`SECRET_KEY` signs the tokens. Every process that serves the API must have the same one: set
`WSGILITE_SECRET_KEY` (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`). On
SQLite without one, a key is made once and kept beside the database file, so the workers of one
machine agree; on PostgreSQL, whose workers may run on many machines, the key is required.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException

from wsgilite import App, Request

from .db import DatabaseUnavailable, SQLiteDatabase, open_database
from .routes import ROUTERS
from .schema import migrate
from .state import Services, Settings, install
from .validation import ApiError

HERE = Path(__file__).resolve().parent

DEFAULTS: dict[str, Any] = {
    "DATABASE": str(HERE / "instance" / "conduit.db"),  # the SQLite file, without DATABASE_URL
    "DATABASE_URL": None,  # postgresql://user:password@host:5432/name selects PostgreSQL
    "DATABASE_POOL_MIN": 1,  # PostgreSQL connections per process: kept open...
    "DATABASE_POOL_MAX": 10,  # ...and at most (>= gunicorn --threads)
    "DATABASE_TIMEOUT": 10.0,  # seconds to wait for a pool connection or a SQLite lock
    "AUTO_MIGRATE": True,  # create or upgrade the tables before a process's first request
    "TOKEN_LIFETIME": 30 * 24 * 3600,  # seconds a token stays valid
    "PASSWORD_HASH_METHOD": "scrypt",  # werkzeug's generate_password_hash method
    # RealWorld's Postman collection checks `body` in list items; its 2024 prose drops it.
    "ARTICLE_LIST_BODY": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
}

logger = logging.getLogger("wsgilite.conduit")


def create_app(settings: Mapping[str, Any] | None = None) -> App:
    """Build the Conduit API; `settings` override environment variables and defaults."""
    app = App(__name__, root_path=str(HERE), template_folder=None, static_folder=None)
    app.config.update(DEFAULTS)
    app.config.from_env()
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = os.environ.get("DATABASE_URL") or None
    app.config.from_mapping(settings)
    config = app.config
    database = open_database(
        config["DATABASE_URL"],
        config["DATABASE"],
        pool_min=int(config["DATABASE_POOL_MIN"]),
        pool_max=int(config["DATABASE_POOL_MAX"]),
        timeout=float(config["DATABASE_TIMEOUT"]),
    )
    if not config["SECRET_KEY"]:
        if not isinstance(database, SQLiteDatabase):
            raise RuntimeError(
                "Conduit on PostgreSQL needs SECRET_KEY, the same in every process that serves "
                "it: export WSGILITE_SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_hex(32))')"
            )
        config["SECRET_KEY"] = kept_secret(database.path.with_name("conduit-secret.key"))
    if len(str(config["SECRET_KEY"]).encode()) < 32:
        # RFC 7518: an HS256 key has at least 32 bytes (PyJWT warns on every token otherwise).
        raise RuntimeError(
            "Conduit's SECRET_KEY must have at least 32 bytes: secrets.token_hex(32)"
        )
    install(
        app,
        Services(
            database=database,
            settings=Settings(
                secret_key=str(config["SECRET_KEY"]),
                token_lifetime=int(config["TOKEN_LIFETIME"]),
                password_method=str(config["PASSWORD_HASH_METHOD"]),
                list_bodies=bool(config["ARTICLE_LIST_BODY"]),
            ),
        ),
    )
    for router in ROUTERS:
        app.include(router)

    @app.on_startup
    def create_schema(app: App) -> None:
        if app.config["AUTO_MIGRATE"]:
            applied = migrate(database)
            if applied:
                logger.info(
                    "conduit: applied %d migration(s) to the %s database", applied, database.kind
                )

    @app.errorhandler(ApiError)
    def api_error(request: Request, error: ApiError) -> tuple[dict[str, Any], int, dict[str, str]]:
        return error.body(), error.status, error.headers

    @app.errorhandler(DatabaseUnavailable)
    def database_unavailable(
        request: Request, error: DatabaseUnavailable
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        logger.warning("conduit: answered 503: %s", error)
        body = {"errors": {"body": ["the database is unavailable; try again shortly"]}}
        return body, 503, {"Retry-After": "1"}

    @app.errorhandler(HTTPException)
    def http_error(
        request: Request, error: HTTPException
    ) -> tuple[dict[str, Any], int, list[tuple[str, str]]]:
        # 400, 404, 405 (with Allow), 413, 415, 500...: the same JSON shape as every error here.
        headers = [
            (name, value) for name, value in error.get_headers() if name.lower() != "content-type"
        ]
        message = error.description or error.name
        return {"errors": {"body": [message]}}, error.code or 500, headers

    return app


def kept_secret(path: Path) -> str:
    """The key stored at `path`, made (readable by its owner only) if there is none yet."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as file:
        file.write(secrets.token_hex(32))
    try:
        os.chmod(file.name, 0o600)
        os.link(file.name, path)  # atomic: if workers race, one key wins and all read it
    except FileExistsError:
        pass
    finally:
        os.unlink(file.name)
    logger.warning("conduit: no SECRET_KEY set; using the key kept in %s", path)
    return path.read_text().strip()
