"""CSRF protection for HTML forms: a per-session token, checked on unsafe form posts.

`csrf_token(request)` puts a random token in the session and returns it, masked with a fresh
random pad each time so the page never shows the same bytes twice (BREACH). A POST, PUT, PATCH or
DELETE with a form body must send it back as the `csrf_token` field or the `X-CSRF-Token` header,
or it is answered 400. JSON bodies are not forms; a route or router can also opt out.

Strict (`CSRF = True`), every such form post needs the token. By default (`CSRF = None` with a
`SECRET_KEY`), a form post needs it when a forgery could hurt: when it carries a session cookie
(a forged post rides on the victim's cookies) or when the browser says it comes from another
site (`Sec-Fetch-Site`, `Origin`), which also stops login forgery. A first post from a client
with no session, such as a script or a test, needs none.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from werkzeug.exceptions import BadRequest

if TYPE_CHECKING:
    from .request import Request

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
_SESSION_KEY = "_csrf"
_SIZE = 32


class CSRFError(BadRequest):
    """A form was posted without a valid CSRF token."""

    description = (
        "The form's CSRF token is missing or invalid; reload the page and submit the form again."
    )


def csrf_token(request: Request) -> str:
    """Return a masked CSRF token for a form on this request's page."""
    secret = _session_secret(request, create=True)
    assert secret is not None
    pad = secrets.token_bytes(_SIZE)
    masked = bytes(a ^ b for a, b in zip(pad, secret, strict=True))
    return base64.urlsafe_b64encode(pad + masked).decode().rstrip("=")


def _session_secret(request: Request, create: bool) -> bytes | None:
    stored = request.session.get(_SESSION_KEY)
    if isinstance(stored, str):
        try:
            secret = base64.urlsafe_b64decode(stored + "==")
            if len(secret) == _SIZE:
                return secret
        except ValueError:
            pass
    if not create:
        return None
    secret = secrets.token_bytes(_SIZE)
    request.session[_SESSION_KEY] = base64.urlsafe_b64encode(secret).decode()
    return secret


def _unmask(token: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != 2 * _SIZE:
        return None
    return bytes(a ^ b for a, b in zip(raw[:_SIZE], raw[_SIZE:], strict=True))


def needs_check(request: Request) -> bool:
    """Tell whether this request is an unsafe method carrying a form body."""
    if request.method not in UNSAFE_METHODS:
        return False
    return request.mimetype in FORM_TYPES


def at_risk(request: Request, session_cookie: str) -> bool:
    """Tell whether a forged post could do harm: a session rides on it, or another site sent it."""
    if session_cookie in request.cookies:
        return True
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and (origin == "null" or urlsplit(origin).netloc != request.host)


def check_form(request: Request, *, strict: bool, session_cookie: str) -> None:
    """Raise CSRFError if this unsafe form post lacks this session's token and needs it."""
    if not needs_check(request):
        return
    if not strict and not at_risk(request, session_cookie):
        return
    token = request.headers.get(HEADER) or request.form.get(FIELD)
    secret = _session_secret(request, create=False)
    unmasked = _unmask(token) if token else None
    if secret is None or unmasked is None or not hmac.compare_digest(secret, unmasked):
        raise CSRFError()
