"""In-process benchmark of wsgilite against a bare WSGI function, Falcon, Bottle and Flask.

Calls each framework's WSGI callable directly, as a server would (a fresh copy of a prepared
environ per call, a fresh body stream for POSTs, the returned iterable consumed and closed),
after checking every answer. See benchmarks/README.md for how to run it and read its output.

    python benchmarks/bench.py [--rounds N] [--only json,form] [--frameworks wsgilite,falcon]
                               [--json PATH] [--batch-ms MS] [--gc {collect,off}] [--seed S]
                               [--dump]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import json
import platform
import random
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from itertools import repeat
from pathlib import Path
from typing import Any

from bench_common import SCENARIO_NAMES, WSGIApp, WSGIEnvironment
from bench_scenarios import SCENARIOS, Answer, Scenario, check_framework

BENCH_DIR = Path(__file__).resolve().parent
SRC_DIR = BENCH_DIR.parent / "src"

FRAMEWORKS = ("bare", "wsgilite", "falcon", "bottle", "flask")
PEERS = ("falcon", "bottle", "flask")
RATIO_PEERS = ("falcon", "flask", "bottle")  # the order of the ratio columns
SUBJECT = "wsgilite"

DEFAULT_ROUNDS = 60
DEFAULT_BATCH_MS = 30.0
FORTUNES_TOLERANCE = 0.05  # "within 5 % of the fastest peer"


# --- Timing -----------------------------------------------------------------------------------


def _discard(data: bytes) -> None:
    pass


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], object]:
    return _discard


def run_batch(app: WSGIApp, template: WSGIEnvironment, body: bytes | None, calls: int) -> int:
    """Make `calls` requests; return the nanoseconds they took."""
    copy = template.copy
    start_response = _start_response
    perf_counter_ns = time.perf_counter_ns
    bytes_io = io.BytesIO
    if body is None:
        started = perf_counter_ns()
        for _ in repeat(None, calls):
            result = app(copy(), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return perf_counter_ns() - started
    started = perf_counter_ns()
    for _ in repeat(None, calls):
        environ = copy()
        environ["wsgi.input"] = bytes_io(body)
        result = app(environ, start_response)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return perf_counter_ns() - started


def calibrate(app: WSGIApp, template: WSGIEnvironment, body: bytes | None, target_ns: int) -> int:
    """Warm the app up and return how many calls make a batch of about `target_ns`."""
    calls = 1
    while True:
        elapsed = run_batch(app, template, body, calls)
        if elapsed >= target_ns // 4:
            break
        calls *= 2
    calls = max(1, round(calls * target_ns / elapsed))
    elapsed = run_batch(app, template, body, calls)  # one more warm-up, at full size
    return max(1, round(calls * target_ns / elapsed))


def timed_batch(
    app: WSGIApp, template: WSGIEnvironment, body: bytes | None, calls: int, gc_mode: str
) -> float:
    """Return µs per request over one batch."""
    gc.collect()
    if gc_mode == "off":
        gc.disable()
    try:
        elapsed = run_batch(app, template, body, calls)
    finally:
        gc.enable()
    return elapsed / calls / 1000


# --- Results ----------------------------------------------------------------------------------


@dataclass
class Cell:
    """One framework in one scenario."""

    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    answer: Answer | None = None
    calls_per_batch: int = 0
    samples_us: list[float] = field(default_factory=list)

    @property
    def median_us(self) -> float | None:
        return statistics.median(self.samples_us) if self.samples_us else None

    def quartiles_us(self) -> tuple[float, float] | None:
        if len(self.samples_us) < 4:
            return None
        q1, _, q3 = statistics.quantiles(self.samples_us, n=4)
        return q1, q3


Results = dict[str, dict[str, Cell]]  # scenario -> framework -> cell


def load_apps(frameworks: Sequence[str]) -> tuple[dict[str, dict[str, WSGIApp]], dict[str, str]]:
    """Import each framework's app module; return its apps and, for those that failed, why."""
    apps: dict[str, dict[str, WSGIApp]] = {}
    errors: dict[str, str] = {}
    for name in frameworks:
        try:
            if name == SUBJECT:
                _make_wsgilite_importable()
            module = importlib.import_module(f"apps_{name}")
            apps[name] = module.scenario_apps()
        except Exception as exc:
            errors[name] = f"could not build the app: {type(exc).__name__}: {exc}"
            print(f"{name}: {errors[name]}\n{traceback.format_exc()}", file=sys.stderr)
    return apps, errors


