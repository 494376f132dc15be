"""Articles: list, feed, create, read, change, delete, favorite and unfavorite."""

from __future__ import annotations

from typing import Any

from wsgilite import Request, Router

from .. import auth, store, validation
from ..db import Transaction
from ..state import services, transaction

articles = Router(prefix="/api", name="articles", csrf=False)


def find_article(tx: Transaction, slug: str) -> store.ArticleRef:
    """The article with this slug, or 404."""
    wanted = validation.lookup(slug, store.MAX_SLUG)
    ref = store.article_ref(tx, wanted) if wanted is not None else None
    if ref is None:
        raise validation.not_found(f"article {slug[:100]!r} not found")
    return ref


def _article(tx: Transaction, slug: str, viewer_id: int | None) -> dict[str, Any]:
    found = store.article(tx, slug, viewer_id)
    assert found is not None
    return {"article": found}


@articles.get("/articles")
def list_articles(request: Request) -> dict[str, Any]:
    """`GET /api/articles?tag=&author=&favorited=&limit=20&offset=0`: newest first."""
    query = validation.article_query(request.args)
    with transaction(request) as tx:
        viewer = auth.optional_user(request, tx)
        found, count = store.list_articles(
            tx,
            query,
            viewer.id if viewer else None,
            with_body=services(request).settings.list_bodies,
        )
    return {"articles": found, "articlesCount": count}


@articles.get("/articles/feed")
def feed(request: Request) -> dict[str, Any]:
    """`GET /api/articles/feed?limit=&offset=`: articles by the authors the user follows."""
    auth.require_token(request)
    query = validation.article_query(request.args, feed=True)
    with transaction(request) as tx:
        viewer = auth.current_user(request, tx)
        found, count = store.list_articles(
            tx,
            query,
            viewer.id,
            feed_of=viewer.id,
            with_body=services(request).settings.list_bodies,
        )
    return {"articles": found, "articlesCount": count}


@articles.post("/articles")
def create_article(request: Request) -> tuple[dict[str, Any], int]:
    """`POST /api/articles` `{"article": {title, description, body, tagList?}}`: 201."""
    auth.require_token(request)
    new = validation.new_article(validation.payload(request, "article"))
    with transaction(request, write=True) as tx:
        author = auth.current_user(request, tx)
        slug = store.create_article(tx, author.id, new)
        return _article(tx, slug, author.id), 201


@articles.get("/articles/<slug>")
def get_article(request: Request, slug: str) -> dict[str, Any]:
    """`GET /api/articles/<slug>`: auth optional."""
    with transaction(request) as tx:
        viewer = auth.optional_user(request, tx)
        find_article(tx, slug)
        return _article(tx, slug, viewer.id if viewer else None)


@articles.put("/articles/<slug>")
def update_article(request: Request, slug: str) -> dict[str, Any]:
    """`PUT /api/articles/<slug>` `{"article": {title?, description?, body?, tagList?}}`."""
    auth.require_token(request)
    # The body is read before the transaction: a slow client never holds a database lock.
    changes = validation.article_changes(validation.payload(request, "article"))
    with transaction(request, write=True) as tx:
        user = auth.current_user(request, tx)
        ref = find_article(tx, slug)
        if ref.author_id != user.id:
            raise validation.forbidden("only the author may change this article")
        new_slug = store.update_article(tx, ref, slug, changes)
        return _article(tx, new_slug, user.id)


@articles.delete("/articles/<slug>")
def delete_article(request: Request, slug: str) -> tuple[str, int]:
    """`DELETE /api/articles/<slug>`: 204."""
    with transaction(request, write=True) as tx:
        user = auth.current_user(request, tx)
        ref = find_article(tx, slug)
        if ref.author_id != user.id:
            raise validation.forbidden("only the author may delete this article")
        store.delete_article(tx, ref.id)
    return "", 204


@articles.post("/articles/<slug>/favorite")
def favorite(request: Request, slug: str) -> dict[str, Any]:
    """`POST /api/articles/<slug>/favorite`: the article, favorited."""
    with transaction(request, write=True) as tx:
        user = auth.current_user(request, tx)
        ref = find_article(tx, slug)
        store.favorite(tx, user.id, ref.id)
        return _article(tx, slug, user.id)


@articles.delete("/articles/<slug>/favorite")
def unfavorite(request: Request, slug: str) -> dict[str, Any]:
    """`DELETE /api/articles/<slug>/favorite`: the article, no longer favorited."""
    with transaction(request, write=True) as tx:
        user = auth.current_user(request, tx)
        ref = find_article(tx, slug)
        store.unfavorite(tx, user.id, ref.id)
        return _article(tx, slug, user.id)
