"""DESIGN.md's example app, as written there, end to end through the test client."""

from __future__ import annotations

from pathlib import Path

from werkzeug.exceptions import HTTPException

from wsgilite import App, Request, Response, Router, abort, redirect

USERS = {1: "Ada"}


def make_design_app(root: Path) -> App:
    """The app of DESIGN.md's "The API a user writes", with its templates in `root`."""
    (root / "templates").mkdir()
    (root / "templates" / "index.html").write_text(
        "<h1>{{ title }}</h1>{% if session.user %}<p>Hi {{ session.user }}</p>{% endif %}"
    )
    (root / "templates" / "login.html").write_text(
        '<form method="post"><input name="csrf_token" value="{{ csrf_token() }}">'
        '<input name="username"></form>'
    )
    (root / "templates" / "404.html").write_text("<h1>Nothing at {{ request.path }}</h1>")

    app = App(__name__, root_path=str(root))
    app.config["SECRET_KEY"] = "change-me"

    @app.get("/")
    def index(request: Request) -> Response:
        return app.render("index.html", title="Home")

    @app.get("/users/<int:user_id>")
    def show_user(request: Request, user_id: int) -> dict[str, object]:
        if user_id not in USERS:
            abort(404)
        return {"id": user_id, "name": USERS[user_id]}

    @app.route("/login", methods=["GET", "POST"])
    def login(request: Request) -> Response:
        if request.method == "POST":
            request.session["user"] = request.form["username"]
            return redirect(app.url_for("index"))
        return app.render("login.html")

    api = Router(prefix="/api")

    @api.get("/ping")
    def ping(request: Request) -> tuple[str, int, dict[str, str]]:
        return "pong", 200, {"X-Ping": "1"}

    app.include(api)

    @app.errorhandler(404)
    def not_found(request: Request, error: HTTPException) -> tuple[Response, int]:
        return app.render("404.html"), 404

    return app


def test_the_design_example_works_as_written(tmp_path: Path) -> None:
    client = make_design_app(tmp_path).test_client()

    assert client.get("/").text == "<h1>Home</h1>"
    assert client.get("/users/1").json == {"id": 1, "name": "Ada"}
    missing = client.get("/users/2")
    assert missing.status_code == 404
    assert missing.text == "<h1>Nothing at /users/2</h1>"
    ping = client.get("/api/ping")
    assert (ping.text, ping.status_code, ping.headers["X-Ping"]) == ("pong", 200, "1")

    login = client.post("/login", data={"username": "ada"})
    assert login.status_code == 302
    assert login.headers["Location"] == "/"
    assert client.get("/").text == "<h1>Home</h1><p>Hi ada</p>"
