"""Routing: which route answers a method and path, with which parameters, and URLs back.

`RouteTable` holds an app's routes in a tree of path segments and answers exactly as werkzeug's
`MapAdapter.match` does (its rule syntax, converters and their weights, static segments before
variables with backtracking, 405 with the allowed methods, the 308 redirects to `/a/` and to a path
with merged slashes, `defaults`), but at a cost that does not grow with the number of routes: a
static path is one dict lookup, and a path with variables walks one node per segment. URLs are
built by werkzeug's own `Map`, one endpoint's rules at a time, when first asked for.

Two choices differ from werkzeug's, deliberately: OPTIONS is answered for any path some route
matches (with `Allow`), and a converter that chokes on a value (`int()` of 5,000 digits) is a 404
rather than a 500. It never sees a response or the App: the App asks, the table answers
`(route, params)` or raises NotFound, MethodNotAllowed or RequestRedirect.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, MapAdapter, Rule, ValidationError
from werkzeug.routing.exceptions import RequestRedirect

from .routes import NO_SCOPE, Route, RouteConflict
from .rules import SLASHES, FiniteFloatConverter, Part, parse_rule

# What stays unquoted in a URL's path we build (RFC 3986 pchar and "/"); a fragment adds "?".
PATH_SAFE = "/:@!$&'()*+,;=~"
# werkzeug's own safe set for the paths of its redirects (WHATWG path-segment string).
_REDIRECT_SAFE = "!$&'()*+,/:;=@"


# -- The tree --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Target:
    """A route as one node answers it: the route and how its variables are converted."""

    route: Route
    names: tuple[str, ...]
    converters: tuple[BaseConverter | None, ...]  # None: the value is kept as it is
    automatic: bool = False  # the node's first route, standing for an OPTIONS it does not take
    # Methods of the routes registered here before this one: werkzeug's 405 names them if this
    # route's converter then refuses a value.
    earlier: frozenset[str] = frozenset()

    def params(self, values: list[str]) -> dict[str, Any]:
        """Return the route's parameters from the node's raw values; ValidationError if refused."""
        params: dict[str, Any] = {}
        for name, converter, value in zip(self.names, self.converters, values, strict=False):
            params[name] = value if converter is None else converter.to_python(value)
        if self.route.defaults:
            params.update(self.route.defaults)  # as werkzeug does, defaults last
        return params


@dataclass(slots=True)
class _Node:
    """One segment of the tree: static children by text, variable children by weight, and the
    routes of the rules that end here."""

    static: dict[str, _Node] = field(default_factory=dict)
    variables: list[_Variable] = field(default_factory=list)
    targets: dict[str, _Target] = field(default_factory=dict)  # by method, first registered
    methods: set[str] = field(default_factory=set)  # every method a rule here takes
    routes: list[Route] = field(default_factory=list)  # the rules ending here, in order

    def add(self, target: _Target) -> None:
        """Answer the target's methods here, or raise RouteConflict if one is taken."""
        route = target.route
        for method in route.methods:
            taken = self.targets.get(method)
            if taken is not None and not taken.automatic and method in taken.route.methods:
                raise RouteConflict(
                    f"{method} {route.rule!r} is already handled by "
                    f"{taken.route.handler.__qualname__} for {taken.route.rule!r}, which matches "
                    f"the same paths; remove one of the routes or give "
                    f"{route.handler.__qualname__} another rule or method"
                )
        earlier = frozenset(self.methods)
        first = dataclasses.replace(target, earlier=earlier) if earlier else target
        implied = {"HEAD"} if "GET" in route.methods else set()
        for method in route.methods | implied:
            taken = self.targets.get(method)
            if taken is None or (taken.automatic and method in route.methods):
                self.targets[method] = first
        # As Flask does, OPTIONS (with the path's Allow) unless a route takes it: answered by
        # the first route, whose converters still decide whether the path matches.
        if "OPTIONS" not in self.targets:
            self.targets["OPTIONS"] = dataclasses.replace(target, automatic=True)
        self.routes.append(route)
        self.methods.update(route.methods | implied | {"OPTIONS"})


@dataclass(slots=True)
class _Variable:
    """A part with variables, leading to `node` when its regex matches the segment."""

    part: Part
    node: _Node
    regex: re.Pattern[str]
    groups: tuple[str, ...]  # the converter groups, in werkzeug's (sorted by name) order
    whole: bool  # the part is one variable alone: its value is the whole segment
    test: Callable[[str], bool] | None  # PERF: a str method standing in for the regex