def _make_wsgilite_importable() -> None:
    try:
        importlib.import_module(SUBJECT)
    except ModuleNotFoundError as exc:
        if exc.name != SUBJECT:
            raise
        sys.path.insert(0, str(SRC_DIR))
        importlib.import_module(SUBJECT)


def versions(frameworks: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {"python": platform.python_version()}
    for name in ("wsgilite", "falcon", "bottle", "flask", "werkzeug", "jinja2"):
        if name not in frameworks and name not in ("werkzeug", "jinja2"):
            continue
        module = sys.modules.get(name)
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:  # wsgilite from ../src, not installed
            version = str(getattr(module, "__version__", "not installed"))
        where = getattr(module, "__file__", None) if name == SUBJECT else None
        found[name] = f"{version} ({where})" if where else str(version)
    return found


def benchmark(
    scenarios: Sequence[Scenario],
    frameworks: Sequence[str],
    rounds: int,
    batch_ms: float,
    gc_mode: str,
    seed: int,
) -> Results:
    apps, load_errors = load_apps(frameworks)
    results: Results = {}
    for scenario in scenarios:
        row = results[scenario.name] = {}
        for name in frameworks:
            if name in load_errors:
                row[name] = Cell(failure=load_errors[name])
                continue
            checked = check_framework(apps[name][scenario.name], scenario)
            row[name] = Cell(failure=checked.failure, notes=checked.notes, answer=checked.answer)
    if rounds <= 0:
        return results

    gc.collect()
    gc.freeze()  # the apps, modules and templates stay out of every later collection
    rng = random.Random(seed)
    target_ns = int(batch_ms * 1_000_000)
    for scenario in scenarios:
        began = time.perf_counter()
        row = results[scenario.name]
        template = scenario.environ()
        timed = [name for name in frameworks if row[name].failure is None]
        for name in timed:
            row[name].calls_per_batch = calibrate(
                apps[name][scenario.name], template, scenario.body, target_ns
            )
        for _ in range(rounds):
            order = list(timed)
            rng.shuffle(order)
            for name in order:
                cell = row[name]
                cell.samples_us.append(
                    timed_batch(
                        apps[name][scenario.name],
                        template,
                        scenario.body,
                        cell.calls_per_batch,
                        gc_mode,
                    )
                )
        print(f"  {scenario.name:<10} {time.perf_counter() - began:5.1f} s", file=sys.stderr)
    return results


def ratios(results: Results, frameworks: Sequence[str]) -> dict[str, dict[str, float]]:
    """Return peer_us / wsgilite_us per scenario and peer (> 1: wsgilite is faster)."""
    table: dict[str, dict[str, float]] = {}
    if SUBJECT not in frameworks:
        return table
    for scenario, row in results.items():
        subject = row[SUBJECT].median_us
        if subject is None:
            continue
        table[scenario] = {}
        for peer in RATIO_PEERS:
            peer_us = row[peer].median_us if peer in row else None
            if peer_us is not None:
                table[scenario][peer] = peer_us / subject
        fastest = fastest_peer(row)
        if fastest is not None:
            table[scenario]["fastest peer"] = fastest[1] / subject
    return table


def fastest_peer(row: dict[str, Cell]) -> tuple[str, float] | None:
    """Return the peer with the lowest median in `row`, and that median."""
    timed = {peer: row[peer].median_us for peer in PEERS if peer in row}
    medians = {peer: us for peer, us in timed.items() if us is not None}
    if not medians:
        return None
    name = min(medians, key=medians.__getitem__)
    return name, medians[name]


# --- Output -----------------------------------------------------------------------------------


def _us(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(header), *map(list, rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(results: Results, frameworks: Sequence[str], timed: bool) -> str:
    out: list[str] = []
    if timed:
        out.append("Median µs per request (lower is better)\n")
        out.append(
            _table(
                ["scenario", *frameworks],
                (
                    [scenario]
                    + [
                        "FAILED" if row[name].failure else _us(row[name].median_us)
                        for name in frameworks
                    ]
                    for scenario, row in results.items()
                ),
            )
        )
        out.append("\nNoise: interquartile range of the batches, % of the median\n")
        out.append(
            _table(
                ["scenario", *frameworks],
                (
                    [scenario] + [_spread(row[name]) for name in frameworks]
                    for scenario, row in results.items()
                ),
            )
        )
        table = ratios(results, frameworks)
        if table:
            out.append("\nRatios: peer µs / wsgilite µs (> 1: wsgilite is faster)\n")
            out.append(_ratio_table(results, frameworks, table))
        out.append("")
        out.extend(_fortunes_verdict(results, frameworks))
    else:
        out.append("Checks only (--rounds 0)\n")
        out.append(
            _table(
                ["scenario", *frameworks],
                (
                    [scenario] + ["FAILED" if row[name].failure else "ok" for name in frameworks]
                    for scenario, row in results.items()
                ),
            )
        )
    failures = [
        f"  {name} / {scenario}: {row[name].failure}"
        for scenario, row in results.items()
        for name in frameworks
        if row[name].failure
    ]
    if failures:
        out.append("\nFAILED checks (not timed):")
        out.extend(failures)
    notes = sorted(
        {
            f"  {name} / {scenario}: {note}"
            for scenario, row in results.items()
            for name in frameworks
            for note in row[name].notes
            if not note.startswith("Traceback")
        }
    )
    if notes:
        out.append("\nNotes:")
        out.extend(notes)
    return "\n".join(out)


def _ratio_table(
    results: Results, frameworks: Sequence[str], table: dict[str, dict[str, float]]
) -> str:
    columns = [peer for peer in RATIO_PEERS if peer in frameworks]
    if columns:
        columns.append("fastest peer")
    header = ["scenario", *[f"wsgilite vs {column}" for column in columns]]
    with_bare = "bare" in frameworks
    if with_bare:
        header.append("wsgilite - bare µs")
    rows = []
    for scenario, row in results.items():
        ratio_row = table.get(scenario, {})
        cells = [scenario] + [
            f"{ratio_row[column]:.2f}" if column in ratio_row else "-" for column in columns
        ]
        if with_bare:
            subject, bare = row[SUBJECT].median_us, row["bare"].median_us
            cells.append(_us(subject - bare) if subject is not None and bare is not None else "-")
        rows.append(cells)
    return _table(header, rows)


def _spread(cell: Cell) -> str:
    quartiles = cell.quartiles_us()
    median = cell.median_us
    if cell.failure or quartiles is None or not median:
        return "-"
    return f"{(quartiles[1] - quartiles[0]) / median * 100:.1f}"


def _fortunes_verdict(results: Results, frameworks: Sequence[str]) -> list[str]:
    row = results.get("fortunes")
    if row is None or SUBJECT not in frameworks:
        return []
    subject = row[SUBJECT].median_us
    peer = fastest_peer(row)
    if subject is None or peer is None:
        return ["fortunes: no verdict (wsgilite or every peer failed or was not timed)"]
    name, peer_us = peer
    ratio = peer_us / subject
    verdict = "yes" if ratio >= 1 - FORTUNES_TOLERANCE else "NO"
    return [
        f"fortunes: wsgilite {_us(subject)} µs vs fastest peer {name} {_us(peer_us)} µs: "
        f"ratio {ratio:.3f}; within 5 % of the fastest peer (ratio >= 0.95): {verdict}"
    ]


def dump(results: Results, frameworks: Sequence[str]) -> str:
    """Show every framework's answer: status, headers, the start of the body."""
    out: list[str] = []
    for scenario, row in results.items():
        out.append(f"=== {scenario}: {SCENARIOS[scenario].summary}")
        for name in frameworks:
            cell = row[name]
            verdict = f"FAILED: {cell.failure}" if cell.failure else "ok"
            out.append(f"--- {name} ({verdict})")
            if cell.answer is not None:
                out.append(f"    {cell.answer.status}")
                out.extend(f"    {key}: {value}" for key, value in cell.answer.headers)
                out.append(f"    {cell.answer.body[:400]!r}")
            out.extend(f"    {line}" for note in cell.notes for line in note.splitlines())
    return "\n".join(out)


def to_json(
    results: Results, frameworks: Sequence[str], settings: dict[str, object]
) -> dict[str, object]:
    scenarios: dict[str, object] = {}
    for scenario, row in results.items():
        cells: dict[str, object] = {}
        for name in frameworks:
            cell = row[name]
            quartiles = cell.quartiles_us()
            cells[name] = {
                "status": "failed" if cell.failure else ("timed" if cell.samples_us else "ok"),
                "failure": cell.failure,
                "notes": cell.notes,
                "median_us": cell.median_us,
                "p25_us": quartiles[0] if quartiles else None,
                "p75_us": quartiles[1] if quartiles else None,
                "calls_per_batch": cell.calls_per_batch,
                "samples_us": cell.samples_us,
            }
        scenarios[scenario] = {"summary": SCENARIOS[scenario].summary, "frameworks": cells}
    fortunes = results.get("fortunes", {})
    peer = fastest_peer(fortunes) if fortunes else None
    subject = fortunes[SUBJECT].median_us if SUBJECT in fortunes else None
    return {
        "settings": settings,
        "versions": versions(frameworks),
        "platform": platform.platform(),
        "scenarios": scenarios,
        "ratios": ratios(results, frameworks),
        "fortunes_vs_fastest_peer": (
            {
                "peer": peer[0],
                "ratio": peer[1] / subject,
                "within_5_percent": peer[1] / subject >= 1 - FORTUNES_TOLERANCE,
            }
            if peer and subject
            else None
        ),
    }


# --- Command line -----------------------------------------------------------------------------


def _names(value: str, allowed: Sequence[str], what: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(allowed)}"
        )
    return [name for name in allowed if name in names]  # keep the canonical order


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"timed rounds per scenario (default {DEFAULT_ROUNDS}; 0: checks only)",
    )
    parser.add_argument(
        "--only",
        type=lambda v: _names(v, SCENARIO_NAMES, "scenario"),
        default=list(SCENARIO_NAMES),
        metavar="SCENARIO,...",
        help=f"scenarios to run (default all: {','.join(SCENARIO_NAMES)})",
    )
    parser.add_argument(
        "--frameworks",
        type=lambda v: _names(v, FRAMEWORKS, "framework"),
        default=list(FRAMEWORKS),
        metavar="NAME,...",
        help=f"frameworks to run (default all: {','.join(FRAMEWORKS)})",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--batch-ms",
        type=float,
        default=DEFAULT_BATCH_MS,
        help=f"target duration of one batch (default {DEFAULT_BATCH_MS:g} ms)",
    )
    parser.add_argument(
        "--gc",
        choices=("collect", "off"),
        default="collect",
        help="collect: gc.collect() before each batch, collector on during it "
        "(default); off: also disable the collector during each batch",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the per-round shuffle")
    parser.add_argument(
        "--dump",
        action="store_true",
        help="print every answer (status, headers, body) and exit without timing",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = [SCENARIOS[name] for name in args.only]
    frameworks: list[str] = args.frameworks
    rounds = 0 if args.dump else args.rounds
    settings: dict[str, object] = {
        "rounds": rounds,
        "batch_ms": args.batch_ms,
        "gc": args.gc,
        "seed": args.seed,
        "scenarios": args.only,
        "frameworks": frameworks,
    }
    began = time.perf_counter()
    results = benchmark(scenarios, frameworks, rounds, args.batch_ms, args.gc, args.seed)
    print(f"wsgilite in-process benchmark  ({platform.platform()})")
    print("  " + ", ".join(f"{k} {v}" for k, v in versions(frameworks).items()))
    print(
        f"  rounds {rounds}, batches of ~{args.batch_ms:g} ms, gc {args.gc}, seed {args.seed},"
        f" {time.perf_counter() - began:.0f} s\n"
    )
    print(dump(results, frameworks) if args.dump else report(results, frameworks, rounds > 0))
    if args.json:
        args.json.write_text(json.dumps(to_json(results, frameworks, settings), indent=2) + "\n")
        print(f"\nwrote {args.json}")
    failed = any(cell.failure for row in results.values() for cell in row.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
