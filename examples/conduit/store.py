"""Queries: users, follows, articles, tags, favorites and comments, answered in the API's shapes.

Every function takes an open `Transaction`; the same SQL runs on SQLite and PostgreSQL. Lists are
ordered by time and id in SQL and by text in Python (`sorted`), so both databases return the same
order whatever their collation. Times leave here as ISO 8601 with milliseconds and a `Z`, always.
"""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .db import Row, Transaction, UniqueViolation
from .validation import ArticleChanges, ArticleQuery, NewArticle, UserChanges, unprocessable

RESERVED_SLUGS = frozenset({"feed"})  # /api/articles/feed is a route, not an article
MAX_SLUG_BASE = 80
MAX_SLUG = MAX_SLUG_BASE + 9  # and "-" with 8 hex digits when the title's slug is taken


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    bio: str
    image: str
    password_hash: str


def now_ms() -> int:
    """The current time in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def iso_time(ms: int) -> str:
    """`2026-11-25T20:36:06.123Z`: UTC, always with milliseconds and a Z."""
    seconds, millis = divmod(int(ms), 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def key(text: str) -> str:
    """The case-insensitive form emails and usernames are unique and looked up by."""
    return text.casefold()


# -- users and profiles ----------------------------------------------------------------------------

_USER = "SELECT id, username, email, bio, image, password_hash FROM users"


def _user(row: Row | None) -> User | None:
    return None if row is None else User(**row)


def user_by_id(tx: Transaction, user_id: int) -> User | None:
    """The user with this id, or None."""
    return _user(tx.fetch_one(_USER + " WHERE id = ?", (user_id,)))


def user_by_email(tx: Transaction, email: str) -> User | None:
    """The user with this email (any case), or None."""
    return _user(tx.fetch_one(_USER + " WHERE email_key = ?", (key(email),)))


def user_by_username(tx: Transaction, username: str) -> User | None:
    """The user with this username (any case), or None."""
    return _user(tx.fetch_one(_USER + " WHERE username_key = ?", (key(username),)))


def _taken(
    tx: Transaction, username: str | None, email: str | None, user_id: int | None = None
) -> list[str]:
    messages = []
    for name, value in (("email", email), ("username", username)):
        if value is not None and tx.fetch_one(
            f"SELECT id FROM users WHERE {name}_key = ? AND id <> ?", (key(value), user_id or 0)
        ):
            messages.append(f"{name} has already been taken")
    return messages


def _taken_by_race(exc: UniqueViolation) -> list[str]:
    # Another request took the name between the check and the write.
    text = str(exc)
    messages = [f"{name} has already been taken" for name in ("email", "username") if name in text]
    return messages or ["email or username has already been taken"]


def create_user(tx: Transaction, username: str, email: str, password_hash: str) -> User:
    """Register a user; 422 listing each of email and username that is taken."""
    taken = _taken(tx, username, email)
    if taken:
        raise unprocessable(*taken)
    now = now_ms()
    try:
        row = tx.fetch_one(
            "INSERT INTO users (username, username_key, email, email_key, password_hash,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (username, key(username), email, key(email), password_hash, now, now),
        )
    except UniqueViolation as exc:
        raise unprocessable(*_taken_by_race(exc)) from None
    assert row is not None
    user = user_by_id(tx, int(row["id"]))
    assert user is not None
    return user


def update_user(
    tx: Transaction, user: User, changes: UserChanges, password_hash: str | None
) -> User:
    """Apply `changes` to `user`; 422 if the new email or username is someone else's."""
    taken = _taken(tx, changes.username, changes.email, user.id)
    if taken:
        raise unprocessable(*taken)
    columns: dict[str, object] = {"updated_at": now_ms()}
    if changes.email is not None:
        columns.update(email=changes.email, email_key=key(changes.email))
    if changes.username is not None:
        columns.update(username=changes.username, username_key=key(changes.username))
    if password_hash is not None:
        columns["password_hash"] = password_hash
    if changes.bio is not None:
        columns["bio"] = changes.bio
    if changes.image is not None:
        columns["image"] = changes.image
    assignments = ", ".join(f"{column} = ?" for column in columns)
    try:
        tx.execute(f"UPDATE users SET {assignments} WHERE id = ?", (*columns.values(), user.id))
    except UniqueViolation as exc:
        raise unprocessable(*_taken_by_race(exc)) from None
    updated = user_by_id(tx, user.id)
    assert updated is not None
    return updated


