"""Data shared by every benchmark app: WSGI types, the fortunes, the REST route table.

Each `apps_<framework>.py` builds the same behaviour from these, the idiomatic way for its
framework; `bench.py` drives the apps and checks their answers. Nothing here is timed on its
own, but `fortune_rows()` runs inside every fortunes request, the same for every framework.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

# PEP 3333 shapes, spelled out so the benchmark needs no typeshed-only import.
WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]

TEMPLATE_FOLDER = str(Path(__file__).resolve().parent / "templates")
FORTUNES_TEMPLATE = "fortunes.html"

SCENARIO_NAMES = ("plaintext", "json", "params", "query", "form", "notfound", "fortunes")

# Every documented way of writing a wsgilite handler, each framework answering the same request
# the way its own docs write it (apps_styles_<framework>.py).
STYLE_NAMES = (
    "style-plaintext", "style-params", "style-form",
    "style-str", "style-bytes", "style-dict", "style-list", "style-response",
    "style-body-status", "style-body-headers", "style-tuple-dict", "style-tuple-list",
    "style-generator", "style-redirect", "style-abort",
)  # fmt: skip

# Route tables of this many routes, all under /api (apps_routes_<framework>.py).
ROUTE_COUNTS = (40, 400, 4000)

PLAINTEXT = "Hello, World!"
JSON_MESSAGE = {"message": "Hello, World!"}


class Fortune(NamedTuple):
    id: int
    message: str


# The TechEmpower "Fortune" table.
FORTUNES: tuple[Fortune, ...] = (
    Fortune(1, "fortune: No such file or directory"),
    Fortune(2, "A computer scientist is someone who fixes things that aren't broken."),
    Fortune(3, "After enough decimal places, nobody gives a damn."),
    Fortune(4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    Fortune(5, "A computer program does what you tell it to do, not what you want it to do."),
    Fortune(6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    Fortune(7, "Any program that runs right is obsolete."),
    Fortune(8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    Fortune(9, "Feature: A bug with seniority."),
    Fortune(10, "Computers make very fast, very accurate mistakes."),
    Fortune(11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    # "Framework benchmark" in Japanese, escaped so no editor or linter mangles it.
    Fortune(
        12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"
    ),
)
ADDITIONAL_FORTUNE = Fortune(0, "Additional fortune added at request time.")

_by_message = attrgetter("message")


def fortune_rows() -> list[Fortune]:
    """Return the rows of one fortunes request: the table, one added row, sorted by message."""
    rows = list(FORTUNES)  # stands in for the database query: a fresh list per request
    rows.append(ADDITIONAL_FORTUNE)
    rows.sort(key=_by_message)
    return rows


# ---------------------------------------------------------------------------------------------
# The REST route table of the `params` scenario: 11 resources x (list, create, show, update,
# delete) plus the nested /teams/<id>/members ones, 60 (method, rule) pairs. Rules are in
# werkzeug's syntax; `bottle_rule` and `falcon_rule` translate them. The benchmarked route,
# GET /api/v1/teams/<int:team_id>/members/<int:member_id>, is route 63 of 65 in every app.

RESOURCES = (
    "users", "groups", "projects", "tasks", "comments", "labels",
    "files", "invoices", "orders", "products", "teams",
)  # fmt: skip

MEMBERS_RULE = "/api/v1/teams/<int:team_id>/members"
MEMBER_RULE = "/api/v1/teams/<int:team_id>/members/<int:member_id>"


@dataclass(frozen=True, slots=True)
class ApiRoute:
    method: str
    rule: str
    resource: str
    action: str

    @property
    def endpoint(self) -> str:
        return f"{self.resource}_{self.action}"


def generic_routes() -> list[ApiRoute]:
    """Return the 55 plain CRUD routes (everything but the nested team members)."""
    routes: list[ApiRoute] = []
    for name in RESOURCES:
        collection = f"/api/v1/{name}"
        item = f"/api/v1/{name}/<int:{name[:-1]}_id>"  # /api/v1/users/<int:user_id>
        routes += [
            ApiRoute("GET", collection, name, "list"),
            ApiRoute("POST", collection, name, "create"),
            ApiRoute("GET", item, name, "show"),
            ApiRoute("PUT", item, name, "update"),
            ApiRoute("DELETE", item, name, "delete"),
        ]
    return routes


# The nested routes, registered after the generic ones, in this order, by every app:
#   GET/POST MEMBERS_RULE (list, create), then GET/PUT/DELETE MEMBER_RULE (show, update, delete).
# A framework that groups methods per path (Falcon) registers the two paths in this order.


def api_answer(resource: str, action: str, **params: int) -> dict[str, object]:
    """Return the JSON body of a CRUD route that is not benchmarked."""
    return {"resource": resource, "action": action, **params}


_WERKZEUG_VAR = re.compile(r"<(?:(\w+):)?(\w+)>")


def bottle_rule(rule: str) -> str:
    """Translate `<int:name>` (werkzeug) to `<name:int>` (bottle)."""
    return _WERKZEUG_VAR.sub(lambda m: f"<{m[2]}:{m[1]}>" if m[1] else f"<{m[2]}>", rule)


def falcon_rule(rule: str) -> str:
    """Translate `<int:name>` (werkzeug) to `{name:int}` (falcon)."""
    return _WERKZEUG_VAR.sub(lambda m: f"{{{m[2]}:{m[1]}}}" if m[1] else f"{{{m[2]}}}", rule)


def one_app_for_all(app: WSGIApp) -> dict[str, WSGIApp]:
    """Return {scenario: app} for a framework whose single app serves every scenario."""
    return dict.fromkeys(SCENARIO_NAMES, app)


# ---------------------------------------------------------------------------------------------
# The `style-*` scenarios: what the handlers return.

HELLO_HTML = "<h1>Hello, World!</h1>"
BINARY_BODY = bytes(range(64))
USER = {"id": 1, "name": "Ada Lovelace", "email": "ada@example.com", "admin": True}
USERS = [
    {"id": 1, "name": "Ada Lovelace"},
    {"id": 2, "name": "Grace Hopper"},
    {"id": 3, "name": "Edsger Dijkstra"},
]
CREATED = {"id": 4, "name": "Barbara Liskov"}
CREATED_LOCATION = "/users/4"
NO_CACHE = "no-cache"
MAX_AGE = "max-age=60"
STREAM_ITEMS = tuple(f"item {i}" for i in range(10))
REDIRECT_TARGET = "/login"
ITEMS = {1: {"id": 1, "name": "first"}}  # style-abort asks for item 99: abort(404)
API_PREFIX = "/api/v1"


def stream_chunks() -> Iterator[str]:
    """Yield the chunks of the streamed `style-generator` page, one per line."""
    yield "<ul>\n"
    for item in STREAM_ITEMS:
        yield f"<li>{item}</li>\n"
    yield "</ul>\n"


# ---------------------------------------------------------------------------------------------
# The route-count scenarios: `count` routes, all under /api, four REST shapes per resource
# /api/rN (N = 0 .. count/4 - 1), registered in this order:
#   /api/rN, /api/rN/<int:id>, /api/rN/<int:id>/comments, /api/rN/<int:id>/labels/<name>
# Every handler answers resource_answer(N, **params).

ROUTE_SHAPES = 4


def last_resource(count: int) -> int:
    """Return N of the last resource of a table of `count` routes."""
    return count // ROUTE_SHAPES - 1


def resource_answer(resource: int, **params: object) -> dict[str, object]:
    """Return the JSON body of a route of the route-count tables."""
    return {"resource": resource, **params}
