"""The `wsgilite` command: `routes` prints the table, `run` serves; both load apps by name or path.

Most tests run the installed `wsgilite` script in a subprocess, so each loads its app in a fresh
interpreter, with the working directory it names. The `--debug` gate is also checked in-process,
with `run` replaced, so nothing listens beyond loopback.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from serving import free_port, get, served, stop

from wsgilite import cli
from wsgilite.servers import gunicorn_defaults

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WSGILITE = str(Path(sys.executable).parent / "wsgilite")

API_ROUTES = [
    "METHODS   RULE                      ENDPOINT",
    "GET,HEAD  /static/<path:filename>   static",
    "GET,HEAD  /                         index",
    "POST      /login                    login",
    "GET,HEAD  /api/books                api.list_books",
    "GET,HEAD  /api/books/<int:book_id>  api.show_book",
    "POST      /api/books                api.create_book",
    "GET,HEAD  /api/files/<path:name>    api.file_info",
    "GET,HEAD  /openapi.json             openapi_json",
    "GET,HEAD  /docs                     openapi_docs",
]
GUNICORN_MISSING = "server='gunicorn' needs gunicorn: pip install 'wsgilite[gunicorn]'"


def wsgilite(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the installed `wsgilite` command and capture what it prints."""
    return subprocess.run(
        [WSGILITE, *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )


def python(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter and capture what it prints."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# -- wsgilite routes ------------------------------------------------------------------------------


def test_routes_prints_methods_rule_and_endpoint_of_every_route() -> None:
    result = wsgilite("routes", "examples/api.py:app")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == API_ROUTES


def test_routes_loads_module_colon_app_from_the_working_directory() -> None:
    result = wsgilite("routes", "api:app", cwd=EXAMPLES)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == API_ROUTES


def test_routes_loads_a_dotted_module_in_a_package(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "web.py").write_text(
        "from wsgilite import App, Request\n"
        "site = App(__name__, static_folder=None)\n"
        "@site.get('/cart')\n"
        "def cart(request: Request) -> str:\n"
        "    return 'cart'\n"
    )

    result = wsgilite("routes", "shop.web:site", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "METHODS   RULE   ENDPOINT",
        "GET,HEAD  /cart  cart",
    ]


def test_routes_loads_a_file_path_from_any_directory(tmp_path: Path) -> None:
    result = wsgilite("routes", f"{EXAMPLES / 'api.py'}:app", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == API_ROUTES


def test_the_attribute_defaults_to_app() -> None:
    result = wsgilite("routes", "examples/hello.py")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "GET,HEAD  /                        hello"


def test_a_missing_module_says_where_to_run_from() -> None:
    result = wsgilite("routes", "no_such_module:app")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "cannot import 'no_such_module': run from the folder that contains it, "
        "or name the file: wsgilite run path/to/app.py:app"
    )


def test_a_missing_file_is_named() -> None:
    result = wsgilite("routes", "examples/no_such_file.py:app")

    assert result.returncode == 1
    assert result.stderr.strip() == "no such file: examples/no_such_file.py"


def test_a_missing_attribute_is_named() -> None:
    result = wsgilite("routes", "api:application", cwd=EXAMPLES)

    assert result.returncode == 1
    assert result.stderr.strip() == "'api' has no attribute 'application'"


def test_a_missing_dependency_of_the_app_is_not_hidden(tmp_path: Path) -> None:
    """The module exists; the import *inside* it fails, and that is what the user must see."""
    (tmp_path / "broken.py").write_text("import no_such_dependency\napp = None\n")

    result = wsgilite("routes", "broken:app", cwd=tmp_path)

    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'no_such_dependency'" in result.stderr
    assert "cannot import 'broken'" not in result.stderr


# -- wsgilite run --debug -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_run_refuses_debug_on_a_public_host(host: str) -> None:
    result = wsgilite("run", "--debug", "--host", host, "examples/api.py:app")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"refusing --debug on {host}: the debugger lets anyone")
    assert "add --allow-remote-debug if you really mean it" in result.stderr


def fake_run(calls: list[dict[str, Any]]) -> Any:
    """Return a stand-in for servers.run that records its arguments instead of serving."""

    def run(app: object, **options: Any) -> None:
        calls.append({"app": app, **options})

    return run


@pytest.mark.parametrize(
    ("host", "extra"),
    [("0.0.0.0", ["--allow-remote-debug"]), ("127.0.0.1", []), ("localhost", []), ("::1", [])],
)
def test_run_allows_debug_on_loopback_or_when_explicitly_allowed(
    monkeypatch: pytest.MonkeyPatch, host: str, extra: list[str]
) -> None:
    calls: list[dict[str, Any]] = []
    app = object()
    monkeypatch.setattr(cli, "load_app", lambda target: app)
    monkeypatch.setattr(cli, "run", fake_run(calls))

    code = cli.main(["run", "--debug", "--host", host, "--port", "8123", *extra, "api:app"])

    assert code == 0
    assert calls == [
        {
            "app": app,
            "server": "werkzeug",
            "host": host,
            "port": 8123,
            "workers": 1,
            "debug": True,
            "reload": False,
            "allow_remote_debug": bool(extra),
            "target": "api:app",
        }
    ]


def test_run_with_debug_on_loopback_shows_the_debugger_for_a_crash() -> None:
    """What --debug is for, and why it is refused on a public host: the traceback is served."""
    port = free_port()
    command = [WSGILITE, "run", "examples/crashy.py:app", "--debug", "--port", str(port)]
    with served(command, port, cwd=str(ROOT)):
        status, body = get(port, "/boom")

    assert status == 500
    assert b"Traceback" in body
    assert b"crashy-secret-in-the-exception-message" in body


# -- a missing gunicorn ---------------------------------------------------------------------------


def test_app_run_with_gunicorn_missing_says_what_to_install() -> None:
    result = python(
        """
        import sys
        sys.modules["gunicorn"] = None  # as if gunicorn were not installed
        from wsgilite import App
        App(__name__).run(server="gunicorn", port=1)
        """
    )

    assert result.returncode == 1
    assert result.stderr.strip() == GUNICORN_MISSING


def test_wsgilite_run_with_gunicorn_missing_says_what_to_install() -> None:
    result = python(
        """
        import sys
        sys.modules["gunicorn"] = None  # as if gunicorn were not installed
        from wsgilite.cli import main
        sys.exit(main(["run", "examples/api.py:app", "--server", "gunicorn", "--port", "1"]))
        """
    )

    assert result.returncode == 1
    assert result.stderr.strip() == GUNICORN_MISSING


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_app_run_with_an_optional_server_missing_says_what_to_install(server: str) -> None:
    result = python(
        f"""
        import sys
        sys.modules[{server!r}] = None  # as if it were not installed
        from wsgilite import App
        App(__name__).run(server={server!r}, port=1)
        """
    )

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"server='{server}' needs {server}: pip install 'wsgilite[{server}]'"
    )


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_wsgilite_run_with_an_optional_server_missing_says_what_to_install(server: str) -> None:
    result = python(
        f"""
        import sys
        sys.modules[{server!r}] = None  # as if it were not installed
        from wsgilite.cli import main
        sys.exit(main(["run", "examples/api.py:app", "--server", {server!r}, "--port", "1"]))
        """
    )

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"server='{server}' needs {server}: pip install 'wsgilite[{server}]'"
    )


