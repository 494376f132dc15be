"""Start each framework's app under each server on 127.0.0.1, and stop every one of them by PID.

A server runs in its own process group (its master and workers), with its output in a log file;
`Servers` remembers every group it started and `stop_all()` ends them (SIGTERM, then SIGKILL),
which the harness calls in a `finally`. The apps find the database through `TE_DSN` and size
their pools through `TE_POOL_SIZE`; `PYTHONPATH` puts this worktree's `src/` first, so the
wsgilite under test is the one imported, in every worker.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent.parent / "src"
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent

FRAMEWORKS = ("bare", "wsgilite", "falcon", "bottle", "flask")
MODULES = {name: f"app_{name}" for name in FRAMEWORKS}


def _tool(name: str) -> str:
    beside = BIN / name
    return str(beside) if beside.exists() else name


@dataclass(frozen=True)
class ServerKind:
    """How one server serves an app: its command line and the pool size its workers need."""

    name: str
    description: str
    # {module}, {port}, {workers}, {threads} and {per_worker} (connections) are filled in
    command: tuple[str, ...]
    pool_size: int

    def argv(
        self, module: str, port: int, workers: int, threads: int, connections: int = 32
    ) -> list[str]:
        values = {"module": module, "port": port, "workers": workers, "threads": threads,
                  "per_worker": per_worker(workers, threads, connections)}  # fmt: skip
        return [part.format(**values) for part in self.command]

    def described(self, workers: int, threads: int, connections: int) -> str:
        return self.description.format(
            threads=threads, per_worker=per_worker(workers, threads, connections)
        )


def per_worker(workers: int, threads: int, connections: int) -> int:
    """The connections one worker may hold: its share of wrk's, plus one per thread."""
    # Never all of them: gthread and gevent workers keep whatever they accepted first, and one
    # worker holding most of the 32 keep-alive connections halved a run's req/s.
    return -(-connections // workers) + threads


def _gunicorn(worker_class: str, *extra: str) -> tuple[str, ...]:
    return (
        _tool("gunicorn"),
        "--no-control-socket",
        "--worker-class", worker_class,
        "--workers", "{workers}",
        *extra,
        "--bind", f"{HOST}:{{port}}",
        "--log-level", "warning",
        "--chdir", str(HERE),
        # wsgilite's documented gunicorn settings: @app.on_startup runs as each worker starts.
        # The same for every framework's app (it only starts wsgilite Apps; the others have none).
        "--config", "python:wsgilite.gunicorn",
        "{module}:app",
    )  # fmt: skip


THREADS = 4
GEVENT_POOL = 8

SERVER_KINDS: dict[str, ServerKind] = {
    kind.name: kind
    for kind in (
        ServerKind(
            "sync",
            "gunicorn 'sync' workers: one request at a time, a connection per request",
            _gunicorn("sync"),
            pool_size=1,
        ),
        ServerKind(
            "gthread",
            "gunicorn 'gthread' workers, {threads} threads each, keep-alive, at most "
            "{per_worker} connections each",
            _gunicorn("gthread", "--threads", "{threads}", "--worker-connections", "{per_worker}"),
            pool_size=THREADS,
        ),
        ServerKind(
            "gevent",
            "gunicorn 'gevent' workers, at most {per_worker} connections each, "
            f"{GEVENT_POOL} database connections",
            _gunicorn("gevent", "--worker-connections", "{per_worker}"),
            pool_size=GEVENT_POOL,
        ),
        ServerKind(
            "granian",
            "granian's WSGI interface (Rust HTTP), {threads} blocking threads per worker",
            (
                _tool("granian"),
                "--interface",
                "wsgi",
                "--host",
                HOST,
                "--port",
                "{port}",
                "--workers",
                "{workers}",
                "--blocking-threads",
                "{threads}",
                "--no-ws",
                "--http",
                "1",
                "--log-level",
                "warning",
                "--working-dir",
                str(HERE),
                "{module}:app",
            ),
            pool_size=THREADS,
        ),
        ServerKind(
            "waitress",
            "waitress: one process, {threads} threads",
            (
                _tool("waitress-serve"),
                f"--listen={HOST}:{{port}}",
                "--threads={threads}",
                "{module}:app",
            ),
            pool_size=THREADS,
        ),
    )
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(dsn: str, pool_size: int) -> dict[str, str]:
    """The environment of a server: this worktree's wsgilite first, the DSN and the pool size."""
    path = os.pathsep.join([str(SRC), str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    return {**os.environ, "PYTHONPATH": path, "TE_DSN": dsn, "TE_POOL_SIZE": str(pool_size)}


@dataclass
class Server:
    """One running server: its framework, kind, port and process group."""

    framework: str
    kind: ServerKind
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self, limit: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-limit:]
        except OSError:
            return ""


@dataclass
class Servers:
    """Every server the harness started, so that all are stopped, whatever happens."""

    workers: int = 2
    threads: int = THREADS
    connections: int = 32  # wrk's: each worker may hold its share (see ServerKind.argv)
    log_folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="te-logs-")))
    running: list[Server] = field(default_factory=list)

    def start(self, framework: str, kind: ServerKind, dsn: str) -> Server:
        """Start `framework`'s app under `kind` on a free port (returns before it is ready)."""
        port = free_port()
        argv = kind.argv(MODULES[framework], port, self.workers, self.threads, self.connections)
        log = self.log_folder / f"{kind.name}-{framework}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv,
                cwd=HERE,
                env=server_env(dsn, kind.pool_size),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(framework, kind, port, process, log)
        self.running.append(server)
        return server

    def start_all(self, frameworks: list[str], kind: ServerKind, dsn: str) -> dict[str, Server]:
        """Start every framework under `kind` and wait until each answers /json."""
        servers = {name: self.start(name, kind, dsn) for name in frameworks}
        for server in servers.values():
            wait_ready(server)
        return servers

    def stop(self, server: Server) -> None:
        stop_group(server.process)
        if server in self.running:
            self.running.remove(server)

    def stop_all(self) -> None:
        for server in list(self.running):
            self.stop(server)


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    """Wait until the server answers GET /json with 200; raise with its log if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.kind.name}/{server.framework} exited with {server.process.returncode}"
                f" before answering:\n{server.output()}"
            )
        try:
            connection = http.client.HTTPConnection(HOST, server.port, timeout=5)
            try:
                connection.request("GET", "/json")
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"{server.kind.name}/{server.framework} did not answer within {timeout} s:\n"
        f"{server.output()}"
    )


def group_stats(pgid: int) -> Iterator[tuple[int, list[str]]]:
    """`(pid, fields)` of every live process of process group `pgid`: /proc's stat from field 3."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path("/proc", entry.name, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3, the state
        if int(fields[2]) == pgid:  # field 5, pgrp
            yield int(entry.name), fields


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by every live process of process group `pgid`."""
    # Fields 14 and 15: utime and stime, in clock ticks.
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in group_stats(pgid))
    return ticks / os.sysconf("SC_CLK_TCK")


def stop_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group led by `process`, then SIGKILL if it outlives `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
            break
        except subprocess.TimeoutExpired:
            continue
    # Workers that outlived their master would still be in the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
