"""CORS: preflights, headers on answers and errors, Vary, and the credentials guard."""

from __future__ import annotations

import json
import os
import sys
from http.client import HTTPConnection
from pathlib import Path

import pytest
from serving import HOST, free_port, served
from werkzeug.test import Client

import wsgilite
from wsgilite import App, Request, Router, abort
from wsgilite.cors import CORS

SITE = "https://app.example"
SRC = Path(wsgilite.__file__).resolve().parent.parent
PREFLIGHT = {"Origin": SITE, "Access-Control-Request-Method": "PUT"}


def test_an_allowed_origin_may_read_the_answer(app: App, client: Client) -> None:
    CORS(app, origins=[SITE], expose_headers=["X-Total"])

    @app.get("/items")
    def items(request: Request) -> dict[str, int]:
        return {"n": 1}

    response = client.get("/items", headers={"Origin": SITE})

    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert response.headers["Access-Control-Expose-Headers"] == "X-Total"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Vary"] == "Origin"


def test_another_origin_gets_no_cors_header_but_vary(app: App, client: Client) -> None:
    CORS(app, origins=[SITE])

    @app.get("/items")
    def items(request: Request) -> str:
        return "ok"

    response = client.get("/items", headers={"Origin": "https://evil.example"})
    plain = client.get("/items")

    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"
    assert plain.headers["Vary"] == "Origin"  # a cache must not serve it to another origin


def test_a_preflight_on_a_route_with_a_path_variable(app: App, client: Client) -> None:
    CORS(app, origins=[SITE], headers=["Content-Type", "X-Token"], max_age=600)

    @app.put("/items/<int:item_id>")
    def update(request: Request, item_id: int) -> dict[str, int]:
        return {"id": item_id}

    response = client.options(
        "/items/7", headers={**PREFLIGHT, "Access-Control-Request-Headers": "content-type, x-token"}
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "PUT" in response.headers["Access-Control-Allow-Methods"].split(", ")
    assert response.headers["Access-Control-Allow-Headers"] == "content-type, x-token"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Vary"] == "Origin"


def test_a_preflight_asking_for_an_unlisted_header_or_method_is_refused(
    app: App, client: Client
) -> None:
    CORS(app, origins=[SITE], methods=["GET", "PUT"])

    @app.put("/items/<int:item_id>")
    def update(request: Request, item_id: int) -> str:
        return "ok"

    header = client.options(
        "/items/7", headers={**PREFLIGHT, "Access-Control-Request-Headers": "X-Secret"}
    )
    method = client.options(
        "/items/7", headers={"Origin": SITE, "Access-Control-Request-Method": "DELETE"}
    )
    origin = client.options("/items/7", headers={**PREFLIGHT, "Origin": "https://evil.example"})

    for response in (header, method, origin):
        assert response.status_code == 204
        assert "Access-Control-Allow-Origin" not in response.headers


def test_a_plain_options_still_answers_allow(app: App, client: Client) -> None:
    CORS(app, origins=[SITE])

    @app.put("/items/<int:item_id>")
    def update(request: Request, item_id: int) -> str:
        return "ok"

    response = client.options("/items/7")

    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) == {"PUT", "OPTIONS"}


