"""Static files: types, caching headers, conditional and range requests, nothing outside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from werkzeug.test import Client

from wsgilite import App


@pytest.fixture
def site(tmp_path: Path) -> App:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body { color: #333; }\n")
    (static / "data.bin").write_bytes(bytes(range(100)))
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    os.symlink(tmp_path / "secret.txt", static / "link.txt")
    return App(__name__, static_folder=str(static), config={"SEND_FILE_MAX_AGE_DEFAULT": 600})


@pytest.fixture
def static_client(site: App) -> Client:
    return site.test_client()


def test_a_file_is_served_with_type_etag_and_last_modified(static_client: Client) -> None:
    response = static_client.get("/static/css/site.css")

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.text == "body { color: #333; }\n"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    assert "max-age=600" in response.headers["Cache-Control"]


def test_a_conditional_request_gets_304(static_client: Client) -> None:
    etag = static_client.get("/static/css/site.css").headers["ETag"]

    response = static_client.get("/static/css/site.css", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""


def test_a_range_request_gets_206_and_a_bad_range_416(static_client: Client) -> None:
    partial = static_client.get("/static/data.bin", headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206
    assert partial.data == bytes(range(10, 20))
    assert partial.headers["Content-Range"] == "bytes 10-19/100"

    beyond = static_client.get("/static/data.bin", headers={"Range": "bytes=500-600"})
    assert beyond.status_code == 416


def test_url_for_static(site: App) -> None:
    assert site.url_for("static", filename="css/site.css") == "/static/css/site.css"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/css/../../secret.txt",
        "/static/..\\secret.txt",
        "/static/css%5c..%5c..%5csecret.txt",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/secret.txt%00.css",
        "/static/link.txt",
        "/static/",
        "/static/css",
    ],
)
def test_nothing_outside_the_folder_is_served(static_client: Client, path: str) -> None:
    response = static_client.get(path)

    assert response.status_code in (404, 308)
    assert b"TOP SECRET" not in response.data
    assert b"root:" not in response.data


def test_an_app_without_a_static_folder_has_no_static_route(tmp_path: Path) -> None:
    site = App(__name__, static_folder=None)

    assert all(route.endpoint != "static" for route in site.routes())