def test_an_unknown_server_is_refused_with_the_choices() -> None:
    result = wsgilite("run", "examples/api.py:app", "--server", "tornado")

    assert result.returncode == 2
    assert "argument --server: invalid choice: 'tornado'" in result.stderr
    assert all(
        name in result.stderr for name in ("wsgiref", "werkzeug", "gunicorn", "granian", "waitress")
    )


def test_app_run_with_an_unknown_server_names_the_choices() -> None:
    result = python(
        """
        from wsgilite import App
        try:
            App(__name__).run(server="tornado")
        except ValueError as exc:
            print(exc)
        """
    )

    assert result.stdout.strip() == (
        "unknown server 'tornado'; choose one of wsgiref, werkzeug, gunicorn, granian, waitress"
    )


# -- gunicorn's worker class ----------------------------------------------------------------------


def test_worker_class_and_threads_are_passed_to_gunicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "load_app", lambda target: "app")
    monkeypatch.setattr(cli, "run", fake_run(calls))

    code = cli.main(
        ["run", "--server", "gunicorn", "--worker-class", "gevent", "--threads", "8", "api:app"]
    )

    assert code == 0
    assert calls[0]["worker_class"] == "gevent"
    assert calls[0]["threads"] == 8


def test_gunicorn_defaults_resist_slow_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    with_gevent = gunicorn_defaults()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    without_gevent = gunicorn_defaults()

    assert with_gevent["worker_class"] == "gevent"
    assert with_gevent["worker_connections"] == 1000
    assert without_gevent["worker_class"] == "gthread"
    assert without_gevent["threads"] == 32
    for settings in (with_gevent, without_gevent):
        assert settings["keepalive"] == 5
        assert settings["timeout"] == 30
    assert "threads" not in gunicorn_defaults("sync")  # threads would make it gthread


def test_worker_class_without_gunicorn_is_refused() -> None:
    result = wsgilite("run", "--worker-class", "gevent", "examples/api.py:app")

    assert result.returncode == 2
    assert "--worker-class applies to --server gunicorn only" in result.stderr


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (
            ["--server", "werkzeug", "--threads", "8"],
            "--threads applies to --server gunicorn, granian",
        ),
        (["--server", "waitress", "--workers", "2"], "waitress serves from one process"),
        (["--server", "granian", "--reload"], "granian does not reload"),
    ],
)
def test_options_a_server_has_no_use_for_are_refused(options: list[str], refusal: str) -> None:
    result = wsgilite("run", "examples/api.py:app", "--port", "1", *options)

    assert result.returncode == 2
    assert refusal in result.stderr


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_threads_are_passed_to_granian_and_waitress(
    monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "load_app", lambda target: "app")
    monkeypatch.setattr(cli, "run", fake_run(calls))

    code = cli.main(["run", "--server", server, "--threads", "8", "api:app"])

    assert code == 0
    assert calls[0]["server"] == server
    assert calls[0]["threads"] == 8


