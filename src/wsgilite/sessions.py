"""Sessions: a dict-like `request.session` kept in a cookie signed with itsdangerous.

The cookie holds JSON (never pickle), signed with `SECRET_KEY`; keys in `SECRET_KEY_FALLBACKS`
still verify, so a key can be rotated without logging everyone out. A tampered, expired or
garbage cookie reads as an empty session. The cookie is written only when the session changed.
As in Flask, it lasts as long as the browser session unless `session.permanent` is set, and then
`PERMANENT_SESSION_LIFETIME`. Flash messages ride in the session too. A cookie past the 4096
bytes a browser keeps is never sent: old flashes are dropped first, then the session is ended,
each with a warning in the log. `log_in`, `session_user` and `log_out` keep the signed-in user
with a per-user generation, so a logout ends every copy of the cookie (as Django's session auth
hash does). This module knows requests and responses, not routing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict
from werkzeug.http import dump_cookie

from .config import seconds
from .logs import escape, logger

if TYPE_CHECKING:
    from .request import Request
    from .response import Response

_FLASHES = "_flashes"
_PERMANENT = "_permanent"
# The most a browser keeps of one cookie: RFC 6265's 4096 bytes over name, value and attributes,
# counted here over the whole `Set-Cookie: ...` line, to be safe with every browser.
MAX_COOKIE_LINE = 4096
_HEADER_NAME = "Set-Cookie: "


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
        # As Flask: a browser-session cookie unless the session was made permanent.
        lifetime = seconds(config["PERMANENT_SESSION_LIFETIME"]) if session.permanent else None
        line = self._fitting_cookie(request, session, name, lifetime, options)
        if line is None:
            if not session.new:
                response.delete_cookie(name, **options)
            return
        response.headers.add("Set-Cookie", line)

    def _fitting_cookie(
        self,
        request: Request,
        session: Session,
        name: str,
        lifetime: int | None,
        options: dict[str, Any],
    ) -> str | None:
        # A browser drops a cookie past 4096 bytes, counted over its name, value and attributes,
        # without a word: sending it would log the user out silently. Old flash messages go
        # first (a client that never follows redirects piles them up), then the whole session.
        serializer = self._serializer()
        data = dict(session)
        flashes = data.pop(_FLASHES, None)
        if not isinstance(flashes, list):
            flashes = [] if flashes is None else [flashes]

        def cookie_line(keep: int) -> str:  # the session with its `keep` newest flashes
            kept = {**data, _FLASHES: flashes[len(flashes) - keep :]} if keep else data
            value = serializer.dumps(kept)
            return dump_cookie(name, value, max_age=lifetime, max_size=0, **options)

        line = cookie_line(len(flashes))
        if _fits(line):
            return line
        size = len(line)
        # The most flashes that still fit, by bisection (each try signs the session once).
        best, low, high = None, 0, len(flashes) - 1
        while low <= high:
            keep = (low + high) // 2
            trial = cookie_line(keep)
            if _fits(trial):
                best, low = trial, keep + 1
            else:
                high = keep - 1
        where = f"{escape(request.method)} {escape(request.path)}"
        if best is not None:
            logger.warning(
                "the session cookie would be %d bytes, past the %d a browser keeps: dropped the "
                "%d oldest of %d flash messages (a client that does not follow redirects?) on %s",
                size, MAX_COOKIE_LINE, len(flashes) - high, len(flashes), where,
            )  # fmt: skip
            return best
        logger.warning(
            "the session cookie would be %d bytes, past the %d a browser keeps, even without "
            "flash messages: the session is ended (its cookie deleted) on %s; keep large data "
            "on the server and only its id in the session",
            size, MAX_COOKIE_LINE, where,
        )  # fmt: skip
        return None


def _fits(line: str) -> bool:
    return len(_HEADER_NAME) + len(line.encode("latin-1", "replace")) <= MAX_COOKIE_LINE


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


# -- the signed-in user, and a logout that ends every copy of the cookie ---------------------------

_USER = "_user_id"
_GENERATION = "_user_generation"


def log_in(request: Request, user_id: Any, generation: Any = 0) -> None:
    """Start a fresh session for `user_id`, at the user's current session `generation`.

    The session is cleared first, so nothing from before (a planted cookie) carries over.
    """
    request.session.clear()
    request.session[_USER] = user_id
    request.session[_GENERATION] = generation


def session_user(request: Request, generation_of: Callable[[Any], Any]) -> Any:
    """Return the signed-in user's id, or None; a session from before a logout is ended.

    `generation_of(user_id)` returns the user's current generation (None for a user who no
    longer exists). A cookie stored at another generation, such as a copy captured before the
    user logged out, is no login: the session is cleared.
    """
    session = session_or_empty(request)
    user_id = session.get(_USER)
    if user_id is None:
        return None
    current = generation_of(user_id)
    if current is None or session.get(_GENERATION) != current:
        request.session.clear()
        return None
    return user_id


def log_out(request: Request, end_generation: Callable[[Any], object] | None = None) -> None:
    """End this session; `end_generation(user_id)` also ends every copy of its cookie.

    `end_generation` moves the user's generation on (e.g. an UPDATE that adds 1 to it), so a
    cookie captured before the logout fails `session_user`. Without it, only this browser's
    cookie is deleted: a signed cookie stays valid until it expires wherever it was copied.
    """
    user_id = session_or_empty(request).get(_USER)
    if user_id is not None and end_generation is not None:
        end_generation(user_id)
    if session_or_empty(request):
        request.session.clear()
