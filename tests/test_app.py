"""The App: hooks, middleware, startup, security headers, trusted hosts and access logs."""

from __future__ import annotations

import datetime
import inspect
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
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


@pytest.mark.parametrize(
    ("content_type", "framed"),
    [
        ("text/html; charset=utf-8", True),
        ("application/xhtml+xml", True),
        ("image/svg+xml", True),
        ("application/pdf", True),
        ("application/x-unheard-of", True),  # a type it does not know is treated as a page
        ("application/json", False),
        ("application/problem+json", False),
        ("text/plain; charset=utf-8", False),
        ("TEXT/CSS", False),
        ("text/javascript", False),
        ("image/png", False),
        ("font/woff2", False),
        ("video/mp4", False),
        ("application/octet-stream", False),
    ],
)
def test_x_frame_options_goes_on_pages_and_nosniff_on_everything(
    app: App, client: Client, content_type: str, framed: bool
) -> None:
    @app.get("/")
    def index(request: Request) -> Response:
        return Response(b"body", content_type=content_type)

    @app.get("/usual")
    def usual(request: Request) -> tuple[bytes, dict[str, str]]:
        return b"body", {"Content-Type": content_type, "Cache-Control": "no-store"}

    @app.get("/unusual")
    def unusual(request: Request) -> tuple[bytes, list[tuple[str, str]]]:
        return b"body", [("content-type", content_type), ("X-Custom", "1")]

    for path in ("/", "/usual", "/unusual"):
        response = client.get(path)
        assert response.headers["Content-Type"] == content_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert ("X-Frame-Options" in response.headers) is framed


def test_x_frame_options_set_by_config_follows_the_page_rule_whatever_its_case(
    app: App, client: Client
) -> None:
    app.config["SECURITY_HEADERS"] = {"x-frame-options": "DENY", "Referrer-Policy": "no-referrer"}

    @app.get("/page")
    def page(request: Request) -> str:
        return "page"

    @app.get("/data")
    def data(request: Request) -> dict[str, int]:
        return {"id": 1}

    assert client.get("/page").headers["X-Frame-Options"] == "DENY"
    assert "X-Frame-Options" not in client.get("/data").headers
    assert client.get("/data").headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/page").headers["Referrer-Policy"] == "no-referrer"


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


# -- The request path: hooks, teardown, per-request state ------------------------------------------


def test_after_hooks_run_in_reverse_registration_order(app: App, client: Client) -> None:
    order: list[str] = []

    @app.after_request
    def first(request: Request, response: Response) -> Response:
        order.append("first")
        return response

    @app.after_request
    def second(request: Request, response: Response) -> Response:
        order.append("second")
        return response

    @app.get("/")
    def index(request: Request) -> str:
        return "x"

    client.get("/")

    assert order == ["second", "first"]  # as Flask runs them


def test_request_state_is_the_place_for_per_request_data(app: App, client: Client) -> None:
    @app.before_request
    def load_user(request: Request) -> None:
        request.state.user = request.headers.get("X-User", "anonymous")

    @app.get("/me")
    def me(request: Request) -> dict[str, object]:
        return {
            "user": request.state.user,
            "missing": request.state.get("db", "none"),
            "has_user": "user" in request.state,
        }

    assert client.get("/me", headers={"X-User": "ada"}).json == {
        "user": "ada",
        "missing": "none",
        "has_user": True,
    }
    assert client.get("/me").json == {"user": "anonymous", "missing": "none", "has_user": True}


def test_reading_an_unset_state_attribute_says_how_to_set_it(app: App, client: Client) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return str(request.state.user)

    with pytest.raises(AttributeError, match=r"request\.state\.user = "):
        app.debug = True
        client.get("/")


def test_request_endpoint_names_the_matched_route(app: App, client: Client) -> None:
    seen: list[str | None] = []

    @app.before_request
    def note(request: Request) -> None:
        seen.append(request.endpoint)

    @app.teardown_request
    def after(request: Request, error: BaseException | None) -> None:
        seen.append(request.endpoint)

    @app.get("/users/<int:user_id>", endpoint="user_page")
    def show(request: Request, user_id: int) -> str:
        return "x"

    client.get("/users/3")
    client.get("/nowhere")

    assert seen == ["user_page", "user_page", None]


def test_teardown_runs_after_every_request_with_the_error(app: App, client: Client) -> None:
    seen: list[tuple[str, str | None]] = []

    @app.teardown_request
    def close(request: Request, error: BaseException | None) -> None:
        seen.append((request.path, None if error is None else type(error).__name__))

    @app.get("/ok")
    def ok(request: Request) -> str:
        return "ok"

    @app.get("/boom")
    def boom(request: Request) -> str:
        raise RuntimeError("boom")

    @app.get("/gone")
    def gone(request: Request) -> str:
        abort(410)

    client.get("/ok")
    client.get("/boom")
    client.get("/gone")
    client.get("/missing")

    assert seen == [
        ("/ok", None),
        ("/boom", "RuntimeError"),
        ("/gone", "Gone"),
        ("/missing", "NotFound"),
    ]


