"""Typed handlers (params.py): values converted from annotations, every failure a 422 field."""

from __future__ import annotations

import datetime
import enum
import sys
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any, Literal, TypedDict

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.test import Client

from wsgilite import App, Request, Router
from wsgilite.params import Body, Cookie, Field, Form, Header, Plan, Query, ValidationFailed
from wsgilite.routes import Route


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclass
class Address:
    city: str
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]


@dataclass
class NewUser:
    name: Annotated[str, Field(min_length=1, max_length=20)]
    age: Annotated[int, Field(ge=0, le=150)]
    email: str | None = None
    tags: list[str] = field(default_factory=list)
    address: Address | None = None


@dataclass
class User:
    id: int
    name: str
    born: datetime.date | None = None


class Point(TypedDict):
    x: int
    y: int


class Partial(TypedDict, total=False):
    label: str


@dataclass
class LoginForm:
    username: str
    remember: bool = False


def problem(client: Client, path: str, **kwargs: Any) -> list[dict[str, str]]:
    """Return the `errors` of the 422 problem that `path` answers."""
    response = client.open(path, **kwargs)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body is not None
    assert body["status"] == 422
    assert body["title"] == "Unprocessable Content"
    errors: list[dict[str, str]] = body["errors"]
    return errors


# -- path variables --------------------------------------------------------------------------------


def test_an_int_annotation_picks_the_int_converter(app: App, client: Client) -> None:
    @app.get("/users/<user_id>")
    def show_user(request: Request, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "type": type(user_id).__name__}

    assert client.get("/users/7").json == {"id": 7, "type": "int"}
    assert client.get("/users/seven").status_code == 404
    assert [route.rule for route in app.routes()][-1] == "/users/<int:user_id>"


def test_a_converter_named_in_the_rule_is_kept(app: App, client: Client) -> None:
    @app.get("/files/<path:name>")
    def show_file(request: Request, name: str, download: bool = False) -> dict[str, Any]:
        return {"name": name, "download": download}

    assert client.get("/files/a/b.txt?download=yes").json == {"name": "a/b.txt", "download": True}


def test_path_values_convert_to_dates_enums_and_uuids(app: App, client: Client) -> None:
    @app.get("/days/<day>/<color>/<key>")
    def show_day(request: Request, day: datetime.date, color: Color, key: uuid.UUID) -> Any:
        return {"day": day, "color": color.name, "key": key}

    key = uuid.uuid4()
    assert client.get(f"/days/2024-02-29/red/{key}").json == {
        "day": "2024-02-29",
        "color": "RED",
        "key": str(key),
    }
    assert problem(client, f"/days/2024-02-30/blue/{key}") == [
        {"location": "path", "name": "day", "message": "must be a date (YYYY-MM-DD)",
         "type": "date"},
        {"location": "path", "name": "color", "message": 'must be one of "red", "green"',
         "type": "Color"},
    ]  # fmt: skip


def test_a_path_constraint_is_checked(app: App, client: Client) -> None:
    @app.get("/pages/<int:number>")
    def show_page(request: Request, number: Annotated[int, Field(ge=1)]) -> dict[str, int]:
        return {"number": number}

    assert client.get("/pages/3").json == {"number": 3}
    assert problem(client, "/pages/0")[0]["message"] == "must be >= 1"


# -- the query string ------------------------------------------------------------------------------


def test_query_values_with_defaults(app: App, client: Client) -> None:
    @app.get("/search")
    def search(
        request: Request,
        q: str | None = None,
        page: int = 1,
        ratio: float = 0.5,
        exact: bool = False,
        tags: list[str] = [],  # noqa: B006
        sort: Literal["new", "old"] = "new",
        since: datetime.datetime | None = None,
        price: Decimal | None = None,
    ) -> dict[str, Any]:
        return {"q": q, "page": page, "ratio": ratio, "exact": exact, "tags": tags, "sort": sort,
                "since": since, "price": price}  # fmt: skip

    assert client.get("/search").json == {
        "q": None, "page": 1, "ratio": 0.5, "exact": False, "tags": [], "sort": "new",
        "since": None, "price": None,
    }  # fmt: skip
    query = "q=hi&page=3&ratio=2.5&exact=true&tags=a&tags=b&sort=old"
    query += "&since=2024-01-01T10:00:00Z&price=9.99"
    assert client.get(f"/search?{query}").json == {
        "q": "hi", "page": 3, "ratio": 2.5, "exact": True, "tags": ["a", "b"], "sort": "old",
        "since": "2024-01-01T10:00:00+00:00", "price": "9.99",
    }  # fmt: skip