def test_credentials_reflect_only_a_listed_origin(app: App, client: Client) -> None:
    CORS(app, origins=[SITE], credentials=True)

    @app.get("/me")
    def me(request: Request) -> str:
        return "ada"

    allowed = client.get("/me", headers={"Origin": SITE})
    other = client.get("/me", headers={"Origin": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == SITE
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Credentials" not in other.headers


def test_any_origin_with_credentials_is_refused_at_setup(app: App) -> None:
    with pytest.raises(ValueError, match="every site"):
        CORS(app, origins="*", credentials=True)
    with pytest.raises(ValueError, match="list the request headers"):
        CORS(app, origins=[SITE], headers="*", credentials=True)
    with pytest.raises(ValueError, match="not an origin"):
        CORS(app, origins=["https://app.example/"])


def test_any_origin_answers_a_star_without_vary(app: App, client: Client) -> None:
    CORS(app, origins="*", headers="*")

    @app.post("/ping")
    def ping(request: Request) -> str:
        return "pong"

    response = client.post("/ping", headers={"Origin": "https://anyone.example"})
    preflight = client.options(
        "/ping",
        headers={
            "Origin": "https://anyone.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Anything",
        },
    )

    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in response.headers
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Headers"] == "X-Anything"


def test_a_function_decides_the_origin(app: App, client: Client) -> None:
    asked: list[str] = []

    def check(origin: str) -> bool:
        asked.append(origin)
        return origin.endswith(".example.com")

    CORS(app, origins=check)

    @app.get("/")
    def index(request: Request) -> str:
        return "ok"

    good = client.get("/", headers={"Origin": "https://a.example.com"})
    bad = client.get("/", headers={"Origin": "https://example.com.evil.net"})

    assert good.headers["Access-Control-Allow-Origin"] == "https://a.example.com"
    assert "Access-Control-Allow-Origin" not in bad.headers
    assert good.headers["Vary"] == bad.headers["Vary"] == "Origin"
    assert asked == ["https://a.example.com", "https://example.com.evil.net"]  # once each


def test_error_answers_carry_cors_headers(app: App, client: Client) -> None:
    CORS(app, origins=[SITE])

    @app.get("/gone")
    def gone(request: Request) -> str:
        abort(410)

    response = client.get("/gone", headers={"Origin": SITE})

    assert response.status_code == 410
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_a_router_has_its_own_cors(app: App, client: Client) -> None:
    api = Router("/api")
    CORS(api, origins=[SITE])

    @api.put("/items/<int:item_id>")
    def update(request: Request, item_id: int) -> str:
        return "ok"

    @app.put("/admin/<int:item_id>")
    def admin(request: Request, item_id: int) -> str:
        return "ok"

    app.include(api)

    inside = client.options("/api/items/3", headers=PREFLIGHT)
    outside = client.options("/admin/3", headers=PREFLIGHT)

    assert inside.status_code == 204
    assert inside.headers["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Origin" not in outside.headers
    assert (
        "Access-Control-Allow-Origin"
        not in client.put("/admin/3", headers={"Origin": SITE}).headers
    )


def test_cors_on_an_included_router_is_an_error(app: App) -> None:
    api = Router("/api")
    app.include(api)

    with pytest.raises(RuntimeError, match=r"before app\.include"):
        CORS(api, origins=[SITE])


SERVED_APP = """
from wsgilite import App, Request
from wsgilite.cors import CORS

app = App(__name__)
CORS(app, origins=["https://app.example"], headers=["Content-Type"], credentials=True)


@app.put("/items/<int:item_id>")
def update(request: Request, item_id: int) -> dict[str, int]:
    return {"id": item_id}
"""


def test_cors_through_gunicorn(tmp_path: Path) -> None:
    (tmp_path / "cors_app.py").write_text(SERVED_APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(tmp_path)])}
    command = [sys.executable, "-m", "gunicorn", "-b", f"{HOST}:{port}", "cors_app:app"]

    with served(command, port, cwd=str(tmp_path), env=env):
        connection = HTTPConnection(HOST, port, timeout=5)
        connection.request(
            "OPTIONS",
            "/items/7",
            headers={**PREFLIGHT, "Access-Control-Request-Headers": "content-type"},
        )
        preflight = connection.getresponse()
        preflight.read()
        connection.request("PUT", "/items/7", body=b"", headers={"Origin": SITE})
        answer = connection.getresponse()
        body = answer.read()

    assert preflight.status == 204
    assert preflight.getheader("Access-Control-Allow-Origin") == SITE
    assert preflight.getheader("Access-Control-Allow-Credentials") == "true"
    assert answer.status == 200
    assert json.loads(body) == {"id": 7}
    assert answer.getheader("Access-Control-Allow-Origin") == SITE
    assert answer.getheader("Vary") == "Origin"


def test_headers_the_handler_set_are_merged_not_doubled(app: App, client: Client) -> None:
    CORS(app, origins=[SITE])

    @app.get("/")
    def index(request: Request) -> tuple[str, dict[str, str]]:
        return "ok", {"Vary": "Cookie", "Access-Control-Allow-Origin": "https://old.example"}

    response = client.get("/", headers={"Origin": SITE})

    assert response.headers.getlist("Vary") == ["Cookie, Origin"]
    assert response.headers.getlist("Access-Control-Allow-Origin") == [SITE]


def test_a_preflight_is_answered_even_when_a_before_hook_refuses(app: App, client: Client) -> None:
    @app.before_request
    def login_required(request: Request) -> tuple[str, int] | None:
        return None if request.cookies.get("session") else ("log in first", 401)

    CORS(app, origins=[SITE], methods=["PUT"])  # installed after the check: order is no matter

    @app.put("/items/<int:item_id>")
    def update(request: Request, item_id: int) -> str:
        return "ok"

    preflight = client.options("/items/7", headers=PREFLIGHT)
    refused = client.put("/items/7", headers={"Origin": SITE})

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SITE
    assert preflight.headers["Access-Control-Allow-Methods"] == "PUT"
    # The call itself is refused, and the page may read why.
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == SITE
