"""Route-count tables as a Flask 3.1 app: `@app.route` with `<int:id>`.

`build(count)` returns a Flask app holding `count` routes under /api (see bench_common).
"""

from __future__ import annotations

from bench_common import ROUTE_SHAPES, WSGIApp, resource_answer
from flask import Flask


def _add_resource(app: Flask, n: int) -> None:
    @app.route(f"/api/r{n}", endpoint=f"r{n}_collection")
    def collection() -> dict[str, object]:
        return resource_answer(n)

    @app.route(f"/api/r{n}/<int:id>", endpoint=f"r{n}_item")
    def item(id: int) -> dict[str, object]:
        return resource_answer(n, id=id)

    @app.route(f"/api/r{n}/<int:id>/comments", endpoint=f"r{n}_comments")
    def comments(id: int) -> dict[str, object]:
        return resource_answer(n, id=id, comments=[])

    @app.route(f"/api/r{n}/<int:id>/labels/<name>", endpoint=f"r{n}_label")
    def label(id: int, name: str) -> dict[str, object]:
        return resource_answer(n, id=id, name=name)


def build(count: int) -> WSGIApp:
    app = Flask(__name__)
    for n in range(count // ROUTE_SHAPES):
        _add_resource(app, n)
    return app
