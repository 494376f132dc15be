"""Logs: crashes and access lines on the `wsgilite` logger, with client text escaped."""

from __future__ import annotations

import logging

import pytest
from werkzeug.test import Client

from wsgilite import App, Request
from wsgilite.logs import escape


def test_escape_turns_control_characters_into_text_and_cuts_long_text() -> None:
    assert escape("a\r\nb\x1b") == "a\\r\\nb\\x1b"
    assert escape("x" * 2000).endswith("... (2000 characters)")


def test_a_log_line_cannot_be_forged_through_the_path(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/<anything>")
    def boom(request: Request, anything: str) -> str:
        raise RuntimeError("x")

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        client.get("/a%0d%0aINFO fake entry")

    first_line, *traceback_lines = caplog.records[-1].getMessage().splitlines()
    assert first_line == "500 on GET /a\\r\\nINFO fake entry: RuntimeError: x"
    assert not any(line.startswith("INFO fake entry") for line in traceback_lines)


def test_an_exception_message_cannot_forge_a_log_line_through_the_traceback(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/user/<name>")
    def user(request: Request, name: str) -> str:
        try:
            raise KeyError(name)
        except KeyError as exc:
            raise LookupError(f"no such user: {name}") from exc

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        client.get("/user/bob%0a2026-01-01 INFO admin logged in")

    lines = caplog.text.splitlines()
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert "LookupError: no such user: bob\\n2026-01-01 INFO admin logged in" in caplog.text
    assert "which led to:" in caplog.text


def test_the_access_log_has_one_escaped_line_per_request(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["ACCESS_LOG"] = True

    @app.get("/<anything>")
    def echo(request: Request, anything: str) -> str:
        return "ok"

    with caplog.at_level(logging.INFO, logger="wsgilite"):
        client.get("/a%0aforged?q=1")

    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1
    assert '"GET /a\\nforged?q=1" 200' in lines[0]


def test_the_wsgiref_servers_own_lines_are_escaped_debug_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from wsgilite.servers import _QuietHandler

    handler = _QuietHandler.__new__(_QuietHandler)
    handler.client_address = ("127.0.0.1", 5000)
    with caplog.at_level(logging.DEBUG, logger="wsgilite"):
        handler.log_message('"%s" %s', "GET /\x1b[31mred\r\nINFO forged", "404")

    (record,) = caplog.records
    assert record.name == "wsgilite.server"
    assert record.levelno == logging.DEBUG
    assert "\x1b" not in record.getMessage() and "\n" not in record.getMessage()
