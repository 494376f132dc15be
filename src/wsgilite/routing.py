"""Routing: which handler answers a method and path, and with which parameters.

`Router` records routes from decorators; routers nest with `include` and are mounted on an app.
`RouteTable` compiles those routes once, at registration, with werkzeug's rule syntax and
converters, matches each request against them, and builds URLs back from endpoint names. It never
sees a response or the App: the App asks, the table answers `(route, params)` or raises NotFound,
MethodNotAllowed or RequestRedirect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import (
    BaseConverter,
    FloatConverter,
    Map,
    MapAdapter,
    Rule,
    ValidationError,
)
from werkzeug.routing.exceptions import RequestRedirect

Handler = Callable[..., object]
H = TypeVar("H", bound=Handler)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class FiniteFloatConverter(FloatConverter):
    """werkzeug's float converter, refusing values too large for a float (never inf)."""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        if not math.isfinite(number):
            raise ValidationError()
        return number


class RouteConflict(ValueError):
    """Two routes claim the same endpoint, or the same rule and method."""


@dataclass(frozen=True, slots=True)
class Route:
    """One registered route: a rule, its methods, the handler and its endpoint name."""

    rule: str
    methods: frozenset[str]
    handler: Handler
    endpoint: str
    csrf: bool = True
    template_folders: tuple[str, ...] = ()


def _qualify(*names: str | None) -> str:
    return ".".join(name for name in names if name)


class Router:
    """A group of routes under a common prefix, mounted with `app.include(router)`."""

    def __init__(
        self,
        prefix: str = "",
        name: str | None = None,
        *,
        csrf: bool = True,
        template_folder: str | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"Router prefix {prefix!r} must start with '/' and not end with one")
        self.prefix = prefix
        # Endpoints are qualified by the router's name: Router("/api") -> "api.ping".
        self.name = name if name is not None else prefix.strip("/").replace("/", ".")
        self.csrf = csrf
        self.template_folder = template_folder
        self._routes: list[Route] = []
        self._children: list[Router] = []
        self._mounted = False

    def route(
        self,
        rule: str,
        methods: Iterable[str] | None = None,
        *,
        endpoint: str | None = None,
        csrf: bool | None = None,
    ) -> Callable[[H], H]:
        """Register the decorated function for `rule` and `methods` (default GET).

        @app.route("/login", methods=["GET", "POST"])
        def login(request): ...
        """
        if not rule.startswith("/"):
            raise ValueError(f"route rule {rule!r} must start with '/'")
        wanted = frozenset(method.upper() for method in (methods or ("GET",)))
        unknown = wanted - METHODS
        if unknown:
            raise ValueError(f"unknown HTTP method(s) {sorted(unknown)} for route {rule!r}")

        def decorator(handler: H) -> H:
            self._add(
                Route(
                    rule=rule,
                    methods=wanted,
                    handler=handler,
                    endpoint=endpoint or handler.__name__,
                    csrf=self.csrf if csrf is None else csrf,
                )
            )
            return handler

        return decorator

    def get(self, rule: str, **options: Any) -> Callable[[H], H]:
        """Register a GET (and HEAD) handler for `rule`.

        @app.get("/users/<int:user_id>")
        def show_user(request, user_id): ...
        """
        return self.route(rule, ["GET"], **options)

    def post(self, rule: str, **options: Any) -> Callable[[H], H]:
        """Register a POST handler for `rule`."""
        return self.route(rule, ["POST"], **options)

    def put(self, rule: str, **options: Any) -> Callable[[H], H]:
        """Register a PUT handler for `rule`."""
        return self.route(rule, ["PUT"], **options)

    def patch(self, rule: str, **options: Any) -> Callable[[H], H]:
        """Register a PATCH handler for `rule`."""
        return self.route(rule, ["PATCH"], **options)

    def delete(self, rule: str, **options: Any) -> Callable[[H], H]:
        """Register a DELETE handler for `rule`."""
        return self.route(rule, ["DELETE"], **options)

    def include(self, router: Router) -> None:
        """Mount `router`'s routes under this router's prefix and name."""
        if router is self:
            raise ValueError("a Router cannot include itself")
        router._mounted = True
        self._children.append(router)
        for route in router.routes():
            self._add(route)

    def routes(self) -> Iterator[Route]:
        """Yield every route of this router and its children, with prefixes and names applied."""
        for route in self._routes:
            yield self._qualified(route)

    def _qualified(self, route: Route) -> Route:
        return Route(
            rule=self.prefix + route.rule,
            methods=route.methods,
            handler=route.handler,
            endpoint=_qualify(self.name, route.endpoint),
            csrf=route.csrf,
            template_folders=(
                (self.template_folder, *route.template_folders)
                if self.template_folder
                else route.template_folders
            ),
        )

    def _add(self, route: Route) -> None:
        if self._mounted:
            raise RuntimeError(
                f"route {route.rule!r} was added to a Router already included in an app or "
                "router; add all routes to a Router before calling include()"
            )
        for taken in self._routes:
            _check_conflict(taken, route)
        self._routes.append(route)


