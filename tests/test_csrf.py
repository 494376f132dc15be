"""CSRF: unsafe form posts need the session's token; JSON and opted-out routes do not."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from wsgilite import App, Request, Router, csrf_token


@pytest.fixture
def site() -> App:
    site = App(__name__, config={"SECRET_KEY": "csrf-test-key"})

    @site.get("/form")
    def form(request: Request) -> str:
        return f'<input name="csrf_token" value="{csrf_token(request)}">'

    @site.route("/submit", methods=["POST", "PUT", "PATCH", "DELETE"])
    def submit(request: Request) -> str:
        return "accepted"

    return site


def token_from(client: Client) -> str:
    found = re.search(r'value="([^"]+)"', client.get("/form").text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_form_without_a_token_is_400(site: App, method: str) -> None:
    client = site.test_client()
    token_from(client)

    response = client.open("/submit", method=method, data={"title": "x"})

    assert response.status_code == 400
    assert "CSRF token" in response.text


def test_a_form_with_the_token_is_accepted(site: App) -> None:
    client = site.test_client()
    token = token_from(client)

    response = client.post("/submit", data={"title": "x", "csrf_token": token})

    assert response.text == "accepted"


def test_the_token_may_come_in_a_header(site: App) -> None:
    client = site.test_client()
    token = token_from(client)

    response = client.post("/submit", data={"a": "1"}, headers={"X-CSRF-Token": token})

    assert response.text == "accepted"


def test_each_page_gets_a_differently_masked_token_that_still_works(site: App) -> None:
    client = site.test_client()
    first, second = token_from(client), token_from(client)

    assert first != second
    assert client.post("/submit", data={"csrf_token": first}).text == "accepted"
    assert client.post("/submit", data={"csrf_token": second}).text == "accepted"


@pytest.mark.parametrize("token", ["", "garbage", "A" * 86, "%%%"])
def test_a_wrong_token_is_400(site: App, token: str) -> None:
    client = site.test_client()
    token_from(client)

    assert client.post("/submit", data={"csrf_token": token}).status_code == 400


def test_a_token_from_another_session_is_400(site: App) -> None:
    attacker, victim = site.test_client(), site.test_client()
    token = token_from(attacker)
    token_from(victim)

    assert victim.post("/submit", data={"csrf_token": token}).status_code == 400


def test_json_bodies_are_not_forms(site: App) -> None:
    assert site.test_client().post("/submit", json={"a": 1}).text == "accepted"


def test_a_route_or_router_can_opt_out(site: App) -> None:
    @site.post("/webhook", csrf=False)
    def webhook(request: Request) -> str:
        return "hooked"

    api = Router(prefix="/api", csrf=False)

    @api.post("/forms")
    def forms(request: Request) -> str:
        return "api"

    site.include(api)
    client = site.test_client()

    assert client.post("/webhook", data={"a": "1"}).text == "hooked"
    assert client.post("/api/forms", data={"a": "1"}).text == "api"


def test_csrf_is_off_without_a_secret_key_or_when_turned_off() -> None:
    site = App(__name__)

    @site.post("/submit")
    def submit(request: Request) -> str:
        return "accepted"

    cross_site = {"Sec-Fetch-Site": "cross-site"}
    assert site.test_client().post("/submit", data={"a": "1"}, headers=cross_site).text == (
        "accepted"
    )
    site.config["SECRET_KEY"] = "k"
    assert site.test_client().post("/submit", data={"a": "1"}, headers=cross_site).status_code == (
        400
    )
    site.config["CSRF"] = False
    assert site.test_client().post("/submit", data={"a": "1"}, headers=cross_site).text == (
        "accepted"
    )


def test_by_default_a_first_post_without_a_session_needs_no_token(site: App) -> None:
    # A script's or a test's first form post: no session cookie for a forgery to ride on.
    assert site.test_client().post("/submit", data={"a": "1"}).text == "accepted"


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_by_default_a_post_from_another_site_needs_the_token(
    site: App, headers: dict[str, str]
) -> None:
    # Login forgery: the victim has no session yet, but the browser says who sent the form.
    response = site.test_client().post("/submit", data={"a": "1"}, headers=headers)

    assert response.status_code == 400


def test_a_same_origin_post_without_a_session_needs_no_token(site: App) -> None:
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}

    assert site.test_client().post("/submit", data={"a": "1"}, headers=headers).text == "accepted"


def test_strict_csrf_needs_the_token_on_every_form_post(site: App) -> None:
    site.config["CSRF"] = True

    assert site.test_client().post("/submit", data={"a": "1"}).status_code == 400


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
def test_any_unsafe_request_with_the_session_cookie_needs_the_token(
    site: App, content_type: str | None
) -> None:
    # fetch with a typeless Blob, sendBeacon, a form-less fetch: no preflight, same cookies.
    client = site.test_client()
    token = token_from(client)
    headers = {} if content_type is None else {"Content-Type": content_type}

    refused = client.post("/submit", data=b'{"a": 1}', headers=headers)
    accepted = client.post("/submit", data=b'{"a": 1}', headers={**headers, "X-CSRF-Token": token})

    assert refused.status_code == 400
    assert accepted.text == "accepted"


@pytest.mark.parametrize("origin", ["http://[::1", "https://]x", "http://localhost:99999"])
def test_an_origin_that_cannot_be_parsed_counts_as_another_site(site: App, origin: str) -> None:
    response = site.test_client().post("/submit", data={"a": "1"}, headers={"Origin": origin})

    assert response.status_code == 400
    assert "CSRF token" in response.text


def test_a_referer_from_another_site_needs_the_token_when_there_is_no_origin(site: App) -> None:
    client = site.test_client()

    cross = client.post("/submit", data={"a": "1"}, headers={"Referer": "https://evil.example/"})
    same = client.post("/submit", data={"a": "1"}, headers={"Referer": "http://localhost/form"})

    assert cross.status_code == 400
    assert same.text == "accepted"
