"""CSRF protection: a per-session token, checked on unsafe requests a forgery could ride on.

`csrf_token(request)` puts a random token in the session and returns it, masked with a fresh
random pad each time so the page never shows the same bytes twice (BREACH). A POST, PUT, PATCH or
DELETE that needs it must send it back as the `csrf_token` form field or the `X-CSRF-Token`
header, or it is answered 400. A route or router can opt out (`csrf=False`).

Which requests need it: any unsafe request that carries the session cookie, whatever its
Content-Type (a typeless Blob, `sendBeacon` and a form-less `fetch` send no preflight, and a
handler may read such a body as JSON); with `CSRF = True`, every form post too; and, in the
default mode, a form-typed or typeless post the browser marks as sent by another site
(`Sec-Fetch-Site`, `Origin`, else `Referer`), which stops login forgery. An Origin or Referer
that cannot be parsed counts as another site. A request with no session cookie that is not
cross-site (a script, an API authenticated by a header token) needs none.
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
# What a page on another site can send without a CORS preflight: the form types, or no type.
SIMPLE_TYPES = (*FORM_TYPES, "")
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


def carries_session(request: Request, session_cookie: str) -> bool:
    """Tell whether the request carries the session cookie a forgery would ride on."""
    return session_cookie in request.cookies


def needs_check(request: Request, *, strict: bool, session_cookie: str) -> bool:
    """Tell whether this unsafe request must carry the session's CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return False
    if carries_session(request, session_cookie):
        # Whatever its type: a typeless Blob, sendBeacon or a form-less fetch sends no
        # preflight, and a handler may read the body with get_json(force=True) or `data`.
        return True
    if strict and request.mimetype in FORM_TYPES:
        return True
    # No session: only a cross-site post of a type a page can send without a preflight
    # (login forgery) needs the token; scripts and header-token APIs are left alone.
    return request.mimetype in SIMPLE_TYPES and is_cross_site(request)


def is_cross_site(request: Request) -> bool:
    """Tell whether the browser says another site sent this request (or cannot say whose)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == "null" or not _same_host(origin, request)
    referer = request.headers.get("Referer")
    return referer is not None and not _same_host(referer, request)


def _same_host(url: str, request: Request) -> bool:
    # A URL urlsplit cannot parse ("http://[::1", "https://]x", a bad port) is no origin this
    # site wrote: cross-site, so the token decides; never an exception (a 500).
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        host = request.host
    except ValueError:
        return False
    return bool(parts.netloc) and parts.netloc.lower() == host.lower()


def check_form(request: Request, *, strict: bool, session_cookie: str) -> None:
    """Raise CSRFError if this unsafe request lacks this session's token and needs it."""
    if not needs_check(request, strict=strict, session_cookie=session_cookie):
        return
    token = request.headers.get(HEADER) or _form_token(request)
    secret = _session_secret(request, create=False)
    unmasked = _unmask(token) if token else None
    if secret is None or unmasked is None or not hmac.compare_digest(secret, unmasked):
        raise CSRFError()


def _form_token(request: Request) -> str | None:
    # Only a form body can hold the field; any other body is left for the handler to read.
    if request.mimetype not in FORM_TYPES:
        return None
    return request.form.get(FIELD)