def user_json(user: User, token: str) -> dict[str, Any]:
    """`{"email", "token", "username", "bio", "image"}`: bio and image are never null."""
    return {
        "email": user.email,
        "token": token,
        "username": user.username,
        "bio": user.bio or "",
        "image": user.image or "",
    }


def profile_json(
    username: str, bio: str | None, image: str | None, following: object
) -> dict[str, Any]:
    """`{"username", "bio", "image", "following"}` with a real boolean."""
    return {
        "username": username,
        "bio": bio or "",
        "image": image or "",
        "following": bool(following),
    }


def is_following(tx: Transaction, follower_id: int | None, followee_id: int) -> bool:
    """Whether `follower_id` follows `followee_id` (never, for a visitor)."""
    if follower_id is None:
        return False
    row = tx.fetch_one(
        "SELECT 1 AS yes FROM follows WHERE follower_id = ? AND followee_id = ?",
        (follower_id, followee_id),
    )
    return row is not None


def profile(tx: Transaction, user: User, viewer_id: int | None) -> dict[str, Any]:
    """`user`'s profile as `viewer_id` sees it."""
    following = is_following(tx, viewer_id, user.id)
    return profile_json(user.username, user.bio, user.image, following)


def follow(tx: Transaction, follower_id: int, followee_id: int) -> None:
    """Follow (again: no change)."""
    tx.execute(
        "INSERT INTO follows (follower_id, followee_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (follower_id, followee_id),
    )


def unfollow(tx: Transaction, follower_id: int, followee_id: int) -> None:
    """Stop following (not following: no change)."""
    tx.execute(
        "DELETE FROM follows WHERE follower_id = ? AND followee_id = ?", (follower_id, followee_id)
    )


# -- articles --------------------------------------------------------------------------------------

_ARTICLE = """
SELECT a.id, a.slug, a.title, a.description, a.body, a.created_at, a.updated_at,
       u.username, u.bio, u.image,
       EXISTS (SELECT 1 FROM follows f
               WHERE f.follower_id = ? AND f.followee_id = a.author_id) AS following,
       EXISTS (SELECT 1 FROM favorites v WHERE v.user_id = ? AND v.article_id = a.id) AS favorited,
       (SELECT count(*) FROM favorites n WHERE n.article_id = a.id) AS favorites_count
FROM articles a JOIN users u ON u.id = a.author_id
"""


def article_json(row: Row, tags: list[str], with_body: bool = True) -> dict[str, Any]:
    """An article in the API's shape, its tags sorted."""
    article: dict[str, Any] = {
        "slug": row["slug"],
        "title": row["title"],
        "description": row["description"],
    }
    if with_body:
        article["body"] = row["body"]
    article.update(
        tagList=sorted(tags),
        createdAt=iso_time(row["created_at"]),
        updatedAt=iso_time(row["updated_at"]),
        favorited=bool(row["favorited"]),
        favoritesCount=int(row["favorites_count"]),
        author=profile_json(row["username"], row["bio"], row["image"], row["following"]),
    )
    return article


