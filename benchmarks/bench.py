"""In-process benchmark of wsgilite against a bare WSGI function, Falcon, Bottle and Flask.

Calls each framework's WSGI callable directly, as a server would (a fresh copy of a prepared
environ per call, a fresh body stream for POSTs, the returned iterable consumed and closed),
after checking every answer. Three groups of scenarios: `core` (the seven original ones),
`styles` (every documented way of writing a wsgilite handler) and `routes` (tables of 40, 400
and 4,000 routes: the last route, a 404, and building the app in a fresh process). See
benchmarks/README.md for how to run it and read its output.

    python benchmarks/bench.py [--rounds N] [--only core,routes40,style-str]
                               [--frameworks wsgilite,falcon] [--build-runs N]
                               [--json PATH] [--batch-ms MS] [--gc {collect,off}] [--seed S]
                               [--dump]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib
import io
import json
import os
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
from typing import Any, Protocol, TypeVar

from bench_common import ROUTE_COUNTS, SCENARIO_NAMES, STYLE_NAMES, WSGIApp, WSGIEnvironment
from bench_routes import BUILD_NAMES, REPEAT_LIMIT_S, BuildCell, Builds, run_builds
from bench_scenarios import SCENARIOS, Answer, Scenario, check_framework

BENCH_DIR = Path(__file__).resolve().parent
SRC_DIR = BENCH_DIR.parent / "src"

FRAMEWORKS = ("bare", "wsgilite", "falcon", "bottle", "flask")
PEERS = ("falcon", "bottle", "flask")
RATIO_PEERS = ("falcon", "flask", "bottle")  # the order of the ratio columns
SUBJECT = "wsgilite"

# The scenario groups, and the frameworks that have an app for each (module apps_<framework>,
# apps_styles_<framework>, apps_routes_<framework>). Bottle builds 4,000 routes in ~18 s (its
# router is rebuilt per route), so the route-count part leaves it out unless --frameworks asks.
ROUTE_NAMES = tuple(
    name
    for count in ROUTE_COUNTS
    for name in (f"routes{count}-last", f"routes{count}-404", f"routes{count}-build")
)
GROUPS: dict[str, tuple[str, ...]] = {
    "core": SCENARIO_NAMES,
    "styles": STYLE_NAMES,
    "routes": ROUTE_NAMES,
    **{
        f"routes{count}": tuple(name for name in ROUTE_NAMES if name.startswith(f"routes{count}-"))
        for count in ROUTE_COUNTS
    },
}
ALL_NAMES = SCENARIO_NAMES + STYLE_NAMES + ROUTE_NAMES
GROUP_FRAMEWORKS: dict[str, tuple[str, ...]] = {
    "core": FRAMEWORKS,
    "styles": ("wsgilite", "falcon", "bottle", "flask"),
    "routes": ("wsgilite", "falcon", "bottle", "flask"),
}
ROUTE_DEFAULT_FRAMEWORKS = ("wsgilite", "falcon", "flask")
GROUP_TITLES = {
    "core": "core scenarios",
    "styles": "return styles (each app the way its framework's docs write it)",
    "routes": "route count (all routes under /api)",
}

DEFAULT_ROUNDS = 60
DEFAULT_BATCH_MS = 30.0
DEFAULT_BUILD_RUNS = 3
FORTUNES_TOLERANCE = 0.05  # "within 5 % of the fastest peer"
# The route-count targets.
ROUTES_FLAT_LIMIT = 1.3  # wsgilite at 4,000 routes within 1.3x of wsgilite at 40


def group_of(scenario: str) -> str:
    return next(group for group in ("core", "styles", "routes") if scenario in GROUPS[group])


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


Plan = dict[str, list[str]]  # scenario -> the frameworks that run it


def load_apps(plan: Plan) -> tuple[dict[str, dict[str, WSGIApp]], dict[str, dict[str, str]]]:
    """Import each framework's app modules for the planned scenarios.

    Return framework -> scenario -> app and, for the apps that could not be built,
    framework -> scenario -> why.
    """
    wanted: dict[str, dict[str, list[str]]] = {}  # framework -> group -> scenarios
    for scenario, frameworks in plan.items():
        for name in frameworks:
            wanted.setdefault(name, {}).setdefault(group_of(scenario), []).append(scenario)
    apps: dict[str, dict[str, WSGIApp]] = {name: {} for name in wanted}
    errors: dict[str, dict[str, str]] = {name: {} for name in wanted}
    for name, groups in wanted.items():
        for group, scenarios in groups.items():
            try:
                if name == SUBJECT:
                    _make_wsgilite_importable()
                apps[name].update(_group_apps(name, group, scenarios))
            except Exception as exc:
                why = f"could not build the app: {type(exc).__name__}: {exc}"
                errors[name].update(dict.fromkeys(scenarios, why))
                print(f"{name} ({group}): {why}\n{traceback.format_exc()}", file=sys.stderr)
    return apps, errors


def _group_apps(framework: str, group: str, scenarios: Sequence[str]) -> dict[str, WSGIApp]:
    if group == "core":
        apps: dict[str, WSGIApp] = importlib.import_module(f"apps_{framework}").scenario_apps()
        return apps
    if group == "styles":
        apps = importlib.import_module(f"apps_styles_{framework}").scenario_apps()
        return apps
    module = importlib.import_module(f"apps_routes_{framework}")
    apps = {}
    for count in ROUTE_COUNTS:
        names = [name for name in scenarios if name.startswith(f"routes{count}-")]
        if names:
            began = time.perf_counter()
            app = module.build(count)
            print(
                f"  built {framework} with {count} routes in {time.perf_counter() - began:.1f} s",
                file=sys.stderr,
            )
            apps.update(dict.fromkeys(names, app))
    return apps


def wsgilite_path() -> list[str]:
    """Return the folder wsgilite is imported from, for the build processes."""
    _make_wsgilite_importable()
    module_file = sys.modules[SUBJECT].__file__
    assert module_file is not None
    return [str(Path(module_file).resolve().parent.parent)]


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
    plan: Plan,
    rounds: int,
    batch_ms: float,
    gc_mode: str,
    seed: int,
) -> Results:
    """Check, then time, each scenario on the frameworks `plan` gives it."""
    apps, load_errors = load_apps({scenario.name: plan[scenario.name] for scenario in scenarios})
    results: Results = {}
    for scenario in scenarios:
        row = results[scenario.name] = {}
        for name in plan[scenario.name]:
            if scenario.name in load_errors[name]:
                row[name] = Cell(failure=load_errors[name][scenario.name])
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
        timed = [name for name, cell in row.items() if cell.failure is None]
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
        print(f"  {scenario.name:<18} {time.perf_counter() - began:5.1f} s", file=sys.stderr)
    return results


def ratios(results: Results) -> dict[str, dict[str, float]]:
    """Return peer_us / wsgilite_us per scenario and peer (> 1: wsgilite is faster)."""
    table: dict[str, dict[str, float]] = {}
    for scenario, row in results.items():
        subject = row[SUBJECT].median_us if SUBJECT in row else None
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


@dataclass(frozen=True)
class Target:
    """One of the route-count targets: what is compared, the figure, whether it is met."""

    name: str
    measured: str
    met: bool


def _median(results: Results, scenario: str, framework: str) -> float | None:
    cell = results.get(scenario, {}).get(framework)
    return cell.median_us if cell is not None else None


def route_targets(results: Results, builds: Builds) -> list[Target]:
    """Check the route-count targets on what was measured (a target not measured is left out)."""
    targets: list[Target] = []
    for count in ROUTE_COUNTS:
        for kind in ("last", "404"):
            scenario = f"routes{count}-{kind}"
            subject, falcon = (
                _median(results, scenario, SUBJECT),
                _median(results, scenario, "falcon"),
            )
            if subject is not None and falcon is not None:
                ratio = falcon / subject
                targets.append(
                    Target(
                        f"{scenario}: wsgilite at least as fast as falcon",
                        f"falcon µs / wsgilite µs = {_ratio(ratio)}",
                        ratio >= 1,
                    )
                )
    smallest, largest = ROUTE_COUNTS[0], ROUTE_COUNTS[-1]
    for kind in ("last", "404"):
        small = _median(results, f"routes{smallest}-{kind}", SUBJECT)
        large = _median(results, f"routes{largest}-{kind}", SUBJECT)
        if small is not None and large is not None:
            growth = large / small
            targets.append(
                Target(
                    f"routes{largest}-{kind}: wsgilite within {ROUTES_FLAT_LIMIT:g}x of "
                    f"routes{smallest}-{kind}",
                    f"{_us(large)} µs / {_us(small)} µs = {growth:.3g}x",
                    growth <= ROUTES_FLAT_LIMIT,
                )
            )
    row = builds.get(f"routes{largest}-build", {})
    subject_s = row[SUBJECT].median("total_s") if SUBJECT in row else None
    flask_s = row["flask"].median("total_s") if "flask" in row else None
    if subject_s is not None and flask_s is not None:
        targets.append(
            Target(
                f"routes{largest}-build: wsgilite build + first request below flask's",
                f"wsgilite {_s(subject_s)} s, flask {_s(flask_s)} s",
                subject_s < flask_s,
            )
        )
    return targets


# --- Output -----------------------------------------------------------------------------------


def _us(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:.0f}"


def _ratio(value: float) -> str:
    # Two decimals, or two significant digits for a ratio far below 1 (0.0047, not 0.00).
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def _s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


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


def _by_group(results: Results) -> dict[str, Results]:
    grouped: dict[str, Results] = {}
    for scenario, row in results.items():
        grouped.setdefault(group_of(scenario), {})[scenario] = row
    return grouped


def _columns(results: Results) -> list[str]:
    """The frameworks that appear in any row of `results`, in the canonical order."""
    return [name for name in FRAMEWORKS if any(name in row for row in results.values())]


class _Checked(Protocol):
    failure: str | None


C = TypeVar("C", bound=_Checked)


def _cell_text(row: dict[str, C], name: str, text: Callable[[C], str]) -> str:
    cell = row.get(name)
    if cell is None:
        return "-"
    return "FAILED" if cell.failure else text(cell)


def report(results: Results, builds: Builds, timed: bool, build_runs: int) -> str:
    out: list[str] = []
    for group, grouped in _by_group(results).items():
        frameworks = _columns(grouped)
        title = GROUP_TITLES[group]
        if timed:
            out.append(f"Median µs per request, {title} (lower is better)\n")
            out.append(
                _table(
                    ["scenario", *frameworks],
                    (
                        [scenario]
                        + [_cell_text(row, name, lambda c: _us(c.median_us)) for name in frameworks]
                        for scenario, row in grouped.items()
                    ),
                )
            )
            out.append("\nNoise: interquartile range of the batches, % of the median\n")
            out.append(
                _table(
                    ["scenario", *frameworks],
                    (
                        [scenario] + [_cell_text(row, name, _spread) for name in frameworks]
                        for scenario, row in grouped.items()
                    ),
                )
            )
            table = ratios(grouped)
            if table:
                out.append("\nRatios: peer µs / wsgilite µs (> 1: wsgilite is faster)\n")
                out.append(_ratio_table(grouped, frameworks, table))
        else:
            out.append(f"Checks only (--rounds 0), {title}\n")
            out.append(
                _table(
                    ["scenario", *frameworks],
                    (
                        [scenario] + [_cell_text(row, name, lambda c: "ok") for name in frameworks]
                        for scenario, row in grouped.items()
                    ),
                )
            )
        out.append("")
    if builds:
        out.extend(_build_report(builds, build_runs))
    targets = route_targets(results, builds)
    if targets:
        out.append("Route-count targets\n")
        out.append(
            _table(
                ["target", "measured", "met"],
                ([t.name, t.measured, "yes" if t.met else "NO"] for t in targets),
            )
        )
        out.append("")
    if timed:
        out.extend(_fortunes_verdict(results))
    failures = [
        f"  {name} / {scenario}: {cell.failure}"
        for table in (results, builds)
        for scenario, row in table.items()
        for name, cell in row.items()
        if cell.failure
    ]
    if failures:
        out.append("\nFAILED checks (not timed):")
        out.extend(failures)
    notes = sorted(
        {
            f"  {name} / {scenario}: {note}"
            for scenario, row in results.items()
            for name, cell in row.items()
            for note in cell.notes
            if not note.startswith("Traceback")
        }
    )
    if notes:
        out.append("\nNotes:")
        out.extend(notes)
    return "\n".join(out)


def _build_report(builds: Builds, build_runs: int) -> list[str]:
    frameworks = [name for name in FRAMEWORKS if any(name in row for row in builds.values())]
    repeats_skipped = any(cell.skipped_repeats for row in builds.values() for cell in row.values())

    def total(cell: BuildCell) -> str:
        return _s(cell.median("total_s")) + ("*" if cell.skipped_repeats else "")

    def steps(cell: BuildCell) -> str:
        return " / ".join(_s(cell.median(step)) for step in ("import_s", "build_s", "first_s"))

    out = [
        "Build + first request, seconds, each in a fresh process ("
        + (f"median of up to {build_runs} runs" if build_runs > 1 else "one run")
        + "; lower is better)\n",
        _table(
            ["scenario", *frameworks],
            (
                [name] + [_cell_text(row, fw, total) for fw in frameworks]
                for name, row in builds.items()
            ),
        ),
    ]
    if repeats_skipped:
        out.append(f"* one run only: it took over {REPEAT_LIMIT_S:g} s")
    out += [
        "\nThe steps: import of the app module and its framework / build / first request, s\n",
        _table(
            ["scenario", *frameworks],
            (
                [name] + [_cell_text(row, fw, steps) for fw in frameworks]
                for name, row in builds.items()
            ),
        ),
        "",
    ]
    return out


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
    for scenario in results:
        ratio_row = table.get(scenario, {})
        cells = [scenario] + [
            _ratio(ratio_row[column]) if column in ratio_row else "-" for column in columns
        ]
        if with_bare:
            subject = _median(results, scenario, SUBJECT)
            bare = _median(results, scenario, "bare")
            cells.append(_us(subject - bare) if subject is not None and bare is not None else "-")
        rows.append(cells)
    return _table(header, rows)


def _spread(cell: Cell) -> str:
    quartiles = cell.quartiles_us()
    median = cell.median_us
    if cell.failure or quartiles is None or not median:
        return "-"
    return f"{(quartiles[1] - quartiles[0]) / median * 100:.1f}"


def _fortunes_verdict(results: Results) -> list[str]:
    row = results.get("fortunes")
    if row is None or SUBJECT not in row:
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


def dump(results: Results) -> str:
    """Show every framework's answer: status, headers, the start of the body."""
    out: list[str] = []
    for scenario, row in results.items():
        out.append(f"=== {scenario}: {SCENARIOS[scenario].summary}")
        for name, cell in row.items():
            verdict = f"FAILED: {cell.failure}" if cell.failure else "ok"
            out.append(f"--- {name} ({verdict})")
            if cell.answer is not None:
                out.append(f"    {cell.answer.status}")
                out.extend(f"    {key}: {value}" for key, value in cell.answer.headers)
                out.append(f"    {cell.answer.body[:400]!r}")
            out.extend(f"    {line}" for note in cell.notes for line in note.splitlines())
    return "\n".join(out)