def _variable(part: Part, node: _Node) -> _Variable:
    regex = re.compile(part.content)
    groups = tuple(sorted(name for name in regex.groupindex if name.startswith("__werkzeug_")))
    test: Callable[[str], bool] | None = None
    if part.content == r"(?P<__werkzeug_0>[^/]{1,})\Z":
        test = bool  # the string converter: any segment that is not empty
    elif part.content == r"(?P<__werkzeug_0>\d+)\Z":
        test = str.isdecimal  # \d in a str pattern is exactly Unicode's decimal digits
    whole = test is not None
    return _Variable(part, node, regex, groups, whole, test)


class _SlashRequired(Exception):
    """The path matches a rule once a slash is added (werkzeug's strict slashes)."""


def _walk(
    node: _Node, parts: list[str], index: int, values: list[str], method: str, seen: set[str]
) -> tuple[_Target, list[str]] | None:
    # werkzeug's StateMachineMatcher._match: static children first, then variable ones by
    # weight, backtracking; methods of rules that match the path but not the method go in `seen`.
    if index == len(parts):
        target = node.targets.get(method)
        if target is not None:
            return target, values
        seen.update(node.methods)
        slashed = node.static.get("")
        if slashed is not None and method in slashed.targets:
            raise _SlashRequired()
        return None
    segment = parts[index]
    child = node.static.get(segment)
    if child is not None:
        found = _walk(child, parts, index + 1, values, method, seen)
        if found is not None:
            return found
    for variable in node.variables:
        if variable.test is not None:
            if not variable.test(segment):
                continue
            found = _walk(variable.node, parts, index + 1, [*values, segment], method, seen)
        else:
            part = variable.part
            target_text = "/".join(parts[index:]) if part.final else segment
            matched = variable.regex.match(target_text)
            if matched is None:
                continue
            rest, start = (parts, len(parts)) if part.final else (parts, index + 1)
            if part.suffixed and matched.groups()[-1] == "/":
                rest, start = [""], 0
            more = [matched[name] for name in variable.groups]
            found = _walk(variable.node, rest, start, [*values, *more], method, seen)
        if found is not None:
            return found
    return None


def _first_path(root: _Node, parts: list[str], method: str) -> tuple[_Target, list[str]] | None:
    # PERF: the first path `_walk` tries (a static child, else the first variable child that
    # takes the segment), followed in a loop with no backtracking. When it ends at a route for
    # the method, that route is `_walk`'s answer too, found without recursion; otherwise
    # (None) the caller walks the tree.
    node = root
    values: list[str] = []
    for segment in parts:
        child = node.static.get(segment)
        if child is None:
            for variable in node.variables:
                if variable.test is not None:
                    if variable.test(segment):
                        child = variable.node
                        values.append(segment)
                        break
                elif variable.part.final:
                    return None  # it takes the rest of the path: `_walk` knows how
                else:
                    matched = variable.regex.match(segment)
                    if matched is not None:
                        child = variable.node
                        values.extend([matched[name] for name in variable.groups])
                        break
            if child is None:
                return None
        node = child
    target = node.targets.get(method)
    return None if target is None else (target, values)


@functools.lru_cache(maxsize=256)
def _options_route(allow: frozenset[str]) -> Route:
    # PERF: one automatic OPTIONS answer per set of allowed methods, built once.
    header = ", ".join(sorted(allow))

    def options(request: object, **params: object) -> tuple[str, int, dict[str, str]]:
        return "", 200, {"Allow": header}

    return Route("", frozenset({"OPTIONS"}), options, "", csrf=False)


