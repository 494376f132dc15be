"""The notes example (examples/notes/app.py), page by page, through the test client.

Each test gets its own app on its own SQLite file in tmp_path. Forms are posted the way a browser
posts them: with the CSRF token read from the page that holds the form.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from wsgilite import App, Request

NOTES_APP = Path(__file__).resolve().parent.parent / "examples" / "notes" / "app.py"
PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
EDIT_LINK = re.compile(r'href="/notes/(\d+)/edit"')


def _load_create_app() -> Callable[[Mapping[str, Any] | None], App]:
    # Loaded from its file, as `wsgilite run examples/notes/app.py:app` loads it.
    spec = importlib.util.spec_from_file_location("notes_app", NOTES_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    create_app: Callable[[Mapping[str, Any] | None], App] = module.create_app
    return create_app


create_app = _load_create_app()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """The SQLite file of this test's app (created by the app on its first request)."""
    return tmp_path / "instance" / "notes.db"


@pytest.fixture
def app(database: Path) -> App:
    """The notes site with a fixed secret key and its own database."""
    return create_app({"SECRET_KEY": "test-" + "s" * 40, "DATABASE": str(database)})


# -- how a browser uses the site -------------------------------------------------------------------


def csrf_token_on(client: Client, path: str) -> str:
    """Return the CSRF token of the forms on the page at `path`."""
    page = client.get(path)
    match = CSRF_FIELD.search(page.text)
    assert match is not None, f"no csrf_token field on {path} ({page.status_code})"
    return match.group(1)


def sign_up(client: Client, username: str, password: str = PASSWORD) -> TestResponse:
    """Post the sign-up form."""
    token = csrf_token_on(client, "/signup")
    form = {"username": username, "password": password, "csrf_token": token}
    return client.post("/signup", data=form)


def log_in(
    client: Client, username: str, password: str = PASSWORD, next_url: str = ""
) -> TestResponse:
    """Post the login form (with the `next` field the login page carries)."""
    token = csrf_token_on(client, "/login")
    form = {"username": username, "password": password, "next": next_url, "csrf_token": token}
    return client.post("/login", data=form)


def signed_in(client: Client, username: str) -> Client:
    """Sign up and log in as `username`; return the same client."""
    assert sign_up(client, username).status_code == 302
    assert log_in(client, username).status_code == 302
    return client


def add_note(client: Client, title: str, body: str = "") -> TestResponse:
    """Post the new-note form."""
    token = csrf_token_on(client, "/notes/new")
    return client.post("/notes/new", data={"title": title, "body": body, "csrf_token": token})


def run_sql(database: Path, sql: str) -> list[Any]:
    """Run `sql` on the site's database file behind its back, commit, and return the rows."""
    with closing(sqlite3.connect(database)) as connection, connection:
        return connection.execute(sql).fetchall()


def note_ids(client: Client) -> list[int]:
    """Return the ids of the notes listed on the user's notes page."""
    return [int(note_id) for note_id in EDIT_LINK.findall(client.get("/").text)]


# -- accounts --------------------------------------------------------------------------------------


def test_signing_up_leads_to_the_login_page(client: Client) -> None:
    response = sign_up(client, "ada")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login")
    assert "Account ada created. Log in to start writing notes." in page.text


def test_passwords_are_stored_hashed(client: Client, database: Path) -> None:
    sign_up(client, "ada")

    ((stored,),) = run_sql(database, "SELECT password_hash FROM users")
    assert PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_a_taken_username_is_refused(client: Client) -> None:
    sign_up(client, "ada")

    response = sign_up(client, "ADA")

    assert response.status_code == 400
    assert "The username ADA is taken; choose another one." in response.text


def test_a_short_password_is_refused(client: Client) -> None:
    response = sign_up(client, "ada", password="short")

    assert response.status_code == 400
    assert "A password has at least 8 characters." in response.text
    assert 'value="ada"' in response.text  # the form keeps what was typed