def test_a_list_default_is_not_shared_between_requests(app: App, client: Client) -> None:
    @app.get("/items")
    def items(request: Request, tags: list[str] = []) -> dict[str, Any]:  # noqa: B006
        tags.append("x")
        return {"tags": tags}

    assert client.get("/items").json == {"tags": ["x"]}
    assert client.get("/items").json == {"tags": ["x"]}


def test_every_bad_query_value_is_listed(app: App, client: Client) -> None:
    @app.get("/search")
    def search(
        request: Request,
        q: str,
        page: Annotated[int, Query(ge=1, le=100)] = 1,
        ratio: float = 0.5,
        exact: bool = False,
        ids: list[int] = [],  # noqa: B006
        sort: Literal["new", "old"] = "new",
        code: Annotated[str, Query(pattern=r"^[A-Z]{3}$", alias="c")] = "ABC",
        name: Annotated[str, Query(min_length=2, max_length=3)] = "ab",
        since: datetime.datetime | None = None,
    ) -> dict[str, Any]:
        return {}

    query = "page=101&ratio=nan&exact=maybe&ids=1&ids=x&sort=up&c=abc&name=a&since=2024-01-01"
    assert problem(client, f"/search?{query}") == [
        {"location": "query", "name": "q", "message": "is required", "type": "string"},
        {"location": "query", "name": "page", "message": "must be <= 100", "type": "integer"},
        {"location": "query", "name": "ratio", "message": "must be a finite number",
         "type": "number"},
        {"location": "query", "name": "exact", "message": "must be a boolean (true or false)",
         "type": "boolean"},
        {"location": "query", "name": "ids", "message": "must be an integer",
         "type": "array of integer"},
        {"location": "query", "name": "sort", "message": 'must be one of "new", "old"',
         "type": "literal"},
        {"location": "query", "name": "c", "message": "must match '^[A-Z]{3}$'",
         "type": "string"},
        {"location": "query", "name": "name", "message": "must have at least 2 characters or items",
         "type": "string"},
        {"location": "query", "name": "since",
         "message": "must be an ISO 8601 date-time with a time zone", "type": "date-time"},
    ]  # fmt: skip


@pytest.mark.parametrize("text", ["1_000", " 1", "1.0", "0x10", "\u0661"])
def test_an_int_is_digits_only(app: App, client: Client, text: str) -> None:
    @app.get("/n")
    def number(request: Request, n: int) -> dict[str, int]:
        return {"n": n}

    assert problem(client, "/n", query_string={"n": text})[0]["name"] == "n"


# -- headers and cookies ---------------------------------------------------------------------------


def test_headers_and_cookies_with_markers(app: App, client: Client) -> None:
    @app.get("/me")
    def me(
        request: Request,
        user_agent: Annotated[str, Header()],
        token: Annotated[str | None, Header(alias="X-Token")] = None,
        theme: Annotated[str, Cookie()] = "light",
        visits: Annotated[int, Cookie()] = 0,
    ) -> dict[str, Any]:
        return {"agent": user_agent, "token": token, "theme": theme, "visits": visits}

    client.set_cookie("theme", "dark")
    client.set_cookie("visits", "3")
    response = client.get("/me", headers={"User-Agent": "probe", "X-Token": "t"})
    assert response.json == {"agent": "probe", "token": "t", "theme": "dark", "visits": 3}
    client.set_cookie("visits", "lots")
    assert problem(client, "/me", headers={"User-Agent": ""}) != []
    assert problem(client, "/me", headers={"User-Agent": "x"}) == [
        {"location": "cookie", "name": "visits", "message": "must be an integer",
         "type": "integer"},
    ]  # fmt: skip