def to_json(
    results: Results, builds: Builds, frameworks: Sequence[str], settings: dict[str, object]
) -> dict[str, object]:
    scenarios: dict[str, object] = {}
    for scenario, row in results.items():
        cells: dict[str, object] = {}
        for name, cell in row.items():
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
        scenarios[scenario] = {
            "group": group_of(scenario),
            "summary": SCENARIOS[scenario].summary,
            "frameworks": cells,
        }
    build_json: dict[str, object] = {
        name: {
            framework: {
                "failure": cell.failure,
                "median_total_s": cell.median("total_s"),
                "median_import_s": cell.median("import_s"),
                "median_build_s": cell.median("build_s"),
                "median_first_request_s": cell.median("first_s"),
                "samples": [dataclasses.asdict(sample) for sample in cell.samples],
                "repeats_skipped": cell.skipped_repeats,
            }
            for framework, cell in row.items()
        }
        for name, row in builds.items()
    }
    fortunes = results.get("fortunes", {})
    peer = fastest_peer(fortunes) if fortunes else None
    subject = fortunes[SUBJECT].median_us if SUBJECT in fortunes else None
    return {
        "settings": settings,
        "versions": versions(frameworks),
        "platform": platform.platform(),
        "scenarios": scenarios,
        "builds": build_json,
        "ratios": ratios(results),
        "route_targets": [dataclasses.asdict(target) for target in route_targets(results, builds)],
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


def _scenario_names(value: str) -> list[str]:
    """Scenario names and group names (core, styles, routes, routes40, ...), expanded."""
    chosen: set[str] = set()
    for name in _names(value, [*GROUPS, *ALL_NAMES], "scenario or group"):
        chosen.update(GROUPS.get(name, (name,)))
    return [name for name in ALL_NAMES if name in chosen]


def make_plan(scenarios: Sequence[str], frameworks: Sequence[str] | None) -> Plan:
    """Return the frameworks of each scenario: those asked for that have an app for it."""
    plan: Plan = {}
    for scenario in scenarios:
        group = group_of(scenario)
        default = ROUTE_DEFAULT_FRAMEWORKS if group == "routes" else FRAMEWORKS
        chosen = frameworks or default
        plan[scenario] = [
            name for name in FRAMEWORKS if name in chosen and name in GROUP_FRAMEWORKS[group]
        ]
    return plan


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
        type=_scenario_names,
        default=list(ALL_NAMES),
        metavar="SCENARIO,...",
        help="scenarios or groups to run (default all). Groups: "
        f"{', '.join(GROUPS)}. Scenarios: {', '.join(ALL_NAMES)}",
    )
    parser.add_argument(
        "--frameworks",
        type=lambda v: _names(v, FRAMEWORKS, "framework"),
        default=None,
        metavar="NAME,...",
        help=f"frameworks to run (default all: {','.join(FRAMEWORKS)}; the route-count "
        f"scenarios default to {','.join(ROUTE_DEFAULT_FRAMEWORKS)}, bottle only when named)",
    )
    parser.add_argument(
        "--build-runs",
        type=int,
        default=DEFAULT_BUILD_RUNS,
        help=f"fresh-process runs per routes<N>-build (default {DEFAULT_BUILD_RUNS}; a build "
        f"over {REPEAT_LIMIT_S:g} s runs once; 0: no builds)",
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


def _load_average() -> float | None:
    """The 1-minute load average: other work on the machine shows here (None: unknown)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = make_plan(args.only, args.frameworks)
    frameworks = [name for name in FRAMEWORKS if any(name in used for used in plan.values())]
    rounds = 0 if args.dump else args.rounds
    build_names = [name for name in args.only if name in BUILD_NAMES]
    build_runs = args.build_runs if rounds > 0 else 0
    scenarios = [SCENARIOS[name] for name in args.only if name not in BUILD_NAMES]
    settings: dict[str, object] = {
        "rounds": rounds,
        "batch_ms": args.batch_ms,
        "gc": args.gc,
        "seed": args.seed,
        "build_runs": build_runs,
        "scenarios": args.only,
        "frameworks": {scenario: used for scenario, used in plan.items()},
    }
    began = time.perf_counter()
    load_before = _load_average()
    builds: Builds = {}
    if build_names and build_runs > 0:
        builders = plan[build_names[0]]
        path = wsgilite_path() if SUBJECT in builders else []
        builds = run_builds(build_names, builders, build_runs, args.seed, path)
    results = benchmark(scenarios, plan, rounds, args.batch_ms, args.gc, args.seed)
    settings["load_average"] = {"start": load_before, "end": _load_average()}
    print(f"wsgilite in-process benchmark  ({platform.platform()})")
    print("  " + ", ".join(f"{k} {v}" for k, v in versions(frameworks).items()))
    print(
        f"  rounds {rounds}, batches of ~{args.batch_ms:g} ms, gc {args.gc}, seed {args.seed},"
        f" build runs {build_runs}, {time.perf_counter() - began:.0f} s"
    )
    print(
        f"  load average (1 min) {load_before} at the start, {_load_average()} at the end,"
        f" {os.cpu_count()} CPUs\n"
    )
    print(dump(results) if args.dump else report(results, builds, rounds > 0, build_runs))
    if args.json:
        document = to_json(results, builds, frameworks, settings)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    failed = any(
        cell.failure
        for table in (results, builds)
        for row in table.values()
        for cell in row.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
