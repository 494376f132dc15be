"""examples/api.py served for real by every server wsgilite runs, over real HTTP on 127.0.0.1.

Each server starts once per module: `wsgilite run --server X` for wsgiref, werkzeug, gunicorn,
granian and waitress, and plain `gunicorn api:app` to show an App is a WSGI callable gunicorn
serves as it is. What a server does with connections differs and is asserted as it is: gunicorn's
gthread worker (what `wsgilite run --server gunicorn` uses), granian and waitress keep them alive;
wsgiref (HTTP/1.0), werkzeug's development server and gunicorn's default sync worker close each
one after its response.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path

import pytest
from serving import HOST, free_port, get, raw_http, served, stop

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WSGILITE = str(BIN / "wsgilite")
GUNICORN = str(BIN / "gunicorn")

DUNE = b'{"id":1,"title":"Dune","author":"Frank Herbert","year":1965}'
JSON = "application/json"
ALLOW_BOOKS = "GET, HEAD, OPTIONS, POST"
CHROME = (
    b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/120.0.0.0 Safari/537.36"
)
TRACEBACK_MARKERS = (b"Traceback", b'File "', b"__debugger__", b"Werkzeug Debugger")


@dataclass(frozen=True)
class Server:
    """A running server: what it is, where it listens, and how it treats connections."""

    name: str
    port: int
    keeps_alive: bool
    http_version: bytes
    threads: bool
    processes: bool
    chunked: bool


@dataclass(frozen=True)
class Kind:
    """How to start one server on a port, and what to expect of it."""

    command: tuple[str, ...]
    keeps_alive: bool
    threads: bool  # whether it may call the app from several threads of one process
    processes: bool  # whether it may call the app from several processes
    http_version: bytes = b"HTTP/1.1"
    chunked: bool = True  # whether it decodes a chunked request body for the app

    def argv(self, app: str, port: int) -> list[str]:
        """Return the command line that serves `app` (`api` or `crashy`) on `port`."""
        return [part.format(app=app, port=port) for part in self.command]


def wsgilite_run(server: str, *options: str) -> tuple[str, ...]:
    """Return `wsgilite run examples/{app}.py:app` on `{port}` with `server`."""
    target = "examples/{app}.py:app"
    return (WSGILITE, "run", target, "--port", "{port}", "--server", server, *options)


KINDS: dict[str, Kind] = {
    # wsgilite serves wsgiref with a thread per request.
    "wsgiref": Kind(
        wsgilite_run("wsgiref"),
        keeps_alive=False,
        threads=True,
        processes=False,
        http_version=b"HTTP/1.0",
        chunked=False,  # wsgiref answers 400 to a chunked body
    ),
    # werkzeug 3.1 sends "Connection: close" on every response, HTTP/1.1 or not.
    "werkzeug": Kind(wsgilite_run("werkzeug"), keeps_alive=False, threads=True, processes=False),
    # wsgilite runs gunicorn with gthread workers, which keep connections alive.
    "wsgilite-gunicorn": Kind(
        wsgilite_run("gunicorn", "--workers", "2"), keeps_alive=True, threads=True, processes=True
    ),
    # Plain gunicorn uses its default sync worker, which closes every connection.
    "gunicorn-cli": Kind(
        (GUNICORN, "--chdir", "examples", "-w", "2", "-b", f"{HOST}:{{port}}", "{app}:app"),
        keeps_alive=False,
        threads=False,
        processes=True,
    ),
    # granian's WSGI interface: worker processes, each with a pool of threads, keep-alive.
    "granian": Kind(
        wsgilite_run("granian", "--workers", "2"), keeps_alive=True, threads=True, processes=True
    ),
    # waitress: one process, a pool of threads, keep-alive.
    "waitress": Kind(wsgilite_run("waitress"), keeps_alive=True, threads=True, processes=False),
}


def _serve(name: str, app: str) -> Iterator[Server]:
    kind = KINDS[name]
    port = free_port()
    with served(kind.argv(app, port), port, cwd=str(ROOT)):
        yield Server(
            name,
            port,
            kind.keeps_alive,
            kind.http_version,
            kind.threads,
            kind.processes,
            kind.chunked,
        )


@pytest.fixture(scope="module", params=list(KINDS))
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """examples/api.py, served by each server in turn."""
    yield from _serve(request.param, "api")


@pytest.fixture(scope="module", params=list(KINDS))
def crashy_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """examples/crashy.py, served by each server in turn."""
    yield from _serve(request.param, "crashy")


def fetch(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[HTTPResponse, bytes]:
    """Send one request on a new connection; return the response and its body."""
    connection = HTTPConnection(HOST, server.port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


# -- ordinary requests ----------------------------------------------------------------------------


def test_get_with_a_query_answers_json(server: Server) -> None:
    response, body = fetch(server, "GET", "/?name=Ada&age=36")

    assert response.status == 200
    assert response.getheader("Content-Type") == JSON
    assert json.loads(body) == {"hello": "Ada", "age": 36, "books": "/api/books"}


def test_list_and_filter_books(server: Server) -> None:
    response, body = fetch(server, "GET", "/api/books")
    filtered, filtered_body = fetch(server, "GET", "/api/books?author=gibson")

    assert response.status == 200
    assert [book["title"] for book in json.loads(body)][:3] == ["Dune", "Neuromancer", "Hyperion"]
    assert filtered.status == 200
    assert [book["title"] for book in json.loads(filtered_body)] == ["Neuromancer"]


def test_show_one_book_sends_exact_json_bytes(server: Server) -> None:
    response, body = fetch(server, "GET", "/api/books/1")

    assert response.status == 200
    assert body == DUNE
    assert response.getheader("Content-Length") == str(len(DUNE))


def test_a_missing_book_is_the_apps_json_404(server: Server) -> None:
    response, body = fetch(server, "GET", "/api/books/99")

    assert response.status == 404
    assert response.getheader("Content-Type") == JSON
    assert json.loads(body) == {
        "error": "not found",
        "detail": "no book with id 99",
        "path": "/api/books/99",
    }


def test_an_unknown_path_is_the_apps_json_404_too(server: Server) -> None:
    response, body = fetch(server, "GET", "/no/such/page")

    assert response.status == 404
    assert json.loads(body)["path"] == "/no/such/page"


def test_a_wrong_method_is_405_with_allow(server: Server) -> None:
    response, body = fetch(server, "DELETE", "/api/books")

    assert response.status == 405
    assert response.getheader("Allow") == ALLOW_BOOKS
    assert b"<h1>Method Not Allowed</h1>" in body


def test_head_sends_the_get_headers_without_a_body(server: Server) -> None:
    get, get_body = fetch(server, "GET", "/api/books/1")
    head, head_body = fetch(server, "HEAD", "/api/books/1")

    assert head.status == 200
    assert head_body == b""
    assert head.getheader("Content-Length") == str(len(get_body))
    assert head.getheader("Content-Type") == get.getheader("Content-Type") == JSON


def test_options_lists_the_allowed_methods(server: Server) -> None:
    response, body = fetch(server, "OPTIONS", "/api/books")

    assert response.status == 200
    assert response.getheader("Allow") == ALLOW_BOOKS
    assert body == b""


def test_post_json_creates_a_book(server: Server) -> None:
    book = {"title": "Solaris", "author": "Stanislaw Lem", "year": 1961}
    headers = {"Content-Type": JSON}
    response, body = fetch(server, "POST", "/api/books", json.dumps(book).encode(), headers)

    created = json.loads(body)
    assert response.status == 201
    assert created == {"id": created["id"], **book}
    assert created["id"] > 3
    assert response.getheader("Location") == f"/api/books/{created['id']}"


def test_post_a_chunked_json_body_where_the_server_reads_one(server: Server) -> None:
    """A body sent with Transfer-Encoding: chunked, no Content-Length (wsgiref cannot read it)."""
    if not server.chunked:
        pytest.skip(f"{server.name} does not decode chunked request bodies")
    book = b'{"title": "Solaris", "author": "Stanislaw Lem", "year": 1961}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (book[:20], book[20:]))
    head = f"POST /api/books HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
    head += "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    head += "Connection: close\r\n\r\n"

    status_line, body = split_reply(raw_http(server.port, head.encode() + chunks + b"0\r\n\r\n"))

    assert status_line.split(b" ")[:2] == [server.http_version, b"201"]
    created = json.loads(body)
    assert created == {
        "id": created["id"],
        "title": "Solaris",
        "author": "Stanislaw Lem",
        "year": 1961,
    }


def test_post_json_without_a_title_is_a_422_problem_naming_it(server: Server) -> None:
    response, body = fetch(server, "POST", "/api/books", b'{"year": 2000}', {"Content-Type": JSON})

    assert response.status == 422
    assert response.getheader("Content-Type") == "application/problem+json"
    assert json.loads(body)["errors"] == [
        {"location": "body", "name": "title", "message": "is required", "type": "string"}
    ]


def test_a_body_that_is_not_json_is_a_400_naming_the_fault(server: Server) -> None:
    response, body = fetch(server, "POST", "/api/books", b"{title: Solaris", {"Content-Type": JSON})

    assert response.status == 400
    assert b"request body is not valid JSON" in body
    assert not any(marker in body for marker in TRACEBACK_MARKERS)


# -- connections ----------------------------------------------------------------------------------


def test_one_connection_serves_several_requests_only_where_kept_alive(server: Server) -> None:
    """gunicorn's gthread worker reuses the connection; the others open one per request."""
    connection = HTTPConnection(HOST, server.port, timeout=5)
    local_ports = set()
    try:
        for _ in range(3):
            connection.request("GET", "/api/books/1")
            assert connection.sock is not None
            local_ports.add(connection.sock.getsockname()[1])
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, DUNE)
            assert response.will_close is not server.keeps_alive
    finally:
        connection.close()

    assert len(local_ports) == (1 if server.keeps_alive else 3)