def _check_conflict(taken: Route, route: Route) -> None:
    if taken.endpoint == route.endpoint and taken.handler is not route.handler:
        raise RouteConflict(
            f"endpoint {route.endpoint!r} is already used by {taken.handler.__qualname__} for "
            f"{taken.rule!r}; rename one of the functions or pass endpoint='...' to the decorator"
        )
    if taken.rule == route.rule and taken.methods & route.methods:
        both = ", ".join(sorted(taken.methods & route.methods))
        raise RouteConflict(
            f"{both} {route.rule!r} is already handled by {taken.handler.__qualname__}; "
            f"remove one of the routes or give {route.handler.__qualname__} another rule or method"
        )


@dataclass(slots=True)
class _Entry:
    """All routes sharing one rule: the handler for each method and the Allow header."""

    by_method: dict[str, Route] = field(default_factory=dict)
    allow: tuple[str, ...] = ()
    options: Route | None = None

    def add(self, route: Route) -> None:
        for method in route.methods:
            self.by_method[method] = route
        if "GET" in route.methods and "HEAD" not in self.by_method:
            self.by_method["HEAD"] = route
        self.allow = tuple(sorted({*self.by_method, "OPTIONS"}))
        allow_header = ", ".join(self.allow)

        def options(request: object, **params: object) -> tuple[str, int, dict[str, str]]:
            return "", 200, {"Allow": allow_header}

        # PERF: the automatic OPTIONS answer and its Allow header are built once per rule.
        self.options = Route(route.rule, frozenset({"OPTIONS"}), options, "", csrf=False)


@dataclass(slots=True)
class _Pattern:
    """A compiled rule with variables."""

    rule: str
    regex: re.Pattern[str]
    converters: dict[str, BaseConverter]
    entry: _Entry
    sort_key: tuple[Any, ...]


def _uses_to_python(converter: BaseConverter) -> bool:
    return type(converter).to_python is not BaseConverter.to_python


