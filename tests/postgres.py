"""A throwaway PostgreSQL cluster for tests: initdb in a temp folder, serve on 127.0.0.1, stop.

`postgres_cluster()` yields a `Cluster` (a fresh one, listening on 127.0.0.1 on a free port, its
socket in the temp folder) whose `create_database(name)` returns a `postgresql://` URL, and stops
it with `pg_ctl stop` when the block ends, then by the postmaster's PID if that failed. The
server binaries refuse to run as root, so under root they run as the `postgres` user (Debian's
package creates it) via `runuser`.

`find_binaries()` returns None when PostgreSQL is not installed: a test then skips, unless
`CI=true`, where a missing PostgreSQL is a failure (`.ci/run` installs it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from serving import free_port

USER = "conduit"
PASSWORD = "conduit-test-password"


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest installed version), or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2])
    )
    for folder in reversed(candidates):
        if os.path.exists(os.path.join(folder, "initdb")):
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass(frozen=True)
class Cluster:
    """A running cluster: `url(name)` of a database, `create_database(name)` for a new one."""

    port: int

    def url(self, database: str) -> str:
        """The URL of `database` on this cluster."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create the empty database `name`; return its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """Run a new cluster until the block ends."""
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    with tempfile.TemporaryDirectory(prefix="conduit-pg-") as folder:
        root = Path(folder)
        data = root / "data"
        password_file = root / "password"
        password_file.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            server = pwd.getpwnam("postgres")
            os.chown(root, server.pw_uid, server.pw_gid)
            os.chown(password_file, server.pw_uid, server.pw_gid)
        port = free_port()
        log = root / "server.log"
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={password_file}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
            ]
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200"
        _run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-o",
                options,
                "start",
            ]
        )
        try:
            yield Cluster(port)
        finally:
            _stop(binaries, data)


def _run(command: list[str]) -> None:
    result = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}")


def _stop(binaries: Path, data: Path) -> None:
    pid_file = data / "postmaster.pid"
    pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
    with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    if pid is None:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
