"""Rate limiting: parsing, the window, 429 headers, scopes, threads, and Redis across servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest
from serving import HOST, free_port, gunicorn_app, stop
from werkzeug.test import Client

from wsgilite import App, Request, Router
from wsgilite.ratelimit import MemoryStore, Rate, RateLimit, RedisStore


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rates_are_parsed() -> None:
    assert Rate.parse("100/minute") == Rate(100, 60)
    assert Rate.parse("5 per second") == Rate(5, 1)
    assert Rate.parse("10/5 minutes") == Rate(10, 300)
    assert Rate.parse("1000/Hours") == Rate(1000, 3600)
    with pytest.raises(ValueError, match="'100/minute'"):
        Rate.parse("lots")
    with pytest.raises(ValueError):
        Rate.parse("0/minute")


def test_the_route_answers_429_past_its_limit(app: App, client: Client) -> None:
    clock = Clock()
    limit = RateLimit("2/minute", store=MemoryStore(clock))

    @app.get("/search")
    @limit
    def search(request: Request) -> str:
        return "results"

    first = client.get("/search")
    client.get("/search")
    refused = client.get("/search")
    clock.now += 61
    later = client.get("/search")

    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "2"
    assert first.headers["RateLimit-Remaining"] == "1"
    assert first.headers["RateLimit-Policy"] == "2;w=60"
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == "60"
    assert later.status_code == 200


def test_each_client_has_its_own_count(app: App, client: Client) -> None:
    limit = RateLimit("1/minute")

    @app.get("/")
    @limit
    def index(request: Request) -> str:
        return "ok"

    one = client.get("/", environ_overrides={"REMOTE_ADDR": "10.0.0.1"})
    two = client.get("/", environ_overrides={"REMOTE_ADDR": "10.0.0.2"})
    again = client.get("/", environ_overrides={"REMOTE_ADDR": "10.0.0.1"})

    assert (one.status_code, two.status_code, again.status_code) == (200, 200, 429)


def test_a_key_function(app: App, client: Client) -> None:
    limit = RateLimit("1/hour", key=lambda request: request.headers.get("X-Api-Key", ""))

    @app.get("/")
    @limit
    def index(request: Request) -> str:
        return "ok"

    assert client.get("/", headers={"X-Api-Key": "a"}).status_code == 200
    assert client.get("/", headers={"X-Api-Key": "b"}).status_code == 200
    assert client.get("/", headers={"X-Api-Key": "a"}).status_code == 429


def test_a_router_shares_one_limit_and_the_app_another(app: App, client: Client) -> None:
    api = RateLimit("2/minute").protect(Router("/api"))

    @api.get("/a")
    def first(request: Request) -> str:
        return "a"

    @api.get("/b")
    def second(request: Request) -> str:
        return "b"

    @app.get("/free")
    def free(request: Request) -> str:
        return "free"

    app.include(api)

    assert client.get("/api/a").headers["RateLimit-Remaining"] == "1"
    assert client.get("/api/b").status_code == 200
    assert client.get("/api/a").status_code == 429
    assert client.get("/free").status_code == 200
    assert "RateLimit-Limit" not in client.get("/free").headers


def test_an_app_wide_limit(app: App, client: Client) -> None:
    RateLimit("1/minute").install(app)

    @app.get("/")
    def index(request: Request) -> str:
        return "ok"

    assert client.get("/").status_code == 200
    refused = client.get("/")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


def test_the_memory_store_is_exact_under_threads() -> None:
    store = MemoryStore()
    rate = Rate(100, 60)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            hit = store.hit("k", rate)
            with lock:
                allowed.append(hit.allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 100


# -- Redis ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Start Debian's redis-server on a free port of 127.0.0.1; yield its URL; stop it by PID."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing; .ci/run installs Debian's redis-server")
        pytest.skip("redis-server is not installed: apt-get install -y redis-server")
    pytest.importorskip("redis", reason="pip install 'wsgilite[redis]'")
    import redis

    port = free_port()
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
               "--daemonize", "no"]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"redis://{HOST}:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            threading.Event().wait(0.05)
        else:
            pytest.fail("redis-server did not start")
        client.close()
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def test_the_redis_store_counts_in_one_window(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix="test-window:")
    rate = Rate(3, 60)

    hits = [store.hit("k", rate) for _ in range(4)]

    assert [hit.allowed for hit in hits] == [True, True, True, False]
    assert [hit.remaining for hit in hits] == [2, 1, 0, 0]
    assert 59 < hits[-1].reset <= 60


def test_redis_down_fails_open_or_closed(app: App, client: Client) -> None:
    pytest.importorskip("redis", reason="pip install 'wsgilite[redis]'")
    nowhere = f"redis://{HOST}:{free_port()}/0"
    open_limit = RateLimit("1/minute", store=RedisStore(nowhere, fail_open=True))
    closed_limit = RateLimit("1/minute", store=RedisStore(nowhere, fail_open=False))

    @app.get("/open")
    @open_limit
    def open_route(request: Request) -> str:
        return "ok"

    @app.get("/closed")
    @closed_limit
    def closed_route(request: Request) -> str:
        return "ok"

    assert [client.get("/open").status_code for _ in range(2)] == [200, 200]
    assert client.get("/closed").status_code == 503


SERVED_APP = """
import os

from wsgilite import App, Request
from wsgilite.ratelimit import RateLimit, RedisStore

app = App(__name__)
RateLimit("5/minute", store=RedisStore(os.environ["REDIS_URL"], fail_open=False)).install(app)


@app.get("/")
def index(request: Request):
    return "ok"
"""


def test_two_gunicorn_servers_share_one_limit_in_redis(redis_url: str, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    env = {"REDIS_URL": redis_url}
    statuses: list[int] = []
    with (
        gunicorn_app(str(one), SERVED_APP, workers=2, env=env) as port_one,
        gunicorn_app(str(two), SERVED_APP, workers=2, env=env) as port_two,
    ):
        for port in (port_one, port_two, port_one, port_two, port_one, port_two, port_one):
            connection = HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            connection.close()
            statuses.append(response.status)
            if response.status == 429:
                assert response.getheader("Retry-After") is not None

    assert statuses == [200] * 5 + [429] * 2


def test_behind_a_trusted_proxy_each_client_is_counted_apart(app: App) -> None:
    from wsgilite.proxies import trust_proxies

    RateLimit("1/minute").install(app)

    @app.get("/")
    def index(request: Request) -> str:
        return "ok"

    client = trust_proxies(app, x_for=1).test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def status(client_address: str) -> int:
        headers = {"X-Forwarded-For": client_address}
        return client.get("/", headers=headers, environ_overrides=proxy).status_code

    assert [status("203.0.113.1"), status("203.0.113.2"), status("203.0.113.1")] == [200, 200, 429]
