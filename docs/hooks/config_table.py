"""The configuration table, generated from `wsgilite.config.DEFAULTS` so it cannot drift.

MkDocs runs this module as a hook: the page that holds `<!-- config-table -->` gets the table,
and the API reference page that holds `<!-- api-reference -->` gets one `::: wsgilite.NAME` per
name in `wsgilite.__all__`. `tests/test_docs.py` checks that every key has a description here and
that README.md carries the same table. Print the table with `python docs/hooks/config_table.py`.
"""

from __future__ import annotations

import datetime
from typing import Any

import wsgilite
from wsgilite.config import DEFAULTS

CONFIG_MARKER = "<!-- config-table -->"
API_MARKER = "<!-- api-reference -->"
# Their decorators (route, get, before_request, ...) are defined on a shared base class.
INHERITING = frozenset({"App", "Router"})

# What each key of DEFAULTS does; a key added to DEFAULTS without a line here fails the tests.
DESCRIPTIONS: dict[str, str] = {
    "DEBUG": "werkzeug's interactive debugger (with `app.run(debug=True)`) and template reloading",
    "SECRET_KEY": "signs the session cookie and CSRF tokens; the same on every worker and machine",
    "SECRET_KEY_FALLBACKS": "older keys still accepted when verifying, to rotate the key",
    "MAX_CONTENT_LENGTH": "largest request body in bytes; past it, 413 before it is read",
    "MAX_FORM_MEMORY_SIZE": "largest non-file multipart field, and largest urlencoded body; "
    "past it, 413",
    "MAX_FORM_PARTS": "most form fields or multipart parts; past it, 413",
    "SESSION_COOKIE_NAME": "the session cookie's name",
    "SESSION_COOKIE_DOMAIN": "the session cookie's Domain (None: this host only)",
    "SESSION_COOKIE_PATH": "the session cookie's Path",
    "SESSION_COOKIE_SECURE": "send the session cookie over HTTPS only",
    "SESSION_COOKIE_HTTPONLY": "hide the session cookie from JavaScript",
    "SESSION_COOKIE_SAMESITE": "the session cookie's SameSite",
    "PERMANENT_SESSION_LIFETIME": "Max-Age of a permanent session (`session.permanent = True`), "
    "and how old any session's signature may be (a timedelta or seconds)",
    "CSRF": "`None`: with a `SECRET_KEY`, form posts that carry a session or come from another "
    "site need the token; `True`: every form post; `False`: off",
    "SEND_FILE_MAX_AGE_DEFAULT": "Cache-Control max-age of static files (seconds or a "
    "timedelta); `None` sends none, so browsers revalidate with the ETag",
    "TRUSTED_HOSTS": "a list of accepted `Host` values; any other is a 400",
    "SECURITY_HEADERS": "headers added to every response that does not set them "
    "(X-Frame-Options only to pages: HTML, SVG, PDF...)",
    "ACCESS_LOG": "one line per request on the `wsgilite` logger (configure logging to see it)",
    "SERVER_NAME": "host of `app.url_for(..., _external=True)` outside a request",
    "PREFERRED_URL_SCHEME": "scheme of `app.url_for(..., _external=True)` outside a request",
}


def describe_default(value: Any) -> str:
    """Return a default value as the table shows it."""
    if isinstance(value, datetime.timedelta):
        days, rest = divmod(int(value.total_seconds()), 86400)
        return f"{days} days" if not rest else f"{int(value.total_seconds())} s"
    if isinstance(value, bool) or value is None:
        return f"`{value}`"
    if isinstance(value, int):
        if value >= 1024 * 1024 and value % (1024 * 1024) == 0:
            return f"{value // (1024 * 1024)} MiB"
        return f"{value:,}"
    if isinstance(value, dict):
        return "<br>".join(f"`{name}: {item}`" for name, item in value.items())
    return f"`{value!r}`"


def config_table() -> str:
    """Return the Markdown table of every configuration key, its default and meaning."""
    rows = ["| key | default | what it does |", "| --- | --- | --- |"]
    for key, value in DEFAULTS.items():
        rows.append(f"| `{key}` | {describe_default(value)} | {DESCRIPTIONS[key]} |")
    return "\n".join(rows)


def api_reference() -> str:
    """Return one mkdocstrings directive per public name, in `wsgilite.__all__` order.

    A name wsgilite re-exports from another package (werkzeug's HTTPException) is documented
    where it is defined, without its members.
    """
    sections = []
    for name in wsgilite.__all__:
        module = getattr(getattr(wsgilite, name), "__module__", "wsgilite")
        if name in INHERITING:
            sections.append(f"::: wsgilite.{name}\n    options:\n      inherited_members: true")
        elif module.split(".")[0] == "wsgilite":
            sections.append(f"::: wsgilite.{name}")
        else:
            sections.append(
                f"## {name}\n\n`wsgilite.{name}` is `{module}.{name}`, re-exported.\n\n"
                f"::: {module}.{name}\n    options:\n      members: false\n"
                f"      show_root_heading: false"
            )
    return "\n\n".join(sections)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs hook: fill the markers with the generated table and reference."""
    markdown = markdown.replace(CONFIG_MARKER, config_table())
    return markdown.replace(API_MARKER, api_reference())


if __name__ == "__main__":
    print(config_table())
