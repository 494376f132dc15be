"""Sessions: a signed JSON cookie, written only when changed, never an error on bad input."""

from __future__ import annotations

import datetime
import hashlib
import json
import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode
from werkzeug.test import Client

from wsgilite import App, Request, flash
from wsgilite.sessions import MissingSecretKey, log_in, log_out, session_user

KEY = "a-long-random-secret-key-for-tests"


@pytest.fixture
def site() -> App:
    site = App(__name__, config={"SECRET_KEY": KEY})

    @site.get("/set/<value>")
    def set_value(request: Request, value: str) -> str:
        request.session["value"] = value
        return "set"

    @site.get("/get")
    def get_value(request: Request) -> dict[str, object]:
        return {"value": request.session.get("value")}

    @site.get("/clear")
    def clear(request: Request) -> str:
        request.session.clear()
        return "cleared"

    return site


def forge(key: str, data: dict[str, object]) -> str:
    """Sign `data` exactly as wsgilite signs a session, with `key`."""
    serializer = URLSafeTimedSerializer(
        key,
        salt="wsgilite.session",
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )
    return serializer.dumps(data)


def session_cookie(client: Client) -> str | None:
    cookie = client.get_cookie("session")
    return None if cookie is None else cookie.value


def test_a_session_survives_between_requests(site: App) -> None:
    client = site.test_client()

    client.get("/set/blue")

    assert client.get("/get").json == {"value": "blue"}


def test_the_cookie_is_written_only_when_the_session_changes(site: App) -> None:
    client = site.test_client()

    assert "Set-Cookie" not in client.get("/get").headers
    response = client.get("/set/blue")
    assert "Set-Cookie" in response.headers
    assert "Set-Cookie" not in client.get("/get").headers


def test_the_cookie_is_httponly_and_samesite_lax_by_default(site: App) -> None:
    header = site.test_client().get("/set/x").headers["Set-Cookie"]

    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Secure" not in header


def test_cookie_flags_are_configurable(site: App) -> None:
    site.config.from_mapping(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_DOMAIN="example.org",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_SAMESITE="Strict",
    )

    header = site.test_client().get("/set/x").headers["Set-Cookie"]

    assert header.startswith("sid=")
    assert "Secure" in header
    assert "Domain=example.org" in header
    assert "Path=/app" in header
    assert "SameSite=Strict" in header


def test_a_session_cookie_ends_with_the_browser_session_by_default(site: App) -> None:
    header = site.test_client().get("/set/x").headers["Set-Cookie"]

    # As in Flask: no Max-Age and no Expires unless the session is made permanent.
    assert "Max-Age" not in header
    assert "Expires" not in header


def test_a_permanent_session_lasts_permanent_session_lifetime(site: App) -> None:
    site.config["PERMANENT_SESSION_LIFETIME"] = datetime.timedelta(hours=2)

    @site.get("/remember")
    def remember(request: Request) -> str:
        request.session.permanent = True
        request.session["user"] = "ada"
        return "remembered"

    @site.get("/forget")
    def forget(request: Request) -> str:
        request.session.permanent = False
        return "forgotten"

    client = site.test_client()
    header = client.get("/remember").headers["Set-Cookie"]
    assert "Max-Age=7200" in header
    assert "Max-Age" not in client.get("/forget").headers["Set-Cookie"]
    assert session_cookie(client) is not None  # the session itself stayed


def test_the_lifetime_may_be_given_in_seconds(site: App) -> None:
    site.config["PERMANENT_SESSION_LIFETIME"] = 60

    @site.get("/remember")
    def remember(request: Request) -> str:
        request.session.permanent = True
        return "remembered"

    assert "Max-Age=60" in site.test_client().get("/remember").headers["Set-Cookie"]


def test_the_cookie_is_json_signed_not_pickle(site: App) -> None:
    client = site.test_client()
    client.get("/set/blue")

    cookie = session_cookie(client)
    assert cookie is not None
    payload = cookie.split(".")[0]
    assert json.loads(base64_decode(payload)) == {"value": "blue"}


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "",
        "eyJ2YWx1ZSI6ImV2aWwifQ.ZZZZZZ.AAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "." * 300,
        "%ff%fe",
        "x" * 4000,
    ],
    ids=["garbage", "empty", "unsigned", "dots", "escapes", "huge"],
)
def test_a_tampered_or_garbage_cookie_gives_an_empty_session(site: App, cookie: str) -> None:
    client = site.test_client()
    client.set_cookie("session", cookie)

    response = client.get("/get")

    assert response.status_code == 200
    assert response.json == {"value": None}


def test_a_cookie_signed_with_another_key_is_ignored(site: App) -> None:
    forged = forge("attacker-key", {"value": "admin"})
    client = site.test_client()
    client.set_cookie("session", forged)

    assert client.get("/get").json == {"value": None}


def test_a_modified_payload_is_ignored(site: App) -> None:
    client = site.test_client()
    client.get("/set/user")
    cookie = session_cookie(client)
    assert cookie is not None
    payload, rest = cookie.split(".", 1)
    client.set_cookie("session", payload[:-2] + "xx." + rest)

    assert client.get("/get").json == {"value": None}


def test_an_expired_cookie_gives_an_empty_session(site: App) -> None:
    site.config["PERMANENT_SESSION_LIFETIME"] = 1
    client = site.test_client()
    client.get("/set/blue")
    time.sleep(2.1)

    assert client.get("/get").json == {"value": None}


