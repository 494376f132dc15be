"""TechEmpower's rules, checked on every change: each framework's app under gunicorn, on PostgreSQL.

The module starts a throwaway PostgreSQL cluster (Debian's `postgresql` and `postgresql-contrib`,
with pg_stat_statements, on 127.0.0.1), serves the five apps of benchmarks/techempower under
gunicorn's gthread workers and runs the harness's verifier on all of them at once (nothing is
timed). A deliberately broken app rides along in the same pass, so the verifier itself is shown
to catch each rule it checks. Without PostgreSQL installed the module is skipped, except under
CI (`CI=true`), where that is a failure: .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

TECHEMPOWER = Path(__file__).resolve().parent.parent / "benchmarks" / "techempower"
sys.path.insert(0, str(TECHEMPOWER))

import launch  # noqa: E402
import pgcluster  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true, yet {reason} (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster() -> Iterator[pgcluster.Cluster]:
    """A loaded PostgreSQL cluster for this module, stopped by PID at its end."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        _unavailable("psycopg 3 and psycopg-pool are not installed: pip install -e '.[dev]'")
    bin_dir = pgcluster.find_bin_dir()
    if bin_dir is None or not pgcluster.has_pg_stat_statements(bin_dir):
        _unavailable(
            "PostgreSQL is not installed: apt-get install -y postgresql postgresql-contrib"
        )
    with pgcluster.running(install=False) as running:
        yield running


# -- a broken app: each test type breaks one rule ------------------------------------------------


def broken_app(dsn: str) -> Any:
    """A WSGI app that breaks one of TechEmpower's rules in each test type."""
    import psycopg

    def send(start_response: Any, body: bytes, content_type: str, *extra: tuple[str, str]) -> Any:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra]
        start_response("200 OK", headers)
        return [body]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        with psycopg.connect(dsn, autocommit=True) as conn:
            if path == "/json":  # a Date that never changes, a Content-Type of its own
                body = json.dumps({"message": "Hello, World!"}).encode()
                fixed = ("Date", "Mon, 01 Jan 2024 00:00:00 GMT")
                return send(start_response, body, "text/json", fixed)
            if path == "/plaintext":  # the wrong words
                return send(start_response, b"Hello, world", "text/plain")
            if path == "/db":  # two queries per request
                select = "SELECT id, randomNumber FROM World WHERE id = %s"
                conn.execute(select, (1,)).fetchone()
                row = conn.execute(select, (2,)).fetchone()
                assert row is not None
                body = json.dumps({"id": row[0], "randomNumber": row[1]}).encode()
                return send(start_response, body, "application/json")
            if path in ("/queries", "/updates", "/cached-queries"):
                # No clamping, a bare object for one row, and updates that write nothing.
                raw = query.get("queries" if path != "/cached-queries" else "count", ["1"])[0]
                count = int(raw) if raw.lstrip("-").isdigit() else 1
                rows = [
                    conn.execute(
                        "SELECT id, randomNumber FROM World WHERE id = %s", (1 + i % 10_000,)
                    ).fetchone()
                    for i in range(max(count, 0))
                ]
                worlds = [{"id": r[0], "randomNumber": r[1]} for r in rows if r is not None]
                answer: object = worlds[0] if len(worlds) == 1 else worlds
                return send(start_response, json.dumps(answer).encode(), "application/json")
            if path == "/fortunes":  # no escaping, no added row, not sorted
                fortunes = conn.execute("SELECT id, message FROM Fortune").fetchall()
                cells = "".join(f"<tr><td>{i}</td><td>{m}</td></tr>" for i, m in fortunes)
                page = (
                    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
                    f"<tr><th>id</th><th>message</th></tr>{cells}</table></body></html>"
                )
                return send(start_response, page.encode(), "text/html; charset=utf-8")
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Threaded(WSGIServer):
    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_one, args=(request, client_address), daemon=True
        )
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


@pytest.fixture(scope="module")
def broken_url(cluster: pgcluster.Cluster) -> Iterator[str]:
    """The broken app, served by wsgiref on 127.0.0.1 in a thread of this process."""
    server = make_server(
        "127.0.0.1", 0, broken_app(cluster.dsn), server_class=_Threaded, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# -- the verifier on every framework under gunicorn ----------------------------------------------


@pytest.fixture(scope="module")
def verdicts(cluster: pgcluster.Cluster, broken_url: str) -> Iterator[dict[str, Any]]:
    """The verifier's verdicts: every framework under gunicorn gthread, plus the broken app."""
    import verifier

    servers = launch.Servers(workers=2)
    try:
        running = servers.start_all(
            list(launch.FRAMEWORKS), launch.SERVER_KINDS["gthread"], cluster.dsn
        )
        targets = {name: server.base_url for name, server in running.items()}
        targets["broken"] = broken_url
        yield verifier.verify(targets, cluster.dsn)
    finally:
        servers.stop_all()


def test_the_cluster_holds_techempowers_tables(cluster: pgcluster.Cluster) -> None:
    import psycopg

    with psycopg.connect(cluster.dsn) as conn:
        worlds = conn.execute("SELECT count(*), min(id), max(id) FROM World").fetchone()
        fortunes: dict[int, str] = dict(conn.execute("SELECT id, message FROM Fortune").fetchall())
        extension = conn.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"
        ).fetchone()

    assert worlds == (10_000, 1, 10_000)
    assert fortunes == dict(pgcluster.FORTUNES)
    assert fortunes[11].startswith("<script>")
    assert fortunes[12] == "フレームワークのベンチマーク"
    assert extension == (1,)


@pytest.mark.parametrize("framework", launch.FRAMEWORKS)
def test_the_app_passes_techempowers_rules_under_gunicorn(
    verdicts: dict[str, Any], framework: str
) -> None:
    import verifier

    verdict = verdicts[framework]

    assert verdict.passed, verifier.format_verdicts([verdict])
    assert set(verdict.counts) == {"db", "queries", "updates", "fortunes", "cached-queries"}


@pytest.mark.parametrize(
    ("test", "fragment"),
    [
        ("json", "Content-Type 'text/json' does not match"),
        ("json", "did not change in 3 s"),
        ("plaintext", "body b'Hello, world', expected b'Hello, World!'"),
        ("db", "200 select statements on world returning/changing 200 rows for 100 requests"),
        ("queries", "the answer is not an array"),  # queries=foo: a bare object
        ("queries", "0 objects, expected 1"),  # queries=0 not clamped up
        ("queries", "501 objects, expected 500"),  # nor 501 down
        ("updates", "no row of the table changed"),
        ("updates", "0 update statements on world"),
        ("fortunes", "an unescaped <script> in the page"),
        ("fortunes", "the document differs from TechEmpower's"),
        ("cached-queries", "1000 select statements on world"),  # not cached at all
    ],
)
def test_the_verifier_catches_a_broken_rule(
    verdicts: dict[str, Any], test: str, fragment: str
) -> None:
    import verifier

    broken = verdicts["broken"]
    messages = [f.message for f in broken.findings if f.test == test and f.level == "fail"]

    assert any(fragment in message for message in messages), verifier.format_verdicts([broken])
