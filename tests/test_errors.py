"""Errors: abort, JSON or HTML error bodies, error handlers, and unhandled exceptions."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from werkzeug.exceptions import Forbidden, HTTPException, NotFound
from werkzeug.test import Client

from wsgilite import App, Request, Response, abort

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_abort_answers_with_the_status_and_description(app: App, client: Client) -> None:
    @app.get("/secret")
    def secret(request: Request) -> str:
        abort(403, "members only")

    response = client.get("/secret", headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "members only" in response.text


def test_an_error_is_json_when_the_client_prefers_json(app: App, client: Client) -> None:
    response = client.get("/missing", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.json is not None
    assert response.json["status"] == 404
    assert response.json["error"] == "Not Found"


def test_an_error_is_html_when_json_is_only_a_fallback(client: Client) -> None:
    response = client.get("/missing", headers={"Accept": "text/html, application/json;q=0.5"})

    assert response.mimetype == "text/html"


def test_an_error_description_is_escaped_in_html(app: App, client: Client) -> None:
    @app.get("/x")
    def x(request: Request) -> str:
        abort(400, "<script>alert(1)</script>")

    assert "&lt;script&gt;" in client.get("/x").text


def test_an_errorhandler_for_a_status_overrides_the_default(app: App, client: Client) -> None:
    @app.errorhandler(404)
    def not_found(request: Request, error: HTTPException) -> tuple[dict[str, str], int]:
        return {"missing": request.path}, 404

    response = client.get("/nope")

    assert response.status_code == 404
    assert response.json == {"missing": "/nope"}


def test_an_errorhandler_may_name_the_werkzeug_class(app: App, client: Client) -> None:
    @app.errorhandler(NotFound)
    def not_found(request: Request, error: HTTPException) -> tuple[str, int]:
        return "gone fishing", 404

    assert client.get("/nope").text == "gone fishing"


class PaymentError(Exception):
    pass


class CardDeclined(PaymentError):
    pass


def test_the_nearest_base_class_handler_wins(app: App, client: Client) -> None:
    @app.errorhandler(Exception)
    def anything(request: Request, error: Exception) -> tuple[str, int]:
        return "anything", 500

    @app.errorhandler(PaymentError)
    def payment(request: Request, error: Exception) -> tuple[dict[str, str], int]:
        return {"payment": type(error).__name__}, 402

    @app.get("/pay")
    def pay(request: Request) -> str:
        raise CardDeclined()

    response = client.get("/pay")

    assert response.status_code == 402
    assert response.json == {"payment": "CardDeclined"}


def test_an_unhandled_exception_is_logged_and_answered_500_without_traceback(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom(request: Request) -> str:
        raise RuntimeError("database password is hunter2")

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = client.get("/boom?x=1")

    assert response.status_code == 500
    assert b"hunter2" not in response.data
    assert b"Traceback" not in response.data
    message = caplog.records[-1].getMessage()
    assert message.startswith("500 on GET /boom: RuntimeError: database password is hunter2")
    assert "Traceback (most recent call last):" in message
    assert 'raise RuntimeError("database password is hunter2")' in message


def test_a_500_handler_gets_the_original_exception(app: App, client: Client) -> None:
    @app.errorhandler(500)
    def server_error(request: Request, error: HTTPException) -> tuple[str, int]:
        original = getattr(error, "original_exception", None)
        return f"sorry ({type(original).__name__})", 500

    @app.get("/boom")
    def boom(request: Request) -> str:
        raise KeyError("x")

    assert client.get("/boom").text == "sorry (KeyError)"


def test_a_failing_error_handler_falls_back_to_a_plain_500(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    @app.errorhandler(404)
    def broken(request: Request, error: HTTPException) -> str:
        raise ValueError("handler bug")

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = client.get("/nope")

    assert response.status_code == 500
    assert "handler bug" in caplog.text


def test_an_error_handler_may_return_a_dict_or_list(app: App, client: Client) -> None:
    @app.errorhandler(405)
    def wrong_method(request: Request, error: HTTPException) -> list[str]:
        return ["wrong", "method"]

    @app.get("/only-get")
    def only_get(request: Request) -> str:
        return ""

    response = client.post("/only-get")

    assert response.status_code == 200
    assert response.json == ["wrong", "method"]


def test_debug_mode_lets_the_exception_reach_the_debugger(app: App, client: Client) -> None:
    app.debug = True

    @app.get("/boom")
    def boom(request: Request) -> str:
        raise RuntimeError("show me")

    with pytest.raises(RuntimeError, match="show me"):
        client.get("/boom")


def test_errorhandler_rejects_a_non_error_status(app: App) -> None:
    with pytest.raises(ValueError, match="400 to 599"):
        app.errorhandler(200)


def test_no_request_can_turn_the_debugger_on(app: App, client: Client) -> None:
    @app.get("/boom")
    def boom(request: Request) -> str:
        raise RuntimeError("secret detail")

    for path in ("/boom?__debugger__=yes&cmd=resource&f=debugger.js", "/console", "/boom"):
        response = client.get(path, headers={"X-Debug": "1", "Cookie": "__wzd=1"})
        assert response.status_code in (404, 500)
        assert b"secret detail" not in response.data
        assert b"Traceback" not in response.data
        assert b"__debugger__" not in response.data
    assert app.debug is False


def test_no_file_path_or_config_value_reaches_an_error_page(app: App, client: Client) -> None:
    app.config["SECRET_KEY"] = "config-secret-value"

    @app.get("/boom")
    def boom(request: Request) -> str:
        raise OSError(f"cannot open {__file__} with {app.config['SECRET_KEY']}")

    response = client.get("/boom", headers={"Accept": "application/json"})

    assert response.status_code == 500
    assert __file__.encode() not in response.data
    assert b"config-secret-value" not in response.data


# -- One path from exception to response: class, status, client fault, debug, 500 handler ----------


class NotYours(Forbidden):
    description = "This note belongs to someone else."


def test_the_most_specific_class_wins_over_the_status_code(app: App, client: Client) -> None:
    @app.errorhandler(403)
    def forbidden(request: Request, error: HTTPException) -> tuple[str, int]:
        return "any 403", 403

    @app.errorhandler(NotYours)
    def not_yours(request: Request, error: NotYours) -> tuple[str, int]:
        return "not yours", 403

    @app.get("/note")
    def note(request: Request) -> str:
        raise NotYours()

    @app.get("/admin")
    def admin(request: Request) -> str:
        abort(403)

    assert client.get("/note").text == "not yours"
    assert client.get("/admin").text == "any 403"


def test_a_status_handler_wins_over_a_generic_exception_handler(app: App, client: Client) -> None:
    @app.errorhandler(Exception)
    def anything(request: Request, error: Exception) -> tuple[str, int]:
        return "anything", 500

    @app.errorhandler(HTTPException)
    def http(request: Request, error: HTTPException) -> tuple[str, int]:
        return "some HTTP error", error.code or 500

    @app.errorhandler(404)
    def not_found(request: Request, error: HTTPException) -> tuple[str, int]:
        return "404 page", 404

    @app.get("/gone")
    def gone(request: Request) -> str:
        abort(410)

    assert client.get("/nope").text == "404 page"
    assert client.get("/gone").text == "some HTTP error"


def test_a_status_handler_answers_an_http_error_class_of_its_own(app: App, client: Client) -> None:
    class Teapot(HTTPException):
        code = 418
        description = "short and stout"

    @app.errorhandler(HTTPException)
    def http(request: Request, error: HTTPException) -> tuple[str, int]:
        return "generic", 500

    @app.errorhandler(418)
    def teapot(request: Request, error: HTTPException) -> tuple[str, int]:
        return "teapot", 418

    @app.get("/tea")
    def tea(request: Request) -> str:
        raise Teapot()

    assert client.get("/tea").text == "teapot"


def test_an_error_handler_that_aborts_answers_that_status(app: App, client: Client) -> None:
    @app.errorhandler(404)
    def not_found(request: Request, error: HTTPException) -> str:
        abort(410)

    response = client.get("/nope")

    assert response.status_code == 410


def test_a_failing_handler_is_answered_by_the_500_handler_once(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    @app.errorhandler(ValueError)
    def broken(request: Request, error: ValueError) -> str:
        calls.append("value")
        raise LookupError("the handler has a bug too")

    @app.errorhandler(500)
    def server_error(request: Request, error: HTTPException) -> tuple[str, int]:
        calls.append("500")
        return "sorry", 500

    @app.get("/boom")
    def boom(request: Request) -> str:
        raise ValueError("first")

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = client.get("/boom")

    assert (response.status_code, response.text) == (500, "sorry")
    assert calls == ["value", "500"]
    assert "LookupError: the handler has a bug too" in caplog.text
    assert "ValueError: first" in caplog.text  # the chain is in the traceback


def test_a_template_that_fails_to_render_takes_the_same_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.html").write_text("{{ missing.attribute.deeper }}")
    (tmp_path / "500.html").write_text("<h1>Sorry</h1>")
    site = App(__name__, template_folder=str(tmp_path))
    handled: list[str] = []

    @site.get("/")
    def index(request: Request) -> Response:
        return site.render("broken.html")

    @site.errorhandler(500)
    def server_error(request: Request, error: HTTPException) -> tuple[Response, int]:
        handled.append(type(getattr(error, "original_exception", None)).__name__)
        return site.render("500.html"), 500

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = site.test_client().get("/")

    assert (response.status_code, response.text) == (500, "<h1>Sorry</h1>")
    assert handled == ["UndefinedError"]
    assert "UndefinedError" in caplog.text


def test_a_500_page_that_fails_to_render_gives_the_default_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "500.html").write_text("{% for %}")
    site = App(__name__, template_folder=str(tmp_path))

    @site.get("/")
    def index(request: Request) -> str:
        raise RuntimeError("first failure")

    @site.errorhandler(500)
    def server_error(request: Request, error: HTTPException) -> tuple[Response, int]:
        return site.render("500.html"), 500

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = site.test_client().get("/", headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert "the error handler for 500 failed too" in caplog.text


def test_the_slash_redirect_never_goes_through_error_handlers(app: App, client: Client) -> None:
    @app.errorhandler(Exception)
    def anything(request: Request, error: Exception) -> tuple[str, int]:
        return "handled", 500

    @app.get("/docs/")
    def docs(request: Request) -> str:
        return "docs"

    response = client.get("/docs")

    assert response.status_code == 308
    assert response.headers["Location"] == "/docs/"