def test_old_keys_still_verify_after_rotation(site: App) -> None:
    client = site.test_client()
    client.get("/set/blue")

    site.config["SECRET_KEY"] = "the-new-key"
    site.config["SECRET_KEY_FALLBACKS"] = [KEY]

    assert client.get("/get").json == {"value": "blue"}
    site.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/get").json == {"value": None}


def test_an_emptied_session_deletes_the_cookie(site: App) -> None:
    client = site.test_client()
    client.get("/set/blue")

    response = client.get("/clear")

    assert "session=;" in response.headers["Set-Cookie"]
    assert session_cookie(client) is None


def test_a_session_without_a_secret_key_is_a_clear_error() -> None:
    site = App(__name__)

    @site.get("/")
    def index(request: Request) -> str:
        return str(request.session.get("x"))

    with pytest.raises(MissingSecretKey, match=r"app.config\['SECRET_KEY'\].*token_hex"):
        site.debug = True
        site.test_client().get("/")


def test_flash_messages_are_shown_once(site: App) -> None:
    from wsgilite import get_flashed_messages

    @site.get("/save")
    def save(request: Request) -> str:
        flash(request, "Saved", "success")
        flash(request, "Check your email")
        return "ok"

    @site.get("/show")
    def show(request: Request) -> list[object]:
        return list(get_flashed_messages(request, with_categories=True))

    client = site.test_client()
    client.get("/save")

    assert client.get("/show").json == [["success", "Saved"], ["message", "Check your email"]]
    assert client.get("/show").json == []


def test_a_page_that_reads_the_session_varies_on_cookie(site: App) -> None:
    client = site.test_client()
    client.get("/set/blue")

    response = client.get("/get")

    assert "Set-Cookie" not in response.headers
    assert response.headers["Vary"] == "Cookie"


def test_fallback_keys_from_the_environment_are_whole_keys(
    site: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = site.test_client()
    client.get("/set/blue")
    monkeypatch.setenv("WSGILITE_SECRET_KEY", "the-new-key")
    monkeypatch.setenv("WSGILITE_SECRET_KEY_FALLBACKS", f"some-older-key,{KEY}")
    site.config.from_env()
    forged = forge("s", {"value": "admin"})

    assert site.config["SECRET_KEY_FALLBACKS"] == ["some-older-key", KEY]
    assert client.get("/get").json == {"value": "blue"}
    client.set_cookie("session", forged)
    assert client.get("/get").json == {"value": None}


def test_a_single_fallback_key_given_as_a_string_is_one_key(site: App) -> None:
    site.config["SECRET_KEY_FALLBACKS"] = "an-old-key"
    forged = forge("a", {"value": "admin"})
    client = site.test_client()
    client.set_cookie("session", forged)

    assert client.get("/get").json == {"value": None}


def test_a_cookie_signed_with_the_key_is_read(site: App) -> None:
    client = site.test_client()
    client.set_cookie("session", forge(KEY, {"value": "signed"}))

    assert client.get("/get").json == {"value": "signed"}


# -- log_in, session_user, log_out: a logout that ends every copy of the cookie ------------------


@pytest.fixture
def accounts() -> tuple[App, dict[int, int]]:
    """A site whose users' session generations live in a dict (a database column in real life)."""
    generations = {1: 0, 2: 5}
    site = App(__name__, config={"SECRET_KEY": KEY})

    @site.get("/login/<int:user_id>")
    def login(request: Request, user_id: int) -> str:
        log_in(request, user_id, generations[user_id])
        return "in"

    @site.get("/me")
    def me(request: Request) -> dict[str, object]:
        return {"user": session_user(request, generations.get)}

    @site.get("/logout")
    def logout(request: Request) -> str:
        def end(user_id: int) -> None:
            generations[user_id] += 1

        log_out(request, end)
        return "out"

    @site.get("/logout-here")
    def logout_here(request: Request) -> str:
        log_out(request)
        return "out"

    return site, generations


def test_session_user_is_the_logged_in_user(accounts: tuple[App, dict[int, int]]) -> None:
    site, _ = accounts
    client = site.test_client()

    assert client.get("/me").json == {"user": None}
    client.get("/login/2")
    assert client.get("/me").json == {"user": 2}


def test_log_out_ends_every_copy_of_the_cookie(accounts: tuple[App, dict[int, int]]) -> None:
    site, generations = accounts
    browser, thief = site.test_client(), site.test_client()
    browser.get("/login/1")
    captured = browser.get_cookie("session")
    assert captured is not None
    thief.set_cookie("session", captured.value)
    assert thief.get("/me").json == {"user": 1}

    browser.get("/logout")

    assert generations[1] == 1
    assert browser.get("/me").json == {"user": None}
    response = thief.get("/me")
    assert response.json == {"user": None}
    assert "session=;" in response.headers["Set-Cookie"]  # the stale copy is deleted too


def test_log_out_without_a_generation_only_deletes_this_cookie(
    accounts: tuple[App, dict[int, int]],
) -> None:
    # What a cookie session cannot do alone: a copy stays valid until it expires.
    site, generations = accounts
    browser, thief = site.test_client(), site.test_client()
    browser.get("/login/1")
    captured = browser.get_cookie("session")
    assert captured is not None
    thief.set_cookie("session", captured.value)

    browser.get("/logout-here")

    assert browser.get("/me").json == {"user": None}
    assert thief.get("/me").json == {"user": 1}
    assert generations[1] == 0


def test_a_user_who_no_longer_exists_is_no_login(accounts: tuple[App, dict[int, int]]) -> None:
    site, generations = accounts
    client = site.test_client()
    client.get("/login/2")
    del generations[2]

    assert client.get("/me").json == {"user": None}