STARTED_APP = """
import os
import sys

from wsgilite import App

app = App(__name__)
started = []


@app.on_startup
def remember(app):
    started.append(os.getpid())


@app.get("/")
def index(request):
    multiprocess = request.environ["wsgi.multiprocess"]
    return {"pid": os.getpid(), "started": started, "multiprocess": multiprocess}


if __name__ == "__main__":
    server, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    app.run(server=server, port=port, workers=workers, threads=2)
"""


@pytest.mark.parametrize(("server", "workers"), [("granian", 2), ("granian", 1), ("waitress", 1)])
def test_app_run_serves_under_granian_and_waitress(
    tmp_path: Path, server: str, workers: int
) -> None:
    """app.run(server=...) from a script; each process runs the startup hooks itself."""
    script = tmp_path / "started.py"
    script.write_text(STARTED_APP)
    port = free_port()
    command = [sys.executable, str(script), server, str(port), str(workers)]
    with served(command, port, cwd=str(tmp_path)):
        answers = [json.loads(get(port, "/")[1]) for _ in range(6)]

    for answer in answers:
        assert answer["started"] == [answer["pid"]]  # run in this very process, once
        assert answer["multiprocess"] is (workers > 1)


def test_wsgilite_runs_under_gunicorns_gevent_workers() -> None:
    port = free_port()
    command = [
        WSGILITE,
        "run",
        "examples/crashy.py:app",
        "--server",
        "gunicorn",
        "--worker-class",
        "gevent",
        "--port",
        str(port),
    ]
    with served(command, port, cwd=str(ROOT)):
        status, body = get(port, "/wsgi")

    assert status == 200
    assert b'"multithread":true' in body


def test_app_run_refuses_debug_on_a_public_host_too() -> None:
    result = python(
        """
        from wsgilite import App
        App(__name__).run(server="wsgiref", host="0.0.0.0", port=1, debug=True)
        """
    )

    assert result.returncode != 0
    assert "refusing --debug on 0.0.0.0" in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("127.evil.example", False),
        ("0.0.0.0", False),
        ("::", False),
    ],
)
def test_only_loopback_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    from wsgilite.servers import is_loopback

    assert is_loopback(host) is loopback


def test_reload_under_gunicorn_serves_the_changed_code(tmp_path: Path) -> None:
    app_file = tmp_path / "reloaded.py"
    source = "from wsgilite import App\napp = App(__name__)\napp.get('/')(lambda request: {!r})\n"
    app_file.write_text(source.format("v1"))
    port = free_port()
    command = [WSGILITE, "run", f"{app_file}:app", "--server", "gunicorn", "--reload"]
    with served([*command, "--port", str(port)], port, cwd=str(tmp_path)):
        assert get(port, "/") == (200, b"v1")
        app_file.write_text(source.format("v2"))
        deadline = time.monotonic() + 15
        while get(port, "/")[1] != b"v2" and time.monotonic() < deadline:
            time.sleep(0.2)

        assert get(port, "/") == (200, b"v2")


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    import wsgilite

    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == f"wsgilite {wsgilite.__version__}\n"


def test_reload_under_waitress_serves_from_werkzeugs_reloader(tmp_path: Path) -> None:
    """--reload under waitress is werkzeug's reloader (as for wsgiref): a parent that watches,
    a child that serves. Whether a change reaches it depends on the machine's file events
    (inotify can overflow on a busy machine), so only the wiring is asserted here."""
    app_file = tmp_path / "reloaded.py"
    app_file.write_text(
        "from wsgilite import App\napp = App(__name__)\napp.get('/')(lambda r: 'v1')\n"
    )
    port = free_port()
    command = [WSGILITE, "run", f"{app_file}:app", "--server", "waitress", "--reload"]
    output = tmp_path / "output.txt"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    answer = None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                answer = get(port, "/")
                break
            except OSError:
                time.sleep(0.1)
        children = [
            stat for stat in Path("/proc").glob("[0-9]*/stat")
            if _ppid(stat) == process.pid
        ]  # fmt: skip
    finally:
        stop(process)

    assert answer == (200, b"v1")
    assert " * Restarting with" in output.read_text()
    assert children  # the reloader's child serves; the parent watches


def _ppid(stat: Path) -> int:
    try:
        text = stat.read_text()
    except OSError:
        return 0
    return int(text[text.rindex(")") + 2 :].split()[1])
