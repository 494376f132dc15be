"""Authentication helpers: pages that need a login, and HTTP Basic and Bearer credentials.

`LoginRequired` sends a browser to the login route, with a `next` that stays on this site, and
answers a JSON client (or every client of an API Router) 401. `BasicAuth` and `BearerAuth` read
the `Authorization` header, compare secrets in constant time (`hmac.compare_digest`) and answer
401 with `WWW-Authenticate`. Each works as a route decorator and as a Router's before-hook. This
module owns no users and no sessions: it asks your function who is logged in. The core never
imports it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from werkzeug.exceptions import Unauthorized

from .errors import wants_json
from .response import Response, redirect, safe_next_url

if TYPE_CHECKING:
    from .request import Request
    from .routes import Router

H = TypeVar("H", bound=Callable[..., Any])


class Challenge(Unauthorized):
    """A 401 that asks for credentials: `WWW-Authenticate: <challenge>`."""

    def __init__(self, description: str, challenge: str) -> None:
        super().__init__(description)
        self.challenge = challenge

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """Return the error's headers with the challenge."""
        return [*super().get_headers(*args, **kwargs), ("WWW-Authenticate", self.challenge)]


def _realm(realm: str) -> str:
    # Quoted, as clients expect (werkzeug's WWWAuthenticate leaves a plain token unquoted).
    if any(char in realm for char in '"\\\r\n'):
        raise ValueError(f"realm {realm!r}: use a name without quotes, backslashes or newlines")
    return f'realm="{realm}"'


def session_user(request: Request) -> object:
    """Return `request.session["user_id"]` (None for a visitor): LoginRequired's default check."""
    return request.session.get("user_id")


class _Guard:
    """A check run before a handler: as a decorator, or as a Router's before-hook."""

    def check(self, request: Request) -> Response | None:
        raise NotImplementedError

    def __call__(self, handler: H) -> H:
        """Run the check before `handler`; its answer replaces the handler's on refusal."""
        check = self.check

        @functools.wraps(handler)
        def guarded(request: Request, /, *args: Any, **kwargs: Any) -> Any:
            refusal = check(request)
            if refusal is not None:
                return refusal
            return handler(request, *args, **kwargs)

        return cast("H", guarded)

    def protect(self, router: Router) -> Router:
        """Guard every route of `router` (before `app.include(router)`); return the router."""
        router.before_request(self.check)
        return router


class LoginRequired(_Guard):
    """Let only logged-in users through: browsers go to the login page, JSON clients get 401.

    login_required = LoginRequired(user=current_user, login_endpoint="login")
    @login_required
    def secret(request): ...
    """

    def __init__(
        self,
        *,
        user: Callable[[Request], object] = session_user,
        login_endpoint: str = "login",
        api: bool = False,
        on_refuse: Callable[[Request], object] | None = None,
    ) -> None:
        self.user = user
        self.login_endpoint = login_endpoint
        self.api = api
        self.on_refuse = on_refuse

    def check(self, request: Request) -> Response | None:
        """Return None for a logged-in user; else the redirect to log in, or raise a 401."""
        if self.user(request) is not None:
            return None
        if self.on_refuse is not None:
            self.on_refuse(request)
        if self.api or wants_json(request.headers.get("Accept")):
            raise Unauthorized("log in first: this needs a signed-in user")
        # The page asked for, path and query, under the app's mount point; never another site.
        query = request.query_string.decode("latin-1")
        here = request.root_path + request.path + (f"?{query}" if query else "")
        target = safe_next_url(here, fallback=request.root_path + "/")
        return redirect(request.url_for(self.login_endpoint, next=target))


login_required = LoginRequired()
"""Pages for users with `user_id` in their session; others go to the `login` route."""


class BasicAuth(_Guard):
    """HTTP Basic authentication: 401 with `WWW-Authenticate: Basic` until the password matches.

    admin = BasicAuth({"ada": os.environ["ADMIN_PASSWORD"]}, realm="admin")
    admin.protect(admin_router)
    """

    def __init__(
        self,
        users: Mapping[str, str] | Callable[[str, str], bool],
        *,
        realm: str = "wsgilite",
    ) -> None:
        self.users = users
        self.challenge = f'Basic {_realm(realm)}, charset="UTF-8"'

    def verify(self, username: str, password: str) -> bool:
        """Tell whether `password` is `username`'s, comparing in constant time."""
        if callable(self.users):
            return bool(self.users(username, password))
        expected = self.users.get(username)
        # An unknown user costs a comparison too, and is refused even with an empty password.
        matched = hmac.compare_digest(password.encode("utf-8"), (expected or "").encode("utf-8"))
        return matched and expected is not None

    def check(self, request: Request) -> Response | None:
        """Set `request.state.user` to the username, or raise a 401 that asks for a login."""
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic" and encoded:
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            username, colon, password = decoded.partition(":")
            if colon and self.verify(username, password):
                request.state.user = username
                return None
        raise Challenge("a username and password are needed", self.challenge)


class BearerAuth(_Guard):
    """Bearer tokens (RFC 6750): 401 with `WWW-Authenticate: Bearer` for a missing or bad token.

    api_token = BearerAuth(tokens={os.environ["API_TOKEN"]})
    BearerAuth(verify=lambda token: load_user_for(token))  # a user, or None
    """

    def __init__(
        self,
        tokens: Collection[str] = (),
        *,
        verify: Callable[[str], object] | None = None,
        realm: str = "api",
    ) -> None:
        if not tokens and verify is None:
            raise ValueError("BearerAuth needs tokens={...} or verify=function(token) -> user")
        self.tokens = [token.encode("utf-8") for token in tokens]
        self.verify = verify
        self.challenge = f"Bearer {_realm(realm)}"

    def identify(self, token: str) -> object:
        """Return who `token` stands for (the token itself for a listed one), or None."""
        if self.verify is not None:
            return self.verify(token)
        given = token.encode("utf-8")
        # Every listed token is compared, in constant time, whichever matches.
        matched = False
        for known in self.tokens:
            matched |= hmac.compare_digest(given, known)
        return token if matched else None

    def check(self, request: Request) -> Response | None:
        """Set `request.state.user` to the token's user, or raise a 401 naming the problem."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        challenge = self.challenge
        if scheme.lower() == "bearer" and token:
            user = self.identify(token)
            if user is not None:
                request.state.user = user
                return None
            challenge += ', error="invalid_token"'
        raise Challenge("a valid bearer token is needed", challenge)
