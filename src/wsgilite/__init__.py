"""wsgilite: a small, fast, typed WSGI micro-framework on werkzeug and Jinja2."""

from werkzeug.exceptions import HTTPException

from .app import App
from .config import Config
from .csrf import csrf_token
from .errors import abort
from .request import Request
from .response import Response, redirect, safe_next_url
from .routes import Route, RouteConflict, Router
from .sessions import Session, flash, get_flashed_messages

__all__ = [
    "App",
    "Config",
    "HTTPException",
    "Request",
    "Response",
    "Route",
    "RouteConflict",
    "Router",
    "Session",
    "abort",
    "csrf_token",
    "flash",
    "get_flashed_messages",
    "redirect",
    "safe_next_url",
]
__version__ = "0.1.0"
