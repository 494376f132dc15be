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