class RouteTable:
    """The compiled routes of an app: matching at a cost independent of their number, and URLs."""

    def __init__(self) -> None:
        self.converters: dict[str, type[BaseConverter]] = {
            **Map.default_converters,
            "float": FiniteFloatConverter,
        }
        self.routes: list[Route] = []
        self._root = _Node()
        # PERF: a rule without variables is also kept by its whole path: one dict lookup.
        self._static: dict[str, _Node] = {}
        # PERF: (method, path) -> route, for the static paths answered so far that need
        # nothing else (no defaults, no redirect): one lookup; emptied whenever a route is added.
        self._answered: dict[tuple[str, str], Route] = {}
        self._by_endpoint: dict[str, list[Route]] = {}
        self._default_redirects: set[str] = set()  # endpoints with more rules, one with defaults
        self._urls = _URLs(self.converters)

    def add_converter(self, name: str, converter: type[BaseConverter]) -> None:
        """Make `<name:variable>` available to the rules added after this call."""
        self.converters[name] = converter
        self._urls = _URLs(self.converters)

    def add(self, route: Route) -> None:
        """Compile `route` into the table, or raise RouteConflict or ValueError."""
        same = self._by_endpoint.get(route.endpoint, [])
        if same and same[0].handler is not route.handler:
            raise RouteConflict(
                f"endpoint {route.endpoint!r} is already used by {same[0].handler.__qualname__} "
                f"for {same[0].rule!r}; rename one of the functions or pass endpoint='...' to the "
                "decorator"
            )
        parts, converters = parse_rule(route.rule, self.converters, self._urls.url_map)
        node = self._root
        for part in parts:
            node = self._child(node, part)
        node.add(
            _Target(
                route,
                tuple(converters),
                tuple(
                    None if type(converter).to_python is BaseConverter.to_python else converter
                    for converter in converters.values()
                ),
            )
        )
        if not converters:  # no variable: also kept by its whole path
            self._static["/" + "/".join(part.content for part in parts)] = node
        self._by_endpoint[route.endpoint] = [*same, route]
        if same and any(other.defaults for other in self._by_endpoint[route.endpoint]):
            self._default_redirects.add(route.endpoint)
        self.routes.append(route)
        self._urls.forget(route.endpoint)
        self._answered.clear()

    def _child(self, node: _Node, part: Part) -> _Node:
        if part.static:
            return node.static.setdefault(part.content, _Node())
        for variable in node.variables:  # a node has few variable children
            if variable.part == part:
                return variable.node
        variable = _variable(part, _Node())
        # Stable, as werkzeug's sort: after every part of the same weight.
        bisect.insort_right(node.variables, variable, key=lambda item: item.part.weight)
        return variable.node

    def match(self, method: str, path: str) -> tuple[Route, dict[str, Any]]:
        """Return the route and converted parameters for `method` and `path`."""
        route = self._answered.get((method, path))
        if route is not None:
            return route, {}
        node = self._static.get(path)
        if node is not None:
            target = node.targets.get(method)
            if target is not None and not target.automatic:
                # PERF: a static path whose method matches is werkzeug's first answer too.
                route = target.route
                if route.defaults or route.endpoint in self._default_redirects:
                    return self._finish(target, [], method, path)
                self._answered[method, path] = route
                return route, {}
        parts = path[1:].split("/")
        found = _first_path(self._root, parts, method)
        if found is not None:
            target, values = found
            try:
                return self._finish(target, values, method, path)
            except (ValidationError, ValueError):
                pass  # the walk below finds what werkzeug answers then (404 or 405)
        seen: set[str] = set()
        try:
            found = _walk(self._root, parts, 0, [], method, seen)
        except _SlashRequired:
            raise RequestRedirect(quote(path + "/", safe=_REDIRECT_SAFE)) from None
        if found is None and "//" in path:
            # As werkzeug's merge_slashes: /a//b answers a redirect to /a/b if that matches.
            merged = SLASHES.sub("/", path)
            try:
                found = _walk(self._root, merged[1:].split("/"), 0, [], method, seen)
            except _SlashRequired:
                raise RequestRedirect(quote(merged + "/", safe=_REDIRECT_SAFE)) from None
            if found is not None:
                raise RequestRedirect(quote(merged, safe=_REDIRECT_SAFE))
        if found is None:
            raise _no_match(seen)
        target, values = found
        try:
            return self._finish(target, values, method, path)
        except (ValidationError, ValueError):
            # ValueError: a converter choking on client input, e.g. int() of 5,000 digits.
            raise _no_match(seen | target.earlier) from None

    def _finish(
        self, target: _Target, values: list[str], method: str, path: str
    ) -> tuple[Route, dict[str, Any]]:
        params = target.params(values)
        route = target.route
        if route.endpoint in self._default_redirects:
            # An automatic OPTIONS stands for a route that takes OPTIONS: any method will do.
            wanted = None if target.automatic else method
            location = self._urls.default_redirect(
                self._by_endpoint[route.endpoint], route, wanted, params
            )
            if location is not None:
                raise RequestRedirect(location)
        if target.automatic:
            options = _options_route(frozenset(self.allowed_methods(path)))
            if route.scope is not NO_SCOPE:
                # The path's Routers' hooks see the automatic OPTIONS too (a CORS preflight).
                options = options.moved(options.rule, options.endpoint, (), route.scope)
            return options, {}
        return route, params

    def allowed_methods(self, path: str) -> set[str]:
        """Return every method some route takes for `path` (OPTIONS included)."""
        seen: set[str] = set()
        for candidate in {path, SLASHES.sub("/", path)}:
            # "--" is no method: the walk visits every node the path reaches, as werkzeug's does.
            _walk(self._root, candidate[1:].split("/"), 0, [], "--", seen)
        return seen

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
        anchor: str | None = None,
    ) -> str:
        """Build the URL of `endpoint`; values that are not rule variables become the query."""
        routes = self._by_endpoint.get(endpoint)
        if routes is None:
            raise LookupError(
                f"url_for({endpoint!r}): no route has that endpoint; endpoints are the handlers' "
                "names, qualified by their Router's name (e.g. 'api.ping'); `wsgilite routes` "
                "lists them"
            )
        adapter = self._urls.adapter(endpoint, routes, host, script_name, scheme)
        url = adapter.build(
            endpoint, values, method=method, force_external=external, append_unknown=True
        )
        return f"{url}#{quote(anchor, safe=PATH_SAFE + '?')}" if anchor else url


