"""Instructions per request of each server process, by callgrind: the noise-free twin of run.py.

    python benchmarks/techempower/instructions.py                      # every server and test
    python benchmarks/techempower/instructions.py --servers gevent --tests plaintext,json \\
        --frameworks bare,wsgilite,falcon --requests 300

wrk's req/s on this machine moved 20-60 % between batches, more than the gaps between frameworks.
This counts what a request costs the server instead: every app runs under one worker (and
waitress under its threads) inside valgrind's callgrind; a client on 127.0.0.1 sends warm-up
requests, callgrind's counters are zeroed in every process of the server, the client sends
`--requests` more one after another on a keep-alive connection (the server may close it), and the
counters are dumped. Instructions per request = the dumped total / requests: the server's HTTP
work, the framework and the app, PostgreSQL's client side included (PostgreSQL itself, in its own
processes, is not counted). The same PostgreSQL cluster, data and query count as run.py.

Python's string hashing is seeded per process, and the seed moved a cell by up to 2 %, as much
as the gaps being measured; so each server runs with a fixed `PYTHONHASHSEED` (as
bench_instructions.py does), and with `--seeds 0,1,2` a cell is the mean over those seeds.

It is a ranking tool, not a speed: one request at a time, so no contention, and valgrind runs a
process about 50 times slower. Every server is stopped by PID at the end, even on failure.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import launch  # noqa: E402
import load  # noqa: E402
import pgcluster  # noqa: E402
import report  # noqa: E402
from run import choices  # noqa: E402

README = HERE.parent / "README.md"
BEGIN = "<!-- techempower-instructions:begin (written by techempower/instructions.py) -->"
END = "<!-- techempower-instructions:end -->"

TESTS = tuple(load.TESTS)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    frameworks = list(launch.FRAMEWORKS)
    servers = list(launch.SERVER_KINDS)
    p.add_argument("--frameworks", type=choices(frameworks), default=frameworks)
    p.add_argument("--tests", type=choices(TESTS), default=list(TESTS))
    p.add_argument("--servers", type=choices(servers), default=servers)
    p.add_argument("--requests", type=int, default=200, help="counted requests per cell")
    p.add_argument("--warmup", type=int, default=50, help="requests per cell before counting")
    p.add_argument("--queries", type=int, default=20, help="N of queries, updates, cached")
    p.add_argument("--seeds", type=seed_list, default=[0],
                   help="PYTHONHASHSEED values, comma-separated: a cell is their mean")  # fmt: skip
    p.add_argument("--write", action="store_true",
                   help="also put the tables in benchmarks/README.md")  # fmt: skip
    return p


def seed_list(text: str) -> list[int]:
    """`--seeds`: comma-separated hash seeds, each 0..4294967295."""
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give seeds as numbers, e.g. 0,1,2") from None
    if not seeds or any(not 0 <= seed <= 4294967295 for seed in seeds):
        raise argparse.ArgumentTypeError(f"{text!r}: each seed is 0..4294967295")
    return seeds


def valgrind_argv(argv: list[str], out_folder: Path) -> list[str]:
    """`argv` run under callgrind, every child process too, each counting into its own file."""
    return [
        "valgrind", "--tool=callgrind", "--trace-children=yes", "--quiet",
        f"--callgrind-out-file={out_folder}/cg.%p", *argv,
    ]  # fmt: skip


def callgrind_control(command: str, pids: list[int]) -> None:
    for pid in pids:
        subprocess.run(["callgrind_control", command, str(pid)], capture_output=True, timeout=120)


def dumped_total(out_folder: Path, pids: list[int]) -> int:
    """The instructions in the newest dump of each of `pids` (callgrind's `summary:` line)."""
    total = 0
    for pid in pids:
        dumps = sorted(out_folder.glob(f"cg.{pid}.*"), key=lambda p: int(p.suffix[1:]))
        if not dumps:
            continue  # not a valgrind'ed process (a helper that exec'd nothing)
        for line in dumps[-1].read_text().splitlines():
            if line.startswith("summary:"):
                total += int(line.split()[1])
    return total


class Client:
    """One keep-alive connection that opens again when the server closes it."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection(launch.HOST, port, timeout=120)

    def get(self, path: str, accept: str) -> None:
        for attempt in range(2):
            try:
                self.connection.request("GET", path, headers={"Accept": accept})
                response = self.connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path}: {response.status}")
                if response.will_close:
                    self.connection.close()
                return
            except (http.client.RemoteDisconnected, ConnectionError):
                self.connection.close()
                if attempt:
                    raise

    def close(self) -> None:
        self.connection.close()


def count_server(
    framework: str, kind: launch.ServerKind, dsn: str, args: argparse.Namespace
) -> dict[str, float]:
    """Instructions per request of each test, for one framework under one server kind."""
    runs = [count_seeded(framework, kind, dsn, args, seed) for seed in args.seeds]
    return {test: sum(run[test] for run in runs) / len(runs) for test in runs[0]}


def count_seeded(
    framework: str, kind: launch.ServerKind, dsn: str, args: argparse.Namespace, seed: int
) -> dict[str, float]:
    """count_server's figures from one server started with PYTHONHASHSEED=`seed`."""
    out_folder = Path(tempfile.mkdtemp(prefix="te-callgrind-"))
    port = launch.free_port()
    argv = kind.argv(launch.MODULES[framework], port, workers=1, threads=launch.THREADS)
    log = out_folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            valgrind_argv(argv, out_folder), cwd=HERE,
            env={**launch.server_env(dsn, kind.pool_size), "PYTHONHASHSEED": str(seed)},
            stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = launch.Server(framework, kind, port, process, log)
    figures: dict[str, float] = {}
    try:
        launch.wait_ready(server, timeout=300)
        client = Client(port)
        for test in args.tests:
            path, accept = load.TESTS[test]
            path = path.format(n=args.queries)
            for _ in range(args.warmup):
                client.get(path, accept)
            pids = [pid for pid, _ in launch.group_stats(process.pid)]
            callgrind_control("--zero", pids)
            for _ in range(args.requests):
                client.get(path, accept)
            callgrind_control("--dump", pids)
            figures[test] = dumped_total(out_folder, pids) / args.requests
        client.close()
    finally:
        launch.stop_group(process, timeout=60)
        shutil.rmtree(out_folder, ignore_errors=True)
    return figures


def table(server: str, counts: dict[str, dict[str, float]], tests: list[str]) -> str:
    frameworks = list(counts)
    lines = [
        f"#### {server}: thousand instructions per request (÷ falcon)",
        "",
        "| test | " + " | ".join(frameworks) + " |",
        "|---|" + "---:|" * len(frameworks),
    ]
    for test in tests:
        falcon = counts.get("falcon", {}).get(test)
        cells = []
        for name in frameworks:
            value = counts[name].get(test)
            if value is None:
                cells.append("-")
            elif falcon and name != "falcon":
                cells.append(f"{value / 1000:,.0f} ({value / falcon:.3f})")
            else:
                cells.append(f"{value / 1000:,.0f}")
        lines.append(f"| {test} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing: apt-get install -y valgrind")
    started = time.monotonic()
    tables = []
    with pgcluster.running() as cluster:
        for server in args.servers:
            kind = launch.SERVER_KINDS[server]
            counts = {}
            for framework in args.frameworks:
                counts[framework] = count_server(framework, kind, cluster.dsn, args)
                print(f"[{time.monotonic() - started:5.0f} s] {server}/{framework}: done",
                      file=sys.stderr, flush=True)  # fmt: skip
            tables.append(table(server, counts, args.tests))
            print(tables[-1] + "\n", flush=True)
    if args.write:
        command = "python benchmarks/techempower/instructions.py " + " ".join(argv or sys.argv[1:])
        intro = (
            f"`{command.strip()}` on {datetime.date.today()}: {args.requests} requests per cell "
            f"after {args.warmup}, one worker (waitress: its {launch.THREADS} threads), "
            f"N = {args.queries}, PYTHONHASHSEED {', '.join(map(str, args.seeds))}"
            f"{' (the mean)' if len(args.seeds) > 1 else ''}."
        )
        report.replace_section(README, "\n\n".join([intro, *tables]), BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
