# mypy: disable-error-code="untyped-decorator"
"""The scenarios as a Bottle 0.13 app: a Bottle() instance, decorated handlers, thread-locals.

Bottle's own `jinja2_template` does not autoescape, so the fortunes page renders through a
jinja2.Environment with autoescaping, as a careful Bottle user would write it.
"""

from __future__ import annotations

from collections.abc import Callable

from bench_common import (
    FORTUNES_TEMPLATE,
    JSON_MESSAGE,
    MEMBER_RULE,
    MEMBERS_RULE,
    PLAINTEXT,
    TEMPLATE_FOLDER,
    WSGIApp,
    api_answer,
    bottle_rule,
    fortune_rows,
    generic_routes,
    one_app_for_all,
)
from bottle import Bottle, request, response
from jinja2 import Environment, FileSystemLoader, select_autoescape

app = Bottle()

jinja = Environment(loader=FileSystemLoader(TEMPLATE_FOLDER), autoescape=select_autoescape())
fortunes_template = jinja.get_template(FORTUNES_TEMPLATE)


@app.get("/plaintext")
def plaintext() -> str:
    response.content_type = "text/plain"
    return PLAINTEXT


@app.get("/json")
def json_() -> dict[str, str]:
    return JSON_MESSAGE  # bottle's JSONPlugin serialises a returned dict


@app.get("/search")
def search() -> dict[str, object]:
    return {
        "q": request.query.get("q"),
        "tags": request.query.getall("tag"),
        "page": int(request.query.get("page", 1)),
    }


@app.post("/login")
def login() -> dict[str, object]:
    return {"username": request.forms.getunicode("username")}


@app.get("/fortunes")
def fortunes() -> str:
    return fortunes_template.render(fortunes=fortune_rows())


def _api_handler(resource: str, action: str) -> Callable[..., dict[str, object]]:
    def handler(**params: int) -> dict[str, object]:
        return api_answer(resource, action, **params)

    return handler


def list_members(team_id: int) -> dict[str, object]:
    return api_answer("members", "list", team_id=team_id)


def create_member(team_id: int) -> dict[str, object]:
    return api_answer("members", "create", team_id=team_id)


def show_member(team_id: int, member_id: int) -> dict[str, object]:
    return {"team": team_id, "member": member_id}


def update_member(team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "update", team_id=team_id, member_id=member_id)


def delete_member(team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "delete", team_id=team_id, member_id=member_id)


def add_api_routes(app: Bottle) -> None:
    """Add the REST table of the `params` scenario (60 routes) in bench_common's order."""
    for route in generic_routes():
        app.route(bottle_rule(route.rule), method=route.method, name=route.endpoint)(
            _api_handler(route.resource, route.action)
        )
    members, member = bottle_rule(MEMBERS_RULE), bottle_rule(MEMBER_RULE)
    app.get(members)(list_members)
    app.post(members)(create_member)
    app.get(member)(show_member)
    app.put(member)(update_member)
    app.delete(member)(delete_member)


add_api_routes(app)


def scenario_apps() -> dict[str, WSGIApp]:
    return one_app_for_all(app)
