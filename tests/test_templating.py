"""Templates: one Jinja2 environment per app, autoescaping, helpers in every template."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from werkzeug.test import Client

from wsgilite import App, Request, Response, Router, flash
from wsgilite.templating import TemplateNotFound


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    templates = tmp_path / "templates"
    templates.mkdir()
    return templates


@pytest.fixture
def site(folder: Path) -> App:
    return App(__name__, template_folder=str(folder), config={"SECRET_KEY": "k" * 32})


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_render_returns_an_html_response(site: App, folder: Path) -> None:
    write(folder, "hello.html", "<h1>Hello, {{ name }}!</h1>")

    @site.get("/")
    def index(request: Request) -> object:
        return site.render("hello.html", name="Ada")

    response = site.test_client().get("/")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>Hello, Ada!</h1>"


@pytest.mark.parametrize("name", ["page.html", "page.htm", "page.xml", "page.jinja", "page.j2"])
def test_autoescaping_is_on_for_markup_files(site: App, folder: Path, name: str) -> None:
    write(folder, name, "{{ value }}")

    @site.get("/")
    def index(request: Request) -> object:
        return site.render(name, value="<script>alert(1)</script>")

    assert site.test_client().get("/").text == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_plain_text_templates_are_not_escaped(site: App, folder: Path) -> None:
    write(folder, "mail.txt", "{{ value }}")

    assert site.render_to_string("mail.txt", value="<b>") == "<b>"


def test_request_session_url_for_and_flashes_are_in_every_template(site: App, folder: Path) -> None:
    write(
        folder,
        "page.html",
        "{{ request.path }}|{{ url_for('index', page=2) }}|{{ session.get('user') }}|"
        "{% for message in get_flashed_messages() %}{{ message }}{% endfor %}|"
        "{{ csrf_token()|length > 20 }}",
    )

    @site.get("/")
    def index(request: Request) -> object:
        return site.render("page.html")

    @site.get("/login")
    def login(request: Request) -> str:
        request.session["user"] = "ada"
        flash(request, "Welcome back")
        return "ok"

    client = site.test_client()
    client.get("/login")

    assert client.get("/").text == "/|/?page=2|ada|Welcome back|True"
    assert client.get("/").text == "/|/?page=2|ada||True"


def test_render_takes_a_status_and_error_handlers_can_render(site: App, folder: Path) -> None:
    write(folder, "404.html", "Nothing at {{ request.path }}")

    @site.errorhandler(404)
    def not_found(request: Request, error: Exception) -> object:
        return site.render("404.html"), 404

    response = site.test_client().get("/missing")

    assert response.status_code == 404
    assert response.text == "Nothing at /missing"


def test_filters_and_globals_can_be_added(site: App, folder: Path) -> None:
    write(folder, "page.html", "{{ 'abc'|shout }} {{ answer() }}")

    @site.template_filter()
    def shout(text: str) -> str:
        return text.upper() + "!"

    @site.template_global("answer")
    def forty_two() -> int:
        return 42

    @site.get("/")
    def index(request: Request) -> object:
        return site.render("page.html")

    assert site.test_client().get("/").text == "ABC! 42"


def test_a_missing_template_is_a_clear_error(
    site: App, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(TemplateNotFound, match=f"'nope.html' was not found.*{folder}"):
        site.render_to_string("nope.html")

    @site.get("/")
    def index(request: Request) -> object:
        return site.render("nope.html")

    response = site.test_client().get("/")

    assert response.status_code == 500
    assert "nope.html" not in response.text
    assert "'nope.html' was not found" in caplog.text


def test_routers_bring_their_own_template_folders(tmp_path: Path, folder: Path) -> None:
    extra = tmp_path / "admin_templates"
    extra.mkdir()
    write(extra, "admin.html", "admin page")
    site = App(__name__, template_folder=str(folder))
    admin = Router(prefix="/admin", template_folder=str(extra))

    @admin.get("/")
    def dashboard(request: Request) -> object:
        return site.render("admin.html")

    site.include(admin)

    assert site.test_client().get("/admin/").text == "admin page"


def test_templates_reload_on_change_in_debug_only(site: App, folder: Path) -> None:
    write(folder, "page.html", "one")

    @site.get("/")
    def index(request: Request) -> object:
        return site.render("page.html")

    client = site.test_client()
    assert client.get("/").text == "one"
    time.sleep(0.01)
    write(folder, "page.html", "two")
    assert client.get("/").text == "one"  # compiled once in production

    site.debug = True
    write(folder, "page.html", "three")
    assert client.get("/").text == "three"


def test_the_default_template_folder_is_beside_the_module(tmp_path: Path) -> None:
    site = App(__name__, root_path=str(tmp_path))
    write(tmp_path / "templates", "x.html", "found")

    assert site.render_to_string("x.html") == "found"


def test_templates_see_no_session_without_a_secret_key(folder: Path) -> None:
    write(folder, "page.html", "[{% if session %}yes{% endif %}]")
    site = App(__name__, template_folder=str(folder))

    @site.get("/")
    def index(request: Request) -> object:
        return site.render("page.html")

    assert site.test_client().get("/").text == "[]"


def test_responses_for_templates_can_carry_cookies(site: App, folder: Path) -> None:
    write(folder, "page.html", "page")

    @site.get("/")
    def index(request: Request) -> object:
        response = site.render("page.html")
        response.set_cookie("seen", "1")
        return response

    client: Client = site.test_client()
    response = client.get("/")

    assert response.text == "page"
    assert "seen=1" in response.headers["Set-Cookie"]


def test_a_rendered_response_read_outside_a_handler_has_its_body(site: App, folder: Path) -> None:
    write(folder, "hello.html", "<p>{{ name }}</p>")

    response = site.render("hello.html", name="<Ada>")

    assert response.get_data(as_text=True) == "<p>&lt;Ada&gt;</p>"
    assert response.mimetype == "text/html"


def test_render_source_renders_template_text_for_the_request(folder: Path) -> None:
    site = App(__name__, template_folder=str(folder))

    @site.get("/hello/<name>")
    def hello(request: Request, name: str) -> Response:
        return site.render_source("<p>{{ name }} at {{ request.path }}</p>", name=name)

    response = site.test_client().get("/hello/<b>")

    assert response.text == "<p>&lt;b&gt; at /hello/&lt;b&gt;</p>"  # autoescaped, as a file


def test_a_lone_surrogate_from_client_json_renders_replaced_not_a_500(folder: Path) -> None:
    site = App(__name__, template_folder=str(folder))

    @site.post("/echo")
    def echo(request: Request) -> Response:
        return site.render_source("<p>{{ name }}</p>", name=request.get_json()["name"])

    response = site.test_client().post(
        "/echo", data='{"name": "a\\ud800b"}', content_type="application/json"
    )

    assert (response.status_code, response.data) == (200, b"<p>a?b</p>")
    assert response.headers["Content-Length"] == "10"
