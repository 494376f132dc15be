"""Routing: rules, converters, methods, HEAD/OPTIONS, redirects, routers and url_for."""

from __future__ import annotations

import uuid

import pytest
from werkzeug.routing import BaseConverter
from werkzeug.test import Client

from wsgilite import App, Request, RouteConflict, Router


def test_a_rule_with_converters_passes_typed_params(app: App, client: Client) -> None:
    @app.get("/teams/<int:team>/members/<name>")
    def member(request: Request, team: int, name: str) -> dict[str, object]:
        return {
            "team": team,
            "name": name,
            "params": request.path_params == {"team": team, "name": name},
        }

    assert client.get("/teams/42/members/ada").json == {"team": 42, "name": "ada", "params": True}


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        ("/f/<float:value>", "/f/2.5", 2.5),
        ("/p/<path:value>", "/p/a/b/c.txt", "a/b/c.txt"),
        (
            "/u/<uuid:value>",
            "/u/12345678-1234-5678-1234-567812345678",
            "12345678-1234-5678-1234-567812345678",
        ),
        ("/a/<any(red, blue):value>", "/a/blue", "blue"),
        ("/s/<string(length=2):value>", "/s/ab", "ab"),
    ],
)
def test_werkzeug_converters_work(
    app: App, client: Client, rule: str, path: str, expected: object
) -> None:
    @app.get(rule)
    def show(request: Request, value: object) -> dict[str, object]:
        return {"value": str(value) if isinstance(value, uuid.UUID) else value}

    assert client.get(path).json == {"value": expected}


def test_a_value_the_converter_refuses_is_404(app: App, client: Client) -> None:
    @app.get("/n/<int:number>")
    def show(request: Request, number: int) -> str:
        return str(number)

    assert client.get("/n/abc").status_code == 404
    assert client.get("/a/blue/extra").status_code == 404


def test_a_static_segment_wins_over_a_variable(app: App, client: Client) -> None:
    @app.get("/users/<name>")
    def by_name(request: Request, name: str) -> str:
        return f"name {name}"

    @app.get("/users/new")
    def new(request: Request) -> str:
        return "new form"

    @app.get("/users/<int:user_id>")
    def by_id(request: Request, user_id: int) -> str:
        return f"id {user_id}"

    assert client.get("/users/new").text == "new form"
    assert client.get("/users/7").text == "id 7"
    assert client.get("/users/ada").text == "name ada"


def test_custom_converters_can_be_registered(app: App, client: Client) -> None:
    class ListConverter(BaseConverter):
        def to_python(self, value: str) -> list[str]:
            return value.split("+")

        def to_url(self, value: list[str]) -> str:
            return "+".join(value)

    app.add_converter("list", ListConverter)

    @app.get("/tags/<list:tags>")
    def tags(request: Request, tags: list[str]) -> list[str]:
        return tags

    assert client.get("/tags/a+b+c").json == ["a", "b", "c"]
    assert app.url_for("tags", tags=["x", "y"]) == "/tags/x+y"


def test_an_unknown_converter_is_an_error_at_registration(app: App) -> None:
    with pytest.raises(ValueError, match="add_converter"):
        app.get("/x/<nosuch:value>")(lambda request, value: "")


def test_head_is_answered_for_every_get_route_without_a_body(app: App, client: Client) -> None:
    @app.get("/page")
    def page(request: Request) -> str:
        return "twelve bytes"

    response = client.head("/page")

    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "12"


def test_options_is_answered_with_allow(app: App, client: Client) -> None:
    @app.route("/items", methods=["GET", "POST"])
    def items(request: Request) -> str:
        return ""

    response = client.options("/items")

    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_a_wrong_method_is_405_with_allow(app: App, client: Client) -> None:
    @app.get("/things/<int:thing_id>")
    def show(request: Request, thing_id: int) -> str:
        return ""

    @app.delete("/things/<int:thing_id>")
    def remove(request: Request, thing_id: int) -> str:
        return ""

    response = client.post("/things/3")

    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS"


def test_a_missing_trailing_slash_redirects_permanently(app: App, client: Client) -> None:
    @app.get("/docs/")
    def docs(request: Request) -> str:
        return "docs"

    @app.get("/users/<int:user_id>/")
    def user(request: Request, user_id: int) -> str:
        return f"user {user_id}"

    response = client.get("/docs?page=2")
    assert response.status_code == 308
    assert response.headers["Location"] == "/docs/?page=2"
    assert client.get("/users/5").headers["Location"] == "/users/5/"
    assert client.get("/docs", follow_redirects=True).text == "docs"


