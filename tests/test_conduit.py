"""The Conduit example (examples/conduit): every endpoint and error path, on SQLite and PostgreSQL.

- Through the test client, each test on a fresh database (a new SQLite file; the session's
  PostgreSQL database emptied), parametrised over both databases.
- hypothesis sends arbitrary JSON bodies, query strings and path values: never a 500, always a
  wrapped answer.
- Served by gunicorn on each database, over real HTTP on 127.0.0.1: an end-to-end run,
  RealWorld's own Postman collection (newman), and schemathesis on RealWorld's OpenAPI document,
  when CONDUIT_POSTMAN_COLLECTION and CONDUIT_OPENAPI name copies of them (not shipped here).
- A bounded load check: 2,000 mixed requests from 16 threads against gunicorn on PostgreSQL.

PostgreSQL, newman and schemathesis are looked for on the machine. A test that needs one and
cannot find it skips with a message, except with CI=true, where it fails (.ci/run installs them).
`-rP` shows newman's and schemathesis' numbers and the load check's throughput;
CONDUIT_SCHEMATHESIS_EXAMPLES=30 gives schemathesis a longer run than the default 6 an operation.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres import Cluster, find_binaries, postgres_cluster
from serving import HOST, free_port, served
from werkzeug.test import Client, TestResponse

from wsgilite import App

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.conduit import create_app  # noqa: E402
from examples.conduit.db import PostgresDatabase  # noqa: E402
from examples.conduit.schema import TABLES, migrate  # noqa: E402
from examples.conduit.state import services_of  # noqa: E402
from examples.conduit.store import iso_time  # noqa: E402

SECRET = "conduit-tests-" + "k" * 50
# scrypt's cost protects stored passwords; hundreds of test registrations use a cheap hash. The
# servers started below keep the default (scrypt).
FAST_HASH = "pbkdf2:sha256:1000"
IN_CI = os.environ.get("CI") == "true"
ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
# RealWorld's Postman collection and OpenAPI document are RealWorld's, not shipped here: point
# these variables at your copies (api/Conduit.postman_collection.json and api/openapi.yml in the
# RealWorld project) to run them against the example.
POSTMAN_COLLECTION = os.environ.get("CONDUIT_POSTMAN_COLLECTION")
REALWORLD_OPENAPI = os.environ.get("CONDUIT_OPENAPI")
RUN_POSTMAN = ROOT / "examples" / "conduit" / "run_postman.sh"
BACKENDS = ["sqlite", "postgresql"]


def needed(what: str) -> NoReturn:
    """Skip for want of `what` on a developer's machine; fail in CI, which must run everything."""
    if IN_CI:
        pytest.fail(f"{what}; CI must run this test (.ci/run installs it)")
    pytest.skip(what)


