"""Soak test: gunicorn serving examples/api.py for a long run; do errors appear, does memory grow?

Not a pytest test: run it by hand, e.g.

    python benchmarks/soak.py --requests 100000

It starts gunicorn on a free port of 127.0.0.1 with 2 gthread workers of 4 threads each (what
`wsgilite run --server gunicorn` sets up, without its access log), sends a warm-up, reads each
worker's resident memory (VmRSS in /proc/PID/status), sends `--requests` GET requests from
`--clients` threads on keep-alive connections, and reads the memory again. It exits 1 if any
request failed, a worker was replaced, or a worker grew by more than `--max-growth` percent.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")

# Only safe methods: POST /api/books adds a book each time, which is growth by design.
MIX: list[tuple[str, str, int]] = [
    ("GET", "/api/books/1", 200),
    ("GET", "/api/books?author=gibson&after=1980", 200),
    ("GET", "/?name=xxx&age=111", 200),
    ("HEAD", "/api/books", 200),
    ("GET", "/api/books/99", 404),
    ("DELETE", "/api/books", 405),
]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def start_gunicorn(port: int, workers: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start gunicorn in its own session and return it once it accepts connections."""
    command = [GUNICORN, "--chdir", "examples", "-w", str(workers), "-k", "gthread"]
    command += ["--threads", "4", "-b", f"{HOST}:{port}", "api:app"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.05)
    stop(process)
    log.seek(0)
    raise SystemExit(f"gunicorn did not start:\n{log.read().decode(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Send SIGTERM to the process group, then SIGKILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(10)
            return
        except subprocess.TimeoutExpired:
            continue


def workers_of(master: int) -> list[int]:
    """Return the PIDs of the master's living children (its workers), sorted."""
    workers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    state, ppid = stat.read().rpartition(")")[2].split()[:2]
            except OSError:
                continue
            if int(ppid) == master and state != "Z":
                workers.append(int(entry))
    return sorted(workers)


def rss_kib(pid: int) -> int:
    """Return the resident memory of `pid` in KiB (VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def send(port: int, count: int, clients: int, time_limit: float) -> tuple[Counter[str], float]:
    """Send `count` requests of MIX from `clients` keep-alive threads; return outcomes and time."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit

    def client(number: int) -> None:
        seen: Counter[str] = Counter()
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        for index in range(number, count, clients):
            if time.monotonic() > deadline:
                seen["not sent: time limit"] += 1
                continue
            method, path, expected = MIX[index % len(MIX)]
            try:
                connection.request(method, path)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                seen[f"error: {type(exc).__name__}"] += 1
                connection.close()
                continue
            ok = response.status == expected
            seen["ok" if ok else f"error: {method} {path} -> {response.status}"] += 1
        connection.close()
        with lock:
            outcomes.update(seen)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, time.monotonic() - started


def main() -> int:
    """Run the soak and print its report; return 1 on errors or too much growth."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--max-growth", type=float, default=10.0, help="percent per worker")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds for the run")
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = start_gunicorn(port, args.workers, log)
        try:
            master = process.pid
            deadline = time.monotonic() + 10
            while len(workers_of(master)) < args.workers and time.monotonic() < deadline:
                time.sleep(0.05)
            warmup, _ = send(port, args.warmup, args.clients, time_limit=120)
            workers = workers_of(master)
            rss_start = {pid: rss_kib(pid) for pid in workers}
            outcomes, seconds = send(port, args.requests, args.clients, args.time_limit)
            workers_end = workers_of(master)
            rss_end = {pid: rss_kib(pid) for pid in workers_end if pid in rss_start}
        finally:
            stop(process)

    errors = sum(number for outcome, number in outcomes.items() if outcome != "ok")
    errors += sum(number for outcome, number in warmup.items() if outcome != "ok")
    print(f"gunicorn: {args.workers} gthread workers x 4 threads, examples/api.py:app")
    print(
        f"clients: {args.clients} threads, keep-alive; mix: {len(MIX)} requests (GET/HEAD/404/405)"
    )
    print(f"warm-up: {args.warmup} requests")
    print(
        f"requests: {sum(outcomes.values())} in {seconds:.1f} s "
        f"({sum(outcomes.values()) / seconds:.0f}/s)"
    )
    for outcome, number in sorted(outcomes.items()):
        print(f"  {outcome}: {number}")
    print(f"errors: {errors}")
    worst = 0.0
    for pid in workers:
        if pid not in rss_end:
            print(f"worker {pid}: REPLACED during the run (start {rss_start[pid]} KiB)")
            worst = float("inf")
            continue
        growth = 100.0 * (rss_end[pid] - rss_start[pid]) / rss_start[pid]
        worst = max(worst, growth)
        print(
            f"worker {pid}: RSS {rss_start[pid]} KiB after warm-up -> {rss_end[pid]} KiB at end "
            f"({growth:+.1f}%)"
        )
    failed = errors > 0 or worst > args.max_growth or workers != workers_end
    print(
        f"result: {'FAIL' if failed else 'PASS'} (errors must be 0, growth <= {args.max_growth}%)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
