"""The App: hooks, middleware, startup, security headers, trusted hosts and access logs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.test import Client

from wsgilite import App, Request, Response, abort

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def test_a_before_hook_that_returns_a_value_short_circuits(app: App, client: Client) -> None:
    calls: list[str] = []

    @app.before_request
    def require_token(request: Request) -> tuple[dict[str, str], int] | None:
        if request.headers.get("X-Token") != "secret":
            return {"error": "no token"}, 401
        return None

    @app.get("/")
    def index(request: Request) -> str:
        calls.append("handler")
        return "in"

    assert client.get("/").status_code == 401
    assert calls == []
    assert client.get("/", headers={"X-Token": "secret"}).text == "in"
    assert calls == ["handler"]


def test_after_hooks_receive_and_return_the_response(app: App, client: Client) -> None:
    @app.after_request
    def add_header(request: Request, response: Response) -> Response:
        response.headers["X-Seen"] = request.path
        return response

    @app.get("/")
    def index(request: Request) -> str:
        return "hi"

    assert client.get("/").headers["X-Seen"] == "/"


def test_headers_from_after_hooks_survive_abort_and_404(app: App, client: Client) -> None:
    @app.after_request
    def cors(request: Request, response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @app.get("/private")
    def private(request: Request) -> str:
        abort(401)

    assert client.get("/private").headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/missing").headers["Access-Control-Allow-Origin"] == "*"


def test_any_wsgi_middleware_can_wrap_the_app(app: App) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return "inner"

    def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> object:
            return start_response(status, [*headers, ("X-Wrapped", "yes")])

        return app(environ, start)  # type: ignore[arg-type]

    response = Client(middleware).get("/")

    assert response.text == "inner"
    assert response.headers["X-Wrapped"] == "yes"


def test_startup_hooks_run_once_before_the_first_request(app: App, client: Client) -> None:
    started: list[App] = []

    @app.on_startup
    def start(the_app: App) -> None:
        started.append(the_app)

    @app.get("/")
    def index(request: Request) -> str:
        return ""

    client.get("/")
    client.get("/")

    assert started == [app]


def test_security_headers_are_on_by_default_and_configurable(app: App, client: Client) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return "page"

    @app.get("/framed")
    def framed(request: Request) -> tuple[str, dict[str, str]]:
        return "page", {"X-Frame-Options": "DENY"}

    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get("/framed").headers.getlist("X-Frame-Options") == ["DENY"]

    app.config["SECURITY_HEADERS"] = {"Content-Security-Policy": "default-src 'self'"}
    response = client.get("/")
    assert response.headers["Content-Security-Policy"] == "default-src 'self'"
    assert "X-Frame-Options" not in response.headers


def test_an_untrusted_host_is_400(app: App, client: Client) -> None:
    app.config["TRUSTED_HOSTS"] = ["example.org"]

    @app.get("/")
    def index(request: Request) -> str:
        return "ok"

    assert client.get("/", headers={"Host": "example.org"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_decorators_keep_the_handlers_type(app: App) -> None:
    @app.get("/typed")
    def typed(request: Request) -> dict[str, int]:
        return {"n": 1}

    result: dict[str, int] = typed(Request({}))
    assert result == {"n": 1}


def test_trusted_hosts_compare_without_case(app: App, client: Client) -> None:
    app.config["TRUSTED_HOSTS"] = ["Example.org"]

    @app.get("/")
    def index(request: Request) -> str:
        return request.host

    assert client.get("/", headers={"Host": "EXAMPLE.ORG"}).text == "example.org"


def test_a_header_set_by_hand_beyond_latin1_is_a_400(app: App, client: Client) -> None:
    @app.get("/echo")
    def echo(request: Request) -> Response:
        response = Response("x")
        response.headers["X-Echo"] = request.args["v"]
        return response

    assert client.get("/echo?v=caf%C3%A9").headers["X-Echo"] == "café"
    assert client.get("/echo?v=%E2%98%83").status_code == 400
