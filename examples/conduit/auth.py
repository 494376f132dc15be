"""Tokens and passwords: `Authorization: Token <jwt>` (PyJWT, HS256) and werkzeug's hashes.

A token carries the user's id (`sub`), when it was issued and when it expires; any process that
knows SECRET_KEY can check it, so many gunicorn workers on many machines need no shared session
store. A token whose user no longer exists is refused like a forged one.
"""

from __future__ import annotations

import functools
import secrets
import time

import jwt
from werkzeug.security import check_password_hash, generate_password_hash

from wsgilite import Request

from . import store
from .db import Transaction
from .state import Settings, request_state, services
from .validation import unauthorized

ALGORITHM = "HS256"
MAX_ID = 2**63 - 1


def issue_token(settings: Settings, user_id: int) -> str:
    """A signed token for `user_id`, valid for `settings.token_lifetime` seconds."""
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + settings.token_lifetime}
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def token_user_id(request: Request) -> int | None:
    """The user id of the request's token; None without an Authorization header; 401 if bad."""
    state = request_state(request)
    if state.token_read:
        return state.user_id
    header = request.headers.get("Authorization")
    user_id = None
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "token" or not token.strip():
            raise unauthorized("the Authorization header must be: Token <jwt>")
        try:
            claims = jwt.decode(
                token.strip(),
                services(request).settings.secret_key,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub"]},
            )
        except jwt.InvalidTokenError:
            raise unauthorized("the token is invalid or has expired") from None
        subject = claims["sub"]
        if not (isinstance(subject, str) and subject.isdecimal() and len(subject) < 20):
            raise unauthorized("the token is invalid or has expired")
        user_id = int(subject)
    state.token_read, state.user_id = True, user_id
    return user_id


def require_token(request: Request) -> int:
    """The user id of the request's token; 401 without one (checked before the body is read)."""
    user_id = token_user_id(request)
    if user_id is None:
        raise unauthorized()
    return user_id


def current_user(request: Request, tx: Transaction) -> store.User:
    """The signed-in user; 401 without a valid token."""
    user = optional_user(request, tx)
    if user is None:
        raise unauthorized()
    return user


def optional_user(request: Request, tx: Transaction) -> store.User | None:
    """The signed-in user, or None for a visitor; 401 for a bad token."""
    user_id = token_user_id(request)
    if user_id is None:
        return None
    user = store.user_by_id(tx, user_id) if user_id <= MAX_ID else None
    if user is None:
        raise unauthorized("the token's user no longer exists")
    return user


def hash_password(settings: Settings, password: str) -> str:
    """werkzeug's salted hash of `password` (scrypt unless PASSWORD_HASH_METHOD says otherwise)."""
    return generate_password_hash(password, method=settings.password_method)


def check_password(settings: Settings, stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches (an unknown user costs a hash check too: timing tells nothing)."""
    if stored_hash is None:
        check_password_hash(_decoy_hash(settings.password_method), password)
        return False
    return check_password_hash(stored_hash, password)


@functools.cache
def _decoy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)
