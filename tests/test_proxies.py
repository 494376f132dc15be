"""Proxies: X-Forwarded-* believed from trusted peers only, and through a real nginx."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from serving import HOST, free_port, gunicorn_app, served
from werkzeug.test import Client

from wsgilite import App, Request
from wsgilite.proxies import trust_proxies

FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.test",
}


@pytest.fixture
def who(app: App) -> App:
    @app.get("/who")
    def who_is_it(request: Request) -> dict[str, str | None]:
        return {
            "addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "url": request.url_for("who_is_it", _external=True),
        }

    return app


def test_a_trusted_proxy_is_believed(who: App) -> None:
    client = trust_proxies(who, x_for=1, x_proto=1, x_host=1).test_client()

    answer = client.get("/who", headers=FORWARDED, environ_overrides={"REMOTE_ADDR": "127.0.0.1"})

    assert answer.json == {
        "addr": "203.0.113.9",
        "scheme": "https",
        "host": "example.test",
        "url": "https://example.test/who",
    }


def test_an_untrusted_peer_has_its_forwarded_headers_ignored(who: App) -> None:
    client = trust_proxies(who, x_host=1).test_client()

    answer = client.get(
        "/who", headers=FORWARDED, environ_overrides={"REMOTE_ADDR": "198.51.100.7"}
    )

    assert answer.json is not None
    assert answer.json["addr"] == "198.51.100.7"
    assert answer.json["scheme"] == "http"
    assert answer.json["host"] == "localhost"


def test_peers_can_be_networks_or_anyone(who: App) -> None:
    private = trust_proxies(who, peers=["10.0.0.0/8"]).test_client()
    anyone = trust_proxies(who, peers=None).test_client()
    outside = {"REMOTE_ADDR": "192.0.2.1"}

    inside = private.get("/who", headers=FORWARDED, environ_overrides={"REMOTE_ADDR": "10.1.2.3"})

    assert inside.json is not None and inside.json["addr"] == "203.0.113.9"
    assert anyone.get("/who", headers=FORWARDED, environ_overrides=outside).json == {
        "addr": "203.0.113.9",
        "scheme": "https",
        "host": "localhost",
        "url": "https://localhost/who",
    }


def test_only_as_many_hops_as_proxies_are_trusted(who: App) -> None:
    client = trust_proxies(who, x_for=1).test_client()
    spoofed = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}  # the client wrote the first one

    answer = client.get("/who", headers=spoofed, environ_overrides={"REMOTE_ADDR": "127.0.0.1"})

    assert answer.json is not None and answer.json["addr"] == "203.0.113.9"


def test_a_bad_count_is_refused(app: App) -> None:
    with pytest.raises(ValueError, match="how many proxies"):
        trust_proxies(app, x_for=-1)


def test_an_unused_battery_changes_nothing(who: App, client: Client) -> None:
    answer = client.get("/who", headers=FORWARDED)

    assert answer.json is not None and answer.json["addr"] != "203.0.113.9"
    assert answer.json["scheme"] == "http"
    assert answer.json["host"] == "localhost"


SERVED_APP = """
from wsgilite import App, Request
from wsgilite.proxies import trust_proxies

app = App(__name__)


@app.get("/who")
def who(request: Request):
    return {
        "addr": request.remote_addr,
        "scheme": request.scheme,
        "host": request.host,
        "url": request.url_for("who", _external=True),
    }


application = trust_proxies(app, x_for=1, x_proto=1, x_host=1, peers=["127.0.0.1/32"])
app = application  # gunicorn serves served_app:app
"""

NGINX_CONF = """
daemon off;
worker_processes 1;
{user}
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name example.test;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;  # as if nginx ended TLS
            proxy_set_header X-Forwarded-Host $host;
        }}
    }}
}}
"""


def _get(port: int, source: str, path: str, headers: dict[str, str]) -> bytes:
    # From another loopback address, so the client is not the proxy.
    with socket.create_connection((HOST, port), timeout=5, source_address=(source, 0)) as sock:
        lines = [f"GET {path} HTTP/1.1", "Host: example.test", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    return reply


def test_behind_a_real_nginx(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if nginx is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing; .ci/run installs Debian's nginx")
        pytest.skip("nginx is not installed: apt-get install -y nginx")
    app_folder, proxy_folder = tmp_path / "app", tmp_path / "nginx"
    app_folder.mkdir()
    proxy_folder.mkdir()
    with gunicorn_app(str(app_folder), SERVED_APP) as upstream:
        port = free_port()
        user = "user root;" if os.geteuid() == 0 else ""
        conf = NGINX_CONF.format(folder=proxy_folder, port=port, upstream=upstream, user=user)
        (proxy_folder / "nginx.conf").write_text(conf)
        command = [nginx, "-p", str(proxy_folder), "-c", str(proxy_folder / "nginx.conf"),
                   "-e", str(proxy_folder / "error.log")]  # fmt: skip
        subprocess.run([*command, "-t"], check=True, capture_output=True)
        with served(command, port):
            through = _get(port, "127.0.0.2", "/who", {"X-Forwarded-For": "6.6.6.6"})
        direct = _get(upstream, "127.0.0.3", "/who", FORWARDED)

    assert b"HTTP/1.1 200" in through
    body = through.split(b"\r\n\r\n", 1)[1]
    assert b'"addr":"127.0.0.2"' in body  # the client nginx saw, not the one it claimed
    assert b'"scheme":"https"' in body
    assert b'"url":"https://example.test/who"' in body
    direct_body = direct.split(b"\r\n\r\n", 1)[1]
    assert b'"addr":"127.0.0.3"' in direct_body  # straight to gunicorn: headers ignored
    assert b'"scheme":"http"' in direct_body
