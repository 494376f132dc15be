"""The scenarios as a Falcon 4 app: resource classes with on_get/on_post, routes added in order."""

from __future__ import annotations

import falcon
from bench_common import (
    FORTUNES_TEMPLATE,
    JSON_MESSAGE,
    MEMBER_RULE,
    MEMBERS_RULE,
    PLAINTEXT,
    RESOURCES,
    TEMPLATE_FOLDER,
    WSGIApp,
    api_answer,
    falcon_rule,
    fortune_rows,
    one_app_for_all,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape

Request = falcon.Request
Response = falcon.Response


class PlaintextResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = PLAINTEXT


class JSONResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.media = JSON_MESSAGE


class SearchResource:
    def on_get(self, req: Request, resp: Response) -> None:
        resp.media = {
            "q": req.get_param("q"),
            "tags": req.get_param_as_list("tag"),
            "page": req.get_param_as_int("page"),
        }


class LoginResource:
    def on_post(self, req: Request, resp: Response) -> None:
        form = req.get_media()  # urlencoded bodies parse to a dict (falcon 3+)
        resp.media = {"username": form["username"]}


class FortunesResource:
    def __init__(self) -> None:
        jinja = Environment(
            loader=FileSystemLoader(TEMPLATE_FOLDER), autoescape=select_autoescape()
        )
        self.template = jinja.get_template(FORTUNES_TEMPLATE)

    def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.template.render(fortunes=fortune_rows())


class CollectionResource:
    def __init__(self, name: str) -> None:
        self.name = name

    def on_get(self, req: Request, resp: Response) -> None:
        resp.media = api_answer(self.name, "list")

    def on_post(self, req: Request, resp: Response) -> None:
        resp.media = api_answer(self.name, "create")


class ItemResource:
    def __init__(self, name: str) -> None:
        self.name = name

    def on_get(self, req: Request, resp: Response, **params: int) -> None:
        resp.media = api_answer(self.name, "show", **params)

    def on_put(self, req: Request, resp: Response, **params: int) -> None:
        resp.media = api_answer(self.name, "update", **params)

    def on_delete(self, req: Request, resp: Response, **params: int) -> None:
        resp.media = api_answer(self.name, "delete", **params)


class TeamMembersResource:
    def on_get(self, req: Request, resp: Response, team_id: int) -> None:
        resp.media = api_answer("members", "list", team_id=team_id)

    def on_post(self, req: Request, resp: Response, team_id: int) -> None:
        resp.media = api_answer("members", "create", team_id=team_id)


class TeamMemberResource:
    def on_get(self, req: Request, resp: Response, team_id: int, member_id: int) -> None:
        resp.media = {"team": team_id, "member": member_id}

    def on_put(self, req: Request, resp: Response, team_id: int, member_id: int) -> None:
        resp.media = api_answer("members", "update", team_id=team_id, member_id=member_id)

    def on_delete(self, req: Request, resp: Response, team_id: int, member_id: int) -> None:
        resp.media = api_answer("members", "delete", team_id=team_id, member_id=member_id)


def create_app() -> falcon.App[Request, Response]:
    app = falcon.App()
    app.add_route("/plaintext", PlaintextResource())
    app.add_route("/json", JSONResource())
    app.add_route("/search", SearchResource())
    app.add_route("/login", LoginResource())
    app.add_route("/fortunes", FortunesResource())
    add_api_routes(app)
    return app


def add_api_routes(app: falcon.App[Request, Response]) -> None:
    """Add the REST table of the `params` scenario: 24 paths for 60 (method, path) pairs."""
    for name in RESOURCES:
        app.add_route(f"/api/v1/{name}", CollectionResource(name))
        app.add_route(f"/api/v1/{name}/{{{name[:-1]}_id:int}}", ItemResource(name))
    app.add_route(falcon_rule(MEMBERS_RULE), TeamMembersResource())
    app.add_route(falcon_rule(MEMBER_RULE), TeamMemberResource())


app = create_app()


def scenario_apps() -> dict[str, WSGIApp]:
    return one_app_for_all(app)
