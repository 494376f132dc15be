"""Profiles: read one, follow and unfollow."""

from __future__ import annotations

from typing import Any

from wsgilite import Request, Router

from .. import auth, store, validation
from ..db import Transaction
from ..state import transaction

profiles = Router(prefix="/api", name="profiles", csrf=False)


def _profile_user(tx: Transaction, username: str) -> store.User:
    name = validation.lookup(username, validation.MAX_USERNAME)
    user = store.user_by_username(tx, name) if name is not None else None
    if user is None:
        raise validation.not_found(f"profile {username[:100]!r} not found")
    return user


@profiles.get("/profiles/<username>")
def get_profile(request: Request, username: str) -> dict[str, Any]:
    """`GET /api/profiles/<username>`: auth optional."""
    with transaction(request) as tx:
        viewer = auth.optional_user(request, tx)
        user = _profile_user(tx, username)
        return {"profile": store.profile(tx, user, viewer.id if viewer else None)}


@profiles.post("/profiles/<username>/follow")
def follow(request: Request, username: str) -> dict[str, Any]:
    """`POST /api/profiles/<username>/follow`: the profile, now followed."""
    with transaction(request, write=True) as tx:
        viewer = auth.current_user(request, tx)
        user = _profile_user(tx, username)
        if user.id == viewer.id:
            raise validation.unprocessable("you cannot follow yourself")
        store.follow(tx, viewer.id, user.id)
        return {"profile": store.profile(tx, user, viewer.id)}


@profiles.delete("/profiles/<username>/follow")
def unfollow(request: Request, username: str) -> dict[str, Any]:
    """`DELETE /api/profiles/<username>/follow`: the profile, no longer followed."""
    with transaction(request, write=True) as tx:
        viewer = auth.current_user(request, tx)
        user = _profile_user(tx, username)
        store.unfollow(tx, viewer.id, user.id)
        return {"profile": store.profile(tx, user, viewer.id)}
