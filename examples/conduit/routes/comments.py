"""Comments: list, add and delete an article's comments."""

from __future__ import annotations

from typing import Any

from wsgilite import Request, Router

from .. import auth, store, validation
from ..state import transaction
from .articles import find_article

comments = Router(prefix="/api", name="comments", csrf=False)

# Larger ids match no route (a 404) instead of overflowing SQLite's 64-bit integers.
COMMENT_ID = "<int(max=9223372036854775807):comment_id>"


@comments.get("/articles/<slug>/comments")
def list_comments(request: Request, slug: str) -> dict[str, Any]:
    """`GET /api/articles/<slug>/comments`: newest first; auth optional."""
    with transaction(request) as tx:
        viewer = auth.optional_user(request, tx)
        ref = find_article(tx, slug)
        return {"comments": store.comments(tx, ref.id, viewer.id if viewer else None)}


@comments.post("/articles/<slug>/comments")
def add_comment(request: Request, slug: str) -> dict[str, Any]:
    """`POST /api/articles/<slug>/comments` `{"comment": {body}}`: the new comment."""
    auth.require_token(request)
    new = validation.new_comment(validation.payload(request, "comment"))
    with transaction(request, write=True) as tx:
        user = auth.current_user(request, tx)
        ref = find_article(tx, slug)
        return {"comment": store.create_comment(tx, ref.id, user.id, new.body)}


@comments.delete(f"/articles/<slug>/comments/{COMMENT_ID}")
def delete_comment(request: Request, slug: str, comment_id: int) -> tuple[str, int]:
    """`DELETE /api/articles/<slug>/comments/<id>`: 204; only its author may."""
    with transaction(request, write=True) as tx:
        user = auth.current_user(request, tx)
        ref = find_article(tx, slug)
        author_id = store.comment_author(tx, ref.id, comment_id)
        if author_id is None:
            raise validation.not_found(f"comment {comment_id} not found")
        if author_id != user.id:
            raise validation.forbidden("only the author may delete this comment")
        store.delete_comment(tx, comment_id)
    return "", 204
