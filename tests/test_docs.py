"""The documentation: every code sample in docs/ and README.md runs, and the site builds strictly.

A Markdown page's fenced blocks run in order, in one namespace per page, in a fresh folder:

- a `python` block without a title is executed (its asserts are the sample's checks);
- a block with `title="path"` (any language), or a `python` block whose first line is
  `# file: path`, is written to that path, so later blocks can import or render it;
  `title="path (continued)"` appends to the file instead;
- once the page has run, if it wrote `test_*.py` files, pytest runs them in that folder.

Shell, nginx and other blocks without a title are not executed. The configuration table is
generated from `wsgilite.config.DEFAULTS` (docs/hooks/config_table.py); README.md must carry it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import wsgilite
from wsgilite.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SRC = Path(wsgilite.__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.M | re.S
)
TITLE = re.compile(r'title="(?P<title>[^"]+)"')
FILE_COMMENT = re.compile(r"^(?:#|\{#|<!--)\s*file:\s*(?P<path>\S+)")
CONTINUED = " (continued)"


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    language: str
    path: str | None  # written to this file instead of executed
    append: bool
    code: str
    line: int


def blocks_of(page: Path) -> list[Block]:
    """Return the fenced code blocks of `page`, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        info = match["info"].strip()
        language = info.split(" ", 1)[0].split("{", 1)[0].strip().lower()
        indent = len(match["indent"])
        code = "\n".join(line[indent:] for line in match["body"].splitlines()) + "\n"
        title = TITLE.search(info)
        path = title["title"] if title else None
        first = FILE_COMMENT.match(code)
        if path is None and first is not None:
            path = first["path"]
        append = path is not None and path.endswith(CONTINUED)
        if append and path is not None:
            path = path[: -len(CONTINUED)]
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(language, path, append, code, line))
    return found


def load_hook() -> ModuleType:
    """Import docs/hooks/config_table.py, the MkDocs hook that generates the config table."""
    spec = importlib.util.spec_from_file_location(
        "config_table", DOCS / "hooks" / "config_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_sample_on_the_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = blocks_of(page)
    if not any(block.language in ("python", "py") or block.path for block in blocks):
        pytest.skip("no samples on this page")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    modules_before = set(sys.modules)
    loggers = [logging.getLogger(), logging.getLogger("wsgilite")]
    logging_before = [(logger, logger.level, list(logger.handlers)) for logger in loggers]
    # A real module, so dataclasses and pickling find the samples' classes.
    sample = ModuleType("docs_sample")
    sample.__file__ = str(tmp_path / "docs_sample.py")
    monkeypatch.setitem(sys.modules, "docs_sample", sample)
    namespace: dict[str, Any] = sample.__dict__
    written: list[Path] = []
    try:
        for block in blocks:
            where = f"{_page_id(page)}:{block.line}"
            if block.path is not None:
                target = tmp_path / block.path
                target.parent.mkdir(parents=True, exist_ok=True)
                if block.append:
                    assert target.exists(), f"{where}: {block.path} is continued before it is made"
                    target.write_text(target.read_text(encoding="utf-8") + "\n" + block.code)
                else:
                    target.write_text(block.code, encoding="utf-8")
                written.append(target)
            elif block.language in ("python", "py"):
                code = compile(block.code, where, "exec")
                exec(code, namespace)
        for file in written:
            if file.suffix == ".py":
                compile(file.read_text(encoding="utf-8"), str(file), "exec")
    finally:
        for logger, level, handlers in logging_before:  # a sample may configure logging
            logger.setLevel(level)
            logger.handlers[:] = handlers
        for name in set(sys.modules) - modules_before:
            origin = str(getattr(sys.modules[name], "__file__", None) or "")
            if origin.startswith(str(tmp_path)):
                del sys.modules[name]
    tests = [file for file in written if file.name.startswith("test_") and file.suffix == ".py"]
    if tests:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)])}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:schemathesis",
                str(tmp_path),
            ],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"the tests {_page_id(page)} writes failed:\n{result.stdout}"


def test_every_config_key_has_a_description() -> None:
    hook = load_hook()

    assert set(hook.DESCRIPTIONS) == set(DEFAULTS)


def test_readme_carries_the_generated_config_table() -> None:
    table = load_hook().config_table()

    assert table in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README's configuration table differs from the generated one; "
        "paste the output of `python docs/hooks/config_table.py` into README.md"
    )


def test_the_api_reference_covers_every_public_name() -> None:
    reference = load_hook().api_reference()

    for name in wsgilite.__all__:
        assert f"::: wsgilite.{name}" in reference or f"`wsgilite.{name}` is" in reference


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs is not installed on CI: pip install -e '.[docs]'")
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]'")
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "NO_MKDOCS_2_WARNING": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").exists()


def test_the_cli_page_shows_the_route_table_wsgilite_prints() -> None:
    from wsgilite.cli import format_routes
    from wsgilite.loading import load_app

    shown = next(
        block.code.strip().splitlines()
        for block in blocks_of(DOCS / "guides" / "cli.md")
        if block.language == "text" and block.code.startswith("METHODS")
    )
    printed = format_routes(load_app(str(ROOT / "examples" / "api.py") + ":app")).splitlines()

    assert [line.split() for line in shown] == [line.split() for line in printed[: len(shown)]]


def test_every_relative_link_in_readme_leads_to_a_file() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    relative = [target for target in targets if "://" not in target]

    assert relative, "README links to the docs"
    assert [target for target in relative if not (ROOT / target).exists()] == []


def test_the_samples_pass_ruff(tmp_path: Path) -> None:
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed: pip install -e '.[dev]'")
    for page in PAGES:
        folder = tmp_path / _page_id(page).replace("/", "__").removesuffix(".md")
        executed = []
        for block in blocks_of(page):
            if block.path is not None and block.path.endswith(".py"):
                target = folder / block.path
                target.parent.mkdir(parents=True, exist_ok=True)
                before = target.read_text(encoding="utf-8") + "\n" if block.append else ""
                target.write_text(before + block.code, encoding="utf-8")
            elif block.path is None and block.language in ("python", "py"):
                executed.append(block.code)
        if executed:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "page_samples.py").write_text("\n".join(executed), encoding="utf-8")
    # A page's blocks run as one module, so imports come late and a port redefines names.
    rules = ["--select", "F,E,W,B,SIM,UP,RUF", "--ignore", "E402,F811"]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--line-length", "100", *rules, "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout
