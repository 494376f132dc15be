"""The `style-*` scenarios as a Falcon 4 app: a resource class per path, the answer set on `resp`.

Falcon has one way to answer: set the status, headers and body on `resp` (`text`, `data`,
`media` or `stream`) and raise HTTPError subclasses for errors and redirects. Each resource
does what the same-named wsgilite handler does, the way Falcon's docs write it. The REST table
is the one of apps_falcon.py (Falcon has no route prefix; its paths are written in full).
"""

from __future__ import annotations

import falcon
from apps_falcon import LoginResource, PlaintextResource, add_api_routes
from bench_common import (
    BINARY_BODY,
    CREATED,
    CREATED_LOCATION,
    HELLO_HTML,
    ITEMS,
    MAX_AGE,
    NO_CACHE,
    PLAINTEXT,
    REDIRECT_TARGET,
    STYLE_NAMES,
    USER,
    USERS,
    WSGIApp,
    stream_chunks,
)

Request = falcon.Request
Response = falcon.Response


class StrResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = HELLO_HTML


class BytesResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = "application/octet-stream"
        resp.data = BINARY_BODY


class DictResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.media = USER


class ListResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.media = USERS


class ResponseResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.cache_control = [NO_CACHE]
        resp.text = PLAINTEXT


class BodyStatusResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.status = falcon.HTTP_201
        resp.media = CREATED


class BodyHeadersResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.cache_control = [MAX_AGE]
        resp.media = USER


class TupleDictResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.status = falcon.HTTP_201
        resp.location = CREATED_LOCATION
        resp.media = CREATED


class TupleListResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.set_headers([("Content-Type", falcon.MEDIA_TEXT), ("Cache-Control", NO_CACHE)])
        resp.text = PLAINTEXT


class GeneratorResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.stream = (chunk.encode() for chunk in stream_chunks())


class RedirectResource:
    def on_get(self, req: Request, resp: Response) -> None:
        raise falcon.HTTPFound(REDIRECT_TARGET)


class ItemResource:
    def on_get(self, req: Request, resp: Response, item_id: int) -> None:
        if item_id not in ITEMS:
            raise falcon.HTTPNotFound()
        resp.media = ITEMS[item_id]


def create_app() -> falcon.App[Request, Response]:
    app = falcon.App()
    app.add_route("/plaintext", PlaintextResource())
    app.add_route("/login", LoginResource())
    app.add_route("/str", StrResource())
    app.add_route("/bytes", BytesResource())
    app.add_route("/dict", DictResource())
    app.add_route("/list", ListResource())
    app.add_route("/response", ResponseResource())
    app.add_route("/body-status", BodyStatusResource())
    app.add_route("/body-headers", BodyHeadersResource())
    app.add_route("/tuple-dict", TupleDictResource())
    app.add_route("/tuple-list", TupleListResource())
    app.add_route("/generator", GeneratorResource())
    app.add_route("/redirect", RedirectResource())
    app.add_route("/items/{item_id:int}", ItemResource())
    add_api_routes(app)
    return app


app = create_app()


def scenario_apps() -> dict[str, WSGIApp]:
    return dict.fromkeys(STYLE_NAMES, app)
