"""Routes: Routers with their own hooks and error handlers, prefixes, and checks at registration."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import Forbidden, NotFound
from werkzeug.test import Client

from wsgilite import App, Request, Response, Router, abort


def test_a_router_hook_runs_only_for_its_own_routes(app: App, client: Client) -> None:
    api = Router(prefix="/api")
    calls: list[str] = []

    @api.before_request
    def note(request: Request) -> None:
        calls.append(request.path)

    @api.get("/ping")
    def ping(request: Request) -> str:
        return "pong"

    @app.get("/home")
    def home(request: Request) -> str:
        return "home"

    app.include(api)

    assert client.get("/api/ping").text == "pong"
    assert client.get("/home").text == "home"
    assert calls == ["/api/ping"]


def test_hooks_run_app_first_then_outer_to_inner_and_after_hooks_the_other_way(
    app: App, client: Client
) -> None:
    order: list[str] = []
    outer = Router(prefix="/outer")
    inner = Router(prefix="/inner")

    def before(name: str) -> None:
        def hook(request: Request) -> None:
            order.append(f"before {name}")

        hook.__name__ = f"before_{name}"
        {"app": app, "outer": outer, "inner": inner}[name].before_request(hook)

    def after(name: str) -> None:
        def hook(request: Request, response: Response) -> Response:
            order.append(f"after {name}")
            return response

        hook.__name__ = f"after_{name}"
        {"app": app, "outer": outer, "inner": inner}[name].after_request(hook)

    for name in ("app", "outer", "inner"):
        before(name)
        after(name)
    after("app")  # a second app hook: Flask runs after-hooks in reverse registration order

    @app.after_request
    def last_registered(request: Request, response: Response) -> Response:
        order.append("after app, registered last")
        return response

    @inner.get("/x")
    def x(request: Request) -> str:
        order.append("handler")
        return "x"

    outer.include(inner)
    app.include(outer)

    assert client.get("/outer/inner/x").text == "x"
    assert order == [
        "before app",
        "before outer",
        "before inner",
        "handler",
        "after inner",
        "after outer",
        "after app, registered last",
        "after app",
        "after app",
    ]


def test_a_router_hook_added_after_its_child_was_included_still_applies(
    app: App, client: Client
) -> None:
    api = Router(prefix="/api")
    users = Router(prefix="/users")

    @users.get("")
    def list_users(request: Request) -> list[str]:
        return ["ada"]

    api.include(users)

    @api.after_request
    def tag(request: Request, response: Response) -> Response:
        response.headers["X-Api"] = "1"
        return response

    app.include(api)

    assert client.get("/api/users").headers["X-Api"] == "1"


def test_a_router_before_hook_can_answer_instead_of_the_handler(app: App, client: Client) -> None:
    admin = Router(prefix="/admin")

    @admin.before_request
    def require_token(request: Request) -> tuple[dict[str, str], int] | None:
        if request.headers.get("X-Token") != "secret":
            return {"error": "no token"}, 401
        return None

    @admin.get("/stats")
    def stats(request: Request) -> dict[str, int]:
        return {"users": 3}

    app.include(admin)

    assert client.get("/admin/stats").status_code == 401
    assert client.get("/admin/stats", headers={"X-Token": "secret"}).json == {"users": 3}


def test_a_router_error_handler_answers_for_its_routes_only(app: App, client: Client) -> None:
    api = Router(prefix="/api")

    @api.errorhandler(404)
    def api_not_found(request: Request, error: NotFound) -> tuple[dict[str, str], int]:
        return {"error": "no such thing"}, 404

    @api.get("/users/<int:user_id>")
    def user(request: Request, user_id: int) -> str:
        abort(404)

    @app.get("/pages/<int:page>")
    def page(request: Request, page: int) -> str:
        abort(404)

    app.include(api)

    assert client.get("/api/users/1").json == {"error": "no such thing"}
    assert client.get("/pages/1").mimetype == "text/html"


def test_an_inner_router_handler_wins_over_an_outer_one_and_the_apps(
    app: App, client: Client
) -> None:
    outer = Router(prefix="/outer")
    inner = Router(prefix="/inner")

    @app.errorhandler(ValueError)
    def app_handler(request: Request, error: ValueError) -> str:
        return "app"

    @outer.errorhandler(ValueError)
    def outer_handler(request: Request, error: ValueError) -> str:
        return "outer"

    @inner.errorhandler(ValueError)
    def inner_handler(request: Request, error: ValueError) -> str:
        return "inner"

    @inner.get("/a")
    def a(request: Request) -> str:
        raise ValueError("a")

    @outer.get("/b")
    def b(request: Request) -> str:
        raise ValueError("b")

    @app.get("/c")
    def c(request: Request) -> str:
        raise ValueError("c")

    outer.include(inner)
    app.include(outer)

    assert client.get("/outer/inner/a").text == "inner"
    assert client.get("/outer/b").text == "outer"
    assert client.get("/c").text == "app"


def test_a_more_specific_class_at_the_app_beats_a_generic_one_on_a_router(
    app: App, client: Client
) -> None:
    api = Router(prefix="/api")

    @api.errorhandler(Exception)
    def anything(request: Request, error: Exception) -> str:
        return "router: anything"

    @app.errorhandler(404)
    def not_found(request: Request, error: NotFound) -> str:
        return "app: 404"

    @api.get("/x")
    def x(request: Request) -> str:
        abort(404)

    app.include(api)

    # As in Flask: a handler for the status is more specific than one for Exception.
    assert client.get("/api/x").text == "app: 404"


def test_router_teardown_runs_before_the_apps(app: App, client: Client) -> None:
    api = Router(prefix="/api")
    order: list[str] = []

    @api.teardown_request
    def api_teardown(request: Request, error: BaseException | None) -> None:
        order.append("api")

    @app.teardown_request
    def app_teardown(request: Request, error: BaseException | None) -> None:
        order.append("app")

    @api.get("/x")
    def x(request: Request) -> str:
        return "x"

    app.include(api)
    client.get("/api/x")

    assert order == ["api", "app"]


def test_endpoints_are_qualified_by_every_router_name(app: App, client: Client) -> None:
    api = Router(prefix="/api")
    v1 = Router(prefix="/v1")

    @v1.get("/ping")
    def ping(request: Request) -> dict[str, str | None]:
        return {"endpoint": request.endpoint}

    api.include(v1)
    app.include(api)

    assert client.get("/api/v1/ping").json == {"endpoint": "api.v1.ping"}
    assert app.url_for("api.v1.ping") == "/api/v1/ping"


@pytest.mark.parametrize("prefix", ["/b/", "/b", "b", "b/", "//b//"])
def test_router_prefixes_normalise_their_slashes(app: App, client: Client, prefix: str) -> None:
    router = Router(prefix=prefix)

    @router.get("/x")
    def x(request: Request) -> str:
        return "x"

    app.include(router)

    assert router.prefix == "/b"
    assert client.get("/b/x").text == "x"


def test_an_empty_rule_in_a_router_is_the_prefix_itself(app: App, client: Client) -> None:
    items = Router(prefix="/items")

    @items.get("")
    def index(request: Request) -> str:
        return "index"

    @items.get("/")
    def slashed(request: Request) -> str:
        return "slashed"

    @items.get("<int:item_id>")  # as Flask joins: "/items" + "/" + "<int:item_id>"
    def show(request: Request, item_id: int) -> str:
        return f"item {item_id}"

    app.include(items)

    assert client.get("/items").text == "index"
    assert client.get("/items/").text == "slashed"
    assert client.get("/items/3").text == "item 3"


def test_a_router_is_closed_once_included(app: App) -> None:
    api = Router(prefix="/api")
    app.include(api)

    with pytest.raises(RuntimeError, match=r"before app\.include"):
        api.before_request(lambda request: None)
    with pytest.raises(RuntimeError, match=r"before app\.include"):
        api.errorhandler(404)(lambda request, error: "")


def test_one_router_can_be_included_in_two_apps() -> None:
    pages = Router()

    @pages.get("/")
    def index(request: Request) -> str:
        return "index"

    first, second = App(__name__), App(__name__)
    first.include(pages)
    second.include(pages)

    assert first.test_client().get("/").text == "index"
    assert second.test_client().get("/").text == "index"


# -- Checked at registration ----------------------------------------------------------------------


def test_a_handler_without_request_is_refused_with_the_signature_it_needs(app: App) -> None:
    def index() -> str:
        return "x"

    with pytest.raises(TypeError, match=r"index\(request\).*def index\(request\)"):
        app.get("/")(index)


def test_a_handler_missing_a_rule_variable_is_refused(app: App) -> None:
    def show(request: Request) -> str:
        return "x"

    with pytest.raises(TypeError, match=r"show\(request, user_id\)"):
        app.get("/users/<int:user_id>")(show)


def test_a_handler_taking_params_by_kwargs_or_defaults_is_accepted(
    app: App, client: Client
) -> None:
    @app.get("/a/<x>/<y>")
    def both(request: Request, **params: str) -> dict[str, str]:
        return params

    @app.get("/b/<x>")
    def extra(request: Request, x: str, page: int = 1) -> dict[str, object]:
        return {"x": x, "page": page}

    assert client.get("/a/1/2").json == {"x": "1", "y": "2"}
    assert client.get("/b/q").json == {"x": "q", "page": 1}


def test_a_bare_decorator_is_refused_with_how_to_write_it(app: App) -> None:
    def index(request: Request) -> str:
        return "x"

    with pytest.raises(TypeError, match=r"@app\.get\('/path'\)"):
        app.get(index)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"@app\.errorhandler\(404\)"):
        app.errorhandler(index)  # type: ignore[arg-type]


def test_a_flask_style_error_handler_is_refused_at_registration(app: App) -> None:
    def not_found(e: Exception) -> str:
        return "x"

    with pytest.raises(TypeError, match=r"errorhandler\(404\).*\(request, error\)"):
        app.errorhandler(404)(not_found)


@pytest.mark.parametrize(
    ("decorator", "expected"),
    [
        ("before_request", r"\(request\)"),
        ("after_request", r"\(request, response\)"),
        ("teardown_request", r"\(request, error\)"),
    ],
)
def test_a_hook_of_the_wrong_arity_is_refused(app: App, decorator: str, expected: str) -> None:
    def hook(a: object, b: object, c: object) -> None:
        return None

    with pytest.raises(TypeError, match=expected):
        getattr(app, decorator)(hook)


def test_a_startup_hook_of_the_wrong_arity_is_refused(app: App) -> None:
    with pytest.raises(TypeError, match=r"on_startup.*\(app\)"):
        app.on_startup(lambda: None)


def test_methods_as_a_string_is_refused(app: App) -> None:
    with pytest.raises(TypeError, match=r"methods=\['POST'\]"):
        app.route("/x", methods="POST")


def test_any_method_token_can_be_registered(app: App, client: Client) -> None:
    @app.route("/dav", methods=["PROPFIND", "REPORT"])
    def dav(request: Request) -> str:
        return request.method

    assert client.open("/dav", method="PROPFIND").text == "PROPFIND"
    response = client.open("/dav", method="MKCOL")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"PROPFIND", "REPORT", "OPTIONS"}


def test_a_method_that_is_not_a_token_is_refused(app: App) -> None:
    with pytest.raises(ValueError, match="not an HTTP method"):
        app.route("/x", methods=["GET POST"])


def test_an_error_handler_for_a_status_outside_errors_is_refused(app: App) -> None:
    with pytest.raises(ValueError, match="400 to 599"):
        app.errorhandler(302)


def test_a_forbidden_subclass_handler_is_found_through_its_class(app: App, client: Client) -> None:
    class NotYours(Forbidden):
        description = "not yours"

    @app.errorhandler(NotYours)
    def not_yours(request: Request, error: NotYours) -> tuple[str, int]:
        return "not yours", 403

    @app.get("/x")
    def x(request: Request) -> str:
        raise NotYours()

    assert client.get("/x").text == "not yours"
