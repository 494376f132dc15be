"""Templates: one Jinja2 environment per app, and responses rendered from it.

`app.render(name, **context)` returns a `TemplateResponse` that knows its template and context;
`make_response` renders it as soon as the handler (or error handler) returns, when the request
is at hand, so `request`, `session`, `url_for`, `csrf_token()` and `get_flashed_messages()` work
in every template without any global request. Autoescaping is on for HTML and XML files.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import jinja2

from .csrf import csrf_token
from .response import HTML_UTF8, Response
from .sessions import get_flashed_messages, session_or_empty

if TYPE_CHECKING:
    from .request import Request

AUTOESCAPE = ("html", "htm", "xml", "svg", "jinja", "j2")


class TemplateNotFound(jinja2.TemplateNotFound):
    """A template is in none of the app's template folders."""


class TemplateResponse(Response):
    """A response whose body is a template, rendered for the request it answers."""

    needs_request = True

    def __init__(
        self,
        template: str | jinja2.Template,
        context: dict[str, Any],
        templates: Templates | None = None,
        status: int = 200,
        **options: Any,
    ) -> None:
        # PERF: not super(), a lookup per response (~0.1 µs); Response is the only base.
        Response.__init__(self, "", status=status, content_type=HTML_UTF8, **options)
        self.template = template
        self.context = context
        self.templates = templates
        self.rendered = False

    @overload
    def get_data(self, as_text: Literal[False] = False) -> bytes: ...
    @overload
    def get_data(self, as_text: Literal[True]) -> str: ...
    def get_data(self, as_text: bool = False) -> bytes | str:
        """Return the body; read before the App rendered it, render it without a request."""
        self.complete(None)
        return super().get_data(as_text)  # type: ignore[call-overload,no-any-return]

    def complete(self, request: Request | None) -> None:
        """Fill the body from the template, with `request`'s helpers when given (once)."""
        if not self.rendered and self.templates is not None:
            self.set_data(self.templates.render(self.template, self.context, request))
            self.rendered = True


class Templates:
    """An app's Jinja2 environment and the globals every template sees."""

    def __init__(self, folders: list[str], debug: Callable[[], bool]) -> None:
        self.folders = folders
        self._debug = debug
        self.filters: dict[str, Callable[..., Any]] = {}
        self.globals: dict[str, Any] = {}
        self._env: jinja2.Environment | None = None
        self._compiled: dict[str, jinja2.Template] = {}

    @property
    def env(self) -> jinja2.Environment:
        """The Jinja2 environment, created on first use with the folders known then."""
        if self._env is None:
            debug = self._debug()
            self._env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self.folders),
                # PERF: the decision per file name is cached; Jinja asks on every render.
                autoescape=functools.lru_cache(maxsize=256)(
                    jinja2.select_autoescape(AUTOESCAPE, default_for_string=True)
                ),
                # Compiled once in production; re-read from disk on change in debug.
                auto_reload=debug,
                cache_size=400 if not debug else 50,
            )
            self._env.filters.update(self.filters)
            self._env.globals.update(REQUEST_HELPERS)
            self._env.globals.update(self.globals)
        return self._env

    def add_folder(self, folder: str) -> None:
        """Search `folder` too, after the folders already known."""
        if folder not in self.folders:
            self.folders.append(folder)
            self._env = None
            self._compiled.clear()

    def add_filter(self, name: str, function: Callable[..., Any]) -> None:
        """Make `function` a filter in every template."""
        self.filters[name] = function
        self._env = None
        self._compiled.clear()

    def add_global(self, name: str, value: Any) -> None:
        """Make `value` a global name in every template."""
        self.globals[name] = value
        self._env = None
        self._compiled.clear()

    def from_source(self, source: str) -> jinja2.Template:
        """Compile template text (autoescaped, with the app's filters and globals)."""
        return self.env.from_string(source)

    def get(self, name: str) -> jinja2.Template:
        """Return the compiled template `name`, or raise TemplateNotFound naming the folders."""
        debug = self._debug()
        template = None if debug else self._compiled.get(name)
        if template is not None:
            return template
        env = self.env
        if debug != env.auto_reload:
            self._env = None
            env = self.env
        try:
            template = env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            searched = ", ".join(os.path.abspath(folder) for folder in self.folders) or "none"
            raise TemplateNotFound(
                name,
                message=(
                    f"template {name!r} was not found; searched the template folders: "
                    f"{searched}. Create it there, or pass template_folder= to App or Router"
                ),
            ) from exc
        if not env.auto_reload:
            # PERF: compiled once; Jinja's globals ChainMap is flattened, as Jinja copies it into
            # a dict on every render (~1.5 µs). add_global/add_filter reset this cache.
            template.globals = dict(template.globals)
            self._compiled[name] = template
        return template

    def render(
        self, name: str | jinja2.Template, context: dict[str, Any], request: Request | None
    ) -> str:
        """Render template `name` (or a compiled one) with `context` and the request's helpers."""
        template = self.get(name) if isinstance(name, str) else name
        if request is not None:
            # PERF: two names per render; url_for, csrf_token and get_flashed_messages are
            # environment globals that find the request in the template's context.
            context = {"request": request, "session": _LazySession(request), **context}
        return template.render(context)


def _request_of(context: jinja2.runtime.Context, helper: str) -> Request:
    request = context.get("request")
    if request is None:
        raise RuntimeError(
            f"{helper}() in a template needs the request: return app.render(...) from a handler, "
            "or pass request= to app.render_to_string()"
        )
    return request  # type: ignore[no-any-return]


@jinja2.pass_context
def _url_for(context: jinja2.runtime.Context, endpoint: str, **values: Any) -> str:
    return _request_of(context, "url_for").url_for(endpoint, **values)


@jinja2.pass_context
def _csrf_token(context: jinja2.runtime.Context) -> str:
    return csrf_token(_request_of(context, "csrf_token"))


@jinja2.pass_context
def _get_flashed_messages(
    context: jinja2.runtime.Context,
    with_categories: bool = False,
    category_filter: tuple[str, ...] = (),
) -> list[Any]:
    request = _request_of(context, "get_flashed_messages")
    return get_flashed_messages(request, with_categories, category_filter)


REQUEST_HELPERS: dict[str, Any] = {
    "url_for": _url_for,
    "csrf_token": _csrf_token,
    "get_flashed_messages": _get_flashed_messages,
}


class _LazySession:
    """The session as templates see it: the cookie is read only if a template uses it."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def _session(self) -> Mapping[str, Any]:
        return session_or_empty(self._request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session(), name)

    def __getitem__(self, key: str) -> Any:
        return self._session()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._session()

    def __bool__(self) -> bool:
        return bool(self._session())

    def __iter__(self) -> Any:
        return iter(self._session())
