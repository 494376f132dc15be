"""Users: register, log in, read and change the current user."""

from __future__ import annotations

from typing import Any

from wsgilite import Request, Router

from .. import auth, store, validation
from ..state import services, transaction

users = Router(prefix="/api", name="users", csrf=False)


@users.post("/users")
def register(request: Request) -> tuple[dict[str, Any], int]:
    """`POST /api/users` `{"user": {username, email, password}}`: 201 with the new user."""
    new = validation.registration(validation.payload(request, "user"))
    settings = services(request).settings
    password_hash = auth.hash_password(settings, new.password)
    with transaction(request, write=True) as tx:
        user = store.create_user(tx, new.username, new.email, password_hash)
    return {"user": store.user_json(user, auth.issue_token(settings, user.id))}, 201


@users.post("/users/login")
def login(request: Request) -> dict[str, Any]:
    """`POST /api/users/login` `{"user": {email, password}}`: the user, or 401."""
    credentials = validation.login(validation.payload(request, "user"))
    settings = services(request).settings
    with transaction(request) as tx:
        user = store.user_by_email(tx, credentials.email)
    stored_hash = user.password_hash if user is not None else None
    if not auth.check_password(settings, stored_hash, credentials.password) or user is None:
        raise validation.unauthorized("email or password is invalid")
    return {"user": store.user_json(user, auth.issue_token(settings, user.id))}


@users.get("/user")
def current_user(request: Request) -> dict[str, Any]:
    """`GET /api/user`: the signed-in user, with a fresh token."""
    with transaction(request) as tx:
        user = auth.current_user(request, tx)
    return {"user": store.user_json(user, auth.issue_token(services(request).settings, user.id))}


@users.put("/user")
def update_user(request: Request) -> dict[str, Any]:
    """`PUT /api/user` `{"user": {email?, username?, password?, bio?, image?}}`."""
    settings = services(request).settings
    auth.require_token(request)  # 401 comes before the body is judged
    changes = validation.user_changes(validation.payload(request, "user"))
    password_hash = None
    if changes.password is not None:
        password_hash = auth.hash_password(settings, changes.password)
    with transaction(request, write=True) as tx:
        user = auth.current_user(request, tx)
        user = store.update_user(tx, user, changes, password_hash)
    return {"user": store.user_json(user, auth.issue_token(settings, user.id))}