def test_the_server_closes_the_socket_after_the_response_unless_kept_alive(
    server: Server,
) -> None:
    request = f"GET /api/books/1 HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
    request += "Connection: keep-alive\r\n\r\n"
    with socket.create_connection((HOST, server.port), timeout=5) as connection:
        connection.sendall(request.encode())
        reply = b""
        while not reply.endswith(DUNE):
            chunk = connection.recv(65536)
            assert chunk, f"closed before the whole response: {reply!r}"
            reply += chunk
        connection.settimeout(1.0)
        try:
            after = connection.recv(1)  # b"" once the server has closed its end
        except TimeoutError:
            after = None  # still open: the server waits for the next request

    assert reply.startswith(server.http_version + b" 200 ")
    if server.keeps_alive:
        # HTTP/1.1 keeps the connection by default: gunicorn echoes the header, granian and
        # waitress just leave the connection open.
        assert b"\r\nconnection: close\r\n" not in reply.lower()
        assert after is None
    else:
        assert after == b""


# -- what a browser sends, byte for byte ----------------------------------------------------------


def browser_request(port: int, head: bytes, body: bytes = b"") -> bytes:
    """Return the bytes Chrome 120 sends for `head` (request line and extra headers) and `body`."""
    return (
        head
        + f"Host: {HOST}:{port}\r\n".encode()
        + b"Connection: keep-alive\r\n"
        + b"Upgrade-Insecure-Requests: 1\r\n"
        + b"User-Agent: "
        + CHROME
        + b"\r\n"
        + b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
        + b"image/webp,image/apng,*/*;q=0.8\r\n"
        + b"Accept-Encoding: gzip, deflate, br\r\n"
        + b"Accept-Language: en-US,en;q=0.9\r\n"
        + b"\r\n"
        + body
    )


