"""The `style-*` scenarios as a Flask 3.1 app, each handler the way Flask's docs write it.

Flask's return conventions are close to wsgilite's: a str is HTML, a dict or list is JSON, a
tuple adds a status and headers, a generator streams. Where Flask's default differs (bytes are
HTML to Flask), the handler says what it means with a Response. The REST table is a Blueprint
with url_prefix="/api/v1".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bench_common import (
    API_PREFIX,
    BINARY_BODY,
    CREATED,
    CREATED_LOCATION,
    HELLO_HTML,
    ITEMS,
    MAX_AGE,
    MEMBER_RULE,
    MEMBERS_RULE,
    NO_CACHE,
    PLAINTEXT,
    REDIRECT_TARGET,
    STYLE_NAMES,
    USER,
    USERS,
    WSGIApp,
    api_answer,
    generic_routes,
    stream_chunks,
)
from flask import Blueprint, Flask, Response, abort, redirect, request
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/plaintext")
def plaintext() -> tuple[str, int, dict[str, str]]:
    return PLAINTEXT, 200, {"Content-Type": "text/plain"}


@app.post("/login")
def login() -> dict[str, object]:
    return {"username": request.form["username"]}


@app.get("/str")
def as_str() -> str:
    return HELLO_HTML


@app.get("/bytes")
def as_bytes() -> Response:
    return Response(BINARY_BODY, mimetype="application/octet-stream")


@app.get("/dict")
def as_dict() -> dict[str, object]:
    return USER


@app.get("/list")
def as_list() -> list[dict[str, object]]:
    return USERS


@app.get("/response")
def as_response() -> Response:
    return Response(PLAINTEXT, headers={"Cache-Control": NO_CACHE}, mimetype="text/plain")


@app.get("/body-status")
def body_status() -> tuple[dict[str, object], int]:
    return CREATED, 201


@app.get("/body-headers")
def body_headers() -> tuple[dict[str, object], dict[str, str]]:
    return USER, {"Cache-Control": MAX_AGE}


@app.get("/tuple-dict")
def tuple_dict() -> tuple[dict[str, object], int, dict[str, str]]:
    return CREATED, 201, {"Location": CREATED_LOCATION}


@app.get("/tuple-list")
def tuple_list() -> tuple[str, int, list[tuple[str, str]]]:
    return PLAINTEXT, 200, [("Content-Type", "text/plain"), ("Cache-Control", NO_CACHE)]


@app.get("/generator")
def generator() -> Iterator[str]:
    return stream_chunks()


@app.get("/redirect")
def to_login() -> ResponseReturnValue:
    return redirect(REDIRECT_TARGET)


@app.get("/items/<int:item_id>")
def show_item(item_id: int) -> dict[str, object]:
    if item_id not in ITEMS:
        abort(404)
    return ITEMS[item_id]


api = Blueprint("api", __name__, url_prefix=API_PREFIX)


def _api_view(resource: str, action: str) -> Callable[..., dict[str, object]]:
    def view(**params: int) -> dict[str, object]:
        return api_answer(resource, action, **params)

    return view


for route in generic_routes():
    api.add_url_rule(
        route.rule.removeprefix(API_PREFIX),
        endpoint=route.endpoint,
        view_func=_api_view(route.resource, route.action),
        methods=[route.method],
    )

MEMBERS = MEMBERS_RULE.removeprefix(API_PREFIX)
MEMBER = MEMBER_RULE.removeprefix(API_PREFIX)


@api.get(MEMBERS)
def list_members(team_id: int) -> dict[str, object]:
    return api_answer("members", "list", team_id=team_id)


@api.post(MEMBERS)
def create_member(team_id: int) -> dict[str, object]:
    return api_answer("members", "create", team_id=team_id)


@api.get(MEMBER)
def show_member(team_id: int, member_id: int) -> dict[str, object]:
    return {"team": team_id, "member": member_id}


@api.put(MEMBER)
def update_member(team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "update", team_id=team_id, member_id=member_id)


@api.delete(MEMBER)
def delete_member(team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "delete", team_id=team_id, member_id=member_id)


app.register_blueprint(api)


def scenario_apps() -> dict[str, WSGIApp]:
    return dict.fromkeys(STYLE_NAMES, app)