def _no_match(seen: set[str]) -> NotFound | MethodNotAllowed:
    if seen:
        return MethodNotAllowed(valid_methods=sorted(seen))
    return NotFound()


class _URLs:
    """URL building through werkzeug's Map, each endpoint's rules added when first built."""

    def __init__(self, converters: dict[str, type[BaseConverter]]) -> None:
        self.url_map = Map(converters=converters, strict_slashes=True)
        self._rules: dict[str, list[tuple[Route, Rule]]] = {}
        self._adapters: dict[tuple[str, str, str], MapAdapter] = {}

    def forget(self, endpoint: str) -> None:
        """Note that `endpoint` has a new route: the map is built again, when next used."""
        if endpoint in self._rules:
            # werkzeug's Map cannot drop a rule; a route added after building is rare.
            self.__init__(self.url_map.converters)  # type: ignore[misc]

    def rules(self, endpoint: str, routes: list[Route]) -> list[tuple[Route, Rule]]:
        """Return each route of `endpoint` with its werkzeug Rule, added to the map on first use."""
        pairs = self._rules.get(endpoint)
        if pairs is None:
            pairs = [(route, _build_rule(route)) for route in routes]
            for _, rule in pairs:
                self.url_map.add(rule)
            self._rules[endpoint] = pairs
        return pairs

    def adapter(
        self, endpoint: str, routes: list[Route], host: str, script_name: str, scheme: str
    ) -> MapAdapter:
        """Return a bound adapter that can build `endpoint`."""
        self.rules(endpoint, routes)
        key = (host, script_name, scheme)
        adapter = self._adapters.get(key)
        if adapter is None:
            # PERF: binding costs ~1 µs of a ~2.8 µs url_for; adapters are kept per host (a
            # client picks the Host header, so the cache is bounded).
            if len(self._adapters) >= 64:
                self._adapters.clear()
            adapter = self.url_map.bind(host, script_name=script_name or "/", url_scheme=scheme)
            self._adapters[key] = adapter
        return adapter

    def default_redirect(
        self, routes: list[Route], matched: Route, method: str | None, params: dict[str, Any]
    ) -> str | None:
        """Return the path werkzeug redirects to when a rule with defaults covers `params`."""
        # werkzeug's MapAdapter.get_default_redirect: a rule of the same endpoint with defaults
        # and the same arguments, ordered before the matched one for building, wins.
        pairs = sorted(self.rules(matched.endpoint, routes), key=lambda p: p[1].build_compare_key())
        rule = next(rule for route, rule in pairs if route is matched)
        for route, other in pairs:
            if route is matched:
                break
            if (
                other.defaults is not None
                and other.arguments == rule.arguments
                and other.suitable_for(params, method)
            ):
                built = other.build({**params, **other.defaults}, append_unknown=False)
                return None if built is None else built[1]
        return None


def _build_rule(route: Route) -> Rule:
    return Rule(
        route.rule,
        endpoint=route.endpoint,
        methods=sorted(route.methods),
        defaults=dict(route.defaults) if route.defaults else None,
        build_only=True,  # matching is the table's
    )