def test_logging_in_shows_the_users_notes_page(client: Client) -> None:
    sign_up(client, "ada")

    response = log_in(client, "ada")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Signed in as <strong>ada</strong>" in page.text
    assert "Welcome, ada!" in page.text
    assert "No notes yet." in page.text


def test_a_wrong_password_shows_an_error(client: Client) -> None:
    sign_up(client, "ada")

    response = log_in(client, "ada", password="not the password")

    assert response.status_code == 400
    assert "Wrong username or password." in response.text
    assert client.get("/").status_code == 302  # still not logged in


def test_an_unknown_username_gets_the_same_error(client: Client) -> None:
    response = log_in(client, "nobody")

    assert response.status_code == 400
    assert "Wrong username or password." in response.text


def test_a_page_for_users_sends_a_visitor_to_log_in_with_next(client: Client) -> None:
    response = client.get("/notes/new")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/notes/new"
    page = client.get(response.headers["Location"])
    assert "Please log in to see that page." in page.text
    assert 'name="next" value="/notes/new"' in page.text


def test_logging_in_returns_to_the_next_page(client: Client) -> None:
    sign_up(client, "ada")

    response = log_in(client, "ada", next_url="/notes/new")

    assert response.headers["Location"] == "/notes/new"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/steal", "//evil.example", "http://[::1", "//[x", "https://]x"],
)
def test_next_never_leads_to_another_site(client: Client, next_url: str) -> None:
    sign_up(client, "ada")
    login_page = client.get("/login", query_string={"next": next_url})

    response = log_in(client, "ada", next_url=next_url)

    assert login_page.status_code == 200  # a bracketed host urlsplit refuses is no 500
    assert response.headers["Location"] == "/"
    assert client.get("/login", query_string={"next": next_url}).headers["Location"] == "/"


def test_logging_out_ends_the_session(client: Client) -> None:
    signed_in(client, "ada")
    token = csrf_token_on(client, "/")

    response = client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login")
    assert "You have been logged out." in page.text
    assert "Signed in as" not in page.text
    assert client.get("/").headers["Location"] == "/login?next=/"


def test_a_cookie_captured_before_logout_stops_working_after_it(app: App) -> None:
    browser, thief = app.test_client(), app.test_client()
    signed_in(browser, "ada")
    captured = browser.get_cookie("session")
    assert captured is not None
    thief.set_cookie("session", captured.value)
    assert thief.get("/").status_code == 200  # a copy works while the session lasts

    browser.post("/logout", data={"csrf_token": csrf_token_on(browser, "/")})

    assert thief.get("/").headers["Location"] == "/login?next=/"
    assert "Signed in as" not in thief.get("/signup").text
    assert log_in(browser, "ada").status_code == 302  # logging in again starts a new session
    assert browser.get("/").status_code == 200
    thief.set_cookie("session", captured.value)
    assert thief.get("/").status_code == 302  # the old copy stays dead


def test_logging_out_ends_the_users_other_sessions_too(app: App) -> None:
    laptop, phone = app.test_client(), app.test_client()
    signed_in(laptop, "ada")
    assert log_in(phone, "ada").status_code == 302

    laptop.post("/logout", data={"csrf_token": csrf_token_on(laptop, "/")})

    assert phone.get("/").headers["Location"] == "/login?next=/"


