"""Route-count builds: how long a framework takes to build a table of N routes and serve once.

Each build runs in a fresh Python process (`python bench_routes.py FRAMEWORK COUNT`), so no
import, compiled regex or cache of an earlier build helps it. The child imports the harness's
stdlib-only modules first, then times three steps with `time.perf_counter`:

- import: `import apps_routes_<framework>` (the framework and its dependencies),
- build: `build(count)`, registering every route,
- first request: the first call of the app, for the last-registered route, body consumed.

It prints them as JSON with the answer, which the parent checks like any other answer.
`bench.py` runs the builds (scenarios `routes<N>-build`) and reports build + first request.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench_common import ROUTE_COUNTS
from bench_scenarios import SCENARIOS, Answer, call_app, check_answer, fresh_environ

BENCH_DIR = Path(__file__).resolve().parent
BUILD_NAMES: dict[str, int] = {f"routes{count}-build": count for count in ROUTE_COUNTS}
BUILD_TIMEOUT_S = 600.0
# A build that took longer than this is not run again: one sample of a slow build is enough to
# read it, and a full run stays bounded.
REPEAT_LIMIT_S = 15.0


@dataclass(frozen=True)
class BuildSample:
    import_s: float
    build_s: float
    first_s: float

    @property
    def total_s(self) -> float:
        """Build + first request: the figure that is compared (import is reported apart)."""
        return self.build_s + self.first_s


@dataclass
class BuildCell:
    """One framework building one table, over the runs."""

    failure: str | None = None
    samples: list[BuildSample] = field(default_factory=list)
    skipped_repeats: bool = False

    def median(self, attribute: str) -> float | None:
        values = [getattr(sample, attribute) for sample in self.samples]
        return statistics.median(values) if values else None


Builds = dict[str, dict[str, BuildCell]]  # build scenario -> framework -> cell


def last_route_scenario(count: int) -> str:
    return f"routes{count}-last"


def run_one(framework: str, count: int, pythonpath: Sequence[str]) -> BuildSample | str:
    """Build in a fresh process; return the sample, or why it failed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*pythonpath, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, str(BENCH_DIR / "bench_routes.py"), framework, str(count)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return f"took longer than {BUILD_TIMEOUT_S:g} s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["(no output)"]
        return f"the build process failed (exit {done.returncode}): {lines[-1]}"
    report = json.loads(done.stdout)
    answer = Answer(
        report["status"],
        [(name, value) for name, value in report["headers"]],
        report["body"].encode("latin-1"),
    )
    reason = check_answer(SCENARIOS[last_route_scenario(count)], answer)
    if reason is not None:
        return f"first request: {reason}"
    return BuildSample(report["import_s"], report["build_s"], report["first_s"])


def run_builds(
    names: Sequence[str],
    frameworks: Sequence[str],
    runs: int,
    seed: int,
    pythonpath: Sequence[str],
) -> Builds:
    """Run each build `runs` times, frameworks in a shuffled order per run."""
    builds: Builds = {name: {framework: BuildCell() for framework in frameworks} for name in names}
    rng = random.Random(seed)
    for name in names:
        began = time.perf_counter()
        row = builds[name]
        for run in range(runs):
            order = list(frameworks)
            rng.shuffle(order)
            for framework in order:
                cell = row[framework]
                if cell.failure is not None:
                    continue
                if run > 0 and cell.samples[0].total_s > REPEAT_LIMIT_S:
                    cell.skipped_repeats = True
                    continue
                sample = run_one(framework, BUILD_NAMES[name], pythonpath)
                if isinstance(sample, str):
                    cell.failure = sample
                else:
                    cell.samples.append(sample)
        print(f"  {name:<18} {time.perf_counter() - began:5.1f} s", file=sys.stderr)
    return builds


def _child(framework: str, count: int) -> int:
    environ = fresh_environ(SCENARIOS[last_route_scenario(count)].environ(), None)
    started = time.perf_counter()
    module = importlib.import_module(f"apps_routes_{framework}")
    imported = time.perf_counter()
    app = module.build(count)
    built = time.perf_counter()
    answer = call_app(app, environ)
    served = time.perf_counter()
    report = {
        "import_s": imported - started,
        "build_s": built - imported,
        "first_s": served - built,
        "status": answer.status,
        "headers": answer.headers,
        "body": answer.body.decode("latin-1"),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} FRAMEWORK COUNT  (one timed build; bench.py runs these)")
    sys.exit(_child(sys.argv[1], int(sys.argv[2])))
