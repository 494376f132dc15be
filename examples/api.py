"""A small JSON API: a Router, path converters, query args, a form login and error handlers.

Serve it with `wsgilite run examples/api.py:app` or `gunicorn --chdir examples api:app`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import HTTPException

from wsgilite import App, Request, Router, abort

app = App(__name__)

BOOKS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "title": "Dune", "author": "Frank Herbert", "year": 1965},
    2: {"id": 2, "title": "Neuromancer", "author": "William Gibson", "year": 1984},
    3: {"id": 3, "title": "Hyperion", "author": "Dan Simmons", "year": 1989},
}

api = Router(prefix="/api")


@app.get("/")
def index(request: Request) -> dict[str, Any]:
    """Greet a visitor: GET /?name=xxx&age=111."""
    name = request.args.get("name", "world")
    age = request.args.get("age", type=int)
    return {"hello": name, "age": age, "books": app.url_for("api.list_books")}


@app.post("/login")
def login(request: Request) -> dict[str, Any]:
    """Accept a urlencoded login form: username=...&password=..."""
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username or not password:
        abort(400, "send username and password as form fields")
    return {"username": username, "logged_in": True}


@api.get("/books")
def list_books(request: Request) -> list[dict[str, Any]]:
    """List books, optionally filtered: ?author=...&after=1980&tag=a&tag=b."""
    books = list(BOOKS.values())
    author = request.args.get("author")
    after = request.args.get("after", type=int)
    if author:
        books = [book for book in books if author.lower() in book["author"].lower()]
    if after is not None:
        books = [book for book in books if book["year"] > after]
    return books


@api.get("/books/<int:book_id>")
def show_book(request: Request, book_id: int) -> dict[str, Any]:
    """Show one book, or 404."""
    if book_id not in BOOKS:
        abort(404, f"no book with id {book_id}")
    return BOOKS[book_id]


@api.post("/books")
def create_book(request: Request) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a book from a JSON body {"title": ..., "author": ..., "year": ...}."""
    data = request.get_json()
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        abort(422, "send a JSON object with a string 'title'")
    book_id = max(BOOKS) + 1
    BOOKS[book_id] = {
        "id": book_id,
        "title": data["title"],
        "author": str(data.get("author", "")),
        "year": data.get("year") if isinstance(data.get("year"), int) else None,
    }
    location = app.url_for("api.show_book", book_id=book_id)
    return BOOKS[book_id], 201, {"Location": location}


@api.get("/files/<path:name>")
def file_info(request: Request, name: str) -> dict[str, str]:
    """Echo a path parameter that may contain slashes."""
    return {"path": name}


app.include(api)


@app.errorhandler(404)
def not_found(request: Request, error: HTTPException) -> tuple[dict[str, Any], int]:
    """Answer every 404 with JSON."""
    return {"error": "not found", "detail": error.description, "path": request.path}, 404


@app.errorhandler(422)
def unprocessable(request: Request, error: HTTPException) -> tuple[dict[str, Any], int]:
    """Answer validation failures with JSON."""
    return {"error": "invalid input", "detail": error.description}, 422


if __name__ == "__main__":
    app.run(server="wsgiref", port=8000)
