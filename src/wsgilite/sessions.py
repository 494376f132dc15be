"""Sessions: a dict-like `request.session` kept in a cookie signed with itsdangerous.

The cookie holds JSON (never pickle), signed with `SECRET_KEY`; keys in `SECRET_KEY_FALLBACKS`
still verify, so a key can be rotated without logging everyone out. A tampered, expired or
garbage cookie reads as an empty session. The cookie is written only when the session changed.
As in Flask, it lasts as long as the browser session unless `session.permanent` is set, and then
`PERMANENT_SESSION_LIFETIME`. Flash messages ride in the session too. This module knows requests
and responses, not routing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from .config import seconds

if TYPE_CHECKING:
    from .request import Request
    from .response import Response

_FLASHES = "_flashes"
_PERMANENT = "_permanent"
_MAX_COOKIE_BYTES = 4093


class MissingSecretKey(RuntimeError):
    """The session was used but the app has no `SECRET_KEY`."""


class Session(CallbackDict[str, Any]):
    """The session's data: a dict that remembers whether it was changed."""

    def __init__(self, initial: Mapping[str, Any] | None = None, new: bool = False) -> None:
        def on_update(session: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.modified = False
        self.new = new

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (`PERMANENT_SESSION_LIFETIME`)."""
        return bool(self.get(_PERMANENT, False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        if value:
            self[_PERMANENT] = True
        else:
            self.pop(_PERMANENT, None)


class SessionCookies:
    """Reads and writes an app's signed session cookies."""

    salt = "wsgilite.session"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @property
    def enabled(self) -> bool:
        """Whether sessions can be used: the app has a `SECRET_KEY`."""
        return bool(self.config.get("SECRET_KEY"))

    def _serializer(self) -> URLSafeTimedSerializer:
        key = self.config.get("SECRET_KEY")
        if not key:
            raise MissingSecretKey(
                "request.session needs app.config['SECRET_KEY']; set it to a long random string, "
                "e.g. secrets.token_hex(32), or WSGILITE_SECRET_KEY with app.config.from_env()"
            )
        fallbacks = self.config.get("SECRET_KEY_FALLBACKS") or []
        if isinstance(fallbacks, str | bytes):
            fallbacks = [fallbacks]  # one key, not one key per character
        fallbacks = [fallback for fallback in fallbacks if fallback]
        # itsdangerous signs with the last key and verifies with all of them.
        return URLSafeTimedSerializer(
            [*fallbacks, key],
            salt=self.salt,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    def open(self, request: Request) -> Session:
        """Load the session from the request's cookie; anything invalid gives an empty one."""
        serializer = self._serializer()
        cookie = request.cookies.get(self.config["SESSION_COOKIE_NAME"])
        if not cookie:
            return Session(new=True)
        try:
            data = serializer.loads(
                cookie, max_age=seconds(self.config["PERMANENT_SESSION_LIFETIME"])
            )
        except (BadSignature, ValueError, TypeError, UnicodeError):
            return Session(new=True)
        if not isinstance(data, dict):
            return Session(new=True)
        return Session(data)

    def save(self, request: Request, response: Response) -> None:
        """Write the session cookie if the session changed (delete it once it is emptied)."""
        session = request.loaded_session
        if session is None:
            return
        # The page depended on the cookie, even if it did not change it: caches must know.
        response.vary.add("Cookie")
        if not session.modified:
            return
        config = self.config
        name = config["SESSION_COOKIE_NAME"]
        options: dict[str, Any] = {
            "domain": config["SESSION_COOKIE_DOMAIN"],
            "path": config["SESSION_COOKIE_PATH"],
            "secure": config["SESSION_COOKIE_SECURE"],
            "httponly": config["SESSION_COOKIE_HTTPONLY"],
            "samesite": config["SESSION_COOKIE_SAMESITE"],
        }
        if not session:
            if not session.new:
                response.delete_cookie(name, **options)
            return
        value = self._serializer().dumps(dict(session))
        if len(value) > _MAX_COOKIE_BYTES:
            raise ValueError(
                f"the session cookie would be {len(value)} bytes, past browsers' 4 KB limit; "
                "keep large data on the server and store only its id in the session"
            )
        # As Flask: a browser-session cookie unless the session was made permanent.
        lifetime = seconds(config["PERMANENT_SESSION_LIFETIME"]) if session.permanent else None
        response.set_cookie(name, value, max_age=lifetime, **options)


def session_or_empty(request: Request) -> Mapping[str, Any]:
    """Return the request's session, or an empty mapping when the app has no `SECRET_KEY`."""
    if request.sessions is None or not request.sessions.enabled:
        return {}
    return request.session


def flash(request: Request, message: str, category: str = "message") -> None:
    """Store `message` for the next page the client sees."""
    flashes = list(request.session.get(_FLASHES, []))
    flashes.append([category, message])
    request.session[_FLASHES] = flashes


def get_flashed_messages(
    request: Request, with_categories: bool = False, category_filter: tuple[str, ...] = ()
) -> list[Any]:
    """Take the flashed messages out of the session (each is shown once)."""
    cache = request.state.get("_wsgilite_flashes")
    if cache is None:
        session = session_or_empty(request)
        stored = request.session.pop(_FLASHES, None) if _FLASHES in session else None
        cache = [item for item in (stored or []) if isinstance(item, list) and len(item) == 2]
        request.state._wsgilite_flashes = cache
    items = [item for item in cache if not category_filter or item[0] in category_filter]
    if with_categories:
        return [(category, message) for category, message in items]
    return [message for _, message in items]
