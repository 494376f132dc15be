"""Every check of what a client sends, in one module: JSON bodies, query strings, path values.

A handler calls one function per request shape. Each returns a frozen dataclass of clean values
or raises `ApiError` (422) that lists every problem at once, as RealWorld wants:
`{"errors": {"body": ["email can't be blank", "password can't be blank"]}}`.

Whatever a client sends is answered, never a 500: a list or a number where text belongs, NUL
characters (PostgreSQL refuses them), lone surrogates (no UTF-8 form), integers past 64 bits in
`limit`/`offset`, text too long for an index. This is the module to replace when handlers get
typed parameters: the dataclasses are the types, the functions are the parsing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wsgilite import Request

MAX_USERNAME = 64
MAX_EMAIL = 254
MAX_PASSWORD = 1024
MAX_BIO = 10_000
MAX_IMAGE = 2_000
MAX_TITLE = 300
MAX_DESCRIPTION = 2_000
MAX_BODY = 200_000
MAX_TAG = 64
MAX_TAGS = 50
MAX_COMMENT = 20_000
DEFAULT_LIMIT = 20
MAX_LIMIT = 1_000  # a larger `limit` is served as this many
MAX_OFFSET = 2**63 - 1  # the largest OFFSET both databases take; larger is served as this

USERNAME = re.compile(r"[\w.-]+")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
WHOLE_NUMBER = re.compile(r"\+?[0-9]+")


class ApiError(Exception):
    """An answer other than success: a status and the messages of `{"errors": {"body": [...]}}`."""

    def __init__(
        self, status: int, messages: list[str], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = messages
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body: every message under errors.body."""
        return {"errors": {"body": list(self.messages)}}


def unprocessable(*messages: str) -> ApiError:
    """422: the request was understood but its content is wrong."""
    return ApiError(422, list(messages))


def unauthorized(
    message: str = "a valid token is required: Authorization: Token <jwt>",
) -> ApiError:
    """401: no token, or one that is not valid (the scheme word is Token)."""
    return ApiError(401, [message], {"WWW-Authenticate": "Token"})


def forbidden(message: str) -> ApiError:
    """403: someone else's article or comment."""
    return ApiError(403, [message])


def not_found(message: str) -> ApiError:
    """404: no such article, comment or profile."""
    return ApiError(404, [message])


# -- requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    username: str
    email: str
    password: str


@dataclass(frozen=True)
class Login:
    email: str
    password: str


@dataclass(frozen=True)
class UserChanges:
    email: str | None = None
    username: str | None = None
    password: str | None = None
    bio: str | None = None
    image: str | None = None


@dataclass(frozen=True)
class NewArticle:
    title: str
    description: str
    body: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ArticleChanges:
    title: str | None = None
    description: str | None = None
    body: str | None = None
    tags: list[str] | None = None


@dataclass(frozen=True)
class NewComment:
    body: str


@dataclass(frozen=True)
class ArticleQuery:
    """`GET /articles` and `/articles/feed`: filters, page, and whether no article can match."""

    tag: str | None = None
    author: str | None = None
    favorited: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    matches_nothing: bool = False


# -- reading a wrapped JSON body -------------------------------------------------------------------


def payload(request: Request, key: str) -> Mapping[str, Any]:
    """Return the object under `key` of the JSON body `{"<key>": {...}}`, or raise 422."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise unprocessable(f'the request body must be a JSON object: {{"{key}": {{...}}}}')
    inner = data.get(key)
    if not isinstance(inner, dict):
        raise unprocessable(f'{key} must be an object: {{"{key}": {{...}}}}')
    return inner


class _Reader:
    """Reads the fields of one object, collecting every problem before raising once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: list[str] = []

    def text(
        self,
        name: str,
        maximum: int,
        *,
        required: bool = False,
        nullable: bool = False,
        may_be_empty: bool = False,
        strip: bool = True,
    ) -> str | None:
        """The text field `name`: None when absent (and not required); "" for null if nullable."""
        if name not in self.data:
            if required:
                self.errors.append(f"{name} can't be blank")
            return None
        value = self.data[name]
        if value is None and nullable:
            return ""
        if value is None:
            self.errors.append(f"{name} can't be blank")
            return None
        if not isinstance(value, str):
            self.errors.append(f"{name} must be a string")
            return None
        problem = text_problem(value)
        if problem:
            self.errors.append(f"{name} {problem}")
            return None
        cleaned = value.strip() if strip else value
        if not value.strip() and not may_be_empty:
            self.errors.append(f"{name} can't be blank")
            return None
        if len(cleaned) > maximum:
            self.errors.append(f"{name} is too long (maximum is {maximum} characters)")
            return None
        return cleaned

    def tags(self, name: str = "tagList") -> list[str] | None:
        """A list of tags: stripped, unique, sorted; None when absent, [] for null."""
        if name not in self.data:
            return None
        value = self.data[name]
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            self.errors.append(f"{name} must be a list of strings")
            return None
        tags: set[str] = set()
        for tag in value:
            problem = text_problem(tag)
            if problem:
                self.errors.append(f"{name} entries {problem}")
                return None
            tag = tag.strip()
            if not tag:
                self.errors.append(f"{name} entries can't be blank")
                return None
            if len(tag) > MAX_TAG:
                self.errors.append(f"{name} entries are too long (maximum is {MAX_TAG} characters)")
                return None
            tags.add(tag)
        if len(tags) > MAX_TAGS:
            self.errors.append(f"{name} has too many tags (maximum is {MAX_TAGS})")
            return None
        return sorted(tags)

    def check(self) -> None:
        """Raise 422 with every collected message, if there is any."""
        if self.errors:
            raise unprocessable(*self.errors)


