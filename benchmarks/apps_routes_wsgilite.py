"""Route-count tables as a wsgilite app: one Router(prefix=f"/api/rN") per resource.

`build(count)` returns an App holding `count` routes under /api (see bench_common); it is
imported and called in a fresh process to time building the app and its first request.
"""

from __future__ import annotations

from bench_common import ROUTE_SHAPES, WSGIApp, resource_answer

from wsgilite import App, Request, Router

# The intended style is one Router(prefix=f"/api/r{n}") per resource with the rules "",
# "/<int:id>", ... The rule "" (the prefix itself) is being added to Router; until it lands the
# same routes go on the app as full paths, with the same endpoint names. True: Router style.
ROUTER_PER_RESOURCE = True


def _add_resource(target: App | Router, n: int, base: str, endpoints: str) -> None:
    # On a Router, base is "" and the Router qualifies the endpoints ("api.r7.labels").
    @target.get(base, endpoint=f"{endpoints}collection")
    def collection(request: Request) -> dict[str, object]:
        return resource_answer(n)

    @target.get(f"{base}/<int:id>", endpoint=f"{endpoints}item")
    def item(request: Request, id: int) -> dict[str, object]:
        return resource_answer(n, id=id)

    @target.get(f"{base}/<int:id>/comments", endpoint=f"{endpoints}comments")
    def comments(request: Request, id: int) -> dict[str, object]:
        return resource_answer(n, id=id, comments=[])

    @target.get(f"{base}/<int:id>/labels/<name>", endpoint=f"{endpoints}label")
    def label(request: Request, id: int, name: str) -> dict[str, object]:
        return resource_answer(n, id=id, name=name)


def build(count: int) -> WSGIApp:
    app = App(__name__)
    for n in range(count // ROUTE_SHAPES):
        if ROUTER_PER_RESOURCE:
            router = Router(prefix=f"/api/r{n}")
            _add_resource(router, n, "", "")
            app.include(router)
        else:
            _add_resource(app, n, f"/api/r{n}", f"api.r{n}.")
    return app
