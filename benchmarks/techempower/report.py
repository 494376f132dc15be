"""A harness run's results: medians per cell, ratios, Markdown tables, the chart, the README text.

A cell is one (server, test type, framework); its figures are the medians over the rounds. Ratios
compare request rates within one server and test type: `÷ bare` is the framework's rate over the
bare WSGI function's, `÷ falcon` over Falcon's (above 1: faster).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from load import Sample

BEGIN = "<!-- techempower:begin (written by benchmarks/techempower/run.py) -->"
END = "<!-- techempower:end -->"
PACKAGES = (
    "gunicorn", "gevent", "granian", "waitress", "falcon", "bottle", "flask", "werkzeug",
    "jinja2", "psycopg", "psycopg-binary", "psycopg-pool",
)  # fmt: skip
TEST_LABELS = {
    "json": "json",
    "plaintext": "plaintext",
    "db": "db",
    "queries": "queries (20)",
    "updates": "updates (20)",
    "fortunes": "fortunes",
    "cached-queries": "cached (20)",
}


@dataclass(frozen=True)
class Cell:
    server: str
    test: str
    framework: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    rounds: int
    cpu_us: float = 0.0


def aggregate(samples: Iterable[Sample]) -> dict[tuple[str, str, str], Cell]:
    """Return the median figures of every (server, test, framework) over its rounds."""
    groups: dict[tuple[str, str, str], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.server, sample.test, sample.framework), []).append(sample)
    return {
        key: Cell(
            *key,
            requests_per_s=statistics.median(s.requests_per_s for s in group),
            p50_ms=statistics.median(s.p50_ms for s in group),
            p99_ms=statistics.median(s.p99_ms for s in group),
            max_ms=max(s.max_ms for s in group),
            errors=sum(s.errors for s in group),
            rounds=len(group),
            cpu_us=statistics.median(s.cpu_us for s in group),
        )
        for key, group in groups.items()
    }


def ratio(cells: dict[tuple[str, str, str], Cell], cell: Cell, base: str) -> float | None:
    other = cells.get((cell.server, cell.test, base))
    if other is None or other.requests_per_s == 0:
        return None
    return cell.requests_per_s / other.requests_per_s


def cpu_ratio(cells: dict[tuple[str, str, str], Cell], cell: Cell, base: str) -> float | None:
    """`base`'s server CPU per request over `cell`'s (above 1: `cell` costs less)."""
    other = cells.get((cell.server, cell.test, base))
    if other is None or cell.cpu_us == 0:
        return None
    return other.cpu_us / cell.cpu_us


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def _fmt_ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def server_table(
    cells: dict[tuple[str, str, str], Cell],
    server: str,
    tests: Sequence[str],
    frameworks: Sequence[str],
) -> str:
    """Every test type and framework under one server: rate, latencies, ratios."""
    rows = []
    for test in tests:
        for framework in frameworks:
            cell = cells.get((server, test, framework))
            if cell is None:
                rows.append([TEST_LABELS[test], framework, "not timed", *[""] * 6])
                continue
            rate = _fmt_rate(cell.requests_per_s) + (
                f" ({cell.errors} errors)" if cell.errors else ""
            )
            rows.append(
                [
                    TEST_LABELS[test],
                    framework,
                    rate,
                    _fmt_ms(cell.p50_ms),
                    _fmt_ms(cell.p99_ms),
                    _fmt_ratio(ratio(cells, cell, "bare")),
                    _fmt_ratio(ratio(cells, cell, "falcon")),
                    f"{cell.cpu_us:,.0f}",
                    _fmt_ratio(cpu_ratio(cells, cell, "falcon")),
                ]
            )
    header = [
        "test", "framework", "req/s", "p50 ms", "p99 ms", "÷ bare", "÷ falcon",
        "server CPU µs/req", "CPU: falcon ÷ this",
    ]  # fmt: skip
    return markdown_table(header, rows, "llrrrrrrr")


def wsgilite_vs_falcon(
    cells: dict[tuple[str, str, str], Cell],
    servers: Sequence[str],
    tests: Sequence[str],
    by_cpu: bool = False,
) -> str:
    """wsgilite's rate over Falcon's per test type and server (= ratio to bare over Falcon's);
    or, `by_cpu`, Falcon's server CPU per request over wsgilite's."""
    rows = []
    measure = cpu_ratio if by_cpu else ratio
    for test in tests:
        row = [TEST_LABELS[test]]
        for server in servers:
            cell = cells.get((server, test, "wsgilite"))
            value = None if cell is None else measure(cells, cell, "falcon")
            text = _fmt_ratio(value)
            row.append(f"**{text}**" if value is not None and value < 1.0 else text)
        rows.append(row)
    return markdown_table(["test", *servers], rows, "l" + "r" * len(servers))


def verdict_table(verdicts: dict[str, dict[str, Any]], servers: Sequence[str]) -> str:
    """PASS/FAIL per framework and server (with the failing test types)."""
    frameworks: list[str] = []
    for by_framework in verdicts.values():
        frameworks += [name for name in by_framework if name not in frameworks]
    rows = []
    for framework in frameworks:
        row = [framework]
        for server in servers:
            verdict = verdicts.get(server, {}).get(framework)
            if verdict is None:
                row.append("-")
            elif verdict["passed"]:
                warns = verdict["warnings"]
                row.append("PASS" + (f" ({warns} warnings)" if warns else ""))
            else:
                row.append("FAIL: " + ", ".join(verdict["failed_tests"]))
        rows.append(row)
    return markdown_table(["framework", *servers], rows, "l" + "l" * len(servers))


def machine() -> dict[str, str]:
    """CPU, cores, memory, OS and kernel of this machine."""
    info = {"cpu": platform.processor() or platform.machine(), "cores": str(os.cpu_count())}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if match:
            info["cpu"] = match[1].strip()
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo.read_text(), re.MULTILINE)
        if match:
            info["memory"] = f"{int(match[1]) / 1024 / 1024:.0f} GiB"
    os_release = Path("/etc/os-release")
    if os_release.exists():
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', os_release.read_text(), re.MULTILINE)
        if match:
            info["os"] = match[1]
    info["kernel"] = platform.release()
    return info


def versions(postgres: str) -> dict[str, str]:
    """Python, PostgreSQL, wrk and every Python package the harness runs."""
    found = {"python": platform.python_version(), "postgresql": postgres}
    found["postgresql"] = re.sub(r"^postgres \(PostgreSQL\) ", "", postgres)
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True)
        match = re.search(r"wrk (?:\S*/)?(\d[\d.]*\d)", out.stdout + out.stderr)  # debian/4.1.0-3
        found["wrk"] = match[1] if match else "?"
    for package in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    return found


def draw_chart(
    cells: dict[tuple[str, str, str], Cell],
    servers: Sequence[str],
    tests: Sequence[str],
    frameworks: Sequence[str],
    path: Path,
    title: str,
) -> None:
    """Draw req/s per test type (one panel each), server (groups) and framework (bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 2
    rows = (len(tests) + 1 + columns - 1) // columns  # one panel more, for the legend
    figure, axes = plt.subplots(rows, columns, figsize=(12, 3.1 * rows), squeeze=False)
    colors = {"bare": "#9e9e9e", "wsgilite": "#d6452f", "falcon": "#2f6fd6", "bottle": "#3aa655",
              "flask": "#8a5cc2"}  # fmt: skip
    width = 0.8 / max(len(frameworks), 1)
    for index, test in enumerate(tests):
        axis = axes[index // columns][index % columns]
        for offset, framework in enumerate(frameworks):
            values = [
                cells[server, test, framework].requests_per_s
                if (server, test, framework) in cells
                else 0.0
                for server in servers
            ]
            positions = [
                i + (offset - (len(frameworks) - 1) / 2) * width for i in range(len(servers))
            ]
            axis.bar(positions, values, width, label=framework, color=colors.get(framework))
        axis.set_title(TEST_LABELS[test], fontsize=11)
        axis.set_xticks(range(len(servers)), servers, fontsize=9)
        axis.set_ylabel("req/s", fontsize=9)
        axis.tick_params(axis="y", labelsize=8)
        axis.grid(axis="y", alpha=0.3)
        axis.set_axisbelow(True)
    for index in range(len(tests), rows * columns):
        axes[index // columns][index % columns].axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    legend_axis = axes[(rows * columns - 1) // columns][(rows * columns - 1) % columns]
    legend_axis.legend(handles, labels, loc="center", ncol=1, fontsize=11, title="framework")
    figure.suptitle(title, fontsize=12)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def replace_section(readme: Path, section: str, begin: str = BEGIN, end: str = END) -> None:
    """Put `section` between the markers in `readme` (appended the first time)."""
    text = readme.read_text()
    block = f"{begin}\n{section.rstrip()}\n{end}\n"
    if begin in text and end in text:
        start = text.index(begin)
        end_at = text.index(end) + len(end)
        text = text[:start] + block.rstrip("\n") + text[end_at:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    readme.write_text(text)