def split_reply(reply: bytes) -> tuple[bytes, bytes]:
    """Return the status line and the body of a raw HTTP reply."""
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def test_a_browser_get_with_a_query_string(server: Server) -> None:
    request = browser_request(server.port, b"GET /?name=xxx&age=111 HTTP/1.1\r\n")

    status_line, body = split_reply(raw_http(server.port, request))

    assert status_line == server.http_version + b" 200 OK"
    assert json.loads(body) == {"hello": "xxx", "age": 111, "books": "/api/books"}


def test_a_browser_form_login(server: Server) -> None:
    form = b"username=wupeiqi&password=123"
    head = b"POST /login HTTP/1.1\r\n"
    head += b"Content-Type: application/x-www-form-urlencoded\r\n"
    head += f"Content-Length: {len(form)}\r\n".encode()  # 29: the body's exact length
    head += f"Origin: http://{HOST}:{server.port}\r\n".encode()

    status_line, body = split_reply(raw_http(server.port, browser_request(server.port, head, form)))

    assert status_line == server.http_version + b" 200 OK"
    assert json.loads(body) == {"username": "wupeiqi", "logged_in": True}


def test_a_login_form_without_password_is_a_422_naming_it(server: Server) -> None:
    response, body = fetch(
        server,
        "POST",
        "/login",
        b"username=wupeiqi",
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON},
    )

    assert response.status == 422
    assert json.loads(body)["errors"] == [
        {"location": "body", "name": "password", "message": "is required", "type": "string"}
    ]


# -- failures stay on the server ------------------------------------------------------------------