def test_a_missing_header_is_named(app: App) -> None:
    @app.get("/me")
    def me(request: Request, x_api_key: Annotated[str, Header()]) -> dict[str, str]:
        return {"key": x_api_key}

    client = Client(app)
    assert client.get("/me", headers={"X-Api-Key": "k"}).json == {"key": "k"}
    assert problem(client, "/me") == [
        {"location": "header", "name": "x-api-key", "message": "is required", "type": "string"}
    ]


# -- bodies ----------------------------------------------------------------------------------------


def test_a_dataclass_body_is_decoded_and_a_model_answered(app: App, client: Client) -> None:
    @app.post("/users", status_code=201)
    def create_user(request: Request, new: NewUser) -> User:
        assert isinstance(new, NewUser)
        assert new.address is None or isinstance(new.address, Address)
        return User(id=1, name=new.name)

    address = {"city": "London", "zip": "12345"}
    response = client.post("/users", json={"name": "Ada", "age": 36, "address": address})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.json == {"id": 1, "name": "Ada", "born": None}


@pytest.mark.parametrize("status", [HTTPStatus.CREATED, 201])
def test_a_declared_status_and_a_returned_model_or_subclass(
    app: App, client: Client, status: int
) -> None:
    @dataclass
    class Admin(User):
        role: str = "admin"

    @app.post("/users/<int:user_id>", status_code=status)
    def create_user(request: Request, user_id: int) -> User:
        born = datetime.date(1815, 12, 10)
        return User(user_id, "Ada", born) if user_id == 1 else Admin(user_id, "Bob")

    user = client.post("/users/1")
    admin = client.post("/users/2")

    assert (user.status_code, user.mimetype) == (201, "application/json")
    assert user.json == {"id": 1, "name": "Ada", "born": "1815-12-10"}
    # A subclass is sent whole, with its own fields.
    assert (admin.status_code, admin.json) == (201, {"id": 2, "name": "Bob", "born": None,
                                                     "role": "admin"})  # fmt: skip


def test_every_bad_body_field_is_listed_with_its_path(app: App, client: Client) -> None:
    @app.post("/users")
    def create_user(request: Request, new: NewUser) -> User:
        return User(id=1, name=new.name)

    body = {"name": "", "age": "x", "tags": ["a", 2], "address": {"zip": "1"}}
    assert problem(client, "/users", method="POST", json=body) == [
        {"location": "body", "name": "name",
         "message": "must have at least 1 characters or items", "type": "string"},
        {"location": "body", "name": "age", "message": "must be an integer", "type": "integer"},
        {"location": "body", "name": "tags[1]", "message": "must be a string", "type": "string"},
        {"location": "body", "name": "address.city", "message": "is required", "type": "string"},
        {"location": "body", "name": "address.zip", "message": "must match '^\\\\d{5}$'",
         "type": "string"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, {"location": "body", "name": "body", "message": "is required", "type": "NewUser"}),
        ([1], {"location": "body", "name": "body", "message": "must be an object",
               "type": "NewUser"}),
        ({"name": "a", "age": True}, {"location": "body", "name": "age",
                                      "message": "must be an integer", "type": "integer"}),
    ],
)  # fmt: skip
def test_a_body_that_is_not_the_model(
    app: App, client: Client, body: Any, expected: dict[str, str]
) -> None:
    @app.post("/users")
    def create_user(request: Request, new: NewUser) -> User:
        return User(id=1, name=new.name)

    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    assert problem(client, "/users", method="POST", **kwargs) == [expected]


def test_a_body_that_is_not_json_is_a_400(app: App, client: Client) -> None:
    @app.post("/users")
    def create_user(request: Request, new: NewUser) -> User:
        return User(id=1, name=new.name)

    response = client.post("/users", data="{name", content_type="application/json")
    assert response.status_code == 400
    assert "request body is not valid JSON" in response.get_data(as_text=True)
    nested = client.post("/users", data="[" * 100_000, content_type="application/json")
    assert nested.status_code == 400


