"""Types: decorated handlers keep their own type, checked by mypy --strict."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

SNIPPET = """
from wsgilite import App, Request, Router

app = App(__name__)
api_router = Router(prefix="/api")

@app.get("/users/<int:user_id>")
def show_user(request: Request, user_id: int) -> dict[str, int]:
    return {"id": user_id}

@api_router.post("/items")
def create(request: Request) -> tuple[dict[str, str], int]:
    return {"ok": "yes"}, 201

reveal_type(show_user)
reveal_type(create)
number: int = show_user(Request({}), 1)["id"]
"""


def test_decorators_keep_the_handlers_signature(tmp_path: Path) -> None:
    source = tmp_path / "typed_app.py"
    source.write_text(textwrap.dedent(SNIPPET))

    stdout, stderr, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), str(source)]
    )

    assert (
        'Revealed type is "def (request: wsgilite.request.Request, user_id: int) '
        '-> dict[str, int]"' in stdout
    ), stdout
    assert (
        'Revealed type is "def (request: wsgilite.request.Request) '
        '-> tuple[dict[str, str], int]"' in stdout
    ), stdout
    assert "Success: no issues found" in stdout, stdout + stderr
    assert status == 0


TYPED_SNIPPET = """
from dataclasses import dataclass
from typing import Annotated, Literal, assert_type

from wsgilite import App, Request
from wsgilite.params import Header, Query

app = App(__name__)

@dataclass
class NewBook:
    title: str
    year: int | None = None

@dataclass
class Book:
    id: int
    title: str

@app.post("/shelves/<shelf_id>", status_code=201, responses={404: "No such shelf"})
def add_book(
    request: Request,
    shelf_id: int,
    new: NewBook,
    page: Annotated[int, Query(ge=1)] = 1,
    tags: list[str] = [],
    order: Literal["new", "old"] = "new",
    token: Annotated[str | None, Header(alias="X-Token")] = None,
) -> Book:
    assert_type(shelf_id, int)
    assert_type(new, NewBook)
    assert_type(new.year, int | None)
    assert_type(page, int)
    assert_type(tags, list[str])
    assert_type(order, Literal["new", "old"])
    assert_type(token, str | None)
    return Book(shelf_id, new.title)

reveal_type(add_book)
book: Book = add_book(Request({}), 1, NewBook("x"))
"""


def test_a_typed_handlers_parameters_keep_their_declared_types(tmp_path: Path) -> None:
    source = tmp_path / "typed_params.py"
    source.write_text(textwrap.dedent(TYPED_SNIPPET))

    stdout, stderr, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), str(source)]
    )

    assert "new: typed_params.NewBook" in stdout, stdout
    assert "-> typed_params.Book" in stdout, stdout
    assert "Success: no issues found" in stdout, stdout + stderr
    assert status == 0