def _tags_of(tx: Transaction, article_ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {article_id: [] for article_id in article_ids}
    if article_ids:
        marks = ", ".join("?" * len(article_ids))
        for row in tx.fetch_all(
            f"SELECT article_id, tag FROM article_tags WHERE article_id IN ({marks})", article_ids
        ):
            tags[int(row["article_id"])].append(row["tag"])
    return tags


def list_articles(
    tx: Transaction,
    query: ArticleQuery,
    viewer_id: int | None,
    *,
    feed_of: int | None = None,
    with_body: bool = True,
) -> tuple[list[dict[str, Any]], int]:
    """A page of articles, newest first, and how many match in all."""
    if query.matches_nothing:
        return [], 0
    where: list[str] = []
    params: list[object] = []
    if feed_of is not None:
        where.append("a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = ?)")
        params.append(feed_of)
    if query.tag is not None:
        where.append("a.id IN (SELECT article_id FROM article_tags WHERE tag = ?)")
        params.append(query.tag.strip())
    if query.author is not None:
        where.append("a.author_id IN (SELECT id FROM users WHERE username_key = ?)")
        params.append(key(query.author))
    if query.favorited is not None:
        where.append(
            "a.id IN (SELECT v.article_id FROM favorites v JOIN users fu ON fu.id = v.user_id"
            " WHERE fu.username_key = ?)"
        )
        params.append(key(query.favorited))
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    counted = tx.fetch_one("SELECT count(*) AS n FROM articles a" + clause, params)
    total = int(counted["n"]) if counted else 0
    if total == 0 or query.limit == 0 or query.offset >= total:
        return [], total
    rows = tx.fetch_all(
        _ARTICLE + clause + " ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?",
        [viewer_id, viewer_id, *params, query.limit, query.offset],
    )
    tags = _tags_of(tx, [int(row["id"]) for row in rows])
    return [article_json(row, tags[int(row["id"])], with_body) for row in rows], total


def article(tx: Transaction, slug: str, viewer_id: int | None) -> dict[str, Any] | None:
    """The article with this slug as `viewer_id` sees it, or None."""
    row = tx.fetch_one(_ARTICLE + " WHERE a.slug = ?", (viewer_id, viewer_id, slug))
    if row is None:
        return None
    return article_json(row, _tags_of(tx, [int(row["id"])])[int(row["id"])])


@dataclass(frozen=True)
class ArticleRef:
    id: int
    author_id: int
    title: str


def article_ref(tx: Transaction, slug: str) -> ArticleRef | None:
    """The id, author and title of the article with this slug, or None."""
    row = tx.fetch_one("SELECT id, author_id, title FROM articles WHERE slug = ?", (slug,))
    return None if row is None else ArticleRef(int(row["id"]), int(row["author_id"]), row["title"])


def slugify(title: str) -> str:
    """`How to train your dragon` -> `how-to-train-your-dragon` (ASCII, or `article`)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:MAX_SLUG_BASE].strip("-") or "article"


def _with_free_slug(tx: Transaction, title: str, write: Callable[[str], None]) -> str:
    # The title's slug if it is free, else the slug and a random suffix: unique even for two
    # articles with one title written at the same moment by two workers.
    base = slugify(title)
    for attempt in range(8):
        slug = (
            base
            if attempt == 0 and base not in RESERVED_SLUGS
            else f"{base}-{secrets.token_hex(4)}"
        )
        try:
            with tx.savepoint():
                write(slug)
        except UniqueViolation:
            continue
        return slug
    raise RuntimeError(f"no free slug for {title!r} after 8 tries")


def _set_tags(tx: Transaction, article_id: int, tags: list[str]) -> None:
    tx.execute("DELETE FROM article_tags WHERE article_id = ?", (article_id,))
    for tag in tags:
        tx.execute("INSERT INTO article_tags (article_id, tag) VALUES (?, ?)", (article_id, tag))


def create_article(tx: Transaction, author_id: int, new: NewArticle) -> str:
    """Store a new article; return its slug."""
    now = now_ms()
    created: list[int] = []

    def insert(slug: str) -> None:
        row = tx.fetch_one(
            "INSERT INTO articles (slug, author_id, title, description, body, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (slug, author_id, new.title, new.description, new.body, now, now),
        )
        assert row is not None
        created.append(int(row["id"]))

    slug = _with_free_slug(tx, new.title, insert)
    _set_tags(tx, created[-1], new.tags)
    return slug


def update_article(tx: Transaction, ref: ArticleRef, slug: str, changes: ArticleChanges) -> str:
    """Apply `changes`; a new title gives a new slug. Return the article's slug."""
    columns: dict[str, object] = {"updated_at": now_ms()}
    for name in ("title", "description", "body"):
        value = getattr(changes, name)
        if value is not None:
            columns[name] = value
    assignments = ", ".join(f"{column} = ?" for column in columns)
    tx.execute(f"UPDATE articles SET {assignments} WHERE id = ?", (*columns.values(), ref.id))
    if changes.title is not None and changes.title != ref.title:

        def rename(new_slug: str) -> None:
            tx.execute("UPDATE articles SET slug = ? WHERE id = ?", (new_slug, ref.id))

        slug = _with_free_slug(tx, changes.title, rename)
    if changes.tags is not None:
        _set_tags(tx, ref.id, changes.tags)
    return slug


def delete_article(tx: Transaction, article_id: int) -> None:
    """Delete an article with its tags, favorites and comments."""
    tx.execute("DELETE FROM articles WHERE id = ?", (article_id,))


def favorite(tx: Transaction, user_id: int, article_id: int) -> None:
    """Favorite (again: no change)."""
    tx.execute(
        "INSERT INTO favorites (user_id, article_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (user_id, article_id),
    )


def unfavorite(tx: Transaction, user_id: int, article_id: int) -> None:
    """Unfavorite (not a favorite: no change)."""
    tx.execute("DELETE FROM favorites WHERE user_id = ? AND article_id = ?", (user_id, article_id))


def all_tags(tx: Transaction) -> list[str]:
    """Every tag in use, the most used first (ties by name)."""
    rows = tx.fetch_all("SELECT tag, count(*) AS uses FROM article_tags GROUP BY tag")
    return [row["tag"] for row in sorted(rows, key=lambda row: (-int(row["uses"]), row["tag"]))]


# -- comments --------------------------------------------------------------------------------------

_COMMENT = """
SELECT c.id, c.body, c.created_at, c.updated_at, u.username, u.bio, u.image,
       EXISTS (SELECT 1 FROM follows f
               WHERE f.follower_id = ? AND f.followee_id = c.author_id) AS following
FROM comments c JOIN users u ON u.id = c.author_id
"""


def comment_json(row: Row) -> dict[str, Any]:
    """`{"id", "createdAt", "updatedAt", "body", "author"}`."""
    return {
        "id": int(row["id"]),
        "createdAt": iso_time(row["created_at"]),
        "updatedAt": iso_time(row["updated_at"]),
        "body": row["body"],
        "author": profile_json(row["username"], row["bio"], row["image"], row["following"]),
    }


def comments(tx: Transaction, article_id: int, viewer_id: int | None) -> list[dict[str, Any]]:
    """An article's comments, newest first."""
    rows = tx.fetch_all(
        _COMMENT + " WHERE c.article_id = ? ORDER BY c.created_at DESC, c.id DESC",
        (viewer_id, article_id),
    )
    return [comment_json(row) for row in rows]


def create_comment(tx: Transaction, article_id: int, author_id: int, body: str) -> dict[str, Any]:
    """Store a comment; return it as its author sees it."""
    now = now_ms()
    row = tx.fetch_one(
        "INSERT INTO comments (article_id, author_id, body, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (article_id, author_id, body, now, now),
    )
    assert row is not None
    created = tx.fetch_one(_COMMENT + " WHERE c.id = ?", (author_id, int(row["id"])))
    assert created is not None
    return comment_json(created)


def comment_author(tx: Transaction, article_id: int, comment_id: int) -> int | None:
    """The author of this article's comment `comment_id`, or None if there is no such comment."""
    row = tx.fetch_one(
        "SELECT author_id FROM comments WHERE id = ? AND article_id = ?", (comment_id, article_id)
    )
    return None if row is None else int(row["author_id"])


def delete_comment(tx: Transaction, comment_id: int) -> None:
    """Delete one comment."""
    tx.execute("DELETE FROM comments WHERE id = ?", (comment_id,))
