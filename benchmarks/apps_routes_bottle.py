# mypy: disable-error-code="untyped-decorator"
"""Route-count tables as a Bottle 0.13 app: `@app.get` with `<id:int>`.

`build(count)` returns a Bottle app holding `count` routes under /api (see bench_common).
"""

from __future__ import annotations

from bench_common import ROUTE_SHAPES, WSGIApp, resource_answer
from bottle import Bottle


def _add_resource(app: Bottle, n: int) -> None:
    @app.get(f"/api/r{n}")
    def collection() -> dict[str, object]:
        return resource_answer(n)

    @app.get(f"/api/r{n}/<id:int>")
    def item(id: int) -> dict[str, object]:
        return resource_answer(n, id=id)

    @app.get(f"/api/r{n}/<id:int>/comments")
    def comments(id: int) -> dict[str, object]:
        return resource_answer(n, id=id, comments=[])

    @app.get(f"/api/r{n}/<id:int>/labels/<name>")
    def label(id: int, name: str) -> dict[str, object]:
        return resource_answer(n, id=id, name=name)


def build(count: int) -> WSGIApp:
    app = Bottle()
    for n in range(count // ROUTE_SHAPES):
        _add_resource(app, n)
    wsgi_app: WSGIApp = app
    return wsgi_app