def test_a_crashing_handler_is_a_plain_500_without_traceback(crashy_server: Server) -> None:
    html, html_body = fetch(crashy_server, "GET", "/boom", headers={"Accept": "text/html"})
    as_json, json_body = fetch(crashy_server, "GET", "/boom", headers={"Accept": JSON})

    assert html.status == 500
    assert b"<title>500 Internal Server Error</title>" in html_body
    assert as_json.status == 500
    assert json.loads(json_body)["error"] == "Internal Server Error"
    for body in (html_body, json_body):
        assert b"crashy-secret" not in body
        assert b"RuntimeError" not in body
        assert not any(marker in body for marker in TRACEBACK_MARKERS)


def test_the_server_goes_on_after_a_crashing_handler(crashy_server: Server) -> None:
    fetch(crashy_server, "GET", "/boom")

    response, body = fetch(crashy_server, "GET", "/")

    assert (response.status, body) == (200, b"ok")


def test_the_environ_tells_the_app_how_the_server_calls_it(crashy_server: Server) -> None:
    """PEP 3333: wsgi.multithread and wsgi.multiprocess say whether the app may run in parallel."""
    response, body = fetch(crashy_server, "GET", "/wsgi")

    assert response.status == 200
    assert json.loads(body) == {
        "multithread": crashy_server.threads,
        "multiprocess": crashy_server.processes,
        "run_once": False,
        "protocol": "HTTP/1.1",
    }


def test_a_too_deeply_nested_json_body_is_a_400_not_a_500(server: Server) -> None:
    """The client's fault: json.loads raises RecursionError, which is not a ValueError."""
    nested = b"[" * 100_000 + b"]" * 100_000
    headers = {"Content-Type": JSON}

    response, body = fetch(server, "POST", "/api/books", nested, headers)

    assert response.status == 400, body
    assert b"request body is not valid JSON" in body
    assert not any(marker in body for marker in TRACEBACK_MARKERS)


# -- the helper itself ----------------------------------------------------------------------------


def test_served_reports_a_server_that_exits_before_accepting() -> None:
    port = free_port()
    command = [WSGILITE, "run", "examples/no_such_file.py:app", "--port", str(port)]

    expected = pytest.raises(RuntimeError, match=r"exited with 1 (?s:.*)no such file")
    with expected, served(command, port, cwd=str(ROOT)):
        pytest.fail("served() yielded for a server that never started")


def test_served_gives_up_on_a_server_that_never_listens() -> None:
    port = free_port()
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    started = time.monotonic()

    with pytest.raises(RuntimeError, match="did not accept"), served(command, port, timeout=0.5):
        pytest.fail("served() yielded for a server that never listened")

    assert time.monotonic() - started < 5.0  # the sleeping process was stopped, not waited for


STARTUP_APP = """
import os
from pathlib import Path

from wsgilite import App

app = App(__name__)
MARKS = Path(os.environ["STARTUP_MARKS"])


@app.on_startup
def warm(app):
    with MARKS.open("a") as marks:
        marks.write(f"{os.getpid()}\\n")


@app.get("/")
def index(request):
    return "ok"
"""


def _wait_for_lines(path: Path, count: int, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().split() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.1)
    return path.read_text().split() if path.exists() else []


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(
            [WSGILITE, "run", "startup_app.py:app", "--server", "gunicorn", "--workers", "2"],
            id="wsgilite-run",
        ),
        pytest.param(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:wsgilite.gunicorn",
                "-w",
                "2",
                "--no-control-socket",
                "startup_app:app",
            ],
            id="plain-gunicorn",
        ),
    ],
)
def test_startup_hooks_run_in_each_worker_before_any_request(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "startup_app.py").write_text(STARTUP_APP)
    marks = tmp_path / "marks.txt"
    port = free_port()
    bind = ["--port", str(port)] if command[0] == WSGILITE else ["-b", f"{HOST}:{port}"]
    env = {**os.environ, "STARTUP_MARKS": str(marks)}
    process = subprocess.Popen(
        [*command, *bind],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # No request is sent: the hooks ran because the workers started.
        pids = _wait_for_lines(marks, 2)
        assert len(pids) == 2, pids
        assert len(set(pids)) == 2  # one run per worker process ...
        assert str(process.pid) not in pids  # ... and never in the master
        assert get(port, "/") == (200, b"ok")
        time.sleep(0.3)
        assert len(marks.read_text().split()) == 2  # the request ran no hook again
    finally:
        stop(process)
