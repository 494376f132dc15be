"""Routes: `Route`, and `Router`, which records routes from decorators and nests with `include`.

A Router only declares: it keeps its routes and its children's, with prefixes and endpoint
names applied, and refuses a duplicate endpoint or rule at once. It compiles and matches
nothing; `routing.RouteTable` does that, for the App.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

Handler = Callable[..., object]
H = TypeVar("H", bound=Handler)

_VARIABLE = re.compile(r"<(?:[^<>]*:)?(\w+)>")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


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
        if "request" in _VARIABLE.findall(rule):
            raise ValueError(
                f"route rule {rule!r} names a variable 'request', which is the handler's first "
                "argument; give the variable another name"
            )
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
            check_conflict(taken, route)
        self._routes.append(route)


def _shape(rule: str) -> str:
    # "/v/<int:x>" and "/v/<int:y>" match the same paths: only the converters count.
    return _VARIABLE.sub(lambda found: found.group(0)[: -len(found.group(1)) - 1] + ">", rule)


def check_conflict(taken: Route, route: Route) -> None:
    if taken.endpoint == route.endpoint and taken.handler is not route.handler:
        raise RouteConflict(
            f"endpoint {route.endpoint!r} is already used by {taken.handler.__qualname__} for "
            f"{taken.rule!r}; rename one of the functions or pass endpoint='...' to the decorator"
        )
    if _shape(taken.rule) == _shape(route.rule) and taken.methods & route.methods:
        both = ", ".join(sorted(taken.methods & route.methods))
        raise RouteConflict(
            f"{both} {route.rule!r} is already handled by {taken.handler.__qualname__}; "
            f"remove one of the routes or give {route.handler.__qualname__} another rule or method"
        )
