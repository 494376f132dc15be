"""Real servers for tests: start a command on a free port, wait for it, always stop it.

`served(command, port)` starts a server in its own process group, yields its base URL once
127.0.0.1:port accepts connections, and stops the whole group by PID on exit, even when the test
fails. `raw_http` sends exact bytes, for requests http.client would rewrite.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO

HOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def served(
    command: list[str],
    port: int,
    *,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Iterator[str]:
    """Run `command` until the block ends; yield `http://127.0.0.1:{port}` once it accepts."""
    # Output goes to files, not pipes: a server that logs every request would block on a full pipe.
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=stdout, stderr=stderr, start_new_session=True
        )
        try:
            _wait_until_accepting(process, port, timeout, stdout, stderr)
            yield f"http://{HOST}:{port}"
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Send SIGTERM to the process group of `process`, then SIGKILL if it outlives `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_until_accepting(
    process: subprocess.Popen[bytes],
    port: int,
    timeout: float,
    stdout: IO[bytes],
    stderr: IO[bytes],
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args!r} exited with {process.returncode} before accepting on "
                f"port {port}\n{_output(stdout, stderr)}"
            )
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"{process.args!r} did not accept on port {port} within {timeout} s\n"
        f"{_output(stdout, stderr)}"
    )


def _output(*files: IO[bytes]) -> str:
    texts = []
    for file in files:
        file.seek(0)
        texts.append(file.read().decode("utf-8", "replace")[-4000:])
    return "--- stdout ---\n{}\n--- stderr ---\n{}".format(*texts)


def raw_http(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send `data` to 127.0.0.1:port and return the reply: one full response, or all until close."""
    with socket.create_connection((HOST, port), timeout=timeout) as connection:
        connection.sendall(data)
        reply = b""
        while not _is_complete(reply, head=data.startswith(b"HEAD ")):
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
        return reply


def _is_complete(reply: bytes, head: bool) -> bool:
    header_end = reply.find(b"\r\n\r\n")
    if header_end < 0:
        return False
    body = reply[header_end + 4 :]
    for line in reply[:header_end].lower().split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip() == b"content-length":
            return head or len(body) >= int(value)
        if name.strip() == b"transfer-encoding" and b"chunked" in value:
            return body.endswith(b"0\r\n\r\n")
    return head  # no length: the body ends when the server closes


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send GET `path` on a new connection; return the status and body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextlib.contextmanager
def gunicorn_app(
    folder: str,
    source: str,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    worker_class: str = "sync",
    options: tuple[str, ...] = (),
) -> Iterator[int]:
    """Serve `app` of the module `source` (written to `folder`) with gunicorn; yield its port."""
    import wsgilite

    src = os.path.dirname(os.path.dirname(os.path.abspath(wsgilite.__file__)))
    with open(os.path.join(folder, "served_app.py"), "w", encoding="utf-8") as file:
        file.write(source)
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class),
        *("-b", f"{HOST}:{port}", "--no-control-socket", *options, "served_app:app"),
    ]
    paths = os.pathsep.join([src, folder])
    with served(command, port, cwd=folder, env={**os.environ, **(env or {}), "PYTHONPATH": paths}):
        yield port
