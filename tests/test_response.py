"""Responses: the return conventions, redirects, streaming and the fast Response path."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Any, cast
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response as WerkzeugResponse

from wsgilite import App, Request, Response, redirect, safe_next_url


def test_a_str_is_html(app: App, client: Client) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return "<p>héllo</p>"

    response = client.get("/")

    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.data == "<p>héllo</p>".encode()
    assert response.headers["Content-Length"] == str(len("<p>héllo</p>".encode()))


def test_bytes_are_sent_as_they_are(app: App, client: Client) -> None:
    @app.get("/raw")
    def raw(request: Request) -> bytes:
        return b"\x00\x01binary"

    response = client.get("/raw")

    assert response.data == b"\x00\x01binary"
    assert response.mimetype == "application/octet-stream"


def test_a_dict_is_sent_as_json(app: App, client: Client) -> None:
    @app.get("/users/<int:user_id>")
    def show_user(request: Request, user_id: int) -> dict[str, int]:
        return {"id": user_id}

    response = client.get("/users/7")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"id": 7}


def test_a_list_is_sent_as_json_with_unicode_kept(app: App, client: Client) -> None:
    @app.get("/names")
    def names(request: Request) -> list[str]:
        return ["Zoë", "李"]

    response = client.get("/names")

    assert response.data == '["Zoë","李"]'.encode()
    assert response.json == ["Zoë", "李"]


def test_json_encodes_dates_uuids_and_dataclasses(app: App, client: Client) -> None:
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    @app.get("/mixed")
    def mixed(request: Request) -> dict[str, object]:
        return {"when": datetime.date(2026, 1, 2), "point": Point(1, 2)}

    assert client.get("/mixed").json == {"when": "2026-01-02", "point": {"x": 1, "y": 2}}


@pytest.mark.parametrize(
    ("result", "status", "header"),
    [
        (("created", 201), 201, None),
        (("teapot", "418 I'M A TEAPOT"), 418, None),
        (("with header", {"X-Extra": "1"}), 200, "1"),
        (("both", 202, {"X-Extra": "2"}), 202, "2"),
        (({"json": True}, 201, [("X-Extra", "3")]), 201, "3"),
    ],
)
def test_tuples_add_status_and_headers(
    app: App, client: Client, result: object, status: int, header: str | None
) -> None:
    @app.get("/t")
    def handler(request: Request) -> object:
        return result

    response = client.get("/t")

    assert response.status_code == status
    assert response.headers.get("X-Extra") == header


def test_a_header_in_a_tuple_replaces_the_default_content_type(app: App, client: Client) -> None:
    @app.get("/plain")
    def plain(request: Request) -> tuple[str, int, dict[str, str]]:
        return "Hello", 200, {"Content-Type": "text/plain"}

    response = client.get("/plain")

    assert response.headers.getlist("Content-Type") == ["text/plain"]


def test_a_response_object_is_sent_as_it_is(app: App, client: Client) -> None:
    @app.get("/r")
    def handler(request: Request) -> Response:
        response = Response("Hello, World!", mimetype="text/plain", status=203)
        response.set_cookie("flavour", "oat")
        return response

    response = client.get("/r")

    assert response.status_code == 203
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == "Hello, World!"
    assert "flavour=oat" in response.headers["Set-Cookie"]


def test_a_generator_is_streamed_and_closed(app: App, client: Client) -> None:
    closed: list[bool] = []

    @app.get("/stream")
    def stream(request: Request) -> Iterator[str]:
        def chunks() -> Iterator[str]:
            try:
                yield "one,"
                yield "two"
            finally:
                closed.append(True)

        return chunks()

    response = client.get("/stream")

    assert response.text == "one,two"
    assert "Content-Length" not in response.headers
    assert closed == [True]


@pytest.mark.parametrize("bad", [None, 42, object()])
def test_an_unsupported_return_is_a_500_whose_log_names_the_handler(
    app: App, client: Client, caplog: pytest.LogCaptureFixture, bad: object
) -> None:
    @app.get("/bad")
    def broken_handler(request: Request) -> object:
        return bad

    with caplog.at_level(logging.ERROR, logger="wsgilite"):
        response = client.get("/bad")

    assert response.status_code == 500
    assert b"Traceback" not in response.data
    assert "broken_handler returned" in caplog.text
    assert repr(bad) in caplog.text


def test_redirect_sets_location_and_status(app: App, client: Client) -> None:
    @app.get("/old")
    def old(request: Request) -> Response:
        return redirect("/new", 301)

    response = client.get("/old")

    assert response.status_code == 301
    assert response.headers["Location"] == "/new"


def test_redirect_refuses_header_injection() -> None:
    with pytest.raises(ValueError, match="CR, LF"):
        redirect("/next\r\nSet-Cookie: evil=1")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/notes/3?x=1", "/notes/3?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("notes", "/"),
        (None, "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_safe_next_url_keeps_redirects_on_this_site(target: str | None, expected: str) -> None:
    assert safe_next_url(target) == expected


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("Hello",), {}),
        ((b"bytes",), {"mimetype": "text/plain"}),
        (("x",), {"status": 404}),
        (("x",), {"content_type": "application/xml"}),
        (("",), {"status": 204}),
        (("x",), {"headers": {"X-A": "1", "Content-Type": "text/csv"}}),
        (("x",), {"headers": {"X-A": "1"}, "mimetype": "text/plain"}),
        (("x",), {"headers": {"Content-Type": "text/csv"}, "mimetype": "text/plain"}),
        (("x",), {"headers": [("X-A", "1")]}),
        (("x",), {"status": 299}),
        ((["a", "b"],), {}),
    ],
)
def test_the_fast_response_constructor_matches_werkzeugs(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    ours = Response(*args, **kwargs)  # type: ignore[arg-type]

    class Plain(WerkzeugResponse):
        default_mimetype = "text/html"

    theirs = Plain(*args, **kwargs)  # type: ignore[arg-type]
    assert ours.status == theirs.status
    assert ours.headers.to_wsgi_list() == theirs.headers.to_wsgi_list()
    assert ours.get_data() == theirs.get_data()
    assert vars(ours).keys() == vars(theirs).keys()


def test_a_list_of_headers_may_repeat_a_name(app: App, client: Client) -> None:
    @app.get("/cookies")
    def cookies(request: Request) -> tuple[str, int, list[tuple[str, str]]]:
        return "two cookies", 200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]

    response = client.get("/cookies")

    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_a_tuple_status_reaches_every_kind_of_body(app: App, client: Client) -> None:
    @app.get("/stream")
    def stream(request: Request) -> tuple[Iterator[str], int]:
        return iter(["a", "b"]), 206

    @app.get("/json")
    def json_list(request: Request) -> tuple[list[int], int]:
        return [1], 201

    assert client.get("/stream").status_code == 206
    assert client.get("/json").status_code == 201


@pytest.mark.parametrize("option", ["mimetype", "content_type"])
def test_a_content_type_with_crlf_is_a_400_not_a_split_response(
    app: App, client: Client, option: str
) -> None:
    @app.get("/download")
    def download(request: Request) -> Response:
        options: dict[str, Any] = {option: request.args["type"]}
        return Response("data", **options)

    response = client.get("/download?type=text/plain%0d%0aSet-Cookie:%20session=attacker")

    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers


def test_a_redirect_to_client_text_with_crlf_is_a_400(app: App, client: Client) -> None:
    @app.get("/go")
    def go(request: Request) -> Response:
        return redirect(request.args["to"])

    response = client.get("/go?to=/home%0d%0aSet-Cookie:%20x=1")

    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers


def test_a_lone_surrogate_from_client_json_is_sent_escaped(app: App, client: Client) -> None:
    @app.post("/echo")
    def echo(request: Request) -> dict[str, object]:
        return {"you_sent": cast(dict[str, str], request.json)["name"]}

    response = client.post("/echo", data='{"name": "\\ud800"}', content_type="application/json")

    assert response.status_code == 200
    assert response.data == b'{"you_sent":"\\ud800"}'


def test_json_encoding_is_safe_across_threads(app: App, client: Client) -> None:
    shared = {"when": datetime.date(2026, 1, 2), "items": [{"n": n} for n in range(50)]}

    @app.get("/shared")
    def shared_data(request: Request) -> dict[str, object]:
        return shared

    statuses: list[int] = []

    def fetch() -> None:
        local = app.test_client()
        statuses.extend(local.get("/shared").status_code for _ in range(100))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [200] * 800


def test_call_on_close_runs_for_a_buffered_response(app: App, client: Client) -> None:
    closed: list[str] = []

    @app.get("/report")
    def report(request: Request) -> Response:
        response = Response("done")
        response.call_on_close(lambda: closed.append("closed"))
        return response

    response = client.get("/report")
    assert response.text == "done"
    response.close()  # what a server does once the body is sent

    assert closed == ["closed"]


def test_a_204_carries_no_content_type(app: App) -> None:
    @app.delete("/items/<int:item>")
    def remove(request: Request, item: int) -> tuple[str, int]:
        return "", 204

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = Client(validator(app)).delete("/items/3")
        response.close()

    assert response.status_code == 204
    assert "Content-Type" not in response.headers


def test_a_header_value_beyond_latin1_is_a_400(app: App, client: Client) -> None:
    @app.get("/echo")
    def echo(request: Request) -> tuple[str, dict[str, str]]:
        return "x", {"X-Echo": request.args["v"]}

    assert client.get("/echo?v=caf%C3%A9").headers["X-Echo"] == "café"  # latin-1 is fine
    assert client.get("/echo?v=%E2%98%83").status_code == 400  # a snowman is not


def test_add_vary_adds_a_name_once() -> None:
    from wsgilite.response import add_vary

    response = Response("hi")
    add_vary(response.headers, "Origin")
    add_vary(response.headers, "origin")
    add_vary(response.headers, "Accept-Encoding")
    starred = Response("hi", headers={"Vary": "*"})
    add_vary(starred.headers, "Origin")

    assert response.headers.getlist("Vary") == ["Origin, Accept-Encoding"]
    assert starred.headers["Vary"] == "*"


def test_replace_headers_drops_earlier_values_and_checks_new_ones() -> None:
    from wsgilite.headers import UnsafeHeaderValue
    from wsgilite.response import replace_headers

    response = Response("hi", headers={"X-A": "old", "X-B": "kept"})
    replace_headers(response.headers, [("x-a", "new"), ("X-C", "added")])

    assert response.headers.getlist("X-A") == ["new"]
    assert response.headers["X-B"] == "kept"
    assert response.headers["X-C"] == "added"
    with pytest.raises(UnsafeHeaderValue):
        replace_headers(response.headers, [("X-D", "bad\r\nSet-Cookie: a=b")])


# -- the plain path: an answer no hook reads is sent without a Response -------------------------

PLAIN_RETURNS: list[Any] = [
    "<p>café</p>",
    b"\x00bytes",
    {"a": [1, "é"]},
    [1, 2],
    ("made", 201),
    ("text", {"Content-Type": "text/plain"}),
    ("lower", {"content-type": "text/css", "X-A": "1"}),
    ({"id": 1}, 201, {"Location": "/items/1"}),
    ("two", 200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]),
    ("gone", 410, {"Cache-Control": "no-store", "X-Frame-Options": "SAMEORIGIN"}),
    ("", 204),
    ("moved", 302, {"Location": "/café"}),
    ("odd", 299),
    ("early", 103),
    ("own", {"Content-Length": "3"}),
]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("returned", PLAIN_RETURNS, ids=repr)
def test_a_plain_answer_is_sent_as_a_response_object_would_be(returned: Any, method: str) -> None:
    # The same return value, with and without an after-hook (which makes a Response to show it).
    plain, hooked = App(__name__), App(__name__)
    for app in (plain, hooked):
        app.get("/", endpoint="answer")(lambda request: returned)
    hooked.after_request(lambda request, response: response)

    sent = [Client(app).open("/", method=method) for app in (plain, hooked)]

    assert sent[0].status == sent[1].status
    assert sent[0].headers.to_wsgi_list() == sent[1].headers.to_wsgi_list()
    assert sent[0].data == sent[1].data
    assert sent[0].headers["X-Content-Type-Options"] == "nosniff"


def test_a_plain_answer_is_logged_with_its_status(
    app: App, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["ACCESS_LOG"] = True
    app.get("/made")(lambda request: ("made", 201))

    with caplog.at_level(logging.INFO, logger="wsgilite"):
        client.get("/made")

    assert [record.getMessage() for record in caplog.records] == ['- "GET /made" 201']


def test_new_security_headers_reach_the_next_plain_answer(app: App, client: Client) -> None:
    app.get("/")(lambda request: {"ok": True})
    assert client.get("/").headers["X-Content-Type-Options"] == "nosniff"

    app.config["SECURITY_HEADERS"] = {"X-Content-Type-Options": "nosniff", "X-Extra": "1"}

    assert client.get("/").headers["X-Extra"] == "1"


@pytest.mark.parametrize("returned", [("early", 103), Response("early", status=103)], ids=repr)
def test_an_informational_status_is_sent_without_a_body(
    app: App, client: Client, returned: Any
) -> None:
    # A 1xx cannot end a response (RFC 9110 §15.2): werkzeug sends it with no body or length.
    app.get("/")(lambda request: returned)

    response = client.get("/")

    assert response.status_code == 103
    assert response.data == b""
    assert "Content-Length" not in response.headers
