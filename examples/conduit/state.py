"""Where the app keeps its services, and where a request keeps what it learned along the way.

Two small lookups, so that moving them onto the framework later (a `request.state`, app
extensions) changes this file only:

- `services(request)`: the app's database and settings, registered by `create_app`;
- `request_state(request)`: per-request values (the token's user id, once read), kept in the
  WSGI environ, which lives exactly as long as the request.
"""

from __future__ import annotations

import weakref
from contextlib import AbstractContextManager
from dataclasses import dataclass

from wsgilite import App, Request

from .db import Database, Transaction


@dataclass(frozen=True)
class Settings:
    """What the Conduit code reads from `app.config`, checked once in `create_app`."""

    secret_key: str
    token_lifetime: int
    password_method: str
    list_bodies: bool


@dataclass(frozen=True)
class Services:
    database: Database
    settings: Settings


@dataclass
class RequestState:
    token_read: bool = False
    user_id: int | None = None


_SERVICES: weakref.WeakKeyDictionary[App, Services] = weakref.WeakKeyDictionary()
_STATE_KEY = "conduit.state"


def install(app: App, services: Services) -> None:
    """Attach `services` to `app`."""
    _SERVICES[app] = services


def services_of(app: App) -> Services:
    """The services `create_app` attached to `app`."""
    return _SERVICES[app]


def services(request: Request) -> Services:
    """The services of the app answering `request`."""
    if request.app is None:
        raise RuntimeError("Conduit handlers need a request created by their App")
    return _SERVICES[request.app]


def request_state(request: Request) -> RequestState:
    """This request's state, created on first use."""
    state = request.environ.get(_STATE_KEY)
    if state is None:
        state = request.environ[_STATE_KEY] = RequestState()
    assert isinstance(state, RequestState)
    return state


def transaction(request: Request, *, write: bool = False) -> AbstractContextManager[Transaction]:
    """A transaction on the app's database, committed when the block ends without an error."""
    manager: AbstractContextManager[Transaction] = services(request).database.transaction(write)
    return manager
