"""The `style-*` scenarios as a wsgilite app: one handler per documented return style.

Each handler is written the way wsgilite's README writes it: a tuple for a plain-text answer, a
Router for routes under a shared prefix, `request.form[...]`, and every other return value the
README lists. The REST table of `params` is here too, under Router(prefix="/api/v1").
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

from wsgilite import App, Request, Response, Router, abort, redirect

app = App(__name__)


@app.get("/plaintext")
def plaintext(request: Request) -> tuple[str, int, dict[str, str]]:
    return PLAINTEXT, 200, {"Content-Type": "text/plain"}


@app.post("/login")
def login(request: Request) -> dict[str, object]:
    return {"username": request.form["username"]}


@app.get("/str")
def as_str(request: Request) -> str:
    return HELLO_HTML


@app.get("/bytes")
def as_bytes(request: Request) -> bytes:
    return BINARY_BODY


@app.get("/dict")
def as_dict(request: Request) -> dict[str, object]:
    return USER


@app.get("/list")
def as_list(request: Request) -> list[dict[str, object]]:
    return USERS


@app.get("/response")
def as_response(request: Request) -> Response:
    return Response(PLAINTEXT, headers={"Cache-Control": NO_CACHE}, mimetype="text/plain")


@app.get("/body-status")
def body_status(request: Request) -> tuple[dict[str, object], int]:
    return CREATED, 201


@app.get("/body-headers")
def body_headers(request: Request) -> tuple[dict[str, object], dict[str, str]]:
    return USER, {"Cache-Control": MAX_AGE}


@app.get("/tuple-dict")
def tuple_dict(request: Request) -> tuple[dict[str, object], int, dict[str, str]]:
    return CREATED, 201, {"Location": CREATED_LOCATION}


@app.get("/tuple-list")
def tuple_list(request: Request) -> tuple[str, int, list[tuple[str, str]]]:
    return PLAINTEXT, 200, [("Content-Type", "text/plain"), ("Cache-Control", NO_CACHE)]


@app.get("/generator")
def generator(request: Request) -> Iterator[str]:
    return stream_chunks()


@app.get("/redirect")
def to_login(request: Request) -> Response:
    return redirect(REDIRECT_TARGET)


@app.get("/items/<int:item_id>")
def show_item(request: Request, item_id: int) -> dict[str, object]:
    if item_id not in ITEMS:
        abort(404)
    return ITEMS[item_id]


api = Router(prefix=API_PREFIX)


def _api_handler(resource: str, action: str) -> Callable[..., dict[str, object]]:
    def handler(request: Request, **params: int) -> dict[str, object]:
        return api_answer(resource, action, **params)

    handler.__name__ = handler.__qualname__ = f"{resource}_{action}"
    return handler


for route in generic_routes():
    api.route(route.rule.removeprefix(API_PREFIX), methods=[route.method])(
        _api_handler(route.resource, route.action)
    )

MEMBERS = MEMBERS_RULE.removeprefix(API_PREFIX)  # /teams/<int:team_id>/members
MEMBER = MEMBER_RULE.removeprefix(API_PREFIX)  # /teams/<int:team_id>/members/<int:member_id>


@api.get(MEMBERS)
def list_members(request: Request, team_id: int) -> dict[str, object]:
    return api_answer("members", "list", team_id=team_id)


@api.post(MEMBERS)
def create_member(request: Request, team_id: int) -> dict[str, object]:
    return api_answer("members", "create", team_id=team_id)


@api.get(MEMBER)
def show_member(request: Request, team_id: int, member_id: int) -> dict[str, object]:
    return {"team": team_id, "member": member_id}


@api.put(MEMBER)
def update_member(request: Request, team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "update", team_id=team_id, member_id=member_id)


@api.delete(MEMBER)
def delete_member(request: Request, team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "delete", team_id=team_id, member_id=member_id)


app.include(api)


def scenario_apps() -> dict[str, WSGIApp]:
    return dict.fromkeys(STYLE_NAMES, app)