class RouteTable:
    """The compiled routes of an app: fast matching, and URL building through werkzeug."""

    def __init__(self, converters: dict[str, type[BaseConverter]] | None = None) -> None:
        self.url_map = Map(
            converters={"float": FiniteFloatConverter, **(converters or {})},
            strict_slashes=True,
            merge_slashes=False,
        )
        self.routes: list[Route] = []
        self._static: dict[str, _Entry] = {}
        self._patterns: dict[str, _Pattern] = {}
        # PERF: patterns are bucketed by their first static path segment; a request tries only
        # its bucket plus the patterns whose first segment is variable.
        self._buckets: dict[str, list[_Pattern]] = {}
        self._wildcard: list[_Pattern] = []
        self._adapters: dict[tuple[str, str, str], MapAdapter] = {}

    def add(self, route: Route) -> None:
        """Compile `route` into the table, or raise RouteConflict."""
        for taken in self.routes:
            _check_conflict(taken, route)
        rule = Rule(route.rule, endpoint=route.endpoint, methods=sorted(route.methods))
        try:
            self.url_map.add(rule)
        except LookupError as exc:
            raise ValueError(
                f"route {route.rule!r}: {exc}; register custom converters with "
                "app.add_converter(name, cls) before the routes that use them"
            ) from None
        self.routes.append(route)
        trace = rule._trace[rule._trace.index((False, "|")) + 1 :]
        if not any(is_variable for is_variable, _ in trace):
            self._static.setdefault(route.rule, _Entry()).add(route)
            return
        pattern = self._patterns.get(route.rule)
        if pattern is None:
            pattern = self._compile(rule, trace)
            self._patterns[route.rule] = pattern
            self._index(pattern, trace)
        pattern.entry.add(route)

    def _compile(self, rule: Rule, trace: list[tuple[bool, str]]) -> _Pattern:
        regex = []
        for is_variable, text in trace:
            if is_variable:
                regex.append(f"(?P<{text}>{rule._converters[text].regex})")
            else:
                regex.append(re.escape(text))
        converters = {
            name: converter
            for name, converter in rule._converters.items()
            if _uses_to_python(converter)
        }
        return _Pattern(
            rule=rule.rule,
            # DOTALL: a path may hold a decoded newline, and `path` must still match it.
            regex=re.compile("".join(regex) + r"\Z", re.DOTALL),
            converters=converters,
            entry=_Entry(),
            sort_key=_sort_key(rule, trace),
        )

    def _index(self, pattern: _Pattern, trace: list[tuple[bool, str]]) -> None:
        first = _first_static_segment(trace)
        if first is None:
            self._wildcard.append(pattern)
            for name, bucket in self._buckets.items():
                self._buckets[name] = sorted([*bucket, pattern], key=_by_weight)
        else:
            bucket = self._buckets.get(first) or list(self._wildcard)
            self._buckets[first] = sorted([*bucket, pattern], key=_by_weight)
        self._wildcard.sort(key=_by_weight)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, Any]]:
        """Return the route and converted parameters for `method` and `path`."""
        entry = self._static.get(path)
        if entry is not None:
            route = entry.by_method.get(method)
            if route is not None:
                return route, {}
            return self._other_method(entry, method), {}
        allowed: set[str] = set()
        for pattern in self._candidates(path):
            found = pattern.regex.match(path)
            if found is None:
                continue
            params = found.groupdict()
            try:
                for name, converter in pattern.converters.items():
                    params[name] = converter.to_python(params[name])
            except (ValidationError, ValueError):
                # ValueError: a converter choking on client input, e.g. int() of 5000 digits.
                continue
            route = pattern.entry.by_method.get(method)
            if route is not None:
                return route, params
            if method == "OPTIONS":
                return self._other_method(pattern.entry, method), {}
            allowed.update(pattern.entry.allow)
        if allowed:
            raise MethodNotAllowed(valid_methods=sorted(allowed))
        if not path.endswith("/") and self._matches(path + "/"):
            # As werkzeug does: /a answers a permanent redirect to /a/ when only /a/ exists.
            raise RequestRedirect(path + "/")
        raise NotFound()

    def _candidates(self, path: str) -> list[_Pattern]:
        end = path.find("/", 1)
        first = path[1:] if end < 0 else path[1:end]
        return self._buckets.get(first, self._wildcard)

    def _other_method(self, entry: _Entry, method: str) -> Route:
        if method == "OPTIONS" and entry.options is not None:
            return entry.options
        raise MethodNotAllowed(valid_methods=list(entry.allow))

    def _matches(self, path: str) -> bool:
        if path in self._static:
            return True
        return any(pattern.regex.match(path) for pattern in self._candidates(path))

    def build(
        self,
        endpoint: str,
        values: dict[str, Any],
        *,
        script_name: str = "",
        host: str = "localhost",
        scheme: str = "http",
        external: bool = False,
        method: str | None = None,
    ) -> str:
        """Build the URL of `endpoint`; values that are not rule variables become the query."""
        key = (host, script_name, scheme)
        adapter = self._adapters.get(key)
        if adapter is None:
            # PERF: binding costs ~1 µs of a ~2.8 µs url_for; adapters are kept per host (a
            # client picks the Host header, so the cache is bounded).
            if len(self._adapters) >= 64:
                self._adapters.clear()
            adapter = self.url_map.bind(host, script_name=script_name or "/", url_scheme=scheme)
            self._adapters[key] = adapter
        return adapter.build(
            endpoint, values, method=method, force_external=external, append_unknown=True
        )


def _by_weight(pattern: _Pattern) -> tuple[Any, ...]:
    return pattern.sort_key


def _sort_key(rule: Rule, trace: list[tuple[bool, str]]) -> tuple[Any, ...]:
    # Segment by segment, as werkzeug orders them: a static segment before a variable one,
    # a longer static text first, then the lighter converter (int 50 before string 100).
    key: list[tuple[int, int]] = []
    weights: list[int] = []
    text_length = 0
    for is_variable, text in [*trace, (False, "/")]:
        if is_variable:
            weights.append(rule._converters[text].weight)
        elif text != "/":
            text_length += len(text)
        elif weights or text_length:
            key.append((1, max(weights)) if weights else (0, -text_length))
            weights, text_length = [], 0
    return (*key, (2, 0))


def _first_static_segment(trace: list[tuple[bool, str]]) -> str | None:
    # trace is [(False, "/"), (False, "users"), (False, "/"), (True, "id"), ...]; the first
    # segment is static when it holds no variable: "/users/<id>" yes, "/user-<id>" no.
    if len(trace) >= 2 and not trace[1][0] and (len(trace) == 2 or trace[2] == (False, "/")):
        return trace[1][1]
    return None
