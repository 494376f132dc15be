"""One command for issue 14: PostgreSQL, the verifier, then wrk on every server, framework and test.

    python benchmarks/techempower/run.py                       # everything, then README + chart
    python benchmarks/techempower/run.py --servers gthread --tests json,db \\
        --frameworks wsgilite,falcon --duration 3 --rounds 1 --warmup 0   # a smoke run
    python benchmarks/techempower/run.py --verify-only          # the rules, nothing timed

Steps: install (apt-get, only if missing) and start Debian's PostgreSQL on 127.0.0.1 in a temporary
folder with pg_stat_statements; load World and Fortune; then for each server kind start every
framework's app, run the verifier on all of them, warm them up, and time each (test type,
framework) with wrk in interleaved rounds (the frameworks in a new random order per round and
test type). Cells a framework failed in the verifier are not timed. At the end, on fresh servers,
the start-up probe measures what wsgilite's `@app.on_startup` work costs on a worker's first
request. A complete run writes the results section of benchmarks/README.md, the chart and
results.json. Every server and the cluster are stopped by PID at the end, even on failure.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import importlib.util
import json
import random
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import launch  # noqa: E402
import load  # noqa: E402
import pgcluster  # noqa: E402
import report  # noqa: E402
import startup  # noqa: E402
import verifier  # noqa: E402

REPO = HERE.parent.parent
README = HERE.parent / "README.md"
CHART = HERE / "results.png"
RESULTS = HERE / "results.json"
TESTS = tuple(load.TESTS)
SERVERS = tuple(launch.SERVER_KINDS)


def choices(allowed: Sequence[str]) -> Any:
    """An argparse type: a comma-separated list of some of `allowed`, in `allowed`'s order."""

    def parse(text: str) -> list[str]:
        chosen = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in chosen if item not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown) or 'empty list'}; choose from {','.join(allowed)}"
            )
        return [item for item in allowed if item in chosen]  # the canonical order

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="TechEmpower-style end-to-end benchmark of wsgilite and its peers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    frameworks = list(launch.FRAMEWORKS)
    p.add_argument(
        "--frameworks", type=choices(frameworks), default=frameworks, help="comma-separated"
    )
    p.add_argument("--tests", type=choices(TESTS), default=list(TESTS), help="comma-separated")
    p.add_argument("--servers", type=choices(SERVERS), default=list(SERVERS),
                   help="comma-separated: gunicorn's sync, gthread and gevent workers, granian, "
                   "waitress")  # fmt: skip
    p.add_argument("--duration", type=int, default=3, help="seconds of each timed wrk run")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per cell")
    p.add_argument("--warmup", type=int, default=1, help="seconds of wrk per cell before timing")
    p.add_argument("--connections", type=int, default=32, help="wrk connections")
    p.add_argument("--workers", type=int, default=2, help="worker processes (not waitress)")
    p.add_argument("--threads", type=int, default=launch.THREADS,
                   help="threads per gthread worker / granian worker / waitress")  # fmt: skip
    p.add_argument("--queries", type=int, default=20, help="N of queries, updates, cached")
    p.add_argument("--seed", type=int, default=1, help="seed of the per-round shuffle")
    p.add_argument("--verify-only", action="store_true", help="run the verifier, time nothing")
    p.add_argument("--no-startup-probe", action="store_true",
                   help="skip the first-request cost probe of @app.on_startup")  # fmt: skip
    p.add_argument("--write", choices=("auto", "always", "never"), default="auto",
                   help="README section, chart, results.json; auto: on a full run")  # fmt: skip
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--render", type=Path, default=None, metavar="RESULTS_JSON",
                   help="only redraw README section and chart from a results file")  # fmt: skip
    return p


