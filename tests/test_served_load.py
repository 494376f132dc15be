"""gunicorn serving wsgilite apps under load, worker crashes and slow clients, on 127.0.0.1.

Every loop here is bounded twice, by a count and by a deadline, so the file ends in well under a
minute even when a server misbehaves. Which gunicorn worker class each test uses is part of what
it shows: gthread for throughput with keep-alive, sync for a crash that costs exactly one request,
gevent (wsgilite's default when installed) for many slow clients.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from serving import HOST, free_port, get, served

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WSGILITE = str(BIN / "wsgilite")
GUNICORN = str(BIN / "gunicorn")

DUNE = b'{"id":1,"title":"Dune","author":"Frank Herbert","year":1965}'
NO_BOOK_99 = b'{"error":"not found","detail":"no book with id 99","path":"/api/books/99"}'


# -- a bounded load generator -------------------------------------------------------------------


@dataclass
class Tally:
    """What a load run saw: statuses, wrong bodies, exceptions, and TCP connections opened."""

    statuses: Counter[int] = field(default_factory=Counter)
    wrong_bodies: list[tuple[str, bytes]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    unsent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, other: Tally) -> None:
        """Merge one client's tally into this one."""
        with self.lock:
            self.statuses.update(other.statuses)
            self.wrong_bodies.extend(other.wrong_bodies)
            self.errors.update(other.errors)
            self.connections += other.connections
            self.unsent += other.unsent


Expectation = tuple[str, int, bytes]  # path, status, body


def run_clients(
    port: int, plan: list[Expectation], clients: int, time_limit: float
) -> tuple[Tally, float]:
    """Send `plan` from `clients` threads, each on one keep-alive connection; stop at the limit."""
    total = Tally()
    deadline = time.monotonic() + time_limit

    def client(share: list[Expectation]) -> None:
        tally = Tally()
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        local_port = None
        try:
            for index, (path, status, body) in enumerate(share):
                if time.monotonic() > deadline:
                    tally.unsent += len(share) - index
                    break
                try:
                    connection.request("GET", path)
                    sock = connection.sock  # the TCP connection this request went out on
                    if sock is not None and sock.getsockname()[1] != local_port:
                        local_port = sock.getsockname()[1]
                        tally.connections += 1
                    response = connection.getresponse()
                    received = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    tally.errors[type(exc).__name__] += 1
                    connection.close()
                    continue
                tally.statuses[response.status] += 1
                if (response.status, received) != (status, body):
                    tally.wrong_bodies.append((path, received[:200]))
        finally:  # an unexpected exception still reports what this client saw
            connection.close()
            total.add(tally)

    started = time.monotonic()
    threads = [
        threading.Thread(target=client, args=(plan[number::clients],)) for number in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 15)  # a request in flight at the deadline may take its timeout
    return total, time.monotonic() - started


def test_gthread_workers_answer_5000_requests_from_16_clients_without_error() -> None:
    """wsgilite's gunicorn setup, gthread (2 workers, 32 threads each), 16 keep-alive clients."""
    plan: list[Expectation] = [
        ("/api/books/99", 404, NO_BOOK_99) if number % 5 == 4 else ("/api/books/1", 200, DUNE)
        for number in range(5_000)
    ]
    port = free_port()
    command = [WSGILITE, "run", "examples/api.py:app", "--server", "gunicorn", "--workers", "2"]
    command += ["--worker-class", "gthread"]
    with served([*command, "--port", str(port)], port, cwd=str(ROOT)):
        tally, seconds = run_clients(port, plan, clients=16, time_limit=30.0)

    assert tally.errors == Counter(), f"after {seconds:.1f} s"
    assert tally.unsent == 0, f"only {5_000 - tally.unsent} requests in {seconds:.1f} s"
    assert tally.statuses == Counter({200: 4_000, 404: 1_000})
    assert tally.wrong_bodies == []
    assert tally.connections == 16  # keep-alive: one connection per client for all its requests


# -- a worker that dies -------------------------------------------------------------------------


def parent_of(pid: int) -> int:
    """Return the parent PID of `pid`, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


def living_children(parent: int) -> set[int]:
    """Return the PIDs whose parent is `parent`, zombies left out."""
    children = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                state, ppid = stat.read().rpartition(")")[2].split()[:2]
        except OSError:
            continue  # the process ended while we looked
        if int(ppid) == parent and state != "Z":
            children.add(int(entry))
    return children


def wait_for(condition: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    """Poll `condition` until it holds or `seconds` pass (at most seconds/step polls)."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / step)):
        if condition():
            return True
        if time.monotonic() > deadline:
            break
        time.sleep(step)
    return condition()


@pytest.fixture(scope="module")
def crashy_port() -> Iterator[int]:
    """examples/crashy.py under plain gunicorn with 2 sync workers (one request per worker)."""
    port = free_port()
    command = [GUNICORN, "--chdir", "examples", "-w", "2", "-b", f"{HOST}:{port}", "crashy:app"]
    with served(command, port, cwd=str(ROOT)):
        yield port