def test_a_body_of_another_type_is_refused(app: App, client: Client) -> None:
    @app.post("/users")
    def create_user(request: Request, new: NewUser) -> User:
        return User(id=1, name=new.name)

    assert problem(client, "/users", method="POST", data="x", content_type="text/plain") == [
        {"location": "body", "name": "body", "message": "must be application/json, not text/plain",
         "type": "NewUser"}
    ]  # fmt: skip


def test_a_typeddict_body_and_a_list_body(app: App, client: Client) -> None:
    @app.post("/points")
    def add_point(request: Request, point: Point) -> Any:
        return {"point": point}

    @app.post("/labels")
    def add_label(request: Request, label: Partial) -> Any:
        return label

    @app.post("/counts")
    def add_counts(request: Request, counts: Annotated[dict[str, int], Body()]) -> Any:
        return counts

    @app.post("/many")
    def add_many(request: Request, points: list[Point]) -> list[Point]:
        return points

    assert client.post("/points", json={"x": 1, "y": 2}).json == {"point": {"x": 1, "y": 2}}
    assert client.post("/many", json=[{"x": 1, "y": 2}]).json == [{"x": 1, "y": 2}]
    assert client.post("/labels", json={}).json == {}
    assert client.post("/counts", json={"a": 1}).json == {"a": 1}
    assert problem(client, "/counts", method="POST", json={"a": "b"})[0]["name"] == "a"
    assert problem(client, "/many", method="POST", json=[{"x": 1}, {"x": "a", "y": 1}]) == [
        {"location": "body", "name": "[0].y", "message": "is required", "type": "integer"},
        {"location": "body", "name": "[1].x", "message": "must be an integer", "type": "integer"},
    ]


def test_a_flat_model_is_read_from_a_form_too(app: App, client: Client) -> None:
    @app.post("/login")
    def login(request: Request, form: LoginForm) -> dict[str, Any]:
        return {"username": form.username, "remember": form.remember}

    assert client.post("/login", data={"username": "ada", "remember": "on"}).json == {
        "username": "ada",
        "remember": True,
    }
    assert client.post("/login", json={"username": "ada"}).json == {
        "username": "ada",
        "remember": False,
    }
    assert problem(client, "/login", method="POST", data={"remember": "maybe"}) == [
        {"location": "body", "name": "username", "message": "is required", "type": "string"},
        {"location": "body", "name": "remember", "message": "must be a boolean (true or false)",
         "type": "boolean"},
    ]  # fmt: skip


def test_a_form_marker_refuses_json(app: App, client: Client) -> None:
    @app.post("/login")
    def login(request: Request, form: Annotated[LoginForm, Form()]) -> dict[str, str]:
        return {"username": form.username}

    assert client.post("/login", data={"username": "ada"}).json == {"username": "ada"}
    assert problem(client, "/login", method="POST", json={"username": "ada"})[0]["message"] == (
        "must be a form, not application/json"
    )


# -- responses -------------------------------------------------------------------------------------


def test_a_list_of_models_and_a_tuple_with_headers(app: App, client: Client) -> None:
    @app.get("/users")
    def list_users(request: Request) -> list[User]:
        return [User(1, "a", datetime.date(2000, 1, 2))]

    @app.post("/users", status_code=201)
    def create_user(request: Request, new: NewUser) -> tuple[User, dict[str, str]]:
        return User(2, new.name), {"Location": "/users/2"}

    assert client.get("/users").json == [{"id": 1, "name": "a", "born": "2000-01-02"}]
    response = client.post("/users", json={"name": "b", "age": 1})
    assert response.status_code == 201
    assert response.headers["Location"] == "/users/2"
    assert response.json == {"id": 2, "name": "b", "born": None}


def test_status_code_on_a_plain_handler(app: App, client: Client) -> None:
    @app.post("/things", status_code=201)
    def create(request: Request) -> dict[str, bool]:
        return {"ok": True}

    response = client.post("/things")
    assert (response.status_code, response.json) == (201, {"ok": True})


