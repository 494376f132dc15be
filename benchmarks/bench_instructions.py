"""Instructions per request under valgrind's callgrind: a measure that repeats exactly.

    python benchmarks/bench_instructions.py                    # every case below
    python benchmarks/bench_instructions.py typed:wsgilite cors:falcon

Timings on a shared machine move by 20 % or more between runs; the instructions a request
executes do not. Each case runs in a fresh `python` under callgrind twice, answering 0 and then
1,000 requests after the same warm-up (hash seed fixed, garbage collector off): the difference,
divided by 1,000, is one request's instructions, interpreter included. It ranks changes to the hot
path; it is not a time (a cache miss costs more than an add), so bench.py stays the judge.

Cases: `typed:<app>` is bench_typed.py's POST (apps: wsgilite, by-hand, falcon), `cors:<app>`
is bench_batteries.py's GET /plaintext with an Origin (apps: wsgilite, wsgilite-cors, falcon,
falcon-cors). `scenario:<name>:<framework>` is bench.py's scenario `<name>` (core, styles
or routes) on `<framework>` (wsgilite, falcon, bottle, flask).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CASES = ["typed:wsgilite", "typed:by-hand", "typed:falcon",
         "cors:wsgilite", "cors:wsgilite-cors", "cors:falcon", "cors:falcon-cors"]  # fmt: skip
TYPED = {"wsgilite": "wsgilite", "by-hand": "wsgilite (by hand)", "falcon": "falcon (by hand)"}


def _typed(name: str) -> Callable[[], None]:
    import bench_typed

    app = bench_typed.APPS[TYPED[name]]()
    template = bench_typed.environ()

    def one() -> None:
        environ = template.copy()
        environ["wsgi.input"] = io.BytesIO(bench_typed.BODY)
        _drain(app(environ, _start))

    return one


def _cors(name: str) -> Callable[[], None]:
    import bench_batteries

    from wsgilite.cors import CORS

    apps: dict[str, Callable[[], Any]] = {
        "wsgilite": bench_batteries.wsgilite_app,
        "wsgilite-cors": lambda: bench_batteries.wsgilite_app(
            lambda app: CORS(app, origins=[bench_batteries.SITE])
        ),
        "falcon": lambda: bench_batteries.falcon_app(cors=False),
        "falcon-cors": lambda: bench_batteries.falcon_app(cors=True),
    }
    app = apps[name]()
    template = bench_batteries._environ(origin=True)
    return lambda: _drain(app(dict(template), _start))


def _scenario(name: str) -> Callable[[], None]:
    import bench
    import bench_scenarios

    scenario_name, framework = name.split("/")
    app = bench.load_apps({scenario_name: [framework]})[0][framework][scenario_name]
    scenario = bench_scenarios.SCENARIOS[scenario_name]
    template = scenario.environ()
    body = scenario.body

    def one() -> None:
        environ = template.copy()
        if body is not None:
            environ["wsgi.input"] = io.BytesIO(body)
        _drain(app(environ, _start))

    return one


def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


def _drain(body: Any) -> None:
    for _chunk in body:
        pass
    close = getattr(body, "close", None)
    if close is not None:
        close()


def serve(case: str, count: int) -> None:
    """Answer 50 requests, then `count` more (run inside callgrind)."""
    group, name = case.split(":", 1)
    one = {"typed": _typed, "cors": _cors, "scenario": _scenario}[group](name.replace(":", "/"))
    gc.collect()
    gc.disable()
    for _ in range(50 + count):
        one()


def instructions(case: str, count: int) -> int:
    """Return the instructions a fresh process executes answering `count` requests of `case`."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
             __file__, "--serve", case, str(count)],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
            check=True,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"{case}: callgrind printed no total:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=CASES)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--serve", nargs=2, metavar=("CASE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    print("| case | instructions per request |\n| --- | ---: |")
    for case in args.cases:
        per_request = (instructions(case, args.requests) - instructions(case, 0)) // args.requests
        print(f"| {case} | {per_request:,} |")


if __name__ == "__main__":
    main()
