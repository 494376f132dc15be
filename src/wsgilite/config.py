"""Configuration: `app.config`, a dict with loaders, and the keys wsgilite itself reads.

`DEFAULTS` is the one list of every key the framework reads; README's configuration table
mirrors it. The config knows nothing of requests or responses.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": [],
    # A default body limit: Flask's unlimited default is one of its oldest complaints.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1000,
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": "/",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Flask's name and default: how long a permanent session lasts (`session.permanent = True`),
    # and how old a session's signature may be. A timedelta or seconds.
    "PERMANENT_SESSION_LIFETIME": datetime.timedelta(days=31),
    # None: on whenever SECRET_KEY is set (a form token needs a session); True or False forces it.
    "CSRF": None,
    # Flask's name and default: Cache-Control max-age of static files (seconds or a timedelta);
    # None sends no max-age, so browsers revalidate with the ETag (a 304) after a deploy.
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRUSTED_HOSTS": None,
    "SECURITY_HEADERS": {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
    },
    "ACCESS_LOG": False,
    # Host and scheme for app.url_for(..., _external=True) outside a request.
    "SERVER_NAME": None,
    "PREFERRED_URL_SCHEME": "http",
}


_TEXT_KEYS = frozenset({"SECRET_KEY", "SERVER_NAME", "SESSION_COOKIE_DOMAIN"})
_LIST_KEYS = frozenset({"SECRET_KEY_FALLBACKS", "TRUSTED_HOSTS"})


def parse_env_value(text: str) -> Any:
    """Turn an environment string into a bool, int, float or leave it a string."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def seconds(value: float | datetime.timedelta | None) -> int | None:
    """Return a duration setting (seconds or a timedelta) in whole seconds; None stays None."""
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    return None if value is None else int(value)


class Config(dict[str, Any]):
    """The app's settings: a dict pre-filled with `DEFAULTS`."""

    def __init__(self, defaults: Mapping[str, Any] | None = None, root_path: str = "") -> None:
        super().__init__({**DEFAULTS, **(defaults or {})})
        # Dicts are copied so two apps never share one.
        self["SECURITY_HEADERS"] = dict(self["SECURITY_HEADERS"])
        self.root_path = root_path

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **values: Any) -> None:
        """Update from upper-case keys of a mapping and keyword arguments."""
        for key, value in {**(mapping or {}), **values}.items():
            if key.isupper():
                self[key] = value

    def from_pyfile(self, path: str | os.PathLike[str]) -> None:
        """Update from the upper-case names a Python file defines (relative to the app's folder)."""
        # As Flask does: a relative path is found beside the app, whatever the working folder.
        file = Path(self.root_path, path)
        try:
            source = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise FileNotFoundError(f"config file {str(file)!r} cannot be read: {exc}") from exc
        namespace: dict[str, Any] = {"__file__": str(file)}
        exec(compile(source, str(file), "exec"), namespace)
        self.from_mapping(namespace)

    def from_env(self, prefix: str = "WSGILITE_") -> None:
        """Update from `prefix + KEY` variables, typed ("1"/"true" -> True; lists split on ",")."""
        for name, text in os.environ.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                key = name[len(prefix) :]
                self[key] = self._typed(key, text)

    def _typed(self, key: str, text: str) -> Any:
        current = self.get(key)
        if key in _LIST_KEYS:
            # "old-key-1,old-key-2" is two keys, never a string of one-letter keys.
            return [item.strip() for item in text.split(",") if item.strip()]
        if isinstance(current, str) or key in _TEXT_KEYS:
            return text  # a secret made of digits is still a secret, not a number
        value = parse_env_value(text)
        # "1" and "0" become True/False where the default is a bool.
        if isinstance(current, bool) and value in (0, 1):
            return bool(value)
        return value
