"""A small typed JSON API: parameters from annotations, validated, documented at /docs.

Serve it with `wsgilite run examples/api.py:app` or `gunicorn --chdir examples api:app`, then open
http://127.0.0.1:8000/docs (the page and /openapi.json are served by the app itself, offline).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated, Literal

from werkzeug.exceptions import HTTPException

from wsgilite import App, Request, Router, abort
from wsgilite.params import Field, Header, Query

app = App(__name__)
api = Router(prefix="/api")


@dataclass
class Book:
    """A book of the catalogue."""

    id: int
    title: str
    author: str
    year: int | None = None


@dataclass
class NewBook:
    """What a client sends to add a book."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    author: Annotated[str, Field(max_length=200)] = ""
    year: Annotated[int | None, Field(ge=-3000, le=3000)] = None


@dataclass
class Greeting:
    hello: str
    age: int | None
    books: str


@dataclass
class Login:
    """A urlencoded (or JSON) login form."""

    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=100)]


@dataclass
class Session:
    username: str
    logged_in: bool


@dataclass
class Problem:
    """The JSON answer of a 404."""

    error: str
    detail: str
    path: str


BOOKS: dict[int, Book] = {
    1: Book(1, "Dune", "Frank Herbert", 1965),
    2: Book(2, "Neuromancer", "William Gibson", 1984),
    3: Book(3, "Hyperion", "Dan Simmons", 1989),
}
_LOCK = threading.Lock()
MAX_BOOKS = 1000  # a demo server must not grow without bound


@app.get("/")
def index(
    request: Request,
    name: Annotated[str, Query(max_length=100)] = "world",
    age: Annotated[int | None, Query(ge=0, le=150)] = None,
) -> Greeting:
    """Greet a visitor.

    GET /?name=Ada&age=36
    """
    return Greeting(name, age, app.url_for("api.list_books"))


@app.post("/login")
def login(request: Request, form: Login) -> Session:
    """Accept a login form: username=...&password=..."""
    return Session(form.username, logged_in=True)


@api.get("/books")
def list_books(
    request: Request,
    author: Annotated[str | None, Query(max_length=100)] = None,
    after: int | None = None,
    year: list[int] = [],  # noqa: B006 - the plan hands each call its own copy
    order: Literal["id", "title", "year"] = "id",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Book]:
    """List books, filtered by author and years.

    GET /api/books?author=gibson&after=1980&year=1984&year=1989&order=title
    """
    books = list(BOOKS.values())
    if author:
        books = [book for book in books if author.lower() in book.author.lower()]
    if after is not None:
        books = [book for book in books if book.year is not None and book.year > after]
    if year:
        books = [book for book in books if book.year in year]
    if order != "id":
        books.sort(key=lambda book: str(getattr(book, order)))
    return books[:limit]


@api.get("/books/<book_id>", responses={404: Problem})
def show_book(request: Request, book_id: int) -> Book:
    """Show one book."""
    book = BOOKS.get(book_id)
    if book is None:
        abort(404, f"no book with id {book_id}")
    return book


@api.post("/books", status_code=201, responses={409: Problem})
def create_book(
    request: Request,
    new: NewBook,
    request_id: Annotated[str | None, Header(alias="X-Request-Id", max_length=100)] = None,
) -> tuple[Book, dict[str, str]]:
    """Add a book to the catalogue."""
    with _LOCK:
        if len(BOOKS) >= MAX_BOOKS:
            abort(409, "the catalogue is full")
        book_id = max(BOOKS) + 1
        BOOKS[book_id] = book = Book(book_id, new.title, new.author, new.year)
    return book, {"Location": app.url_for("api.show_book", book_id=book_id)}


@dataclass
class FilePath:
    path: str


@api.get("/files/<path:name>")
def file_info(request: Request, name: str) -> FilePath:
    """Echo a path parameter that may contain slashes."""
    return FilePath(name)


app.include(api)
app.mount_docs(title="Books", version="1.0.0")


@app.errorhandler(404)
def not_found(request: Request, error: HTTPException) -> tuple[dict[str, str], int]:
    """Answer every 404 with JSON."""
    return {"error": "not found", "detail": error.description or "", "path": request.path}, 404


@app.errorhandler(409)
def conflict(request: Request, error: HTTPException) -> tuple[dict[str, str], int]:
    """Answer a conflict with JSON."""
    return {"error": "conflict", "detail": error.description or "", "path": request.path}, 409


if __name__ == "__main__":
    app.run(server="wsgiref", port=8000)
