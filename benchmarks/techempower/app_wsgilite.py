"""The seven test types as a wsgilite app, written the way wsgilite's README writes apps.

The pool and the World cache are made in an `@app.on_startup` hook: the documented place for
per-process set-up, run once per process. Under gunicorn with `-c python:wsgilite.gunicorn` (as
the harness serves every app) or `wsgilite run`, it runs as each worker starts, before it accepts
a request; under granian and waitress, on the first request.
"""

from __future__ import annotations

from database import Database, World, bounded

from wsgilite import App, Request, Response

app = App(__name__)  # templates/ beside this module
db = Database()


@app.on_startup
def connect(app: App) -> None:
    db.open()
    db.load_cache()


@app.get("/json")
def json_(request: Request) -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext(request: Request) -> tuple[str, dict[str, str]]:
    return "Hello, World!", {"Content-Type": "text/plain"}


@app.get("/db")
def single_query(request: Request) -> World:
    return db.world()


@app.get("/queries")
def queries(request: Request) -> list[World]:
    return db.worlds(bounded(request.args.get("queries", 1, type=int)))


@app.get("/updates")
def updates(request: Request) -> list[World]:
    return db.update_worlds(bounded(request.args.get("queries", 1, type=int)))


@app.get("/fortunes")
def fortunes(request: Request) -> Response:
    return app.render("fortunes.html", fortunes=db.fortunes())


@app.get("/cached-queries")
def cached_queries(request: Request) -> list[World]:
    return db.cached_worlds(bounded(request.args.get("count", 1, type=int)))