def test_an_unknown_path_is_404(app: App, client: Client) -> None:
    assert client.get("/nothing/here").status_code == 404


def test_the_host_header_never_changes_which_route_matches(app: App, client: Client) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return "home"

    assert client.get("/", headers={"Host": "other.example:8080"}).text == "home"


def test_router_prefix_and_endpoint_names(app: App, client: Client) -> None:
    api = Router(prefix="/api")

    @api.get("/ping")
    def ping(request: Request) -> str:
        return "pong"

    app.include(api)

    assert client.get("/api/ping").text == "pong"
    assert app.url_for("api.ping") == "/api/ping"


def test_routers_nest(app: App, client: Client) -> None:
    v1 = Router(prefix="/v1")
    users = Router(prefix="/users", name="users")

    @users.get("/<int:user_id>")
    def show(request: Request, user_id: int) -> dict[str, int]:
        return {"id": user_id}

    v1.include(users)
    api = Router(prefix="/api")
    api.include(v1)
    app.include(api)

    assert client.get("/api/v1/users/3").json == {"id": 3}
    assert app.url_for("api.v1.users.show", user_id=3) == "/api/v1/users/3"


def test_a_route_added_after_include_is_a_clear_error(app: App) -> None:
    api = Router(prefix="/api")
    app.include(api)

    with pytest.raises(RuntimeError, match=r"before app\.include"):
        api.get("/late")(lambda request: "")


def test_a_duplicate_endpoint_is_an_error_at_registration(app: App) -> None:
    @app.get("/a")
    def show(request: Request) -> str:
        return "a"

    def other(request: Request) -> str:
        return "b"

    other.__name__ = "show"
    with pytest.raises(RouteConflict, match="endpoint 'show' is already used"):
        app.get("/b")(other)


def test_a_duplicate_rule_and_method_is_an_error_at_registration(app: App) -> None:
    @app.get("/a")
    def first(request: Request) -> str:
        return "a"

    with pytest.raises(RouteConflict, match="GET '/a' is already handled by"):
        app.get("/a")(lambda request: "b")


def test_a_duplicate_from_an_included_router_is_caught(app: App) -> None:
    @app.get("/api/ping")
    def ping(request: Request) -> str:
        return "app"

    api = Router(prefix="/api", name="")

    @api.get("/ping")
    def pong(request: Request) -> str:
        return "router"

    with pytest.raises(RouteConflict):
        app.include(api)


def test_one_function_may_serve_several_methods_and_rules(app: App, client: Client) -> None:
    @app.get("/")
    @app.get("/index")
    @app.post("/index")
    def index(request: Request) -> str:
        return request.method

    assert client.get("/index").text == "GET"
    assert client.post("/index").text == "POST"
    assert client.get("/").text == "GET"


def test_url_for_puts_extra_values_in_the_query_string(app: App) -> None:
    @app.get("/users/<int:user_id>")
    def show(request: Request, user_id: int) -> str:
        return ""

    assert app.url_for("show", user_id=7, tab="notes") == "/users/7?tab=notes"
    assert app.url_for("show", user_id=7, _anchor="top") == "/users/7#top"
    app.config["SERVER_NAME"] = "example.com"
    assert app.url_for("show", user_id=7, _external=True) == "http://example.com/users/7"


def test_an_external_url_outside_a_request_needs_a_server_name(app: App) -> None:
    @app.get("/users/<int:user_id>")
    def show(request: Request, user_id: int) -> str:
        return ""

    # Flask would build http://localhost/... here: a link that works nowhere.
    with pytest.raises(RuntimeError, match=r"SERVER_NAME.*request\.url_for"):
        app.url_for("show", user_id=7, _external=True)


def test_request_url_for_builds_under_the_mount_point(app: App, client: Client) -> None:
    @app.get("/here")
    def here(request: Request) -> dict[str, str]:
        return {
            "relative": request.url_for("here"),
            "external": request.url_for("here", _external=True),
        }

    response = client.get("/here", base_url="https://example.org/mount/")

    assert response.json == {
        "relative": "/mount/here",
        "external": "https://example.org/mount/here",
    }


