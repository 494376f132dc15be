"""Routing: which handler answers a method and path, with which parameters, and URLs back.

`RouteTable` compiles routes once, at registration, with werkzeug's rule syntax and converters,
matches each request against them, and builds URLs from endpoint names. It never sees a response
or the App: the App asks, the table answers `(route, params)` or raises NotFound,
MethodNotAllowed or RequestRedirect.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

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

from .routes import Route, check_conflict

# What stays unquoted in a URL's path we build (RFC 3986 pchar and "/"); a fragment adds "?".
PATH_SAFE = "/:@!$&'()*+,;=~"


class FiniteFloatConverter(FloatConverter):
    """werkzeug's float converter, refusing values too large for a float (never inf)."""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        if not math.isfinite(number):
            raise ValidationError()
        return number


@dataclass(slots=True)
class _Entry:
    """All routes sharing one rule: the handler for each method, and the methods allowed."""

    by_method: dict[str, Route] = field(default_factory=dict)
    allow: frozenset[str] = frozenset()

    def add(self, route: Route) -> None:
        for method in route.methods:
            self.by_method[method] = route
        if "GET" in route.methods and "HEAD" not in self.by_method:
            self.by_method["HEAD"] = route
        self.allow = frozenset({*self.by_method, "OPTIONS"})


@functools.lru_cache(maxsize=256)
def _options_route(allow: frozenset[str]) -> Route:
    # PERF: one automatic OPTIONS answer per set of allowed methods, built once.
    header = ", ".join(sorted(allow))

    def options(request: object, **params: object) -> tuple[str, int, dict[str, str]]:
        return "", 200, {"Allow": header}

    return Route("", frozenset({"OPTIONS"}), options, "", csrf=False)


@dataclass(slots=True)
class _Pattern:
    """A compiled rule with variables."""

    rule: str
    pieces: list[tuple[str | None, str]]  # (variable name or None, regex text)
    regex: re.Pattern[str]
    converters: dict[str, BaseConverter]
    entry: _Entry
    sort_key: tuple[Any, ...]


