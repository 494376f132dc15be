"""The scenarios as a wsgilite app: App, decorated handlers taking `request` first.

Imported from the installed package if there is one, else from ../src (bench.py puts it on
sys.path before importing this module).
"""

from __future__ import annotations

from collections.abc import Callable

from bench_common import (
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

from wsgilite import App, Request, Response

app = App(__name__, template_folder=TEMPLATE_FOLDER)


@app.get("/plaintext")
def plaintext(request: Request) -> Response:
    return Response(PLAINTEXT, mimetype="text/plain")


@app.get("/json")
def json_(request: Request) -> dict[str, str]:
    return JSON_MESSAGE


@app.get("/search")
def search(request: Request) -> dict[str, object]:
    return {
        "q": request.args.get("q"),
        "tags": request.args.getlist("tag"),
        "page": request.args.get("page", 1, type=int),
    }


@app.post("/login")
def login(request: Request) -> dict[str, object]:
    return {"username": request.form["username"]}


@app.get("/fortunes")
def fortunes(request: Request) -> Response:
    return app.render("fortunes.html", fortunes=fortune_rows())


def _api_handler(resource: str, action: str) -> Callable[..., dict[str, object]]:
    def handler(request: Request, **params: int) -> dict[str, object]:
        return api_answer(resource, action, **params)

    # Endpoints default to the function's name: give each generated handler its own.
    handler.__name__ = handler.__qualname__ = f"{resource}_{action}"
    return handler


for route in generic_routes():
    app.route(route.rule, methods=[route.method])(_api_handler(route.resource, route.action))


@app.get(MEMBERS_RULE)
def list_members(request: Request, team_id: int) -> dict[str, object]:
    return api_answer("members", "list", team_id=team_id)


@app.post(MEMBERS_RULE)
def create_member(request: Request, team_id: int) -> dict[str, object]:
    return api_answer("members", "create", team_id=team_id)


@app.get(MEMBER_RULE)
def show_member(request: Request, team_id: int, member_id: int) -> dict[str, object]:
    return {"team": team_id, "member": member_id}


@app.put(MEMBER_RULE)
def update_member(request: Request, team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "update", team_id=team_id, member_id=member_id)


@app.delete(MEMBER_RULE)
def delete_member(request: Request, team_id: int, member_id: int) -> dict[str, object]:
    return api_answer("members", "delete", team_id=team_id, member_id=member_id)


def scenario_apps() -> dict[str, WSGIApp]:
    return one_app_for_all(app)