def log(line: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {line}", flush=True)


def prefixed(prefix: str, line: str) -> None:
    log(f"{prefix} {line}")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `finally`: servers and cluster stop


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.render:
        return render(args.render)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    complete = (
        args.frameworks == list(launch.FRAMEWORKS)
        and args.tests == list(TESTS)
        and args.servers == list(SERVERS)
        and not args.verify_only
    )
    write = args.write == "always" or (args.write == "auto" and complete)
    if write and importlib.util.find_spec("matplotlib") is None:
        # Found missing only when the results are written, it cost a whole run's figures.
        raise SystemExit("the chart needs matplotlib: pip install -e '.[bench]'")
    if not args.verify_only:
        load.ensure_wrk()
        cells = len(args.servers) * len(args.tests) * len(args.frameworks)
        estimate = cells * (args.rounds * args.duration + args.warmup) + 15 * len(args.servers)
        minutes = estimate / 60
        log(f"{cells} cells x {args.rounds} rounds x {args.duration} s: about {minutes:.0f} min")

    started = datetime.datetime.now(datetime.UTC)
    samples: list[load.Sample] = []
    verdicts: dict[str, dict[str, Any]] = {}
    probes: list[startup.Probe] = []
    failed = False
    postgres = ""
    rng = random.Random(args.seed)
    servers = launch.Servers(
        workers=args.workers, threads=args.threads, connections=args.connections
    )
    try:
        with pgcluster.running() as cluster:
            postgres = cluster.version
            log(f"{postgres} on 127.0.0.1:{cluster.port} (pid {cluster.pid}), data loaded")
            for server_name in args.servers:
                kind = launch.SERVER_KINDS[server_name]
                log(f"== {server_name}: starting {', '.join(args.frameworks)}")
                running = servers.start_all(args.frameworks, kind, cluster.dsn)
                found = verifier.verify(
                    {name: server.base_url for name, server in running.items()},
                    cluster.dsn,
                    log=functools.partial(prefixed, f"verifier [{server_name}]"),
                )
                print(verifier.format_verdicts(found.values()), flush=True)
                verdicts[server_name] = {
                    name: {
                        "passed": verdict.passed,
                        "failed_tests": [t for t in TESTS if not verdict.test_passed(t)],
                        "warnings": sum(f.level == "warn" for f in verdict.findings),
                        "findings": [str(f) for f in verdict.findings],
                        "counts": verdict.counts,
                    }
                    for name, verdict in found.items()
                }
                failed |= not all(verdict.passed for verdict in found.values())
                if not args.verify_only:
                    samples += time_server(args, server_name, running, found, rng)
                servers.stop_all()
            if not args.verify_only and not args.no_startup_probe and "wsgilite" in args.frameworks:
                probes = probe_startup(args, cluster.dsn)
    finally:
        servers.stop_all()

    results = {
        "started": started.isoformat(timespec="seconds"),
        "command": "python benchmarks/techempower/run.py " + shlex.join(argv or sys.argv[1:]),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": report.machine(),
        "versions": report.versions(postgres),
        "verdicts": verdicts,
        "samples": [sample.as_dict() for sample in samples],
        "startup": [p.as_dict() for p in probes],
    }
    if samples:
        print_tables(args, samples)
    if probes:
        print(startup_table(probes))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if write and samples:
        write_results(args, results, samples, probes)
    elif samples:
        log("partial run: README, chart and results.json left as they are (--write always)")
    return 1 if failed else 0


def render(path: Path) -> int:
    """Redraw the README section and the chart from a results file (nothing is run)."""
    results = json.loads(path.read_text())
    settings = dict(results["settings"])
    args = argparse.Namespace(**settings)
    samples = [load.Sample(**sample) for sample in results["samples"]]
    probes = [startup.Probe(**probe) for probe in results["startup"]]
    write_results(args, results, samples, probes)
    return 0


def time_server(
    args: argparse.Namespace,
    server_name: str,
    running: dict[str, launch.Server],
    found: dict[str, verifier.Verdict],
    rng: random.Random,
) -> list[load.Sample]:
    """Warm every cell up, then time it in `args.rounds` interleaved rounds."""
    timed = {
        test: [name for name in args.frameworks if found[name].test_passed(test)]
        for test in args.tests
    }
    for test, names in timed.items():
        skipped = [name for name in args.frameworks if name not in names]
        if skipped:
            log(f"[{server_name}] {test}: not timing {', '.join(skipped)} (failed the verifier)")
    if args.warmup:
        for test in args.tests:
            for name in timed[test]:
                load.run_wrk(running[name].base_url, test, duration=args.warmup,
                             connections=args.connections, queries=args.queries)  # fmt: skip
    samples = []
    for round_number in range(1, args.rounds + 1):
        for test in args.tests:
            order = list(timed[test])
            rng.shuffle(order)
            for name in order:
                cpu_before = launch.group_cpu_seconds(running[name].pid)
                figures = load.run_wrk(
                    running[name].base_url,
                    test,
                    duration=args.duration,
                    connections=args.connections,
                    queries=args.queries,
                )
                cpu = launch.group_cpu_seconds(running[name].pid) - cpu_before
                sample = load.Sample(
                    server=server_name,
                    framework=name,
                    test=test,
                    round=round_number,
                    requests_per_s=figures["requests_per_s"],
                    p50_ms=figures["p50_ms"],
                    p99_ms=figures["p99_ms"],
                    max_ms=figures["max_ms"],
                    requests=int(figures["requests"]),
                    errors=int(figures["errors"]),
                    cpu_us=cpu / max(figures["requests"], 1) * 1e6,
                )
                samples.append(sample)
                log(
                    f"[{server_name} r{round_number}] {test:14} {name:9} "
                    f"{sample.requests_per_s:9,.0f} req/s  p50 {sample.p50_ms:7.2f} ms  "
                    f"p99 {sample.p99_ms:7.2f} ms  cpu {sample.cpu_us:6.0f} µs/req"
                    + (f"  {sample.errors} errors" if sample.errors else "")
                )
    return samples


def probe_startup(args: argparse.Namespace, dsn: str) -> list[startup.Probe]:
    probes = []
    for server_name in args.servers:
        if server_name not in ("sync", "gthread", "gevent"):
            continue
        for framework in ("wsgilite", "falcon"):
            log(f"start-up probe: {framework} under gunicorn {server_name}")
            probes.append(
                startup.probe(
                    launch.SERVER_KINDS[server_name],
                    framework,
                    dsn,
                    duration=args.duration,
                    connections=args.connections,
                    workers=args.workers,
                    threads=args.threads,
                )
            )
    return probes


def print_tables(args: argparse.Namespace, samples: list[load.Sample]) -> None:
    cells = report.aggregate(samples)
    frameworks = args.frameworks
    for server_name in args.servers:
        print(f"\n## {server_name}\n")
        print(report.server_table(cells, server_name, args.tests, frameworks))
    if "wsgilite" in frameworks and "falcon" in frameworks:
        print("\n## wsgilite's req/s over Falcon's (below 1: behind Falcon)\n")
        print(report.wsgilite_vs_falcon(cells, args.servers, args.tests))
        print(
            "\n## Falcon's server CPU per request over wsgilite's (below 1: wsgilite costs more)\n"
        )
        print(report.wsgilite_vs_falcon(cells, args.servers, args.tests, by_cpu=True))


def startup_table(probes: list[startup.Probe]) -> str:
    rows = []
    for p in probes:
        rows.append(
            [
                f"gunicorn {p.server}",
                p.framework,
                f"{p.first_ms:.1f}",
                f"{p.steady_ms:.1f}",
                str(p.first_cache_loads),
                f"{p.cold.get('requests_per_s', 0):,.0f} / {p.warm.get('requests_per_s', 0):,.0f}",
                f"{p.cold.get('p99_ms', 0):.1f} / {p.warm.get('p99_ms', 0):.1f}",
                f"{p.cold.get('max_ms', 0):.0f} / {p.warm.get('max_ms', 0):.0f}",
                f"{p.cold_cache_loads} ({p.cold_cache_ms:.0f} ms)",
            ]
        )
    header = [
        "server", "framework", "1st request ms", "next 20, median ms", "cache loads in 1st",
        "cold / warm req/s", "cold / warm p99 ms", "cold / warm max ms", "cache loads, cold window",
    ]  # fmt: skip
    return report.markdown_table(header, rows, "llrrrrrrr")


def write_results(
    args: argparse.Namespace,
    results: dict[str, Any],
    samples: list[load.Sample],
    probes: list[startup.Probe],
) -> None:
    cells = report.aggregate(samples)
    title = (
        f"TechEmpower test types, req/s (median of {args.rounds} x {args.duration} s, "
        f"wrk -c{args.connections}, {args.workers} workers)"
    )
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")  # first: --render redraws from it
    report.draw_chart(cells, args.servers, args.tests, args.frameworks, CHART, title)
    report.replace_section(README, readme_section(args, results, cells, probes))
    log(f"wrote {README.relative_to(REPO)}, {CHART.relative_to(REPO)}, {RESULTS.relative_to(REPO)}")


def readme_section(
    args: argparse.Namespace,
    results: dict[str, Any],
    cells: dict[tuple[str, str, str], report.Cell],
    probes: list[startup.Probe],
) -> str:
    machine = results["machine"]
    versions = results["versions"]
    date = results["started"][:10]
    kinds = [launch.SERVER_KINDS[name] for name in args.servers]
    parts = [
        "### Last measured",
        "",
        f"`{results['command'].strip()}` on {date}: {machine.get('cpu')}, {machine.get('cores')} "
        f"cores shared by the servers, PostgreSQL and wrk, {machine.get('memory', '?')} RAM, "
        f"{machine.get('os', '?')} (kernel {machine.get('kernel')}).",
        "",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "",
        f"Settings: {args.workers} worker processes (waitress: one process), "
        f"{args.threads} threads where a server has threads, wrk with {args.connections} "
        f"connections, {args.rounds} interleaved rounds of {args.duration} s per cell after "
        f"{args.warmup} s of warm-up, N = {args.queries} for queries, updates and cached. "
        "Figures are medians over the rounds.",
        "",
        "Servers: "
        + "; ".join(
            f"`{kind.name}`: {kind.described(args.workers, args.threads, args.connections)}"
            for kind in kinds
        )
        + ".",
        "",
        "![req/s per test type, server and framework](techempower/results.png)",
        "",
        "#### Verifier",
        "",
        report.verdict_table(results["verdicts"], args.servers),
        "",
        "#### wsgilite's req/s over Falcon's",
        "",
        "Equal to wsgilite's ratio to bare WSGI over Falcon's; **bold** below 1 (behind Falcon).",
        "",
        report.wsgilite_vs_falcon(cells, args.servers, args.tests),
        "",
        "#### Falcon's server CPU per request over wsgilite's",
        "",
        "The CPU time (user + system) of the server's processes during a cell, per request: less "
        "sensitive than req/s to other work on the machine. Above 1: wsgilite costs less; "
        "**bold** below 1.",
        "",
        report.wsgilite_vs_falcon(cells, args.servers, args.tests, by_cpu=True),
    ]
    for name in args.servers:
        parts += [
            "",
            f"#### {name}",
            "",
            report.server_table(cells, name, args.tests, args.frameworks),
        ]
    if probes:
        parts += [
            "",
            "#### Start-up work and the first request (`@app.on_startup`, issue 14 item 6)",
            "",
            "Fresh servers, booted, no request yet. *1st request*: one worker, its first GET /db "
            "(wsgilite opened its pool and loaded 10,000 rows in `@app.on_startup`, run as the "
            "worker started by `-c python:wsgilite.gunicorn`; Falcon did both at import). "
            f"*Cold window*: {args.workers} workers, the first {args.duration} s of wrk on /db, "
            "then the next (warm).",
            "",
            startup_table(probes),
        ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