def test_teardown_runs_when_a_hook_fails(app: App, client: Client) -> None:
    seen: list[str | None] = []

    @app.before_request
    def broken_before(request: Request) -> None:
        if request.path == "/before":
            raise RuntimeError("before hook")

    @app.after_request
    def broken_after(request: Request, response: Response) -> Response:
        if request.path == "/after":
            raise LookupError("after hook")
        return response

    @app.teardown_request
    def close(request: Request, error: BaseException | None) -> None:
        seen.append(None if error is None else str(error))

    @app.get("/before")
    def before(request: Request) -> str:
        return "x"

    @app.get("/after")
    def after(request: Request) -> str:
        return "x"

    assert client.get("/before").status_code == 500
    assert client.get("/after").status_code == 500
    assert seen == ["before hook", "after hook"]


def test_a_failing_teardown_hook_is_logged_and_the_others_still_run(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    @app.teardown_request
    def second(request: Request, error: BaseException | None) -> None:
        ran.append("second")

    @app.teardown_request
    def first(request: Request, error: BaseException | None) -> None:
        raise OSError("cannot close")

    @app.get("/")
    def index(request: Request) -> str:
        return "fine"

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = client.get("/")

    assert response.text == "fine"
    assert ran == ["second"]
    assert "teardown_request hook failed" in caplog.text
    assert "OSError: cannot close" in caplog.text


def test_url_for_takes_rule_variables_named_self_and_endpoint(app: App) -> None:
    @app.get("/<self>/<endpoint>")
    def odd(request: Request, self: str, endpoint: str) -> str:
        return ""

    assert app.url_for("odd", self="2", endpoint="e") == "/2/e"


def test_run_takes_host_and_port_first_as_flask_does() -> None:
    parameters = list(inspect.signature(App.run).parameters.values())

    assert [p.name for p in parameters[1:3]] == ["host", "port"]
    assert parameters[3].name == "server"
    assert parameters[3].kind is inspect.Parameter.KEYWORD_ONLY


def test_flask_config_names_are_the_ones_read(app: App) -> None:
    assert app.config["PERMANENT_SESSION_LIFETIME"] == datetime.timedelta(days=31)
    assert app.config["SEND_FILE_MAX_AGE_DEFAULT"] is None


def test_config_from_pyfile_is_relative_to_the_app_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "settings.py").write_text("GREETING = 'hello'\n")
    monkeypatch.chdir("/")
    site = App(__name__, root_path=str(tmp_path))

    site.config.from_pyfile("settings.py")

    assert site.config["GREETING"] == "hello"


BATTERIES = ["auth", "compress", "conditional", "cors", "proxies", "ratelimit", "sse"]


def test_the_core_imports_no_battery() -> None:
    import subprocess
    import sys

    import wsgilite

    src = str(Path(wsgilite.__file__).resolve().parent.parent)
    code = (
        "import sys\n"
        "from wsgilite import App\n"
        "app = App(__name__)\n"
        "app.get('/')(lambda request: 'hi')\n"
        "assert app.test_client().get('/').status_code == 200\n"
        f"print(sorted(name for name in {BATTERIES!r} if 'wsgilite.' + name in sys.modules))\n"
        "print('redis' in sys.modules, 'brotli' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src},
        timeout=60,
    )

    assert result.stdout.split("\n")[:2] == ["[]", "False False"]


def test_a_before_hook_may_pop_a_path_param_on_any_route(app: App, client: Client) -> None:
    # Flask's url_value_preprocessor pattern: a hook takes a value out before the handler runs.
    @app.before_request
    def take_language(request: Request) -> None:
        request.state.language = request.path_params.pop("language", "en")  # type: ignore[attr-defined]

    @app.get("/<language>/about")
    def about(request: Request, language: str = "") -> str:
        return f"about in {request.state.language}{language}"

    @app.get("/about")
    def about_default(request: Request) -> str:
        return f"about in {request.state.language}"

    assert client.get("/fr/about").data == b"about in fr"
    assert client.get("/about").data == b"about in en"


def test_hooks_registered_after_the_app_answered_run_from_the_next_request(
    app: App, client: Client
) -> None:
    seen: list[str] = []

    @app.get("/")
    def index(request: Request) -> str:
        return "hi"

    assert client.get("/").data == b"hi"  # answered with no hook anywhere

    @app.before_request
    def before(request: Request) -> None:
        seen.append("before")

    @app.after_request
    def after(request: Request, response: Response) -> Response:
        response.headers["X-After"] = "1"
        return response

    @app.teardown_request
    def teardown(request: Request, error: BaseException | None) -> None:
        seen.append("teardown")

    response = client.get("/")
    assert (response.data, response.headers["X-After"]) == (b"hi", "1")
    assert seen == ["before", "teardown"]


@pytest.mark.parametrize("method", ["get", "Get", "gEt"])
def test_a_method_in_lower_case_from_the_server_is_matched_upper_cased(
    app: App, method: str
) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return request.method

    response = Client(app).open("/", method=method)
    assert (response.status_code, response.data) == (200, b"GET")
