"""The seven test types as a Falcon 4 app: one resource class per path, `resp.media` for JSON.

The module is imported in each gunicorn worker, so `create_app()` makes the pool and the cache
there, at worker start.
"""

from __future__ import annotations

from pathlib import Path

import falcon
from database import Database, bounded
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


def count_param(req: falcon.Request, name: str) -> int:
    try:
        return bounded(req.get_param_as_int(name, default=1))
    except falcon.HTTPInvalidParam:  # not a number, or empty
        return 1


class JSONResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Hello, World!"}


class PlaintextResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class DBResource:
    def __init__(self, db: Database) -> None:
        self.db = db

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.db.world()


class QueriesResource:
    def __init__(self, db: Database) -> None:
        self.db = db

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.db.worlds(count_param(req, "queries"))


class UpdatesResource:
    def __init__(self, db: Database) -> None:
        self.db = db

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.db.update_worlds(count_param(req, "queries"))


class FortunesResource:
    def __init__(self, db: Database) -> None:
        self.db = db
        jinja = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
        self.template = jinja.get_template("fortunes.html")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.template.render(fortunes=self.db.fortunes())


class CachedQueriesResource:
    def __init__(self, db: Database) -> None:
        self.db = db

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.db.cached_worlds(count_param(req, "count"))


def create_app() -> falcon.App[falcon.Request, falcon.Response]:
    db = Database()
    db.open()
    db.load_cache()
    app = falcon.App()
    app.add_route("/json", JSONResource())
    app.add_route("/plaintext", PlaintextResource())
    app.add_route("/db", DBResource(db))
    app.add_route("/queries", QueriesResource(db))
    app.add_route("/updates", UpdatesResource(db))
    app.add_route("/fortunes", FortunesResource(db))
    app.add_route("/cached-queries", CachedQueriesResource(db))
    return app


app = create_app()
