"""The seven test types as a Bottle 0.13 app: decorated functions, `request.query`, `response`.

Bottle turns a returned dict into JSON, not a list, so lists are dumped by hand. Its own
`jinja2_template` does not autoescape, so the template comes from a Jinja2 environment with
`select_autoescape()`. The module is imported in each worker: pool and cache are made there.
"""

from __future__ import annotations

import json
from pathlib import Path

import bottle
from bottle import request, response
from database import Database, World, bounded
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"

app = bottle.Bottle()
db = Database()
db.open()
db.load_cache()
fortunes_template = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape()
).get_template("fortunes.html")


def count_param(name: str) -> int:
    try:
        return bounded(int(request.query.get(name, "1")))
    except ValueError:
        return 1


def as_json(worlds: list[World]) -> str:
    response.content_type = "application/json"
    return json.dumps(worlds)


@app.get("/json")
def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext() -> str:
    response.content_type = "text/plain"
    return "Hello, World!"


@app.get("/db")
def single_query() -> World:
    return db.world()


@app.get("/queries")
def queries() -> str:
    return as_json(db.worlds(count_param("queries")))


@app.get("/updates")
def updates() -> str:
    return as_json(db.update_worlds(count_param("queries")))


@app.get("/fortunes")
def fortunes() -> str:
    response.content_type = "text/html; charset=utf-8"
    return fortunes_template.render(fortunes=db.fortunes())


@app.get("/cached-queries")
def cached_queries() -> str:
    return as_json(db.cached_worlds(count_param("count")))