def text_problem(value: str) -> str | None:
    """What makes `value` unstorable: NUL characters, or lone surrogates with no UTF-8 form."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _username(reader: _Reader, required: bool) -> str | None:
    username = reader.text("username", MAX_USERNAME, required=required)
    if username is not None and not USERNAME.fullmatch(username):
        reader.errors.append("username may only contain letters, digits, '_', '-' and '.'")
        return None
    return username


def _email(reader: _Reader, required: bool) -> str | None:
    email = reader.text("email", MAX_EMAIL, required=required)
    if email is not None and not EMAIL.fullmatch(email):
        reader.errors.append("email is invalid")
        return None
    return email


def registration(data: Mapping[str, Any]) -> Registration:
    """`POST /users`: username, email and password, all required."""
    reader = _Reader(data)
    username = _username(reader, required=True)
    email = _email(reader, required=True)
    password = reader.text("password", MAX_PASSWORD, required=True, strip=False)
    reader.check()
    assert username is not None and email is not None and password is not None
    return Registration(username, email, password)


def login(data: Mapping[str, Any]) -> Login:
    """`POST /users/login`: email and password, both required."""
    reader = _Reader(data)
    email = reader.text("email", MAX_EMAIL, required=True)
    password = reader.text("password", MAX_PASSWORD, required=True, strip=False)
    reader.check()
    assert email is not None and password is not None
    return Login(email, password)


def user_changes(data: Mapping[str, Any]) -> UserChanges:
    """`PUT /user`: any of email, username, password, bio, image (bio and image may be null)."""
    reader = _Reader(data)
    changes = UserChanges(
        email=_email(reader, required=False),
        username=_username(reader, required=False),
        password=reader.text("password", MAX_PASSWORD, strip=False),
        bio=reader.text("bio", MAX_BIO, nullable=True, may_be_empty=True),
        image=reader.text("image", MAX_IMAGE, nullable=True, may_be_empty=True),
    )
    if not reader.errors and not any(name in data for name in vars(changes)):
        reader.errors.append("user must contain one of email, username, password, bio, image")
    reader.check()
    return changes


def new_article(data: Mapping[str, Any]) -> NewArticle:
    """`POST /articles`: title, description and body required; tagList optional."""
    reader = _Reader(data)
    title = reader.text("title", MAX_TITLE, required=True)
    description = reader.text("description", MAX_DESCRIPTION, required=True)
    body = reader.text("body", MAX_BODY, required=True, strip=False)
    tags = reader.tags()
    reader.check()
    assert title is not None and description is not None and body is not None
    return NewArticle(title, description, body, tags or [])


def article_changes(data: Mapping[str, Any]) -> ArticleChanges:
    """`PUT /articles/<slug>`: any of title, description, body, tagList."""
    reader = _Reader(data)
    changes = ArticleChanges(
        title=reader.text("title", MAX_TITLE),
        description=reader.text("description", MAX_DESCRIPTION),
        body=reader.text("body", MAX_BODY, strip=False),
        tags=reader.tags(),
    )
    if not reader.errors and not any(name in data for name in (*vars(changes), "tagList")):
        reader.errors.append("article must contain one of title, description, body, tagList")
    reader.check()
    return changes


def new_comment(data: Mapping[str, Any]) -> NewComment:
    """`POST /articles/<slug>/comments`: body required."""
    reader = _Reader(data)
    body = reader.text("body", MAX_COMMENT, required=True, strip=False)
    reader.check()
    assert body is not None
    return NewComment(body)


# -- query strings and path values ----------------------------------------------------------------


def lookup(value: str | None, maximum: int) -> str | None:
    """A value to look up as it is, or None when nothing stored can equal it."""
    if value is None or len(value) > maximum or text_problem(value):
        return None
    return value


def article_query(args: Mapping[str, str], feed: bool = False) -> ArticleQuery:
    """`?tag=&author=&favorited=&limit=&offset=` (the feed takes limit and offset only)."""
    errors: list[str] = []
    limit = _whole_number(args, "limit", DEFAULT_LIMIT, MAX_LIMIT, errors)
    offset = _whole_number(args, "offset", 0, MAX_OFFSET, errors)
    if errors:
        raise unprocessable(*errors)
    if feed:
        return ArticleQuery(limit=limit, offset=offset)
    filters: dict[str, str | None] = {}
    matches_nothing = False
    for name, maximum in (("tag", MAX_TAG), ("author", MAX_USERNAME), ("favorited", MAX_USERNAME)):
        raw = args.get(name)
        value = lookup(raw, maximum)
        if raw is not None and value is None:
            matches_nothing = True  # no tag or username can contain NUL or be that long
        filters[name] = value
    return ArticleQuery(
        tag=filters["tag"],
        author=filters["author"],
        favorited=filters["favorited"],
        limit=limit,
        offset=offset,
        matches_nothing=matches_nothing,
    )


def _whole_number(
    args: Mapping[str, str], name: str, default: int, maximum: int, errors: list[str]
) -> int:
    raw = args.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not WHOLE_NUMBER.fullmatch(text):
        errors.append(f"{name} must be a whole number, 0 or more")
        return default
    digits = text.lstrip("+").lstrip("0") or "0"
    if len(digits) > len(str(maximum)):  # past 64 bits, and never int() of 5,000 digits
        return maximum
    return min(int(digits), maximum)
