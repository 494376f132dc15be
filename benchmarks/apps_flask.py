"""The scenarios as a Flask 3.1 app: decorated view functions, `request` global, render_template."""

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
    fortune_rows,
    generic_routes,
    one_app_for_all,
)
from flask import Flask, Response, render_template, request

app = Flask(__name__, template_folder=TEMPLATE_FOLDER)


@app.get("/plaintext")
def plaintext() -> Response:
    return Response(PLAINTEXT, mimetype="text/plain")


@app.get("/json")
def json_() -> dict[str, str]:
    return JSON_MESSAGE


@app.get("/search")
def search() -> dict[str, object]:
    return {
        "q": request.args.get("q"),
        "tags": request.args.getlist("tag"),
        "page": request.args.get("page", 1, type=int),
    }


@app.post("/login")
def login() -> dict[str, object]:
    return {"username": request.form["username"]}


@app.get("/fortunes")
def fortunes() -> str:
    return render_template(FORTUNES_TEMPLATE, fortunes=fortune_rows())


def _api_view(resource: str, action: str) -> Callable[..., dict[str, object]]:
    def view(**params: int) -> dict[str, object]:
        return api_answer(resource, action, **params)

    return view


for route in generic_routes():
    app.add_url_rule(
        route.rule,
        endpoint=route.endpoint,
        view_func=_api_view(route.resource, route.action),
        methods=[route.method],
    )


@app.get(MEMBERS_RULE)
def list_members(team_id: int) -> dict[str, object]:
    return api_answer("members", "list", team_id=team_id)


@app.post(MEMBERS_RULE)
def create_member(team_id: int) -> dict[str, object]:
    return api_answer("members", "create", team_id=team_id)


@app.get(MEMBER_RULE)
def show_member(team_id: int, member_id: int) -> dict[str, object]:
    return {"team": team_id, "member": member_id}


@app.put(MEMBER_RULE)
def update_member(team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "update", team_id=team_id, member_id=member_id)


@app.delete(MEMBER_RULE)
def delete_member(team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "delete", team_id=team_id, member_id=member_id)


def scenario_apps() -> dict[str, WSGIApp]:
    return one_app_for_all(app)
