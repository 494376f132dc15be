"""A throwaway PostgreSQL on 127.0.0.1 with pg_stat_statements, loaded with TechEmpower's data.

Debian's packages (`postgresql`, `postgresql-contrib`) provide the binaries under
/usr/lib/postgresql/<version>/bin. They refuse to run as root, so as root the data folder is owned
by the `postgres` user and every binary runs under `runuser -u postgres`. The cluster lives in a
temporary folder, listens on 127.0.0.1 only (its Unix socket stays in that folder) and is stopped
by its postmaster's PID at the end, even when the caller fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
DATABASE = "hello_world"
USER = "benchmarkdbuser"
PASSWORD = "benchmarkdbpass"
PREFERRED_VERSION = "15"
PG_ROOT = Path("/usr/lib/postgresql")
WORLD_ROWS = 10_000

# The TechEmpower Fortune table, in id order. The Japanese row is spelled with escapes so no
# editor or linter mangles it; the em dashes are U+2014.
FORTUNES: tuple[tuple[int, str], ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)

SCHEMA = f"""
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE TABLE World (
    id integer NOT NULL PRIMARY KEY,
    randomNumber integer NOT NULL DEFAULT 0
);
INSERT INTO World (id, randomNumber)
SELECT x.id, least(floor(random() * 10000 + 1), 10000)
FROM generate_series(1, {WORLD_ROWS}) AS x(id);
CREATE TABLE Fortune (
    id integer NOT NULL PRIMARY KEY,
    message varchar(2048) NOT NULL
);
"""

# Settings of the throwaway cluster. synchronous_commit=off as in TechEmpower's own PostgreSQL
# configuration; pg_stat_statements counts every statement the apps run.
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "max_connections": "300",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.max": "10000",
    "pg_stat_statements.track": "top",
    "synchronous_commit": "off",
    "jit": "off",
    "log_min_messages": "warning",
}


class ClusterError(RuntimeError):
    """PostgreSQL could not be installed, initialised or started."""


def find_bin_dir() -> Path | None:
    """Return the bin folder of Debian's PostgreSQL (15 if installed, else the newest), or None."""
    preferred = PG_ROOT / PREFERRED_VERSION / "bin"
    if (preferred / "initdb").is_file():
        return preferred
    versions = sorted(
        (path for path in PG_ROOT.glob("*/bin") if (path / "initdb").is_file()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def has_pg_stat_statements(bin_dir: Path) -> bool:
    """Tell whether the pg_stat_statements module (postgresql-contrib) is installed."""
    return (bin_dir.parent / "lib" / "pg_stat_statements.so").is_file()


def ensure_installed(log: bool = True) -> Path:
    """Install Debian's `postgresql` and `postgresql-contrib` if missing; return the bin folder."""
    bin_dir = find_bin_dir()
    if bin_dir is not None and has_pg_stat_statements(bin_dir):
        return bin_dir
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise ClusterError(
            "PostgreSQL with pg_stat_statements is not installed and cannot be installed here: "
            "apt-get install -y postgresql postgresql-contrib"
        )
    if log:
        print("installing Debian's postgresql and postgresql-contrib ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "postgresql", "postgresql-contrib"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    bin_dir = find_bin_dir()
    if bin_dir is None or not has_pg_stat_statements(bin_dir):
        raise ClusterError("apt-get ran, but initdb or pg_stat_statements is still missing")
    return bin_dir


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A running cluster: where it lives, its port and the DSN the apps use."""

    bin_dir: Path
    folder: Path
    port: int
    pid: int = 0

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def dsn(self) -> str:
        return (
            f"host={HOST} port={self.port} dbname={DATABASE} user={USER} password={PASSWORD} "
            "application_name=techempower"
        )

    @property
    def admin_dsn(self) -> str:
        return f"host={HOST} port={self.port} dbname=postgres user={USER} password={PASSWORD}"

    @property
    def version(self) -> str:
        out = subprocess.run(
            [str(self.bin_dir / "postgres"), "--version"], capture_output=True, text=True
        )
        return out.stdout.strip()


def _as_postgres(command: list[str]) -> list[str]:
    # The binaries refuse root; any other user runs them as itself.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(_as_postgres(command), capture_output=True, text=True)
    if result.returncode != 0:
        raise ClusterError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def start(bin_dir: Path) -> Cluster:
    """Initialise a cluster in a new temporary folder, start it and return it."""
    folder = Path(tempfile.mkdtemp(prefix="techempower-pg-"))
    cluster = Cluster(bin_dir, folder, free_port())
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        folder.chmod(0o700)
        pwfile = folder / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        _run(
            [
                str(bin_dir / "initdb"),
                "-D", str(cluster.data),
                "-U", USER,
                f"--pwfile={pwfile}",
                "-E", "UTF8",
                "--locale=C.UTF-8",
                "--auth=scram-sha-256",
                "--no-sync",
            ],
            "initdb",
        )  # fmt: skip
        with (cluster.data / "postgresql.conf").open("a") as conf:
            for name, value in {**SETTINGS, "port": str(cluster.port)}.items():
                conf.write(f"{name} = {value}\n")
            conf.write(f"unix_socket_directories = '{folder}'\n")
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D", str(cluster.data),
                "-l", str(folder / "postgres.log"),
                "-w", "-t", "60",
                "start",
            ],
            "pg_ctl start",
        )  # fmt: skip
        cluster.pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    except BaseException:
        stop(cluster)
        raise
    return cluster


def stop(cluster: Cluster) -> None:
    """Stop the cluster (fast shutdown, then its postmaster by PID) and delete its folder."""
    if (cluster.data / "postmaster.pid").exists():
        with contextlib.suppress(Exception):
            subprocess.run(
                _as_postgres(
                    [str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.data), "-m", "fast",
                     "-w", "-t", "20", "stop"]
                ),
                capture_output=True,
                timeout=30,
            )  # fmt: skip
    if cluster.pid:
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            if not _alive(cluster.pid):
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(cluster.pid, sig)
            deadline = time.monotonic() + 5
            while _alive(cluster.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
    shutil.rmtree(cluster.folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_data(cluster: Cluster) -> None:
    """Create the hello_world database: World (10,000 rows), Fortune (12), pg_stat_statements."""
    import psycopg

    with psycopg.connect(cluster.admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {DATABASE} ENCODING 'UTF8' TEMPLATE template0")
    with psycopg.connect(cluster.dsn) as conn:
        conn.execute(SCHEMA)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO Fortune (id, message) VALUES (%s, %s)", FORTUNES)
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()


@contextlib.contextmanager
def running(install: bool = True) -> Iterator[Cluster]:
    """Start a loaded cluster for the block; stop it at the end, whatever happens."""
    bin_dir = ensure_installed() if install else find_bin_dir()
    if bin_dir is None or not has_pg_stat_statements(bin_dir):
        raise ClusterError("PostgreSQL with pg_stat_statements is not installed")
    cluster = start(bin_dir)
    try:
        load_data(cluster)
        yield cluster
    finally:
        stop(cluster)
