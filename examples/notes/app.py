"""Notes: a small wsgilite site on SQLite, with accounts, sessions, CSRF-safe forms and flashes.

Serve it from the repository's root folder:

    wsgilite run examples/notes/app.py:app --port 8000
    wsgilite run examples/notes/app.py:app --server gunicorn --workers 2
    gunicorn examples.notes.app:app

Settings live in `app.config`; each can also come from a `WSGILITE_<NAME>` environment variable:

- `SECRET_KEY` signs the session cookie and the forms' CSRF tokens. Set it, for instance with
  `export WSGILITE_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`.
  Without one the app makes a random key for its process and logs a warning: nothing is ever
  signed with a key someone could guess, but every restart logs everyone out, and gunicorn
  workers that each import the app (plain `gunicorn`, no `--preload`) reject each other's
  cookies. `wsgilite run --server gunicorn` imports the app once, so its workers share the key.
- `DATABASE` is the SQLite file, `instance/notes.db` beside this file by default. The file and
  its tables are created before the first request a process serves.

Pages live on a Router; `create_app(settings)` builds an App around them (tests build one per
test). The templates are in the repository's top-level `templates/` folder, the stylesheet in
`static/` beside this file. Every template ends in `.html`, so everything a user typed is escaped.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from wsgilite import App, Request, Response, Router, abort, flash, redirect, safe_next_url
from wsgilite.auth import LoginRequired
from wsgilite.sessions import log_in, log_out, session_user

HERE = Path(__file__).resolve().parent
TEMPLATE_FOLDER = HERE.parent.parent / "templates"
STATIC_FOLDER = HERE / "static"
DEFAULT_DATABASE = HERE / "instance" / "notes.db"

USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MIN_PASSWORD = 8
MAX_TITLE = 200
MAX_BODY = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- Moves on at every logout: a session cookie signed at another generation is no login.
    session_generation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_user ON notes (user_id, updated_at);
"""

# SQLite integers are 64-bit: a larger note id can name no note, so the rule refuses it (404).
NOTE_ID = "<int(max=9223372036854775807):note_id>"

# Content-Security-Policy: the pages use no scripts and no inline styles at all.
CSP = "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

logger = logging.getLogger("wsgilite.notes")

pages = Router()


@pages.before_request
def check_login(request: Request) -> None:
    """Check the session against the user's generation before any page shows it."""
    if "username" in request.session:
        current_user(request)  # a stale cookie is cleared here, so no page says "Signed in"


# -- the app ---------------------------------------------------------------------------------------


def create_app(settings: Mapping[str, Any] | None = None) -> App:
    """Build the notes site; `settings` override the defaults and `WSGILITE_*` variables."""
    app = App(
        __name__,
        root_path=str(HERE),
        template_folder=str(TEMPLATE_FOLDER),
        static_folder=str(STATIC_FOLDER),
    )
    app.config["DATABASE"] = str(DEFAULT_DATABASE)
    app.config.from_env()
    app.config.from_mapping(settings)
    app.config["SECURITY_HEADERS"]["Content-Security-Policy"] = CSP
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        logger.warning(
            "notes: no SECRET_KEY is set, so this process signs sessions with a random key; "
            "everyone is logged out when it restarts. Set WSGILITE_SECRET_KEY to a long random "
            "string, e.g. secrets.token_hex(32)"
        )
    app.include(pages)

    @app.on_startup
    def create_schema(app: App) -> None:
        database = Path(app.config["DATABASE"])
        database.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(database)) as connection:
            # WAL lets readers go on while one worker writes (gunicorn --workers 2 and up).
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)
            columns = {row["name"] for row in connection.execute("PRAGMA table_info(users)")}
            if "session_generation" not in columns:  # a database made before the column
                connection.execute(
                    "ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0"
                )

    @app.teardown_request
    def close_connection(request: Request, error: BaseException | None) -> None:
        connection = request.state.pop("db", None)
        if connection is not None:
            connection.close()  # an uncommitted change (a failed request) is rolled back

    @app.errorhandler(404)
    def not_found(request: Request, error: Exception) -> tuple[Response, int]:
        return app.render("404.html"), 404

    @app.errorhandler(500)
    def server_error(request: Request, error: Exception) -> tuple[Response, int]:
        return app.render("500.html"), 500

    return app