# -- overriding the 422 ---------------------------------------------------------------------------


def test_an_error_handler_for_validation_failed_overrides_it(app: App, client: Client) -> None:
    @app.get("/n")
    def number(request: Request, n: int) -> dict[str, int]:
        return {"n": n}

    @app.errorhandler(ValidationFailed)
    def invalid(request: Request, error: ValidationFailed) -> tuple[dict[str, Any], int]:
        return {"bad": [item.name for item in error.errors]}, 400

    response = client.get("/n?n=x")
    assert (response.status_code, response.json) == (400, {"bad": ["n"]})


def test_an_error_handler_for_422_overrides_it_inside_a_router(app: App, client: Client) -> None:
    router = Router("/api")

    @router.get("/n")
    def number(request: Request, n: int) -> dict[str, int]:
        return {"n": n}

    @router.errorhandler(422)
    def invalid(request: Request, error: HTTPException) -> tuple[str, int]:
        return "no", 422

    app.include(router)
    response = client.get("/api/n")
    assert (response.status_code, response.get_data(as_text=True)) == (422, "no")


# -- registration ----------------------------------------------------------------------------------


def test_plain_handlers_get_no_plan(app: App) -> None:
    @app.get("/a/<int:item>")
    def plain(request: Request, item: int) -> dict[str, int]:
        return {"item": item}

    @app.get("/b/<name>")
    def named(request: Request, name: str) -> str:
        return name

    assert all(route.call is None for route in app.routes())


def test_a_plain_app_never_imports_params() -> None:
    import subprocess

    code = (
        "import sys; from wsgilite import App; app = App('x')\n"
        "@app.get('/<int:n>')\n"
        "def show(request, n: int) -> dict: return {}\n"
        "print('wsgilite.params' in sys.modules, 'wsgilite.openapi' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False False", result.stderr


def test_the_plan_is_carried_through_a_router(app: App, client: Client) -> None:
    router = Router("/v1")

    @router.get("/users/<user_id>")
    def show_user(request: Request, user_id: int) -> User:
        return User(user_id, "x")

    app.include(router)
    route: Route = app.routes()[-1]
    assert route.rule == "/v1/users/<int:user_id>"
    assert isinstance(getattr(route.call, "plan", None), Plan)
    assert client.get("/v1/users/5").json == {"id": 5, "name": "x", "born": None}


@dataclass
class Unknown:
    when: complex


def test_a_type_that_cannot_be_read_is_refused_at_registration(app: App) -> None:
    with pytest.raises(TypeError, match="cannot read a value of type <class 'complex'>"):

        @app.post("/x")
        def handler(request: Request, body: Unknown) -> dict[str, Any]:
            return {}


def test_two_bodies_are_refused_at_registration(app: App) -> None:
    with pytest.raises(TypeError, match="only one parameter can be the body"):

        @app.post("/x")
        def handler(request: Request, one: Point, two: User) -> dict[str, Any]:
            return {}


def test_a_model_from_the_query_is_refused(app: App) -> None:
    with pytest.raises(TypeError, match="cannot come from the query"):

        @app.get("/x")
        def handler(request: Request, point: Annotated[Point, Query()]) -> dict[str, Any]:
            return {}


def test_a_missing_rule_variable_is_named(app: App) -> None:
    with pytest.raises(TypeError, match="does not take user_id"):

        @app.get("/users/<user_id>")
        def handler(request: Request, page: int = 1) -> dict[str, Any]:
            return {}


def test_a_handler_with_keyword_arguments_gets_the_other_variables(
    app: App, client: Client
) -> None:
    @app.get("/<section>/<int:page>")
    def show(request: Request, page: Annotated[int, Field(le=10)], **params: str) -> Any:
        return {"page": page, **params}

    assert client.get("/news/3").json == {"page": 3, "section": "news"}
    assert problem(client, "/news/11")[0]["message"] == "must be <= 10"