class _Bucket:
    """Patterns tried in order for paths whose first segment is the same."""

    def __init__(self, patterns: list[_Pattern]) -> None:
        self.patterns = sorted(patterns, key=_by_weight)
        self._first: re.Pattern[str] | None = None

    def first(self, path: str) -> int:
        """Return the index of the first pattern whose regex matches `path` (-1: none)."""
        # PERF: one alternation of all the bucket's patterns finds it in C, instead of one
        # Python-level match per pattern (13 of them for the late route in benchmarks/).
        if self._first is None:
            self._first = re.compile(
                "|".join(
                    f"(?P<_{index}>{_source(pattern.pieces, f'_{index}_')})"
                    for index, pattern in enumerate(self.patterns)
                ),
                re.DOTALL,
            )
        found = self._first.match(path)
        if found is None or found.lastgroup is None:
            return -1
        return int(found.lastgroup[1:])


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
        self._buckets: dict[str, _Bucket] = {}
        self._wildcard = _Bucket([])
        self._adapters: dict[tuple[str, str, str], MapAdapter] = {}

    def add(self, route: Route) -> None:
        """Compile `route` into the table, or raise RouteConflict."""
        for taken in self.routes:
            check_conflict(taken, route)
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
            self._index(pattern, rule)
        pattern.entry.add(route)

    def _compile(self, rule: Rule, trace: list[tuple[bool, str]]) -> _Pattern:
        pieces: list[tuple[str | None, str]] = [
            (text, rule._converters[text].regex) if is_variable else (None, re.escape(text))
            for is_variable, text in trace
        ]
        converters = {
            name: converter
            for name, converter in rule._converters.items()
            if _uses_to_python(converter)
        }
        return _Pattern(
            rule=rule.rule,
            pieces=pieces,
            # DOTALL: a path may hold a decoded newline, and `path` must still match it.
            regex=re.compile(_source(pieces, ""), re.DOTALL),
            converters=converters,
            entry=_Entry(),
            sort_key=_sort_key(rule),
        )

    def _index(self, pattern: _Pattern, rule: Rule) -> None:
        first = _first_static_segment(rule)
        if first is None:
            self._wildcard = _Bucket([*self._wildcard.patterns, pattern])
            for name, bucket in self._buckets.items():
                self._buckets[name] = _Bucket([*bucket.patterns, pattern])
        else:
            bucket = self._buckets.get(first, self._wildcard)
            self._buckets[first] = _Bucket([*bucket.patterns, pattern])

    def match(self, method: str, path: str) -> tuple[Route, dict[str, Any]]:
        """Return the route and converted parameters for `method` and `path`."""
        allowed: set[str] = set()
        entry = self._static.get(path)
        if entry is not None:
            route = entry.by_method.get(method)
            if route is not None:
                return route, {}
            # As werkzeug does: a rule with variables may still take this method.
            allowed.update(entry.allow)
        bucket = self._bucket(path)
        start = bucket.first(path)
        for pattern in bucket.patterns[start:] if start >= 0 else ():
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
            allowed.update(pattern.entry.allow)
        if allowed:
            if method == "OPTIONS":
                return _options_route(frozenset(allowed)), {}
            raise MethodNotAllowed(valid_methods=sorted(allowed))
        if not path.endswith("/") and self._matches(path + "/"):
            # As werkzeug does: /a answers a permanent redirect to /a/ when only /a/ exists.
            # The path was decoded: quote it again, so a %3F stays in the path and a %0A never
            # reaches a header.
            raise RequestRedirect(quote(path + "/", safe=PATH_SAFE))
        raise NotFound()

    def _bucket(self, path: str) -> _Bucket:
        end = path.find("/", 1)
        first = path[1:] if end < 0 else path[1:end]
        return self._buckets.get(first, self._wildcard)

    def _matches(self, path: str) -> bool:
        return path in self._static or self._bucket(path).first(path) >= 0

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
        key = (host, script_name, scheme)
        adapter = self._adapters.get(key)
        if adapter is None:
            # PERF: binding costs ~1 µs of a ~2.8 µs url_for; adapters are kept per host (a
            # client picks the Host header, so the cache is bounded).
            if len(self._adapters) >= 64:
                self._adapters.clear()
            adapter = self.url_map.bind(host, script_name=script_name or "/", url_scheme=scheme)
            self._adapters[key] = adapter
        url = adapter.build(
            endpoint, values, method=method, force_external=external, append_unknown=True
        )
        return f"{url}#{quote(anchor, safe=PATH_SAFE + '?')}" if anchor else url


def _source(pieces: list[tuple[str | None, str]], prefix: str) -> str:
    # A rule's regex, its groups named prefix + variable (unique within an alternation).
    regex = (text if name is None else f"(?P<{prefix}{name}>{text})" for name, text in pieces)
    return "".join(regex) + r"\Z"


def _by_weight(pattern: _Pattern) -> tuple[Any, ...]:
    return pattern.sort_key


# werkzeug's parts of "/users/<id>" are: the (empty) host, the empty text before the first "/",
# "users", then the variable part. The path's own parts start at index 2.
_PATH_PARTS = 2


def _sort_key(rule: Rule) -> tuple[Any, ...]:
    # Part by part (a part is a segment, or the rest of the path after a `path` converter), in
    # werkzeug's own order: a static part first, then werkzeug's weighting of a part with
    # variables (more static text, then lighter converters: int 50 before string 100).
    return tuple((0,) if part.static else (1, part.weight) for part in rule._parts[_PATH_PARTS:])


def _first_static_segment(rule: Rule) -> str | None:
    # "/users/<id>" is indexed under "users"; "/user-<id>" and "/<path:p>" go with every path.
    if len(rule._parts) <= _PATH_PARTS:
        return None
    first = rule._parts[_PATH_PARTS]
    return first.content if first.static and first.content else None