# -- the database ----------------------------------------------------------------------------------


def connect(database: str | Path) -> sqlite3.Connection:
    """Open the SQLite file `database` with rows that read by column name."""
    connection = sqlite3.connect(database, timeout=10)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def db(request: Request) -> sqlite3.Connection:
    """Return this request's connection, opened on first use and closed at teardown."""
    connection: sqlite3.Connection | None = request.state.get("db")
    if connection is None:
        connection = request.state.db = connect(request.config["DATABASE"])
    return connection


def fetch_one(request: Request, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
    """Run a query on this request's connection; return its first row, or None."""
    row: sqlite3.Row | None = db(request).execute(sql, params).fetchone()
    return row


def fetch_all(request: Request, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """Run a query on this request's connection; return all its rows."""
    return db(request).execute(sql, params).fetchall()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


# -- helpers for the pages -------------------------------------------------------------------------


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """Return the page `template`, rendered with `context` once the handler returns."""
    app: App = request.app  # the pages live on a Router; each app made by create_app serves them
    response = app.render(template, **context)
    response.status_code = status
    return response


def current_user(request: Request) -> sqlite3.Row | None:
    """Return the signed-in user's row, or None for a visitor."""
    if "user" in request.state:
        known: sqlite3.Row | None = request.state.user
        return known
    # A cookie from before the user's last logout (a copy someone captured) is no login.
    user_id = session_user(request, lambda user_id: _session_generation(request, user_id))
    user = None
    if isinstance(user_id, int):
        user = fetch_one(request, "SELECT id, username FROM users WHERE id = ?", (user_id,))
    request.state.user = user
    return user


def _session_generation(request: Request, user_id: object) -> int | None:
    if not isinstance(user_id, int):
        return None
    row = fetch_one(request, "SELECT session_generation FROM users WHERE id = ?", (user_id,))
    return None if row is None else int(row["session_generation"])


def _end_sessions(request: Request, user_id: object) -> None:
    # Every cookie of this user signed so far stops being a login, wherever it was copied.
    with db(request) as connection:
        connection.execute(
            "UPDATE users SET session_generation = session_generation + 1 WHERE id = ?",
            (user_id,),
        )


def _user_id(request: Request) -> int:
    user = current_user(request)
    if user is None:
        raise RuntimeError("_user_id() is only for pages decorated with @login_required")
    return int(user["id"])


def _forget_visitor(request: Request) -> None:
    # A cookie of a user who no longer exists (a new database), or of a session ended by a
    # logout elsewhere, is no login either.
    request.session.clear()
    flash(request, "Please log in to see that page.", "info")


# Visitors go to the login page with ?next= set to come back; JSON clients are answered 401.
login_required = LoginRequired(user=current_user, login_endpoint="login", on_refuse=_forget_visitor)


def _fetch_note(request: Request, note_id: int) -> sqlite3.Row:
    # Another user's note answers 404 like a missing one: its id tells a stranger nothing.
    note = fetch_one(
        request,
        "SELECT id, title, body, updated_at FROM notes WHERE id = ? AND user_id = ?",
        (note_id, _user_id(request)),
    )
    if note is None:
        abort(404)
    return note


def _note_form(request: Request) -> tuple[str, str, list[str]]:
    title = request.form.get("title", "").strip()
    body = request.form.get("body", "").strip()
    errors = []
    if not title:
        errors.append("A note needs a title.")
    elif len(title) > MAX_TITLE:
        errors.append(f"A title has at most {MAX_TITLE} characters.")
    if len(body) > MAX_BODY:
        errors.append(f"A note has at most {MAX_BODY} characters.")
    return title, body, errors


@functools.cache
def _unknown_user_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


# -- accounts --------------------------------------------------------------------------------------


@pages.route("/signup", methods=["GET", "POST"])
def signup(request: Request) -> Response:
    """Create an account, then send the new user to the login page."""
    if request.method == "GET":
        return render(request, "signup.html", username="", errors=[])
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors = []
    if not USERNAME.fullmatch(username):
        errors.append("A username has 3 to 32 letters, digits, dots, dashes or underscores.")
    if len(password) < MIN_PASSWORD:
        errors.append(f"A password has at least {MIN_PASSWORD} characters.")
    if not errors:
        try:
            with db(request) as connection:
                connection.execute(
                    "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)",
                    (username, generate_password_hash(password), _now()),
                )
        except sqlite3.IntegrityError:
            errors.append(f"The username {username} is taken; choose another one.")
    if errors:
        return render(request, "signup.html", status=400, username=username, errors=errors)
    flash(request, f"Account {username} created. Log in to start writing notes.", "success")
    return redirect(request.url_for("login"))


@pages.route("/login", methods=["GET", "POST"])
def login(request: Request) -> Response:
    """Sign in with a username and password, then go to `?next=` (a path here) or the notes."""
    next_url = safe_next_url(request.values.get("next"), request.url_for("index"))
    if request.method == "GET":
        if current_user(request) is not None:
            return redirect(next_url)
        return render(request, "login.html", username="", next=next_url, error=None)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    user = fetch_one(
        request,
        "SELECT id, username, password_hash, session_generation FROM users WHERE username = ?",
        (username,),
    )
    # An unknown name costs a hash check too, so timing does not tell which names exist.
    stored_hash = user["password_hash"] if user is not None else _unknown_user_hash()
    if not check_password_hash(stored_hash, password) or user is None:
        error = "Wrong username or password."
        return render(
            request, "login.html", status=400, username=username, next=next_url, error=error
        )
    # A new session at login, at the user's generation: nothing from before carries over.
    log_in(request, user["id"], user["session_generation"])
    request.session["username"] = user["username"]
    flash(request, f"Welcome, {user['username']}!", "success")
    return redirect(next_url)


@pages.post("/logout")
def logout(request: Request) -> Response:
    """Sign out (a POST with the form's CSRF token, so no other site can log you out).

    The user's session generation moves on, so a copy of the cookie stops working too.
    """
    log_out(request, lambda user_id: _end_sessions(request, user_id))
    flash(request, "You have been logged out.", "info")
    return redirect(request.url_for("login"))


# -- notes -----------------------------------------------------------------------------------------


@pages.get("/")
@login_required
def index(request: Request) -> Response:
    """List the signed-in user's notes, the latest change first."""
    notes = fetch_all(
        request,
        "SELECT id, title, body, updated_at FROM notes WHERE user_id = ?"
        " ORDER BY updated_at DESC, id DESC",
        (_user_id(request),),
    )
    return render(request, "index.html", notes=notes)


@pages.route("/notes/new", methods=["GET", "POST"])
@login_required
def new_note(request: Request) -> Response:
    """Show an empty note form, or save the note it posts."""
    if request.method == "GET":
        return render(request, "note_form.html", note=None, title="", body="", errors=[])
    title, body, errors = _note_form(request)
    if errors:
        return render(
            request, "note_form.html", status=400, note=None, title=title, body=body, errors=errors
        )
    with db(request) as connection:
        now = _now()
        connection.execute(
            "INSERT INTO notes (user_id, title, body, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (_user_id(request), title, body, now, now),
        )
    flash(request, "Note saved.", "success")
    return redirect(request.url_for("index"))


@pages.route(f"/notes/{NOTE_ID}/edit", methods=["GET", "POST"])
@login_required
def edit_note(request: Request, note_id: int) -> Response:
    """Show a note in its form, or save the changes it posts."""
    note = _fetch_note(request, note_id)
    if request.method == "GET":
        return render(
            request, "note_form.html", note=note, title=note["title"], body=note["body"], errors=[]
        )
    title, body, errors = _note_form(request)
    if errors:
        return render(
            request, "note_form.html", status=400, note=note, title=title, body=body, errors=errors
        )
    with db(request) as connection:
        connection.execute(
            "UPDATE notes SET title = ?, body = ?, updated_at = ? WHERE id = ?",
            (title, body, _now(), note_id),
        )
    flash(request, "Note updated.", "success")
    return redirect(request.url_for("index"))


@pages.post(f"/notes/{NOTE_ID}/delete")
@login_required
def delete_note(request: Request, note_id: int) -> Response:
    """Delete one of the user's notes."""
    note = _fetch_note(request, note_id)
    with db(request) as connection:
        connection.execute("DELETE FROM notes WHERE id = ?", (note["id"],))
    flash(request, f'Note "{note["title"]}" deleted.', "info")
    return redirect(request.url_for("index"))


app = create_app()

if __name__ == "__main__":
    app.run(port=8000)