def test_a_database_made_before_session_generations_gets_the_column(
    app: App, database: Path
) -> None:
    database.parent.mkdir(parents=True)
    old_users = (
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE "
        "NOCASE, password_hash TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    run_sql(database, old_users)
    client = app.test_client()

    signed_in(client, "ada")

    assert client.get("/").status_code == 200
    assert run_sql(database, "SELECT session_generation FROM users") == [(0,)]


def test_logging_out_takes_a_post(client: Client) -> None:
    signed_in(client, "ada")

    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # still logged in


# -- notes -----------------------------------------------------------------------------------------


def test_a_new_note_is_listed_with_a_flash(client: Client) -> None:
    signed_in(client, "ada")

    response = add_note(client, "Groceries", "Milk\nEggs")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert "Note saved." in page.text
    assert '<h2 class="note-title">Groceries</h2>' in page.text
    assert "Milk\nEggs" in page.text


def test_a_flashed_message_is_shown_once(client: Client) -> None:
    signed_in(client, "ada")
    add_note(client, "Groceries")

    first, second = client.get("/"), client.get("/")

    assert "Note saved." in first.text
    assert "Note saved." not in second.text
    assert "Groceries" in second.text


def test_a_note_without_a_title_is_refused(client: Client) -> None:
    signed_in(client, "ada")

    response = add_note(client, "   ", "a body")

    assert response.status_code == 400
    assert "A note needs a title." in response.text
    assert ">a body</textarea>" in response.text
    assert note_ids(client) == []


def test_a_note_is_edited(client: Client) -> None:
    signed_in(client, "ada")
    add_note(client, "Groceries", "Milk")
    (note_id,) = note_ids(client)
    form_page = client.get(f"/notes/{note_id}/edit")
    assert 'value="Groceries"' in form_page.text
    token = CSRF_FIELD.findall(form_page.text)[-1]

    response = client.post(
        f"/notes/{note_id}/edit",
        data={"title": "Shopping", "body": "Milk, bread", "csrf_token": token},
    )

    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert "Note updated." in page.text
    assert "Shopping" in page.text
    assert "Milk, bread" in page.text
    assert "Groceries" not in page.text


def test_a_note_is_deleted(client: Client) -> None:
    signed_in(client, "ada")
    add_note(client, "Groceries")
    (note_id,) = note_ids(client)
    token = csrf_token_on(client, "/")

    response = client.post(f"/notes/{note_id}/delete", data={"csrf_token": token})

    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert 'Note "Groceries" deleted.' in page.text.replace("&#34;", '"')
    assert note_ids(client) == []
    assert "No notes yet." in page.text


def test_a_note_of_another_user_is_not_found(app: App) -> None:
    ada, bob = signed_in(app.test_client(), "ada"), signed_in(app.test_client(), "bob")
    add_note(ada, "Ada's secret")
    (note_id,) = note_ids(ada)
    token = csrf_token_on(bob, "/")

    shown = bob.get(f"/notes/{note_id}/edit")
    edited = bob.post(f"/notes/{note_id}/edit", data={"title": "Bob's", "csrf_token": token})
    deleted = bob.post(f"/notes/{note_id}/delete", data={"csrf_token": token})

    assert [shown.status_code, edited.status_code, deleted.status_code] == [404, 404, 404]
    assert "Page not found" in shown.text
    assert "secret" not in shown.text
    assert note_ids(bob) == []
    assert "Ada&#39;s secret" in ada.get("/").text


@pytest.mark.parametrize("note_id", [2**63 - 1, 2**63, 2**64, 10**40])
def test_a_note_id_past_sqlites_integers_is_not_found(client: Client, note_id: int) -> None:
    signed_in(client, "ada")
    token = csrf_token_on(client, "/")

    shown = client.get(f"/notes/{note_id}/edit")
    deleted = client.post(f"/notes/{note_id}/delete", data={"csrf_token": token})

    assert [shown.status_code, deleted.status_code] == [404, 404]
    assert "Page not found" in shown.text


def test_a_form_without_its_csrf_token_is_refused(client: Client) -> None:
    signed_in(client, "ada")

    missing = client.post("/notes/new", data={"title": "Forged"})
    wrong = client.post("/notes/new", data={"title": "Forged", "csrf_token": "x" * 86})

    assert missing.status_code == 400
    assert wrong.status_code == 400
    assert "CSRF token is missing or invalid" in missing.text
    assert note_ids(client) == []


def test_html_in_a_note_is_escaped(client: Client) -> None:
    signed_in(client, "ada")

    add_note(client, "<script>alert(1)</script>", "<b>bold?</b>")

    page = client.get("/").text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page


# -- the site around the pages ---------------------------------------------------------------------


def test_an_unknown_page_gets_the_custom_404_page(client: Client) -> None:
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>Page not found</h1>" in response.text
    assert "There is no page at <code>/no/such/page</code>" in response.text
    assert '<link rel="stylesheet" href="/static/style.css">' in response.text


def test_a_crash_gets_the_custom_500_page(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom(request: Request) -> str:
        raise RuntimeError("the disk is on fire")

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = client.get("/boom")

    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in response.text
    assert "the disk is on fire" not in response.text
    assert "RuntimeError: the disk is on fire" in caplog.text


def test_the_stylesheet_is_served(client: Client) -> None:
    response = client.get("/static/style.css")

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert ".flash-success" in response.text


def test_pages_forbid_scripts_through_their_content_security_policy(client: Client) -> None:
    response = client.get("/login")

    assert response.headers["Content-Security-Policy"].startswith("default-src 'self';")


def test_the_database_is_created_on_the_first_request(client: Client, database: Path) -> None:
    assert not database.exists()

    client.get("/login")

    tables = {name for (name,) in run_sql(database, "SELECT name FROM sqlite_master")}
    assert {"users", "notes"} <= tables


def test_a_request_arriving_during_startup_waits_for_the_schema(database: Path) -> None:
    app = create_app({"SECRET_KEY": "test-" + "s" * 40, "DATABASE": str(database), "CSRF": False})
    startup_began, go_on = threading.Event(), threading.Event()

    def slow_first_hook(app: App) -> None:  # stands in for a slow disk or a big schema
        startup_began.set()
        go_on.wait(timeout=10)

    app.startup_hooks.insert(0, slow_first_hook)
    first = threading.Thread(target=lambda: app.test_client().get("/login"))
    first.start()
    assert startup_began.wait(timeout=10)
    answers: list[int] = []
    second = threading.Thread(
        target=lambda: answers.append(
            app.test_client().post("/login", data={"username": "ada", "password": "x"}).status_code
        )
    )
    second.start()
    second.join(timeout=2)  # a fixed App makes it wait for the startup hooks instead
    go_on.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert answers == [400]  # "Wrong username or password.", not a 500 for a missing table


def test_a_session_of_a_user_no_longer_in_the_database_is_logged_out(
    client: Client, database: Path
) -> None:
    signed_in(client, "ada")
    run_sql(database, "DELETE FROM users")

    response = client.get("/")

    assert response.headers["Location"] == "/login?next=/"
    assert "Signed in as" not in client.get("/login").text


# -- settings --------------------------------------------------------------------------------------


def test_settings_come_from_wsgilite_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WSGILITE_SECRET_KEY", "from-the-environment-" + "k" * 32)
    monkeypatch.setenv("WSGILITE_DATABASE", str(tmp_path / "env.db"))

    app = create_app(None)

    assert app.config["SECRET_KEY"] == "from-the-environment-" + "k" * 32
    assert app.config["DATABASE"] == str(tmp_path / "env.db")


def test_without_a_secret_key_each_process_makes_a_random_one_and_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.delenv("WSGILITE_SECRET_KEY", raising=False)

    with caplog.at_level(logging.WARNING, logger="wsgilite.notes"):
        first = create_app({"DATABASE": str(tmp_path / "a.db")})
        second = create_app({"DATABASE": str(tmp_path / "b.db")})

    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]
    assert "no SECRET_KEY is set" in caplog.text
    assert "Set WSGILITE_SECRET_KEY" in caplog.text


def test_a_secret_key_made_of_digits_in_the_environment_still_signs_sessions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WSGILITE_SECRET_KEY", "20240611")
    client = create_app({"DATABASE": str(tmp_path / "notes.db")}).test_client()

    response = client.get("/login")

    assert response.status_code == 200
    assert "session=" in response.headers["Set-Cookie"]
