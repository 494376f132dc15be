"""Auth helpers: login_required for browsers and JSON clients, HTTP Basic and Bearer."""

from __future__ import annotations

import base64
from http.client import HTTPConnection
from pathlib import Path

import pytest
from serving import HOST, gunicorn_app
from werkzeug.test import Client

from wsgilite import App, Request, Router
from wsgilite.auth import BasicAuth, BearerAuth, LoginRequired, login_required

SECRET = "test-" + "s" * 40


@pytest.fixture
def site(app: App) -> App:
    app.config["SECRET_KEY"] = SECRET

    @app.get("/login")
    def login(request: Request) -> str:
        return "log in"

    @app.get("/as/<name>")
    def log_in_as(request: Request, name: str) -> str:
        request.session["user_id"] = name
        return "ok"

    @app.get("/notes/<int:note_id>")
    @login_required
    def note(request: Request, note_id: int) -> dict[str, int]:
        return {"id": note_id}

    return app


def test_a_browser_is_sent_to_log_in_with_next(site: App, client: Client) -> None:
    response = client.get("/notes/3?full=1")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/notes/3?full%3D1"


def test_a_json_client_gets_401(site: App, client: Client) -> None:
    response = client.get("/notes/3", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.mimetype == "application/json"


def test_a_logged_in_user_gets_the_page(site: App, client: Client) -> None:
    client.get("/as/ada")

    response = client.get("/notes/3")

    assert response.status_code == 200
    assert response.json == {"id": 3}


def test_next_never_leaves_the_site(site: App, client: Client) -> None:
    response = client.get("//evil.example/notes")

    assert response.status_code in (302, 404)
    assert "evil.example" not in response.headers.get("Location", "").split("next=")[0]
    if response.status_code == 302:
        assert "next=//" not in response.headers["Location"]


def test_a_decorated_handler_keeps_its_signature(site: App) -> None:
    assert [route.endpoint for route in site.routes()][-1] == "note"


def test_an_api_router_answers_401_to_everyone(app: App, client: Client) -> None:
    app.config["SECRET_KEY"] = SECRET
    api = LoginRequired(api=True).protect(Router("/api"))

    @api.get("/me")
    def me(request: Request) -> dict[str, str]:
        return {"user": request.session["user_id"]}

    app.include(api)

    assert client.get("/api/me").status_code == 401


def test_a_custom_user_check_and_refusal_hook(app: App, client: Client) -> None:
    refused: list[str] = []
    guard = LoginRequired(
        user=lambda request: request.headers.get("X-User"),
        login_endpoint="sign_in",
        on_refuse=lambda request: refused.append(request.path),
    )

    @app.get("/sign-in")
    def sign_in(request: Request) -> str:
        return "form"

    @app.get("/private")
    @guard
    def private(request: Request) -> str:
        return "secret"

    assert client.get("/private").headers["Location"] == "/sign-in?next=/private"
    assert client.get("/private", headers={"X-User": "ada"}).text == "secret"
    assert refused == ["/private"]


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth(app: App, client: Client) -> None:
    admin = BasicAuth({"ada": "lovelace"}, realm="admin")

    @app.get("/admin")
    @admin
    def panel(request: Request) -> str:
        return f"hello {request.state.user}"

    missing = client.get("/admin")
    wrong = client.get("/admin", headers=_basic("ada", "babbage"))
    unknown = client.get("/admin", headers=_basic("bob", ""))
    garbage = client.get("/admin", headers={"Authorization": "Basic !!!"})
    right = client.get("/admin", headers=_basic("ada", "lovelace"))

    for response in (missing, wrong, unknown, garbage):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="admin", charset="UTF-8"'
    assert right.text == "hello ada"


def test_basic_auth_with_a_function_on_a_router(app: App, client: Client) -> None:
    admin = Router("/admin")
    BasicAuth(lambda user, password: (user, password) == ("ada", "pw")).protect(admin)

    @admin.get("/")
    def panel(request: Request) -> str:
        return "panel"

    app.include(admin)

    assert client.get("/admin/").status_code == 401
    assert client.get("/admin/", headers=_basic("ada", "pw")).text == "panel"


def test_bearer_tokens(app: App, client: Client) -> None:
    token = BearerAuth(tokens={"t0ken"})

    @app.get("/data")
    @token
    def data(request: Request) -> dict[str, object]:
        return {"user": request.state.user}

    missing = client.get("/data")
    wrong = client.get("/data", headers={"Authorization": "Bearer nope"})
    right = client.get("/data", headers={"Authorization": "Bearer t0ken"})

    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert right.json == {"user": "t0ken"}


def test_bearer_with_a_verify_function(app: App, client: Client) -> None:
    users = {"abc": "ada"}
    guard = BearerAuth(verify=users.get)

    @app.get("/me")
    @guard
    def me(request: Request) -> dict[str, object]:
        return {"user": request.state.user}

    assert client.get("/me", headers={"Authorization": "Bearer abc"}).json == {"user": "ada"}
    with pytest.raises(ValueError, match="tokens"):
        BearerAuth()


SERVED_APP = """
from wsgilite import App, Request
from wsgilite.auth import BasicAuth

app = App(__name__)
admin = BasicAuth({"ada": "lovelace"})


@app.get("/admin")
@admin
def panel(request: Request):
    return "hello " + request.state.user
"""


def test_basic_auth_through_gunicorn(tmp_path: Path) -> None:
    with gunicorn_app(str(tmp_path), SERVED_APP) as port:
        connection = HTTPConnection(HOST, port, timeout=5)
        connection.request("GET", "/admin")
        refused = connection.getresponse()
        refused.read()
        connection.request("GET", "/admin", headers=_basic("ada", "lovelace"))
        allowed = connection.getresponse()
        body = allowed.read()

    assert refused.status == 401
    assert refused.getheader("WWW-Authenticate") == 'Basic realm="wsgilite", charset="UTF-8"'
    assert allowed.status == 200
    assert body == b"hello ada"
