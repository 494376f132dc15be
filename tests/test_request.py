"""Requests: werkzeug's API, read lazily, with UTF-8 everywhere and body limits from config."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from wsgilite import App, Request


def test_args_decode_utf8_and_keep_repeated_keys(app: App, client: Client) -> None:
    @app.get("/search")
    def search(request: Request) -> dict[str, object]:
        return {
            "q": request.args.get("q"),
            "tags": request.args.getlist("tag"),
            "page": request.args.get("page", type=int),
        }

    response = client.get("/search?q=caf%C3%A9+cr%C3%A8me&tag=a&tag=b&page=2")

    assert response.json == {"q": "café crème", "tags": ["a", "b"], "page": 2}


def test_form_fields_are_utf8(app: App, client: Client) -> None:
    @app.post("/login")
    def login(request: Request) -> dict[str, str]:
        return request.form.to_dict()

    response = client.post(
        "/login",
        data="username=wupeiqi&password=123&city=K%C3%B6ln",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.json == {"username": "wupeiqi", "password": "123", "city": "Köln"}


def test_a_form_charset_parameter_is_accepted(app: App, client: Client) -> None:
    @app.post("/f")
    def form(request: Request) -> dict[str, str]:
        return request.form.to_dict()

    response = client.post(
        "/f", data="a=1", content_type="application/x-www-form-urlencoded; charset=UTF-8"
    )

    assert response.json == {"a": "1"}


def test_multipart_forms_and_files(app: App, client: Client) -> None:
    @app.post("/upload")
    def upload(request: Request) -> dict[str, object]:
        file = request.files["document"]
        return {"title": request.form["title"], "name": file.filename, "size": len(file.read())}

    response = client.post(
        "/upload",
        data={"title": "Report", "document": (io.BytesIO(b"x" * 1000), "report.pdf")},
    )

    assert response.json == {"title": "Report", "name": "report.pdf", "size": 1000}


def test_json_bodies(app: App, client: Client) -> None:
    @app.post("/echo")
    def echo(request: Request) -> object:
        return {"got": request.json}

    assert client.post("/echo", json={"a": [1, 2]}).json == {"got": {"a": [1, 2]}}


def test_invalid_json_is_a_400_that_says_so(app: App, client: Client) -> None:
    @app.post("/echo")
    def echo(request: Request) -> object:
        return {"got": request.json}

    response = client.post(
        "/echo",
        data="{not json",
        content_type="application/json",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 400
    assert response.json is not None
    assert "request body is not valid JSON" in response.json["description"]


def test_json_with_the_wrong_content_type_is_415(app: App, client: Client) -> None:
    @app.post("/echo")
    def echo(request: Request) -> object:
        return {"got": request.json}

    assert client.post("/echo", data='{"a": 1}', content_type="text/plain").status_code == 415


def test_a_body_over_max_content_length_is_413_without_reading_it(app: App, client: Client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100

    @app.post("/upload")
    def upload(request: Request) -> str:
        return str(len(request.get_data()))

    class Exploding(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("the body was read")

    builder = EnvironBuilder(
        method="POST", path="/upload", data=b"x" * 101, content_type="application/octet-stream"
    )
    environ = builder.get_environ()
    environ["wsgi.input"] = Exploding()

    _, status, _ = run_wsgi_app(app, environ)

    assert status.startswith("413")


def test_too_many_form_fields_is_413(app: App, client: Client) -> None:
    app.config["MAX_FORM_PARTS"] = 10

    @app.post("/f")
    def form(request: Request) -> str:
        return str(len(request.form))

    body = "&".join(f"f{index}=1" for index in range(11))
    response = client.post("/f", data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413


def test_nothing_is_parsed_that_the_handler_does_not_touch(app: App) -> None:
    @app.post("/ignore")
    def ignore(request: Request) -> str:
        return "ignored"

    class Exploding(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("the body was read")

    environ = EnvironBuilder(
        method="POST", path="/ignore", data="a=1", content_type="application/x-www-form-urlencoded"
    ).get_environ()
    environ["wsgi.input"] = Exploding()

    body, status, _ = run_wsgi_app(app, environ)

    assert status == "200 OK"
    assert b"".join(body) == b"ignored"


def test_request_knows_its_app_and_werkzeug_attributes(app: App, client: Client) -> None:
    @app.get("/items/<int:item>")
    def show(request: Request, item: int) -> dict[str, object]:
        return {
            "app": request.app is app,
            "params": request.path_params,
            "url": request.url,
            "host": request.host,
            "scheme": request.scheme,
            "cookie": request.cookies.get("c"),
            "agent": request.headers.get("User-Agent"),
            "remote": request.remote_addr,
        }

    client.set_cookie("c", "chip")
    response = client.get(
        "/items/3?x=1",
        headers={"User-Agent": "tests"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )

    assert response.json == {
        "app": True,
        "params": {"item": 3},
        "url": "http://localhost/items/3?x=1",
        "host": "localhost",
        "scheme": "http",
        "cookie": "chip",
        "agent": "tests",
        "remote": "127.0.0.1",
    }


def test_a_non_ascii_path_is_decoded_as_utf8(app: App, client: Client) -> None:
    @app.get("/wiki/<title>")
    def wiki(request: Request, title: str) -> str:
        return title

    assert client.get("/wiki/Z%C3%BCrich").text == "Zürich"


@pytest.mark.parametrize("query", ["a=%ff", "%ff=1", "a=%E2%82"])
def test_invalid_utf8_in_the_query_stays_percent_encoded(
    app: App, client: Client, query: str
) -> None:
    @app.get("/q")
    def q(request: Request) -> dict[str, list[str]]:
        return request.args.to_dict(flat=False)

    response = client.get(f"/q?{query}")

    assert response.status_code == 200
    assert "%" in response.text


def test_the_raw_body_is_still_there_after_the_form_was_read(app: App, client: Client) -> None:
    @app.post("/hook")
    def hook(request: Request) -> dict[str, object]:
        return {"form": request.form.to_dict(), "raw": request.get_data(as_text=True)}

    response = client.post(
        "/hook", data="event=push&ref=main", content_type="application/x-www-form-urlencoded"
    )

    assert response.json == {"form": {"event": "push", "ref": "main"}, "raw": "event=push&ref=main"}


def test_a_body_over_the_limit_is_413_even_where_the_handler_ignores_it(
    app: App, client: Client
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/ignore")
    def ignore(request: Request) -> str:
        return "never read"

    assert client.post("/ignore", data=b"x" * 11).status_code == 413
    assert client.post("/ignore", data=b"x" * 10).text == "never read"


@pytest.mark.parametrize("body", ["[NaN]", '{"a": Infinity}', "-Infinity"])
def test_json_that_is_not_json_is_a_400(app: App, client: Client, body: str) -> None:
    @app.post("/echo")
    def echo(request: Request) -> object:
        return {"got": request.json}

    response = client.post("/echo", data=body, content_type="application/json")

    assert response.status_code == 400
    assert "is not valid JSON" in response.text


@pytest.mark.parametrize(
    "body",
    [
        b"garbage",
        b"--abc\r\nContent-Disposition: form-data; name=a\r\n\r\ncut sh",
        b"--abc\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--abc--\r\n",
        b"--other\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--other--\r\n",
    ],
    ids=["garbage", "truncated", "nameless-part", "wrong-boundary"],
)
def test_a_malformed_multipart_body_is_a_400(app: App, client: Client, body: bytes) -> None:
    @app.post("/upload")
    def upload(request: Request) -> dict[str, str]:
        return request.form.to_dict()

    response = client.post("/upload", data=body, content_type="multipart/form-data; boundary=abc")

    assert response.status_code == 400
    good = b"--abc\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--abc--\r\n"
    assert client.post(
        "/upload", data=good, content_type="multipart/form-data; boundary=abc"
    ).json == {"a": "1"}


@pytest.mark.parametrize("length", ["²", "-5", "abc", " 7"])
def test_a_malformed_content_length_is_never_a_500(app: App, length: str) -> None:
    @app.post("/f")
    def form(request: Request) -> dict[str, str]:
        return request.form.to_dict()

    environ = EnvironBuilder(
        method="POST", path="/f", data="a=1", content_type="application/x-www-form-urlencoded"
    ).get_environ()
    environ["CONTENT_LENGTH"] = length

    _, status, _ = run_wsgi_app(app, environ)

    assert int(status[:3]) < 500
