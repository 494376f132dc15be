"""A bounded wrk run against one test type of one running app, and what it reports.

wrk (Debian's `wrk` package) keeps `connections` HTTP/1.1 connections busy for `duration`
seconds and prints the request rate and the latency distribution; this module runs it and reads
those figures. wrk is installed by `ensure_wrk()` with apt-get if it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

# The Accept headers TechEmpower's load generator sends, per test type.
ACCEPT_JSON = (
    "application/json,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7"
)
ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_TEXT = (
    "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7"
)

TESTS: dict[str, tuple[str, str]] = {
    "json": ("/json", ACCEPT_JSON),
    "plaintext": ("/plaintext", ACCEPT_TEXT),
    "db": ("/db", ACCEPT_JSON),
    "queries": ("/queries?queries={n}", ACCEPT_JSON),
    "updates": ("/updates?queries={n}", ACCEPT_JSON),
    "fortunes": ("/fortunes", ACCEPT_HTML),
    "cached-queries": ("/cached-queries?count={n}", ACCEPT_JSON),
}


@dataclass(frozen=True)
class Sample:
    """One wrk run: the request rate, latencies in ms, and failures."""

    server: str
    framework: str
    test: str
    round: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int  # socket errors (connect, read, write, timeout) and non-2xx/3xx answers
    cpu_us: float = 0.0  # CPU time of the server's processes per request, in µs

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensure_wrk() -> str:
    """Return wrk's path, installing Debian's `wrk` package first if it is missing."""
    path = shutil.which("wrk")
    if path:
        return path
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    print("installing Debian's wrk ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(install, check=True, env=env, stdout=subprocess.DEVNULL)
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("apt-get install wrk did not provide wrk")
    return path


def test_path(test: str, queries: int) -> str:
    return TESTS[test][0].format(n=queries)


def wrk_command(url: str, duration: int, connections: int, threads: int, accept: str) -> list[str]:
    return [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={duration}s",
        "--timeout=8s",
        "--latency",
        "-H", f"Accept: {accept}",
        url,
    ]  # fmt: skip


def run_wrk(
    base_url: str,
    test: str,
    *,
    duration: int,
    connections: int,
    threads: int = 1,
    queries: int = 20,
) -> dict[str, float]:
    """Run wrk once; return its figures (requests_per_s, p50_ms, p99_ms, max_ms, ...)."""
    path, accept = TESTS[test]
    url = base_url + path.format(n=queries)
    command = wrk_command(url, duration, connections, threads, accept)
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed on {url}: {result.stderr or result.stdout}")
    return parse_wrk(result.stdout)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> dict[str, float]:
    """Read requests/s, the 50 % and 99 % latencies, the max, and the failures from wrk."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        return match

    figures = {
        "requests_per_s": float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
        "p50_ms": _ms(find(r"^\s+50%\s+(\S+)")[1]),
        "p99_ms": _ms(find(r"^\s+99%\s+(\S+)")[1]),
        "max_ms": _ms(find(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)")[1]),
        "requests": float(find(r"^\s+(\d+) requests in")[1]),
    }
    errors = 0
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket:
        errors += sum(int(count) for count in socket.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx[1])
    figures["errors"] = float(errors)
    return figures