def test_routes_lists_every_route(app: App) -> None:
    @app.post("/x")
    def create(request: Request) -> str:
        return ""

    rows = {(route.rule, route.endpoint, tuple(sorted(route.methods))) for route in app.routes()}
    assert ("/x", "create", ("POST",)) in rows
    assert ("/static/<path:filename>", "static", ("GET",)) in rows


def test_a_late_route_in_a_large_table_still_matches(app: App, client: Client) -> None:
    for index in range(30):
        app.get(f"/api/r{index}", endpoint=f"list{index}")(lambda request: "list")
        app.get(f"/api/r{index}/<int:item>", endpoint=f"show{index}")(lambda request, item: "show")

    @app.get("/api/teams/<int:team>/members/<int:member>")
    def member(request: Request, team: int, member: int) -> list[int]:
        return [team, member]

    assert client.get("/api/teams/4/members/2").json == [4, 2]
    assert client.get("/api/r29/5").text == "show"


def test_static_text_beside_a_variable_wins_as_in_werkzeug(app: App, client: Client) -> None:
    @app.get("/posts/<slug>")
    def post_page(request: Request, slug: str) -> str:
        return f"page {slug}"

    @app.get("/posts/<slug>.json")
    def post_json(request: Request, slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.get("/<page>")
    def page(request: Request, page: str) -> str:
        return f"page {page}"

    @app.get("/@<user>")
    def profile(request: Request, user: str) -> str:
        return f"profile {user}"

    assert client.get("/posts/hello.json").json == {"slug": "hello"}
    assert client.get("/posts/hello").text == "page hello"
    assert client.get("/@alice").text == "profile alice"
    assert client.get("/bob").text == "page bob"


def test_a_static_rule_does_not_hide_a_variable_rule_with_another_method(
    app: App, client: Client
) -> None:
    @app.get("/users/new")
    def new_form(request: Request) -> str:
        return "form"

    @app.post("/users/<name>")
    def update(request: Request, name: str) -> str:
        return f"updated {name}"

    assert client.post("/users/new").text == "updated new"
    assert client.options("/users/new").headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    response = client.put("/users/new")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_options_allows_the_methods_of_every_matching_rule(app: App, client: Client) -> None:
    @app.get("/items/<int:item>")
    def show(request: Request, item: int) -> str:
        return ""

    @app.delete("/items/<item>")
    def remove(request: Request, item: str) -> str:
        return ""

    assert client.options("/items/5").headers["Allow"] == "DELETE, GET, HEAD, OPTIONS"


def test_the_slash_redirect_quotes_the_path_again(app: App, client: Client) -> None:
    @app.get("/files/<name>/")
    def folder(request: Request, name: str) -> str:
        return name

    assert client.get("/files/a%3Fb").headers["Location"] == "/files/a%3Fb/"
    assert client.get("/files/a%23b").headers["Location"] == "/files/a%23b/"
    response = client.get("/files/x%0D%0ASet-Cookie:%20a=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "/files/x%0D%0ASet-Cookie:%20a=1/"


def test_a_rule_variable_named_request_is_refused_at_registration(app: App) -> None:
    with pytest.raises(ValueError, match="names a variable 'request'"):
        app.get("/<int:request>")(lambda request: "")


def test_url_for_quotes_the_anchor(app: App) -> None:
    @app.get("/page")
    def page(request: Request) -> str:
        return ""

    assert app.url_for("page", _anchor='a b"<') == "/page#a%20b%22%3C"


def test_a_rule_differing_only_in_variable_names_is_a_duplicate(app: App) -> None:
    @app.get("/v/<int:x>")
    def first(request: Request, x: int) -> str:
        return ""

    with pytest.raises(RouteConflict, match="is already handled by"):
        app.get("/v/<int:y>")(lambda request, y: "")


def test_a_routes_own_options_handler_wins_over_the_automatic_answer(
    app: App, client: Client
) -> None:
    @app.get("/items")
    def items(request: Request) -> str:
        return "items"

    @app.route("/items", methods=["OPTIONS"])
    def preflight(request: Request) -> tuple[str, int, dict[str, str]]:
        return "", 204, {"Access-Control-Allow-Methods": "GET"}

    response = client.options("/items")

    # Flask answers automatically here (the GET rule came first); a handler you wrote wins.
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Methods"] == "GET"
