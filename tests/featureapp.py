"""An app that uses every wsgilite feature, shared by the hostile, property and WSGI tests.

`make_app(tmp_path)` writes a template folder, a static folder and a secret file OUTSIDE the static
folder into `tmp_path`, then builds an App with small limits so tests can cross them cheaply. A
test proves a leak by finding `SECRET_TEXT` in a response, and proves the app is unharmed by
`GOOD_PATH` still answering `GOOD_JSON`.

No route here fails on purpose: a test that wants a 500 registers its own crashing route.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.exceptions import HTTPException

from wsgilite import (
    App,
    Request,
    Response,
    Router,
    abort,
    csrf_token,
    flash,
    get_flashed_messages,
    redirect,
    safe_next_url,
)

if TYPE_CHECKING:
    from werkzeug.test import Client

SECRET_KEY = "featureapp-secret-key-for-tests-only-0123456789abcdef"
SECRET_TEXT = "TOP-SECRET-7f3a9c: this file lives outside the static folder"
MAX_CONTENT_LENGTH = 64 * 1024
MAX_FORM_MEMORY_SIZE = 16 * 1024
MAX_FORM_PARTS = 20
STREAM_MAX_CHUNKS = 50

STATIC_FILES: dict[str, bytes] = {
    "hello.txt": b"hello, static world\n",
    "app.css": b"body { color: #123456; }\n",
    "sub/deep.txt": b"a file one folder down\n",
}
TEMPLATE = """<!doctype html>
<title>{{ title }}</title>
<h1>{{ title }}</h1>
<p id=path>{{ request.path }}</p>
<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>
<ul id=flashes>{% for message in get_flashed_messages() %}<li>{{ message }}</li>{% endfor %}</ul>
<form method=post action="{{ url_for('submit_form') }}">
<input type=hidden name=csrf_token value="{{ csrf_token() }}">
</form>
"""

# The request every test makes after a hostile one: it must still get exactly this answer.
GOOD_PATH = "/items/7"
GOOD_JSON = {"item_id": 7}


class Teapot(Exception):
    """A domain error the app answers through an exception-class error handler (418)."""


def fetch_csrf_token(client: Client) -> str:
    """Open a session on `client` (its cookie jar keeps it) and return a CSRF token for it."""
    payload = client.get("/csrf").json
    assert isinstance(payload, dict)
    return str(payload["token"])


def write_site(tmp_path: Path) -> None:
    """Write templates, static files, a secret outside static, and symlinks into `tmp_path`."""
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "page.html").write_text(TEMPLATE, encoding="utf-8")
    static = tmp_path / "static"
    for name, content in STATIC_FILES.items():
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_bytes(content)
    (tmp_path / "secret.txt").write_text(SECRET_TEXT, encoding="utf-8")
    # A sibling whose name starts like the static folder: a prefix check would let it through.
    (tmp_path / "static-private").mkdir(exist_ok=True)
    (tmp_path / "static-private" / "secret.txt").write_text(SECRET_TEXT, encoding="utf-8")
    for link, target in (("link-out.txt", "../secret.txt"), ("link-in.txt", "hello.txt")):
        if not (static / link).is_symlink():
            os.symlink(target, static / link)
    if not (static / "link-dir").is_symlink():
        os.symlink(tmp_path, static / "link-dir", target_is_directory=True)


def make_app(tmp_path: Path) -> App:
    """Build the feature app over a site written into `tmp_path`."""
    write_site(tmp_path)
    app = App(
        __name__,
        root_path=str(tmp_path),
        template_folder="templates",
        static_folder="static",
        config={
            "SECRET_KEY": SECRET_KEY,
            "CSRF": True,
            "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
            "MAX_FORM_MEMORY_SIZE": MAX_FORM_MEMORY_SIZE,
            "MAX_FORM_PARTS": MAX_FORM_PARTS,
        },
    )

    # -- plain bodies and converters -------------------------------------------------------

    @app.get("/")
    def index(request: Request) -> str:
        return "<h1>featureapp</h1>"

    @app.get("/bytes")
    def raw_bytes(request: Request) -> tuple[bytes, dict[str, str]]:
        return b"\x00\x01binary\xff", {"Content-Type": "application/octet-stream"}

    @app.get("/items/<int:item_id>")
    def show_item(request: Request, item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/things/<uuid:thing_id>")
    def show_thing(request: Request, thing_id: object) -> dict[str, object]:
        return {"thing_id": thing_id}

    @app.get("/files/<path:subpath>")
    def show_path(request: Request, subpath: str) -> dict[str, str]:
        return {"subpath": subpath}

    @app.get("/prices/<float:amount>")
    def show_price(request: Request, amount: float) -> dict[str, float]:
        return {"amount": amount}

    @app.get("/search")
    def search(request: Request) -> dict[str, object]:
        return {
            "q": request.args.get("q", ""),
            "tags": request.args.getlist("tag"),
            "page": request.args.get("page", 1, type=int),
        }

    # -- forms, uploads, CSRF --------------------------------------------------------------

    @app.get("/csrf")
    def issue_token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.post("/form")
    def submit_form(request: Request) -> dict[str, object]:
        fields = request.form.to_dict(flat=False)
        fields.pop("csrf_token", None)
        return {"fields": fields}

    @app.post("/upload")
    def upload(request: Request) -> dict[str, object]:
        if "file" not in request.files:
            abort(400, "send the file as the multipart part named 'file'")
        uploaded = request.files["file"]
        return {
            "filename": uploaded.filename,
            "size": len(uploaded.read()),
            "note": request.form.get("note", ""),
        }

    # -- JSON API under a Router prefix ------------------------------------------------------

    api = Router(prefix="/api")

    @api.get("/ping")
    def ping(request: Request) -> tuple[str, int, dict[str, str]]:
        return "pong", 200, {"X-Ping": "1"}

    @api.post("/echo")
    def echo_json(request: Request) -> dict[str, object]:
        return {"received": request.get_json()}

    @api.put("/json-attr")
    def json_attribute(request: Request) -> dict[str, object]:
        return {"received": request.json}

    app.include(api)

    # -- headers, redirects, streams, errors ---------------------------------------------------

    @app.get("/echo-header")
    def echo_header(request: Request) -> tuple[str, dict[str, str]]:
        return "echoed", {"X-Echo": request.headers.get("X-Echo", "")}

    @app.get("/next")
    def go_next(request: Request) -> Response:
        return redirect(safe_next_url(request.args.get("next")))

    @app.get("/stream")
    def stream(request: Request) -> Iterator[str]:
        count = min(request.args.get("n", 3, type=int), STREAM_MAX_CHUNKS)

        def chunks() -> Iterator[str]:
            for number in range(count):
                yield f"chunk {number}\n"

        return chunks()

    @app.get("/teapot")
    def teapot(request: Request) -> str:
        raise Teapot("short and stout")

    @app.get("/docs/")
    def docs(request: Request) -> str:
        return "<h1>docs</h1>"  # /docs redirects (308) here, keeping the query string

    @app.get("/page")
    def page(request: Request) -> Response:
        return app.render("page.html", title="Feature page", items=["one", "<two>"])

    # -- sessions and flash ----------------------------------------------------------------

    @app.get("/session/login")
    def login(request: Request) -> dict[str, str]:
        user = request.args.get("user", "ada")
        request.session["user"] = user
        flash(request, f"welcome {user}")
        return {"user": user}

    @app.get("/session/flash")
    def flash_and_redirect(request: Request) -> Response:
        # A client that never follows the redirect piles the flashes up in its cookie.
        flash(request, request.args.get("message", "saved") * request.args.get("n", 1, type=int))
        return redirect("/session")

    @app.get("/session")
    def show_session(request: Request) -> dict[str, object]:
        return {
            "user": request.session.get("user"),
            "flashes": get_flashed_messages(request),
        }

    # -- hooks and error handlers ----------------------------------------------------------

    @app.before_request
    def block_marked_clients(request: Request) -> tuple[dict[str, str], int] | None:
        if request.headers.get("X-Block") == "yes":
            return {"error": "blocked by a before-request hook"}, 403
        return None

    @app.after_request
    def mark_response(request: Request, response: Response) -> Response:
        response.headers["X-Feature-App"] = "1"
        return response

    @app.errorhandler(404)
    def not_found(request: Request, error: HTTPException) -> tuple[dict[str, object], int]:
        return {"error": "not found", "path": request.path}, 404

    @app.errorhandler(Teapot)
    def brew_refused(request: Request, error: Teapot) -> tuple[dict[str, str], int]:
        return {"error": "teapot", "detail": str(error)}, 418

    return app
