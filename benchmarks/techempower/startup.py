"""Whether per-process start-up work lands on a worker's first request (issue 14, item 6).

wsgilite's app makes its pool and loads its World cache (10,000 rows) in `@app.on_startup`, which
gunicorn runs as each worker starts with `-c python:wsgilite.gunicorn`; Falcon's app does the same
work at import, in the worker, before it accepts. For each gunicorn worker class this probe
measures, on fresh servers that had time to boot and got no request yet:

- **first request**: one worker; the latency of its first GET /db against the median of the next
  20, and the cache loads PostgreSQL ran meanwhile;
- **cold window**: the benchmark's 2 workers; a wrk window on /db right after boot against the
  next window, with the cache loads (and their time in PostgreSQL) that landed inside it.
"""

from __future__ import annotations

import http.client
import socket
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from launch import HOST, Server, ServerKind, Servers
from load import run_wrk

CACHE_LOAD = "select id, randomnumber from world"


@dataclass
class Probe:
    server: str
    framework: str
    first_ms: float = 0.0
    steady_ms: float = 0.0
    first_cache_loads: int = 0
    cold: dict[str, float] = field(default_factory=dict)
    warm: dict[str, float] = field(default_factory=dict)
    cold_cache_loads: int = 0
    cold_cache_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cache_loads(conn: psycopg.Connection[Any]) -> tuple[int, float]:
    """Return the calls and total milliseconds of the full World read (the cache load) so far."""
    row = conn.execute(
        "SELECT coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0) "
        "FROM pg_stat_statements WHERE lower(query) = %s",
        (CACHE_LOAD,),
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def _wait_accepting(server: Server, boot: float) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind.name}/{server.framework} exited:\n{server.output()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    time.sleep(boot)  # the workers import the app; no request reaches them meanwhile


def _get_ms(port: int, path: str) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


def probe(
    kind: ServerKind,
    framework: str,
    dsn: str,
    *,
    duration: int,
    connections: int,
    workers: int,
    threads: int,
    boot: float = 3.0,
) -> Probe:
    """Measure `framework`'s first-request and cold-window cost under `kind`."""
    result = Probe(kind.name, framework)
    with psycopg.connect(dsn, autocommit=True) as conn:
        single = Servers(workers=1, threads=threads)
        try:
            server = single.start(framework, kind, dsn)
            _wait_accepting(server, boot)
            loads_before, _ = cache_loads(conn)
            result.first_ms = _get_ms(server.port, "/db")
            result.first_cache_loads = cache_loads(conn)[0] - loads_before
            result.steady_ms = statistics.median(_get_ms(server.port, "/db") for _ in range(20))
        finally:
            single.stop_all()
        pair = Servers(workers=workers, threads=threads)
        try:
            server = pair.start(framework, kind, dsn)
            _wait_accepting(server, boot)
            loads_before, ms_before = cache_loads(conn)
            result.cold = run_wrk(server.base_url, "db", duration=duration, connections=connections)
            loads_after, ms_after = cache_loads(conn)
            result.cold_cache_loads = loads_after - loads_before
            result.cold_cache_ms = ms_after - ms_before
            result.warm = run_wrk(server.base_url, "db", duration=duration, connections=connections)
        finally:
            pair.stop_all()
    return result
