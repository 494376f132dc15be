"""Route-count tables as a Falcon 4 app: resource classes, `add_route` with `{id:int}`.

`build(count)` returns an App holding `count` routes under /api (see bench_common).
"""

from __future__ import annotations

import falcon
from bench_common import ROUTE_SHAPES, WSGIApp, resource_answer

Request = falcon.Request
Response = falcon.Response


class CollectionResource:
    def __init__(self, n: int) -> None:
        self.n = n

    def on_get(self, req: Request, resp: Response) -> None:
        resp.media = resource_answer(self.n)


class ItemResource:
    def __init__(self, n: int) -> None:
        self.n = n

    def on_get(self, req: Request, resp: Response, id: int) -> None:
        resp.media = resource_answer(self.n, id=id)


class CommentsResource:
    def __init__(self, n: int) -> None:
        self.n = n

    def on_get(self, req: Request, resp: Response, id: int) -> None:
        resp.media = resource_answer(self.n, id=id, comments=[])


class LabelResource:
    def __init__(self, n: int) -> None:
        self.n = n

    def on_get(self, req: Request, resp: Response, id: int, name: str) -> None:
        resp.media = resource_answer(self.n, id=id, name=name)


def build(count: int) -> WSGIApp:
    app = falcon.App()
    for n in range(count // ROUTE_SHAPES):
        app.add_route(f"/api/r{n}", CollectionResource(n))
        app.add_route(f"/api/r{n}/{{id:int}}", ItemResource(n))
        app.add_route(f"/api/r{n}/{{id:int}}/comments", CommentsResource(n))
        app.add_route(f"/api/r{n}/{{id:int}}/labels/{{name}}", LabelResource(n))
    return app