def gunicorn_master(port: int) -> int:
    """Return the PID of the gunicorn master, once both its workers are up."""
    master = parent_of(json.loads(get(port, "/pid")[1])["pid"])
    assert wait_for(lambda: len(living_children(master)) == 2, seconds=10.0)
    return master


def one_worker_replaced(master: int, before: set[int]) -> bool:
    """Tell whether the master again has two workers, exactly one of them new."""
    workers = living_children(master)
    return len(workers) == 2 and len(workers - before) == 1


def test_a_dying_worker_costs_its_request_only_and_is_replaced(crashy_port: int) -> None:
    master = gunicorn_master(crashy_port)
    workers_before = living_children(master)

    with pytest.raises(ConnectionError):  # RemoteDisconnected: the worker exited mid-request
        get(crashy_port, "/die")

    # The other worker serves every request meanwhile; the master forks a replacement.
    answers: list[tuple[int, bytes]] = []

    def replaced() -> bool:
        answers.append(get(crashy_port, "/"))
        return one_worker_replaced(master, workers_before)

    assert wait_for(replaced, seconds=10.0), f"workers now: {living_children(master)}"
    assert answers == [(200, b"ok")] * len(answers)
    after = [get(crashy_port, "/") for _ in range(20)]
    assert after == [(200, b"ok")] * 20


def test_serving_survives_every_worker_dying_in_turn(crashy_port: int) -> None:
    """Three deaths in a row, more than there are workers: the master keeps replacing them."""
    master = gunicorn_master(crashy_port)
    first_workers = living_children(master)

    for _ in range(3):
        before = living_children(master)
        with pytest.raises(ConnectionError):
            get(crashy_port, "/die")
        assert wait_for(functools.partial(one_worker_replaced, master, before), seconds=10.0)

    assert [get(crashy_port, "/") for _ in range(10)] == [(200, b"ok")] * 10
    assert len(living_children(master)) == 2
    assert len(living_children(master) - first_workers) >= 1


def test_a_crash_is_a_500_without_traceback_and_serving_goes_on(crashy_port: int) -> None:
    status, body = get(crashy_port, "/boom")

    assert status == 500
    assert b"crashy-secret" not in body
    assert b"Traceback" not in body
    assert get(crashy_port, "/slow") == (200, b"slow ok")


# -- slow clients -------------------------------------------------------------------------------


class Slowloris:
    """`count` sockets that send a request header one line at a time and never finish it.

    Each socket gets one more header line every `interval` seconds, `rounds` times at most.
    """

    def __init__(self, port: int, count: int, interval: float, rounds: int = 40) -> None:
        self.sockets = [socket.create_connection((HOST, port), timeout=5) for _ in range(count)]
        self.interval = interval
        self.rounds = rounds
        self.lines_sent = 0
        self.failures: list[str] = []
        self.started = time.monotonic()
        self.first_failure_after: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle)
        for sock in self.sockets:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode())
        self._thread.start()

    def _trickle(self) -> None:
        for number in range(self.rounds):
            if self._stop.wait(self.interval):
                return
            for sock in self.sockets:
                try:
                    sock.sendall(f"X-Slow-{number}: {'a' * 10}\r\n".encode())
                    self.lines_sent += 1
                except OSError as exc:
                    self.failures.append(repr(exc))
                    if self.first_failure_after is None:
                        self.first_failure_after = time.monotonic() - self.started

    def close(self) -> None:
        """Stop trickling and close every socket."""
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


