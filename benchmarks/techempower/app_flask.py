"""The seven test types as a Flask 3 app: decorated views, `request.args`, `render_template`.

Flask has no per-worker start hook; the module is imported in each gunicorn worker, so the pool
and the cache are made at import, in the worker.
"""

from __future__ import annotations

from database import Database, World, bounded
from flask import Flask, render_template, request

app = Flask(__name__)  # templates/ beside this module
db = Database()
db.open()
db.load_cache()


@app.get("/json")
def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext() -> tuple[str, dict[str, str]]:
    return "Hello, World!", {"Content-Type": "text/plain"}


@app.get("/db")
def single_query() -> World:
    return db.world()


@app.get("/queries")
def queries() -> list[World]:
    return db.worlds(bounded(request.args.get("queries", 1, type=int)))


@app.get("/updates")
def updates() -> list[World]:
    return db.update_worlds(bounded(request.args.get("queries", 1, type=int)))


@app.get("/fortunes")
def fortunes() -> str:
    return render_template("fortunes.html", fortunes=db.fortunes())


@app.get("/cached-queries")
def cached_queries() -> list[World]:
    return db.cached_worlds(bounded(request.args.get("count", 1, type=int)))