# -- databases and apps ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole session, on 127.0.0.1."""
    if find_binaries() is None:
        needed("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_cluster() as running:
        yield running


@pytest.fixture(scope="session")
def postgres_url(cluster: Cluster) -> str:
    """The database the in-process tests share, its tables created once."""
    url = cluster.create_database("conduit_tests")
    database = PostgresDatabase(url)
    migrate(database)
    database.close()
    return url


def empty(url: str) -> None:
    """Delete every row of every Conduit table (DELETE: TRUNCATE's new files cost more here)."""
    import psycopg

    with psycopg.connect(url) as connection:
        for table in TABLES:
            connection.execute(f"DELETE FROM {table}")


@pytest.fixture(params=BACKENDS)
def database_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings for a fresh database: a new SQLite file, or the emptied PostgreSQL database."""
    if request.param == "sqlite":
        return {"DATABASE": str(tmp_path / "conduit.db"), "DATABASE_URL": None}
    url: str = request.getfixturevalue("postgres_url")
    empty(url)
    return {"DATABASE_URL": url}


def make_app(database_settings: dict[str, Any], **extra: Any) -> App:
    """A Conduit app with the test secret and the cheap password hash."""
    return create_app(
        {"SECRET_KEY": SECRET, "PASSWORD_HASH_METHOD": FAST_HASH, **database_settings, **extra}
    )


@pytest.fixture
def app(database_settings: dict[str, Any]) -> Iterator[App]:
    conduit = make_app(database_settings)
    yield conduit
    services_of(conduit).database.close()


@dataclass
class Member:
    username: str
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


@dataclass
class Api:
    """The test client with Conduit's conventions: JSON bodies, `Token` headers, new names."""

    client: Client
    numbers: Iterator[int] = field(default_factory=itertools.count)
    state: dict[str, Any] = field(
        default_factory=dict
    )  # what a hypothesis test keeps between examples

    def call(
        self,
        method: str,
        path: str,
        member: Member | None = None,
        body: Any = None,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        all_headers = {**(member.auth if member else {}), **(headers or {})}
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        return self.client.open(path, method=method, data=data, headers=all_headers)

    def register(self, name: str | None = None) -> Member:
        name = name or f"user{next(self.numbers)}"
        password = f"pw-{name}"
        response = self.call(
            "POST",
            "/api/users",
            body={"user": {"username": name, "email": f"{name}@example.com", "password": password}},
        )
        assert response.status_code == 201, response.text
        return Member(name, f"{name}@example.com", password, json_of(response)["user"]["token"])

    def article(
        self, member: Member, title: str = "How to train your dragon", **fields: Any
    ) -> Any:
        article = {"title": title, "description": "Ever wonder how?", "body": "Very carefully."}
        response = self.call("POST", "/api/articles", member, {"article": {**article, **fields}})
        assert response.status_code == 201, response.text
        return json_of(response)["article"]


@pytest.fixture
def api(app: App) -> Api:
    return Api(app.test_client())


def json_of(response: TestResponse) -> Any:
    """The JSON body of `response` (asserted present; werkzeug types `.json` as optional)."""
    body = response.json
    assert body is not None, response.text
    return body


def errors(response: TestResponse) -> list[str]:
    """The messages of a `{"errors": {"body": [...]}}` answer (there is at least one)."""
    assert response.mimetype == "application/json", response.text
    body = response.json
    assert isinstance(body, dict) and list(body) == ["errors"], body
    messages = body["errors"]["body"]
    assert isinstance(messages, list) and messages, body
    assert all(isinstance(message, str) and message for message in messages), body
    return messages


def check_profile(profile: dict[str, Any]) -> None:
    assert set(profile) == {"username", "bio", "image", "following"}
    assert isinstance(profile["bio"], str) and isinstance(profile["image"], str)
    assert isinstance(profile["following"], bool)


def check_article(article: dict[str, Any], with_body: bool = True) -> None:
    keys = {"slug", "title", "description", "tagList", "createdAt", "updatedAt", "favorited"}
    keys |= {"favoritesCount", "author"} | ({"body"} if with_body else set())
    assert set(article) == keys
    assert ISO_MS.fullmatch(article["createdAt"]) and ISO_MS.fullmatch(article["updatedAt"])
    assert article["tagList"] == sorted(article["tagList"])
    assert isinstance(article["favorited"], bool)
    assert type(article["favoritesCount"]) is int
    check_profile(article["author"])


# -- users -----------------------------------------------------------------------------------------


def test_register_answers_201_with_the_user_and_a_working_token(api: Api) -> None:
    response = api.call(
        "POST",
        "/api/users",
        body={"user": {"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}},
    )
    assert response.status_code == 201
    user = json_of(response)["user"]
    assert list(user) == ["email", "token", "username", "bio", "image"]
    assert (user["email"], user["username"], user["bio"], user["image"]) == (
        "jake@jake.jake",
        "jake",
        "",
        "",
    )
    me = api.call("GET", "/api/user", headers={"Authorization": f"Token {user['token']}"})
    assert me.status_code == 200
    assert json_of(me)["user"]["username"] == "jake"


def test_register_lists_every_missing_field(api: Api) -> None:
    response = api.call("POST", "/api/users", body={"user": {}})
    assert response.status_code == 422
    assert errors(response) == [
        "username can't be blank",
        "email can't be blank",
        "password can't be blank",
    ]


def test_register_refuses_a_taken_email_and_username_in_any_case(api: Api) -> None:
    api.register("jake")
    response = api.call(
        "POST",
        "/api/users",
        body={"user": {"username": "JAKE", "email": "Jake@Example.com", "password": "x"}},
    )
    assert response.status_code == 422
    assert errors(response) == ["email has already been taken", "username has already been taken"]


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"username": ["jake"], "email": "j@x.io", "password": "p"}, "username must be a string"),
        ({"username": "jake", "email": 7, "password": "p"}, "email must be a string"),
        (
            {"username": "jake", "email": "j@x.io", "password": {"a": 1}},
            "password must be a string",
        ),
        ({"username": "ja ke", "email": "j@x.io", "password": "p"}, "username may only contain"),
        ({"username": "jake", "email": "not-an-email", "password": "p"}, "email is invalid"),
        ({"username": "jake", "email": "j@x.io", "password": "   "}, "password can't be blank"),
        ({"username": "j\x00ke", "email": "j@x.io", "password": "p"}, "NUL characters"),
        ({"username": "jake", "email": "j@x.io", "password": "\ud800"}, "valid Unicode"),
        ({"username": "j" * 65, "email": "j@x.io", "password": "p"}, "username is too long"),
    ],
)
def test_register_refuses_wrong_values_with_a_422(api: Api, user: Any, message: str) -> None:
    response = api.call("POST", "/api/users", body={"user": user})
    assert response.status_code == 422
    assert any(message in text for text in errors(response)), errors(response)


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[1, 2]", b'"user"', b"null", b'{"user": "jake"}', b'{"user": []}', b"{}"],
)
def test_a_body_of_the_wrong_shape_is_a_422(api: Api, data: bytes) -> None:
    response = api.call(
        "POST", "/api/users", data=data, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "user" in errors(response)[0]


def test_login_answers_the_user_or_401(api: Api) -> None:
    jake = api.register("jake")
    good = api.call(
        "POST",
        "/api/users/login",
        body={"user": {"email": "JAKE@example.com", "password": jake.password}},
    )
    assert good.status_code == 200
    assert json_of(good)["user"]["username"] == "jake"
    for email, password in (("jake@example.com", "wrong"), ("nobody@example.com", jake.password)):
        bad = api.call(
            "POST", "/api/users/login", body={"user": {"email": email, "password": password}}
        )
        assert bad.status_code == 401
        assert errors(bad) == ["email or password is invalid"]
    missing = api.call("POST", "/api/users/login", body={"user": {"email": "jake@example.com"}})
    assert missing.status_code == 422
    assert errors(missing) == ["password can't be blank"]


def _token(claims: dict[str, Any], key: str | None = SECRET, algorithm: str = "HS256") -> str:
    # key=None is deliberate (the "none" algorithm); PyJWT's annotation omits it.
    return jwt.encode(claims, key, algorithm=algorithm)  # type: ignore[arg-type]


def test_a_missing_or_bad_token_is_a_401(api: Api) -> None:
    jake = api.register("jake")
    now = int(time.time())
    bad_headers = [
        {},
        {"Authorization": f"Bearer {jake.token}"},
        {"Authorization": "Token"},
        {"Authorization": "Token not.a.jwt"},
        {"Authorization": "Token " + _token({"sub": "1", "exp": now + 60}, key="another-key" * 4)},
        {"Authorization": "Token " + _token({"sub": "1", "exp": now - 60})},
        {"Authorization": "Token " + _token({"sub": "1"})},
        {"Authorization": "Token " + _token({"sub": "999", "exp": now + 60})},
        {"Authorization": "Token " + _token({"sub": "x1", "exp": now + 60})},
        {"Authorization": "Token " + _token({"sub": "9" * 30, "exp": now + 60})},
        {"Authorization": "Token " + _token({"sub": "1", "exp": now + 60}, None, "none")},
    ]
    for headers in bad_headers:
        response = api.call("GET", "/api/user", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == "Token"
        errors(response)
    assert api.call("GET", "/api/user", jake).status_code == 200


def test_update_user_changes_each_field_and_keeps_bio_and_image_strings(api: Api) -> None:
    jake = api.register("jake")
    changed = api.call(
        "PUT",
        "/api/user",
        jake,
        {
            "user": {
                "email": "new@example.com",
                "username": "jacob",
                "bio": "I work",
                "image": "https://i.io/j.png",
            }
        },
    )
    assert changed.status_code == 200
    user = json_of(changed)["user"]
    assert (user["email"], user["username"], user["bio"], user["image"]) == (
        "new@example.com",
        "jacob",
        "I work",
        "https://i.io/j.png",
    )
    cleared = api.call("PUT", "/api/user", jake, {"user": {"bio": None, "image": None}})
    assert (json_of(cleared)["user"]["bio"], json_of(cleared)["user"]["image"]) == ("", "")
    assert (
        api.call("PUT", "/api/user", jake, {"user": {"password": "s3cret-new"}}).status_code == 200
    )
    login = api.call(
        "POST",
        "/api/users/login",
        body={"user": {"email": "new@example.com", "password": "s3cret-new"}},
    )
    assert login.status_code == 200
    assert json_of(api.call("GET", "/api/profiles/jacob"))["profile"]["bio"] == ""


def test_update_user_errors(api: Api) -> None:
    jake = api.register("jake")
    api.register("anne")
    taken = api.call(
        "PUT", "/api/user", jake, {"user": {"email": "ANNE@example.com", "username": "anne"}}
    )
    assert taken.status_code == 422
    assert errors(taken) == ["email has already been taken", "username has already been taken"]
    same = api.call("PUT", "/api/user", jake, {"user": {"email": "jake@example.com"}})
    assert same.status_code == 200  # one's own email is not "taken"
    nothing = api.call("PUT", "/api/user", jake, {"user": {}})
    assert nothing.status_code == 422
    assert "one of email" in errors(nothing)[0]
    blank = api.call("PUT", "/api/user", jake, {"user": {"email": None, "username": ""}})
    assert errors(blank) == ["email can't be blank", "username can't be blank"]
    no_token = api.call("PUT", "/api/user", None, {"user": {"bio": "x"}})
    assert no_token.status_code == 401


# -- profiles --------------------------------------------------------------------------------------


def test_profiles_follow_and_unfollow(api: Api) -> None:
    jake, anne = api.register("jake"), api.register("anne")
    seen = api.call("GET", "/api/profiles/anne")
    assert seen.status_code == 200
    assert seen.json == {
        "profile": {"username": "anne", "bio": "", "image": "", "following": False}
    }
    for _ in range(2):  # following twice is following
        followed = api.call("POST", "/api/profiles/anne/follow", jake)
        assert followed.status_code == 200
        assert json_of(followed)["profile"]["following"] is True
    assert json_of(api.call("GET", "/api/profiles/ANNE", jake))["profile"]["following"] is True
    assert json_of(api.call("GET", "/api/profiles/anne", anne))["profile"]["following"] is False
    for _ in range(2):
        unfollowed = api.call("DELETE", "/api/profiles/anne/follow", jake)
        assert unfollowed.status_code == 200
        check_profile(json_of(unfollowed)["profile"])
        assert json_of(unfollowed)["profile"]["following"] is False


def test_profile_errors(api: Api) -> None:
    jake = api.register("jake")
    for method, path in (
        ("GET", "/api/profiles/nobody"),
        ("POST", "/api/profiles/nobody/follow"),
        ("DELETE", "/api/profiles/nobody/follow"),
        ("GET", "/api/profiles/a%00b"),
        ("GET", "/api/profiles/" + "x" * 500),
    ):
        response = api.call(method, path, jake)
        assert response.status_code == 404, path
        errors(response)
    assert api.call("POST", "/api/profiles/jake/follow").status_code == 401
    assert api.call("DELETE", "/api/profiles/jake/follow").status_code == 401
    myself = api.call("POST", "/api/profiles/jake/follow", jake)
    assert myself.status_code == 422
    assert errors(myself) == ["you cannot follow yourself"]


# -- articles --------------------------------------------------------------------------------------


def test_create_article_answers_201_with_sorted_tags_and_millisecond_times(api: Api) -> None:
    jake = api.register("jake")
    response = api.call(
        "POST",
        "/api/articles",
        jake,
        {
            "article": {
                "title": "How to train your dragon",
                "description": "Ever wonder how?",
                "body": "You have to believe",
                "tagList": ["training", "dragons", " dragons ", "angry"],
            }
        },
    )
    assert response.status_code == 201
    article = json_of(response)["article"]
    check_article(article)
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["tagList"] == ["angry", "dragons", "training"]
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert article["author"] == {"username": "jake", "bio": "", "image": "", "following": False}
    assert article["createdAt"] == article["updatedAt"]


def test_times_keep_milliseconds_even_when_they_are_zero() -> None:
    assert iso_time(1_700_000_000_000) == "2023-11-14T22:13:20.000Z"
    assert iso_time(1_700_000_000_007) == "2023-11-14T22:13:20.007Z"


def test_slugs_are_unique_for_one_title_and_never_a_route(api: Api) -> None:
    jake = api.register("jake")
    slugs = [api.article(jake)["slug"] for _ in range(3)]
    assert slugs[0] == "how-to-train-your-dragon"
    assert len(set(slugs)) == 3
    assert all(slug.startswith("how-to-train-your-dragon") for slug in slugs)
    feed = api.article(jake, title="Feed")
    assert feed["slug"] != "feed" and feed["slug"].startswith("feed-")
    assert api.article(jake, title="!!!")["slug"] == "article"
    assert api.article(jake, title="Ça déménage")["slug"] == "ca-demenage"
    for slug in [*slugs, feed["slug"]]:
        assert json_of(api.call("GET", f"/api/articles/{slug}"))["article"]["slug"] == slug


def test_concurrent_articles_with_one_title_all_get_their_own_slug(api: Api) -> None:
    jake = api.register("jake")
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        response = api.call(
            "POST",
            "/api/articles",
            jake,
            {"article": {"title": "Same title", "description": "d", "body": "b"}},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [201] * 8
    listed = json_of(api.call("GET", "/api/articles"))
    assert listed["articlesCount"] == 8
    assert len({article["slug"] for article in listed["articles"]}) == 8


def test_concurrent_registrations_of_one_name_give_one_user(api: Api) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def register(number: int) -> None:
        barrier.wait()
        user = {"username": "same", "email": f"same{number}@example.com", "password": "p"}
        statuses.append(api.call("POST", "/api/users", body={"user": user}).status_code)

    threads = [threading.Thread(target=register, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201] + [422] * 5


def test_create_article_errors(api: Api) -> None:
    jake = api.register("jake")
    empty_article = api.call("POST", "/api/articles", jake, {"article": {}})
    assert empty_article.status_code == 422
    assert errors(empty_article) == [
        "title can't be blank",
        "description can't be blank",
        "body can't be blank",
    ]
    wrong = api.call(
        "POST",
        "/api/articles",
        jake,
        {"article": {"title": ["x"], "description": 1.5, "body": True, "tagList": "dragons"}},
    )
    assert errors(wrong) == [
        "title must be a string",
        "description must be a string",
        "body must be a string",
        "tagList must be a list of strings",
    ]
    tags = api.call(
        "POST",
        "/api/articles",
        jake,
        {"article": {"title": "t", "description": "d", "body": "b", "tagList": ["ok", ""]}},
    )
    assert errors(tags) == ["tagList entries can't be blank"]
    nul = api.call(
        "POST",
        "/api/articles",
        jake,
        {"article": {"title": "t\x00", "description": "d", "body": "b\x00", "tagList": ["\x00"]}},
    )
    assert nul.status_code == 422
    assert len(errors(nul)) == 3
    no_token = api.call("POST", "/api/articles", None, {"article": {}})
    assert no_token.status_code == 401


def test_get_article_by_slug_or_404(api: Api) -> None:
    jake = api.register("jake")
    created = api.article(jake, tagList=["b", "a"])
    got = api.call("GET", f"/api/articles/{created['slug']}")
    assert got.status_code == 200
    assert json_of(got)["article"] == created
    for slug in ("no-such-article", "a%00b", "%ED%A0%80", "x" * 2000):
        missing = api.call("GET", f"/api/articles/{slug}")
        assert missing.status_code == 404
        errors(missing)


def test_list_articles_newest_first_with_filters_and_pages(api: Api) -> None:
    jake, anne = api.register("jake"), api.register("anne")
    first = api.article(jake, title="One", tagList=["dragons"])
    second = api.article(anne, title="Two", tagList=["dragons", "cats"])
    third = api.article(jake, title="Three")
    api.call("POST", f"/api/articles/{second['slug']}/favorite", jake)

    def slugs(query: str = "", member: Member | None = None) -> tuple[list[str], int]:
        response = api.call("GET", f"/api/articles{query}", member)
        assert response.status_code == 200
        listed = json_of(response)
        for article in listed["articles"]:
            check_article(article, with_body=False)  # list items carry no body
        return [a["slug"] for a in listed["articles"]], listed["articlesCount"]

    assert slugs() == (["three", "two", "one"], 3)
    assert first["slug"] == "one" and third["slug"] == "three"
    assert slugs("?tag=dragons") == (["two", "one"], 2)
    assert slugs("?tag=cats") == (["two"], 1)
    assert slugs("?author=jake") == (["three", "one"], 2)
    assert slugs("?author=JAKE&tag=dragons") == (["one"], 1)
    assert slugs("?favorited=jake") == (["two"], 1)
    assert slugs("?favorited=anne") == ([], 0)
    assert slugs("?author=nobody") == ([], 0)
    assert slugs("?limit=1") == (["three"], 3)
    assert slugs("?limit=2&offset=1") == (["two", "one"], 3)
    assert slugs("?offset=3") == ([], 3)
    assert slugs("?limit=0") == ([], 3)
    huge = "9" * 40
    assert slugs(f"?limit={huge}&offset=0") == (["three", "two", "one"], 3)
    assert slugs(f"?offset={huge}") == ([], 3)
    assert slugs("?offset=9223372036854775807") == ([], 3)
    assert slugs("?tag=%00&author=x%00") == ([], 0)
    assert slugs("?tag=" + "x" * 500) == ([], 0)
    viewed = json_of(api.call("GET", "/api/articles?tag=cats", jake))["articles"][0]
    assert (viewed["favorited"], viewed["favoritesCount"]) == (True, 1)
    assert json_of(api.call("GET", "/api/articles?tag=cats"))["articles"][0]["favorited"] is False


@pytest.mark.parametrize(
    "query", ["?limit=-1", "?offset=-5", "?limit=ten", "?offset=1.5", "?limit=0x10"]
)
def test_a_bad_page_number_is_a_422(api: Api, query: str) -> None:
    response = api.call("GET", f"/api/articles{query}")
    assert response.status_code == 422
    assert "must be a whole number" in errors(response)[0]


def test_list_items_may_carry_the_body_for_older_clients(database_settings: dict[str, Any]) -> None:
    conduit = make_app(database_settings, ARTICLE_LIST_BODY=True)
    try:
        api = Api(conduit.test_client())
        jake = api.register("jake")
        article = api.article(jake)
        listed = json_of(api.call("GET", "/api/articles"))["articles"][0]
        check_article(listed, with_body=True)
        assert listed == article
        assert json_of(api.call("GET", f"/api/articles/{article['slug']}"))["article"]["body"]
    finally:
        services_of(conduit).database.close()


def test_feed_lists_followed_authors_only(api: Api) -> None:
    jake, anne, carl = api.register("jake"), api.register("anne"), api.register("carl")
    api.article(anne, title="By anne")
    api.article(carl, title="By carl")
    api.article(jake, title="By jake")
    assert api.call("GET", "/api/articles/feed", jake).json == {"articles": [], "articlesCount": 0}
    api.call("POST", "/api/profiles/anne/follow", jake)
    feed = json_of(api.call("GET", "/api/articles/feed", jake))
    assert [a["slug"] for a in feed["articles"]] == ["by-anne"]
    assert feed["articlesCount"] == 1
    assert feed["articles"][0]["author"]["following"] is True
    assert json_of(api.call("GET", "/api/articles/feed?limit=0", jake))["articlesCount"] == 1
    assert api.call("GET", "/api/articles/feed").status_code == 401
    assert api.call("GET", "/api/articles/feed?limit=x", jake).status_code == 422


def test_update_article_by_its_author(api: Api) -> None:
    jake = api.register("jake")
    article = api.article(jake, tagList=["a"])
    body = api.call(
        "PUT", f"/api/articles/{article['slug']}", jake, {"article": {"body": "With two hands"}}
    )
    assert body.status_code == 200
    updated = json_of(body)["article"]
    assert updated["body"] == "With two hands" and updated["slug"] == article["slug"]
    assert updated["updatedAt"] >= article["updatedAt"]
    retitled = json_of(
        api.call(
            "PUT",
            f"/api/articles/{article['slug']}",
            jake,
            {"article": {"title": "A new title", "tagList": ["z", "b"]}},
        )
    )["article"]
    assert retitled["slug"] == "a-new-title"
    assert retitled["tagList"] == ["b", "z"]
    assert api.call("GET", f"/api/articles/{article['slug']}").status_code == 404
    assert (
        json_of(api.call("GET", "/api/articles/a-new-title"))["article"]["title"] == "A new title"
    )
    assert api.call("GET", "/api/tags").json == {"tags": ["b", "z"]}


def test_update_article_errors(api: Api) -> None:
    jake, anne = api.register("jake"), api.register("anne")
    slug = api.article(jake)["slug"]
    change = {"article": {"body": "mine now"}}
    assert api.call("PUT", f"/api/articles/{slug}", None, change).status_code == 401
    forbidden = api.call("PUT", f"/api/articles/{slug}", anne, change)
    assert forbidden.status_code == 403
    assert errors(forbidden) == ["only the author may change this article"]
    assert api.call("PUT", "/api/articles/nope", jake, change).status_code == 404
    nothing = api.call("PUT", f"/api/articles/{slug}", jake, {"article": {}})
    assert nothing.status_code == 422
    blank = api.call(
        "PUT", f"/api/articles/{slug}", jake, {"article": {"title": " ", "body": None}}
    )
    assert errors(blank) == ["title can't be blank", "body can't be blank"]
    assert json_of(api.call("GET", f"/api/articles/{slug}"))["article"]["body"] == "Very carefully."


def test_delete_article_by_its_author_takes_its_comments_and_favorites(api: Api) -> None:
    jake, anne = api.register("jake"), api.register("anne")
    slug = api.article(jake, tagList=["gone"])["slug"]
    api.call("POST", f"/api/articles/{slug}/favorite", anne)
    api.call("POST", f"/api/articles/{slug}/comments", anne, {"comment": {"body": "Nice"}})
    assert api.call("DELETE", f"/api/articles/{slug}").status_code == 401
    forbidden = api.call("DELETE", f"/api/articles/{slug}", anne)
    assert forbidden.status_code == 403
    errors(forbidden)
    deleted = api.call("DELETE", f"/api/articles/{slug}", jake)
    assert deleted.status_code == 204
    assert deleted.data == b""
    assert api.call("GET", f"/api/articles/{slug}").status_code == 404
    assert api.call("DELETE", f"/api/articles/{slug}", jake).status_code == 404
    assert api.call("GET", "/api/articles?favorited=anne").json == {
        "articles": [],
        "articlesCount": 0,
    }
    assert api.call("GET", "/api/tags").json == {"tags": []}


def test_favorite_and_unfavorite_keep_an_exact_count(api: Api) -> None:
    jake, anne, carl = api.register("jake"), api.register("anne"), api.register("carl")
    slug = api.article(jake)["slug"]
    for member, expected in ((anne, 1), (anne, 1), (carl, 2)):
        favorited = api.call("POST", f"/api/articles/{slug}/favorite", member)
        assert favorited.status_code == 200
        check_article(json_of(favorited)["article"])
        assert json_of(favorited)["article"]["favorited"] is True
        assert json_of(favorited)["article"]["favoritesCount"] == expected
    seen = json_of(api.call("GET", f"/api/articles/{slug}", jake))["article"]
    assert (seen["favorited"], seen["favoritesCount"]) == (False, 2)
    for member, expected in ((anne, 1), (anne, 1), (jake, 1), (carl, 0)):
        unfavorited = api.call("DELETE", f"/api/articles/{slug}/favorite", member)
        assert unfavorited.status_code == 200
        assert json_of(unfavorited)["article"]["favorited"] is False
        assert json_of(unfavorited)["article"]["favoritesCount"] == expected
    for method in ("POST", "DELETE"):
        assert api.call(method, f"/api/articles/{slug}/favorite").status_code == 401
        assert api.call(method, "/api/articles/nope/favorite", anne).status_code == 404


# -- comments and tags -----------------------------------------------------------------------------


def test_comments_add_list_and_delete(api: Api) -> None:
    jake, anne = api.register("jake"), api.register("anne")
    slug = api.article(jake)["slug"]
    added = api.call(
        "POST", f"/api/articles/{slug}/comments", anne, {"comment": {"body": "Thank you so much!"}}
    )
    assert added.status_code == 200
    comment = json_of(added)["comment"]
    assert list(comment) == ["id", "createdAt", "updatedAt", "body", "author"]
    assert type(comment["id"]) is int and ISO_MS.fullmatch(comment["createdAt"])
    assert comment["body"] == "Thank you so much!"
    check_profile(comment["author"])
    second = json_of(
        api.call("POST", f"/api/articles/{slug}/comments", jake, {"comment": {"body": "Welcome"}})
    )["comment"]
    listed = api.call("GET", f"/api/articles/{slug}/comments")
    assert listed.status_code == 200
    assert [c["id"] for c in json_of(listed)["comments"]] == [second["id"], comment["id"]]
    api.call("POST", "/api/profiles/anne/follow", jake)
    as_jake = json_of(api.call("GET", f"/api/articles/{slug}/comments", jake))["comments"]
    assert [c["author"]["following"] for c in as_jake] == [False, True]
    forbidden = api.call("DELETE", f"/api/articles/{slug}/comments/{comment['id']}", jake)
    assert forbidden.status_code == 403
    errors(forbidden)
    deleted = api.call("DELETE", f"/api/articles/{slug}/comments/{comment['id']}", anne)
    assert deleted.status_code == 204
    remaining = json_of(api.call("GET", f"/api/articles/{slug}/comments"))["comments"]
    assert [c["id"] for c in remaining] == [second["id"]]


def test_comment_errors(api: Api) -> None:
    jake = api.register("jake")
    slug = api.article(jake)["slug"]
    other = api.article(jake, title="Other")["slug"]
    comment_id = json_of(
        api.call("POST", f"/api/articles/{other}/comments", jake, {"comment": {"body": "x"}})
    )["comment"]["id"]
    for method, path in (
        ("GET", "/api/articles/nope/comments"),
        ("POST", "/api/articles/nope/comments"),
        ("DELETE", f"/api/articles/nope/comments/{comment_id}"),
        ("DELETE", f"/api/articles/{slug}/comments/{comment_id}"),  # another article's comment
        ("DELETE", f"/api/articles/{slug}/comments/424242"),
        ("DELETE", f"/api/articles/{slug}/comments/{'9' * 30}"),
        ("DELETE", f"/api/articles/{slug}/comments/-1"),
    ):
        response = api.call(method, path, jake, {"comment": {"body": "x"}})
        assert response.status_code == 404, path
        errors(response)
    assert (
        api.call(
            "POST", f"/api/articles/{slug}/comments", None, {"comment": {"body": "x"}}
        ).status_code
        == 401
    )
    assert api.call("DELETE", f"/api/articles/{other}/comments/{comment_id}").status_code == 401
    for body, message in (
        ({}, "body can't be blank"),
        ({"body": " "}, "body can't be blank"),
        ({"body": [1]}, "body must be a string"),
    ):
        response = api.call("POST", f"/api/articles/{slug}/comments", jake, {"comment": body})
        assert response.status_code == 422
        assert errors(response) == [message]


def test_tags_most_used_first(api: Api) -> None:
    jake = api.register("jake")
    assert api.call("GET", "/api/tags").json == {"tags": []}
    api.article(jake, title="a", tagList=["zebra", "apple"])
    api.article(jake, title="b", tagList=["zebra", "mango"])
    api.article(jake, title="c", tagList=["zebra", "mango"])
    assert api.call("GET", "/api/tags").json == {"tags": ["zebra", "mango", "apple"]}


# -- every error is the same JSON shape -----------------------------------------------------------


def test_framework_errors_use_the_errors_body_shape(api: Api) -> None:
    missing = api.call("GET", "/api/no-such-route")
    assert missing.status_code == 404
    errors(missing)
    wrong_method = api.call("PATCH", "/api/tags")
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    errors(wrong_method)
    jake = api.register("jake")
    too_big = api.call(
        "POST", "/api/articles", jake, {"article": {"body": "x" * (2 * 1024 * 1024)}}
    )
    assert too_big.status_code == 413
    errors(too_big)


# -- settings, the secret key and the migrate command ---------------------------------------------


def test_sqlite_keeps_a_made_up_secret_key_beside_the_database(tmp_path: Path) -> None:
    settings = {"DATABASE": str(tmp_path / "db" / "conduit.db"), "DATABASE_URL": None}
    first = create_app({**settings, "PASSWORD_HASH_METHOD": FAST_HASH})
    token = Api(first.test_client()).register("jake").token
    key_file = tmp_path / "db" / "conduit-secret.key"
    assert len(key_file.read_text().strip()) == 64
    assert key_file.stat().st_mode & 0o777 == 0o600
    second = create_app(settings)  # another worker, another process: the same key
    me = second.test_client().get("/api/user", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 200


def test_postgresql_without_a_secret_key_is_refused(postgres_url: str) -> None:
    with pytest.raises(RuntimeError, match="WSGILITE_SECRET_KEY"):
        create_app({"DATABASE_URL": postgres_url, "SECRET_KEY": None})


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        create_app({"DATABASE": str(tmp_path / "c.db"), "DATABASE_URL": None, "SECRET_KEY": "dev"})


def test_a_locked_sqlite_database_is_a_503_not_a_500(tmp_path: Path) -> None:
    settings = {"DATABASE": str(tmp_path / "c.db"), "DATABASE_URL": None, "DATABASE_TIMEOUT": 0.2}
    conduit = make_app(settings)
    api = Api(conduit.test_client())
    jake = api.register("jake")
    import sqlite3

    other = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        response = api.call(
            "POST",
            "/api/articles",
            jake,
            {"article": {"title": "t", "description": "d", "body": "b"}},
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert errors(response) == ["the database is unavailable; try again shortly"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert api.article(jake)["slug"] == "how-to-train-your-dragon"


def test_an_unreachable_postgresql_is_a_503_not_a_500() -> None:
    port = free_port()  # nothing listens there
    conduit = create_app(
        {
            "DATABASE_URL": f"postgresql://nobody:x@127.0.0.1:{port}/none",
            "SECRET_KEY": SECRET,
            "DATABASE_TIMEOUT": 0.5,
        }
    )
    try:
        response = conduit.test_client().get("/api/tags")
        assert response.status_code == 503
        assert errors(response) == ["the database is unavailable; try again shortly"]
    finally:
        services_of(conduit).database.close()


def test_an_unknown_database_url_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        create_app({"DATABASE_URL": "mysql://localhost/conduit", "SECRET_KEY": SECRET})


def _migrate_command(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "examples.conduit", "migrate"],
        cwd=ROOT,
        env={**_clean_environ(), "PYTHONPATH": str(ROOT / "src"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_migrate_command_creates_the_sqlite_tables_once(tmp_path: Path) -> None:
    sqlite_env = {"WSGILITE_DATABASE": str(tmp_path / "m.db")}
    assert (
        _migrate_command(sqlite_env) == "sqlite: 1 migration(s) applied; the schema is up to date"
    )
    assert (
        _migrate_command(sqlite_env) == "sqlite: 0 migration(s) applied; the schema is up to date"
    )


def test_migrate_command_creates_the_postgresql_tables_once(cluster: Cluster) -> None:
    url = cluster.create_database("conduit_migrate")
    pg_env = {"DATABASE_URL": url, "WSGILITE_SECRET_KEY": SECRET}
    assert _migrate_command(pg_env).startswith("postgresql: 1 migration(s) applied")
    assert _migrate_command(pg_env).startswith("postgresql: 0 migration(s) applied")


# -- hypothesis: any JSON, never a 500 ------------------------------------------------------------

ODD_TEXT = ["", " ", "\x00", "a\x00b", "\ud800", "é", "x" * 400, "dragons", "a@b.io", "-1"]
texts = st.text(max_size=20) | st.sampled_from(ODD_TEXT)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    _containers,
    max_leaves=6,
)
FIELDS = {
    "user": ["username", "email", "password", "bio", "image"],
    "article": ["title", "description", "body", "tagList"],
    "comment": ["body"],
}


# Values a field accepts, so that the fuzzing reaches the success paths too.
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "username": st.from_regex(r"[a-z][a-z0-9_.-]{0,15}", fullmatch=True),
    "email": st.from_regex(r"[a-z0-9]{1,10}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True),
    "password": st.text(min_size=1, max_size=20),
    "bio": texts,
    "image": texts,
    "title": st.text(min_size=1, max_size=40),
    "description": st.text(min_size=1, max_size=40),
    "body": st.text(min_size=1, max_size=40),
    "tagList": st.lists(st.text(min_size=1, max_size=12), max_size=5),
}


def wrapped(key: str) -> st.SearchStrategy[Any]:
    """Any JSON; `{key: anything}`; `{key: {field: good or any value}}`; a whole good object."""
    known = st.fixed_dictionaries(
        {}, optional={name: GOOD[name] | json_values for name in FIELDS[key]}
    )
    extra = st.dictionaries(texts, json_values, max_size=2)
    mixed = st.builds(lambda fields, more: {**more, **fields}, known, extra)
    complete = st.fixed_dictionaries({name: GOOD[name] for name in FIELDS[key]})
    return st.one_of(
        json_values,
        st.fixed_dictionaries({key: json_values}),
        st.fixed_dictionaries({key: mixed}),
        st.fixed_dictionaries({key: complete}),
    )


# (method, path, wrapper key, the 2xx it answers to a good body, needs a token)
WRITES = [
    ("POST", "/api/users", "user", 201, False),
    ("POST", "/api/users/login", "user", 200, False),
    ("PUT", "/api/user", "user", 200, True),
    ("POST", "/api/articles", "article", 201, True),
    ("PUT", "/api/articles/{slug}", "article", 200, True),
    ("POST", "/api/articles/{slug}/comments", "comment", 200, True),
]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check_wrapped_answer(response: TestResponse, key: str, success: int) -> None:
    """A 2xx wraps the resource under `key`; anything else is a 4xx with errors.body."""
    assert response.status_code < 500, response.text
    if response.status_code == success:
        body = json_of(response)
        assert list(body) == [key]
        if key == "user":
            assert all(isinstance(body["user"][name], str) for name in ("bio", "image", "token"))
        elif key == "article":
            check_article(body["article"])
    else:
        assert response.status_code in (401, 413, 422), response.text
        errors(response)


@pytest.mark.parametrize(("method", "path", "key", "success", "signed_in"), WRITES)
@FUZZ
@given(data=st.data())
def test_any_json_body_gets_a_wrapped_answer(
    api: Api, method: str, path: str, key: str, success: int, signed_in: bool, data: st.DataObject
) -> None:
    if not api.state:
        member = api.register("fuzz-author")
        api.state.update(member=member, slug=api.article(member, title="Fuzz target")["slug"])
    member, slug = api.state["member"], api.state["slug"]
    body = data.draw(wrapped(key))
    response = api.call(method, path.format(slug=slug), member if signed_in else None, body)
    check_wrapped_answer(response, key, success)
    if method == "PUT" and key == "article" and response.status_code == 200:
        api.state["slug"] = json_of(response)["article"]["slug"]  # a new title is a new slug


def _quoted(text: str) -> str:
    # Lone surrogates go out as the bytes Python would write for them (invalid UTF-8).
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize("path", ["/api/articles", "/api/articles/feed"])
@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "offset", "tag", "author", "favorited"]) | texts,
        texts | st.integers().map(str),
        max_size=4,
    )
)
def test_any_query_string_gets_a_list_or_a_422(api: Api, path: str, query: dict[str, str]) -> None:
    if not api.state:
        api.state["member"] = api.register("query-member")
    jake = api.state["member"]
    encoded = "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in query.items())
    response = api.call("GET", f"{path}?{encoded}", jake)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert set(json_of(response)) == {"articles", "articlesCount"}
    else:
        errors(response)


@FUZZ
@given(value=texts)
def test_any_path_value_gets_an_answer_or_a_404(api: Api, value: str) -> None:
    segment = _quoted(value) or "x"
    for path in (
        f"/api/articles/{segment}",
        f"/api/profiles/{segment}",
        f"/api/articles/{segment}/comments",
    ):
        response = api.call("GET", path)
        if response.status_code == 308:
            # A decoded "/" makes "//": merged, as werkzeug does, into a path on this site.
            location = response.headers["Location"]
            assert location.startswith("/api/") and "//" not in location, (path, location)
            continue
        assert response.status_code in (200, 404), (path, response.text)
        if response.status_code == 404:
            errors(response)


# -- served by gunicorn: end to end, newman, schemathesis -----------------------------------------


def _clean_environ() -> dict[str, str]:
    # The servers get their settings from the test alone, never from the developer's shell.
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WSGILITE_") and name != "DATABASE_URL"
    }


def gunicorn_command(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--no-control-socket",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--bind",
        f"{HOST}:{port}",
        "examples.conduit.wsgi:app",
    ]


def server_environ(database: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **_clean_environ(),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "WSGILITE_SECRET_KEY": SECRET,
        **database,
        **extra,
    }


@dataclass
class Served:
    base: str
    backend: str

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


@pytest.fixture(scope="module", params=BACKENDS)
def served_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The example under gunicorn (2 gthread workers, 4 threads each) on a database of its own."""
    if request.param == "sqlite":
        database = {"WSGILITE_DATABASE": str(tmp_path_factory.mktemp("served") / "conduit.db")}
    else:
        cluster: Cluster = request.getfixturevalue("cluster")
        database = {"DATABASE_URL": cluster.create_database("conduit_served")}
    port = free_port()
    with served(
        gunicorn_command(port, workers=2, threads=4),
        port,
        cwd=str(ROOT),
        env=server_environ(database),
        timeout=30,
    ) as base:
        yield Served(base, request.param)


class Http:
    """A JSON client over one keep-alive HTTP connection to 127.0.0.1."""

    def __init__(self, port: int, retry_closed: bool = True) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=15)
        self.retry_closed = retry_closed

    def __call__(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            # gunicorn closes a keep-alive connection idle for 2 s; the load check never retries.
            if not self.retry_closed:
                raise
            self.connection.close()
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            payload = response.read()
        return response.status, json.loads(payload) if payload else None

    def close(self) -> None:
        self.connection.close()


def test_end_to_end_over_http(served_api: Served) -> None:
    """A whole story over real HTTP: two users, an article, a follow, a favorite, comments."""
    call = Http(served_api.port)
    run = f"{served_api.backend[:2]}{time.time_ns() % 10**9}"
    try:
        status, alice = call(
            "POST",
            "/api/users",
            body={
                "user": {
                    "username": f"alice{run}",
                    "email": f"alice{run}@x.io",
                    "password": "pw-alice",
                }
            },
        )
        assert status == 201
        status, bob = call(
            "POST",
            "/api/users",
            body={
                "user": {"username": f"bob{run}", "email": f"bob{run}@x.io", "password": "pw-bob"}
            },
        )
        assert status == 201
        a, b = alice["user"]["token"], bob["user"]["token"]
        assert (
            call(
                "POST",
                "/api/users/login",
                body={"user": {"email": f"alice{run}@x.io", "password": "nope"}},
            )[0]
            == 401
        )
        status, logged_in = call(
            "POST",
            "/api/users/login",
            body={"user": {"email": f"ALICE{run}@x.io", "password": "pw-alice"}},
        )
        assert status == 200 and logged_in["user"]["username"] == f"alice{run}"
        # Tokens signed by one worker are accepted by the others: new connections, any worker.
        for _ in range(10):
            fresh = Http(served_api.port)
            assert fresh("GET", "/api/user", a)[0] == 200
            fresh.close()
        status, created = call(
            "POST",
            "/api/articles",
            a,
            {
                "article": {
                    "title": f"Story {run}",
                    "description": "d",
                    "body": "b",
                    "tagList": ["zz", "aa"],
                }
            },
        )
        assert status == 201
        slug = created["article"]["slug"]
        assert created["article"]["tagList"] == ["aa", "zz"]
        assert ISO_MS.fullmatch(created["article"]["createdAt"])
        assert (
            call("POST", f"/api/profiles/alice{run}/follow", b)[1]["profile"]["following"] is True
        )
        status, feed = call("GET", "/api/articles/feed", b)
        assert status == 200 and [x["slug"] for x in feed["articles"]] == [slug]
        status, favorited = call("POST", f"/api/articles/{slug}/favorite", b)
        assert (favorited["article"]["favorited"], favorited["article"]["favoritesCount"]) == (
            True,
            1,
        )
        assert call("GET", f"/api/articles/{slug}", a)[1]["article"]["favorited"] is False
        status, comment = call(
            "POST", f"/api/articles/{slug}/comments", b, {"comment": {"body": "Great"}}
        )
        assert status == 200
        comment_id = comment["comment"]["id"]
        assert call("DELETE", f"/api/articles/{slug}/comments/{comment_id}", a)[0] == 403
        assert call("DELETE", f"/api/articles/{slug}/comments/{comment_id}", b) == (204, None)
        assert call("DELETE", f"/api/articles/{slug}", b)[0] == 403
        assert call("PUT", f"/api/articles/{slug}", b, {"article": {"body": "x"}})[0] == 403
        assert call("POST", "/api/articles", a, raw=b"{not json")[0] == 422
        assert (
            call("GET", "/api/articles?limit=99999999999999999999999&offset=18446744073709551616")[
                0
            ]
            == 200
        )
        assert call("GET", "/api/articles?tag=%00")[1] == {"articles": [], "articlesCount": 0}
        assert (
            call(
                "POST",
                "/api/articles",
                a,
                {"article": {"title": "\x00", "description": "d", "body": "b"}},
            )[0]
            == 422
        )
        assert call("DELETE", f"/api/articles/{slug}", a) == (204, None)
        assert call("GET", f"/api/articles/{slug}")[0] == 404
    finally:
        call.close()


def newman() -> str:
    """The newman command: $NEWMAN, the project's .tools/newman, or the PATH."""
    for candidate in (
        os.environ.get("NEWMAN"),
        str(ROOT / ".tools/newman/node_modules/.bin/newman"),
        shutil.which("newman"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    needed("newman is not installed (npm install --prefix .tools/newman newman)")


def test_realworld_postman_collection_passes(served_api: Served, tmp_path: Path) -> None:
    """RealWorld's own 32 requests and their assertions, run by newman: none may fail."""
    if not POSTMAN_COLLECTION:
        pytest.skip("set CONDUIT_POSTMAN_COLLECTION to RealWorld's Postman collection to run it")
    report = tmp_path / "newman.json"
    result = subprocess.run(
        [
            "bash",
            str(RUN_POSTMAN),
            f"{served_api.base}/api",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--color",
            "off",
        ],
        env={**os.environ, "NEWMAN": newman(), "COLLECTION": POSTMAN_COLLECTION},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    stats = json.loads(report.read_text())["run"]["stats"]
    print(
        f"newman on {served_api.backend}: {stats['requests']['total']} requests, "
        f"{stats['assertions']['total']} assertions, {stats['assertions']['failed']} failed"
    )
    assert stats["requests"] == {"total": 32, "pending": 0, "failed": 0}
    assert stats["assertions"]["failed"] == 0, result.stdout[-4000:]
    assert stats["assertions"]["total"] >= 300
    assert result.returncode == 0


def patched_openapi(folder: Path) -> Path:
    """RealWorld's openapi.yml with its one erratum fixed: a User has `token`, not `password`."""
    import yaml  # type: ignore[import-untyped]

    assert REALWORLD_OPENAPI is not None
    document = yaml.safe_load(Path(REALWORLD_OPENAPI).read_text())
    user = document["components"]["schemas"]["User"]
    user["required"] = ["token" if name == "password" else name for name in user["required"]]
    user["properties"] = {
        ("token" if n == "password" else n): s for n, s in user["properties"].items()
    }
    path = folder / "openapi.json"
    path.write_text(json.dumps(document))
    return path


def test_schemathesis_finds_no_server_error_and_no_schema_violation(served_api: Served) -> None:
    """schemathesis on RealWorld's OpenAPI document, with a signed-in user's token."""
    if not REALWORLD_OPENAPI:
        pytest.skip("set CONDUIT_OPENAPI to RealWorld's openapi.yml to fuzz the example with it")
    st_command = shutil.which("st") or shutil.which("schemathesis")
    if st_command is None:
        needed("schemathesis is not installed (pip install schemathesis)")
    http_call = Http(served_api.port)
    name = f"fuzzer{time.time_ns() % 10**9}"
    status, user = http_call(
        "POST",
        "/api/users",
        body={"user": {"username": name, "email": f"{name}@x.io", "password": "pw"}},
    )
    http_call.close()
    assert status == 201
    with tempfile.TemporaryDirectory() as folder:  # it writes .schemathesis/ and .hypothesis/ here
        schema = patched_openapi(Path(folder))
        result = subprocess.run(
            [
                st_command,
                "run",
                str(schema),
                "--url",
                f"{served_api.base}/api",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--header",
                f"Authorization: Token {user['user']['token']}",
                "--max-examples",
                os.environ.get("CONDUIT_SCHEMATHESIS_EXAMPLES", "6"),
                "--seed",
                "1",
                "--no-color",
                "--workers",
                "2",
                "--generation-database",
                "none",
            ],
            cwd=folder,
            env={**os.environ, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    summary = [
        line.strip() for line in result.stdout.splitlines() if re.search(r"\d+ generated", line)
    ]
    print(f"schemathesis on {served_api.backend}: {' '.join(summary)}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert summary and "passed" in summary[-1] and "failed" not in summary[-1]


# -- a bounded load check on PostgreSQL -----------------------------------------------------------


@dataclass
class LoadTally:
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def test_load_2000_mixed_requests_from_16_clients_on_postgresql(cluster: Cluster) -> None:
    """gunicorn (4 gthread workers x 4 threads) on PostgreSQL: 2,000 requests, 0 errors."""
    clients, per_client, time_limit = 16, 125, 90.0
    url = cluster.create_database("conduit_load")
    port = free_port()
    env = server_environ({"DATABASE_URL": url}, WSGILITE_DATABASE_POOL_MAX="4")
    with served(
        gunicorn_command(port, workers=4, threads=4), port, cwd=str(ROOT), env=env, timeout=30
    ):
        setup = Http(port)
        members: list[str] = []
        slugs: list[str] = []
        for number in range(clients):
            status, user = setup(
                "POST",
                "/api/users",
                body={
                    "user": {
                        "username": f"load{number}",
                        "email": f"load{number}@x.io",
                        "password": "pw",
                    }
                },
            )
            assert status == 201
            members.append(user["user"]["token"])
            status, created = setup(
                "POST",
                "/api/articles",
                members[-1],
                {
                    "article": {
                        "title": f"Load {number}",
                        "description": "d",
                        "body": "b" * 500,
                        "tagList": [f"t{number % 4}", "load"],
                    }
                },
            )
            assert status == 201
            slugs.append(created["article"]["slug"])
        for number in range(clients):  # each client follows the next one
            setup("POST", f"/api/profiles/load{(number + 1) % clients}/follow", members[number])
        setup.close()

        tally = LoadTally()
        favorite_state = [False] * clients  # client n toggles its favorite on article n+1
        comments_made = [0] * clients
        deadline = time.monotonic() + time_limit

        def client(number: int) -> None:
            rng = random.Random(number)
            token, target = members[number], slugs[(number + 1) % clients]
            call = Http(port, retry_closed=False)
            plan: list[tuple[str, str, Any, Callable[[Any], bool]]] = []
            for step in range(per_client):
                pick = rng.random()
                if pick < 0.35:
                    plan.append(
                        (
                            "GET",
                            f"/api/articles?limit=10&offset={rng.randrange(8)}",
                            None,
                            lambda b: b["articlesCount"] == clients,
                        )
                    )
                elif pick < 0.50:
                    plan.append(
                        (
                            "GET",
                            f"/api/articles/{rng.choice(slugs)}",
                            None,
                            lambda b: "article" in b,
                        )
                    )
                elif pick < 0.60:
                    plan.append(("GET", "/api/tags", None, lambda b: "load" in b["tags"]))
                elif pick < 0.70:
                    plan.append(
                        (
                            "GET",
                            "/api/user",
                            None,
                            lambda b: b["user"]["username"] == f"load{number}",
                        )
                    )
                elif pick < 0.78:
                    plan.append(
                        ("GET", "/api/articles/feed", None, lambda b: b["articlesCount"] == 1)
                    )
                elif pick < 0.90:
                    plan.append(("FAVORITE", target, None, lambda b: "article" in b))
                else:
                    plan.append(
                        (
                            "POST",
                            f"/api/articles/{target}/comments",
                            {"comment": {"body": f"c{step}"}},
                            lambda b: "comment" in b,
                        )
                    )
            try:
                for method, path, body, good in plan:
                    if time.monotonic() > deadline:
                        break
                    if method == "FAVORITE":
                        method = "DELETE" if favorite_state[number] else "POST"
                        path = f"/api/articles/{path}/favorite"
                    try:
                        status, answer = call(method, path, token, body)
                    except (OSError, http.client.HTTPException, ValueError) as exc:
                        with tally.lock:
                            tally.sent += 1
                            tally.unexpected.append(f"{method} {path}: {exc!r}")
                        continue
                    ok = status == 200 and good(answer)
                    if ok and path.endswith("/favorite"):
                        favorite_state[number] = method == "POST"
                    if ok and path.endswith("/comments"):
                        comments_made[number] += 1
                    with tally.lock:
                        tally.sent += 1
                        tally.statuses[status] += 1
                        if not ok:
                            tally.unexpected.append(
                                f"{method} {path}: {status} {str(answer)[:200]}"
                            )
            finally:
                call.close()

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(time_limit + 20)
        seconds = time.monotonic() - started
        rate = tally.sent / seconds
        print(
            f"load on PostgreSQL: {tally.sent} requests from {clients} clients in {seconds:.2f} s"
            f" = {rate:.0f} requests/s; statuses {dict(tally.statuses)}"
        )
        assert tally.unexpected == []
        assert tally.sent == clients * per_client == 2_000
        assert tally.statuses == Counter({200: 2_000})

        # The counts the clients left behind are exactly what the API reports.
        check = Http(port)
        for number in range(clients):
            target = slugs[(number + 1) % clients]
            status, answer = check("GET", f"/api/articles/{target}")
            assert answer["article"]["favoritesCount"] == int(favorite_state[number])
            status, listed = check("GET", f"/api/articles/{target}/comments")
            assert len(listed["comments"]) == comments_made[number]
        check.close()