def timed_requests(port: int, seconds: float, limit: int) -> list[tuple[int, bytes, float]]:
    """Send GET / one after another for `seconds` (at most `limit`); return status, body, time."""
    results: list[tuple[int, bytes, float]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(results) < limit:
        started = time.monotonic()
        status, body = get(port, "/", timeout=2.0)
        results.append((status, body, time.monotonic() - started))
        time.sleep(0.05)
    return results


def test_gevent_worker_serves_others_while_20_slow_clients_trickle_headers() -> None:
    """One gevent worker: 20 half-sent requests held open for 3 s do not delay anyone else.

    --keep-alive 10 keeps the slow sockets open for the whole test; with the default 2 s the
    worker would drop them sooner (see the next test).
    """
    port = free_port()
    command = [GUNICORN, "--chdir", "examples", "-k", "gevent", "-w", "1", "--keep-alive", "10"]
    with served([*command, "-b", f"{HOST}:{port}", "hello:app"], port, cwd=str(ROOT)):
        slowloris = Slowloris(port, count=20, interval=0.3)
        try:
            results = timed_requests(port, seconds=3.0, limit=100)
        finally:
            slowloris.close()

    assert slowloris.failures == []  # the slow sockets stayed open the whole time
    assert slowloris.lines_sent >= 20 * 5
    assert len(results) >= 20
    assert {(status, body) for status, body, _ in results} == {(200, b"<h1>Hello, World!</h1>")}
    assert max(seconds for _, _, seconds in results) < 1.0


def test_gevent_worker_drops_a_client_still_sending_headers_after_keep_alive() -> None:
    """gunicorn's async workers bound reading a request by --keep-alive (2 s by default)."""
    port = free_port()
    command = [GUNICORN, "--chdir", "examples", "-k", "gevent", "-w", "1"]
    with served([*command, "-b", f"{HOST}:{port}", "hello:app"], port, cwd=str(ROOT)):
        slowloris = Slowloris(port, count=1, interval=0.2)
        try:
            dropped = wait_for(lambda: slowloris.first_failure_after is not None, seconds=8.0)
        finally:
            slowloris.close()

    assert dropped
    assert slowloris.first_failure_after is not None
    assert 1.5 < slowloris.first_failure_after < 6.0


def test_one_sync_worker_is_held_by_one_slow_client() -> None:
    """Why -k gevent: a sync worker reads one request at a time, so a trickling client blocks it."""
    port = free_port()
    command = [GUNICORN, "--chdir", "examples", "-w", "1", "-b", f"{HOST}:{port}", "hello:app"]
    with served(command, port, cwd=str(ROOT)):
        slowloris = Slowloris(port, count=1, interval=0.3)
        try:
            time.sleep(0.3)  # the worker accepts the slow socket first
            with pytest.raises(TimeoutError):
                get(port, "/", timeout=1.0)
        finally:
            slowloris.close()
        status, body = get(port, "/")  # served again once the slow client is gone

    assert (status, body) == (200, b"<h1>Hello, World!</h1>")


@pytest.mark.parametrize("worker_class", [None, "gthread"], ids=["default", "gthread"])
def test_wsgilite_gunicorn_is_not_stalled_by_six_slow_clients(worker_class: str | None) -> None:
    """wsgilite's defaults (gevent when installed, else gthread with 32 threads a worker).

    Six sockets each send one header line every 2 s and never finish; a normal request sent
    meanwhile is answered at once. With 4 threads, 4 such sockets stalled the worker for good.
    """
    port = free_port()
    command = [WSGILITE, "run", "examples/hello.py:app", "--server", "gunicorn", "--workers", "1"]
    if worker_class is not None:
        command += ["--worker-class", worker_class]
    with served([*command, "--port", str(port)], port, cwd=str(ROOT)):
        slowloris = Slowloris(port, count=6, interval=2.0, rounds=3)
        try:
            time.sleep(0.5)  # each slow socket has sent its first line
            results = timed_requests(port, seconds=4.0, limit=20)
        finally:
            slowloris.close()
        served_after = get(port, "/")

    assert len(results) >= 5
    assert {(status, body) for status, body, _ in results} == {(200, b"<h1>Hello, World!</h1>")}
    assert max(seconds for _, _, seconds in results) < 2.0
    assert served_after == (200, b"<h1>Hello, World!</h1>")


# -- a client that leaves mid-stream ------------------------------------------------------------


@pytest.mark.parametrize("worker_class", ["sync", "gthread", "gevent"])
def test_close_is_called_on_a_stream_the_client_abandons(tmp_path: Path, worker_class: str) -> None:
    """PEP 3333: the server calls the body's close() although the client hung up mid-stream."""
    port = free_port()
    command = [GUNICORN, "--chdir", str(ROOT / "examples"), "-k", worker_class, "-w", "1"]
    command += ["-b", f"{HOST}:{port}", "crashy:app"]
    env = {**os.environ, "CRASHY_CLOSED_DIR": str(tmp_path)}
    with served(command, port, env=env):
        with socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(f"GET /stream HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            first = sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 200 OK")
            # Linger 0: close() resets the connection, as a browser tab closed mid-download does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        closed = wait_for(lambda: any(tmp_path.glob("closed-*")), seconds=10)
        assert get(port, "/")[0] == 200  # and the worker serves on

    assert closed, "the server never called close() on the abandoned body"


# -- startup hooks under gevent, wsgilite's default worker ---------------------------------------

SLOW_START_APP = """\
import time

from wsgilite import App

app = App(__name__)


@app.on_startup
def warm_up(app):
    time.sleep(1.0)  # a slow start (a network call): under gevent it yields to other greenlets


@app.get("/")
def index(request):
    return "ok"
"""


def test_requests_arriving_during_a_slow_startup_hook_wait_for_it_under_gevent(
    tmp_path: Path,
) -> None:
    """The startup lock is gevent's once gevent patched threading: no deadlock in the worker."""
    (tmp_path / "slow_start.py").write_text(SLOW_START_APP, encoding="utf-8")
    port = free_port()
    command = [WSGILITE, "run", "slow_start.py:app", "--server", "gunicorn"]
    command += ["--worker-class", "gevent", "--port", str(port)]
    results: list[tuple[int, bytes]] = []
    with served(command, port, cwd=str(tmp_path)):

        def fetch() -> None:
            results.append(get(port, "/", timeout=8.0))

        fetchers = [threading.Thread(target=fetch) for _ in range(3)]
        for fetcher in fetchers:
            fetcher.start()
            time.sleep(0.1)
        for fetcher in fetchers:
            fetcher.join(10)

    assert results == [(200, b"ok")] * 3
