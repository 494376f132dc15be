"""Differential: wsgilite's RouteTable answers every (method, path) exactly as werkzeug does.

The reference is werkzeug's DEFAULT `Map()` (merge_slashes, strict_slashes and redirect_defaults
all on), one `Rule(rule, endpoint=..., methods=[...])` per wsgilite route, registered in the same
order, bound with `map.bind("localhost", "/")` and asked `adapter.match(path, method)`. Hypothesis
builds rule tables from a tiny alphabet (so shared prefixes and collisions are frequent) and
thousands of paths, many of them made from the rules themselves, and every answer is compared:
the same endpoint with the same values (ints as ints, floats, UUID objects, strings), or the same
error: 404, 405 with the same set of valid methods, 308 to the same path.

Nothing is hard-coded: every expected answer is werkzeug's, computed live. Where wsgilite differs
from werkzeug on purpose, the difference is named below (DELIBERATE 1-4), handled in exactly one
place of the comparison or of the generators, and shown by its own small test.

DELIBERATE 1  Two rules of the same shape (the same static text and the same converters in the
              same places, variable names aside) that share a method: wsgilite refuses the second
              at registration (RouteConflict), werkzeug keeps both and the first one wins. The
              generators drop the shared methods from the later rule (`without_conflicts`), so such
              tables are never compared.
DELIBERATE 2  OPTIONS is answered by wsgilite for every path some rule matches, with an `Allow`
              header, as Flask does (provide_automatic_options). OPTIONS is compared against a
              second werkzeug Map in which every rule also lists OPTIONS (found / 404 / 308 only),
              and the Allow set against werkzeug's `allowed_methods(path)` plus OPTIONS. The same
              choice puts OPTIONS in every 405's valid methods (`expected_answer`).
DELIBERATE 3  A converter's `to_python` raising ValueError (int() of 5000 digits) is a 404 in
              wsgilite; werkzeug lets it escape (a 500). The generators never make such values.
DELIBERATE 4  `float` never converts to inf in wsgilite (its FiniteFloatConverter 404s a float too
              large for a float); werkzeug's returns inf. The generators keep floats far below
              1e308.

INPUT DOMAIN  The App passes `request.path` to the table, which werkzeug's Request has already
              made `"/" + path.lstrip("/")`; `MapAdapter.match` does the same to its path_info.
              Every path here is normalised that way first (`request_path`), for both sides.

Disagreements of the first matcher, each with its regression examples at the end of this file:
double slashes not merged; the slash redirect decided after lower-priority rules; the slash
redirect regardless of the method; converter bounds checked before the method; a rejected value
falling through to the next rule; `path` beside a trailing slash.
"""

from __future__ import annotations

import functools
import itertools
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.routing.exceptions import RequestRedirect
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from wsgilite.routes import Route, RouteConflict
from wsgilite.routing import RouteTable

# -- settings ----------------------------------------------------------------------------------

# database=None: no state between runs; print_blob: a failure prints @reproduce_failure(...), so
# whoever rewrites the matcher can replay it exactly. No explain phase: it costs seconds and the
# failure message already lists every mismatching request of the shrunk table.
DIFFERENTIAL = settings(
    max_examples=250,
    deadline=None,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- rule tables -------------------------------------------------------------------------------

WORDS = ("a", "b", "ab", "items")
RULE_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
# Methods asked for; OPTIONS has its own test (DELIBERATE 2). PROPFIND is in no rule.
REQUEST_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "PROPFIND")
# The text before the ":" of a variable; "" is the default (string) converter, written `<name>`.
CONVERTERS = (
    "",
    "int",
    "float",
    "path",
    "uuid",
    "any(x, y)",
    "any(a, ab)",
    "string(length=2)",
    "int(min=1, max=100)",
    "int(signed=True)",
)
# Static text before a variable in the same segment: `/v<int:v0>`, `/a<v0>`.
PREFIXES = ("", "v", "a")


def handler(request: object, **params: object) -> str:
    """The one handler of every generated route (a shared endpoint needs the same handler)."""
    return ""


@dataclass(frozen=True)
class Var:
    """A variable segment: `prefix<converter:name>`; names are given by position (v0, v1...)."""

    converter: str
    prefix: str = ""


Segment = str | Var


@dataclass(frozen=True)
class RuleSpec:
    """One generated route: segments, trailing slash, methods, and (optionally) defaults."""

    segments: tuple[Segment, ...]
    trailing: bool
    methods: frozenset[str]
    endpoint: str = ""
    defaults: tuple[tuple[str, Any], ...] = ()

    def render(self, *, named: bool = True) -> str:
        parts: list[str] = []
        index = 0
        for segment in self.segments:
            if isinstance(segment, str):
                parts.append(segment)
                continue
            name = f"v{index}" if named else ""
            index += 1
            inner = f"{segment.converter}:{name}" if segment.converter else name
            parts.append(f"{segment.prefix}<{inner}>")
        text = "/" + "/".join(parts)
        return text + "/" if parts and self.trailing else text

    @property
    def rule(self) -> str:
        return self.render()

    @property
    def shape(self) -> tuple[tuple[Any, ...], ...]:
        """werkzeug's matcher state of the rule: rules of one shape match the same paths.

        `<int:x>` and `<int(max=9):y>` are one shape (the same regex and weight): werkzeug keeps
        both, and the first always wins for a shared method.
        """
        rule = Rule(self.rule, endpoint="shape")
        rule.bind(Map())
        return tuple(
            (part.content, part.final, part.static, part.suffixed, repr(part.weight))
            for part in rule._parts
        )

    def define(self) -> RouteDef:
        return RouteDef(self.rule, self.methods, self.endpoint, self.defaults)


@dataclass(frozen=True)
class RouteDef:
    """One route as both sides get it: rule text, methods, endpoint, werkzeug-style defaults."""

    rule: str
    methods: frozenset[str]
    endpoint: str
    defaults: tuple[tuple[str, Any], ...] = ()


def without_conflicts(specs: Iterable[RuleSpec]) -> list[RuleSpec]:
    """DELIBERATE 1: drop from each rule the methods an earlier rule of its shape has.

    A rule left with no method is dropped. Endpoints are given afterwards, by position.
    """
    kept: list[RuleSpec] = []
    for spec in specs:
        methods = spec.methods
        for earlier in kept:
            if earlier.shape == spec.shape:
                methods = methods - earlier.methods
        if methods:
            kept.append(replace(spec, methods=methods))
    return [
        spec if spec.endpoint else replace(spec, endpoint=f"r{index}")
        for index, spec in enumerate(kept)
    ]


def make_route(spec: RouteDef) -> Route:
    defaults = dict(spec.defaults) or None
    return Route(spec.rule, spec.methods, handler, spec.endpoint, defaults=defaults)


def make_rule(spec: RouteDef, *, extra_methods: Iterable[str] = ()) -> Rule:
    return Rule(
        spec.rule,
        endpoint=spec.endpoint,
        methods=sorted(spec.methods | set(extra_methods)),
        defaults=dict(spec.defaults) or None,
    )


@dataclass
class Tables:
    """The same rules, in the same order, in wsgilite and in two werkzeug maps."""

    specs: Sequence[RouteDef]
    table: RouteTable
    adapter: MapAdapter  # Map(): the reference

    @functools.cached_property
    def options_adapter(self) -> MapAdapter:
        """The same rules, each also listing OPTIONS, as Flask makes them (DELIBERATE 2)."""
        with_options = Map([make_rule(spec, extra_methods=["OPTIONS"]) for spec in self.specs])
        return with_options.bind("localhost", "/")

    @classmethod
    def build(cls, routes: Sequence[RouteDef | RuleSpec]) -> Tables:
        specs = [r.define() if isinstance(r, RuleSpec) else r for r in routes]
        table = RouteTable()
        reference = Map()
        for spec in specs:
            reference.add(make_rule(spec))
            try:
                table.add(make_route(spec))
            except RouteConflict as exc:  # without_conflicts left no same-shape method pair
                raise AssertionError(
                    f"wsgilite refused a table with no conflict: {exc}\n{describe(specs)}"
                ) from None
        return cls(
            specs=specs,
            table=table,
            adapter=reference.bind("localhost", "/"),
        )


def describe(specs: Sequence[RouteDef]) -> str:
    lines = ["rules, in registration order (the same for wsgilite and werkzeug):"]
    for spec in specs:
        defaults = f"  defaults={dict(spec.defaults)}" if spec.defaults else ""
        methods = ",".join(sorted(spec.methods))
        lines.append(f"  {spec.endpoint:<4} {methods:<24} {spec.rule}{defaults}")
    return "\n".join(lines)


# -- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An outcome of matching, in a form both sides share."""

    kind: str  # "found", "404", "405", "308", "allow" (an automatic OPTIONS), "error"
    endpoint: str = ""
    values: tuple[tuple[str, str, Any], ...] = ()  # (name, type name, value), by name
    methods: frozenset[str] = field(default_factory=frozenset)
    location: str = ""
    error: str = ""

    def __str__(self) -> str:
        if self.kind == "found":
            values = ", ".join(f"{n}={v!r} ({t})" for n, t, v in self.values)
            return f"found {self.endpoint} {{{values}}}"
        if self.kind in ("405", "allow"):
            return f"{self.kind} {sorted(self.methods)}"
        if self.kind == "308":
            return f"308 -> {self.location!r}"
        if self.kind == "error":
            return f"uncaught {self.error}"
        return self.kind


def found(endpoint: str, values: Mapping[str, Any]) -> Answer:
    typed = tuple(
        sorted(
            ((name, type(value).__name__, value) for name, value in values.items()),
            key=lambda item: item[0],
        )
    )
    return Answer("found", endpoint=endpoint, values=typed)


def redirect_path(url: str) -> str:
    """The path part of a redirect target, unquoted: werkzeug's is absolute, wsgilite's a path."""
    if urlsplit(url).scheme:
        return unquote(urlsplit(url).path)
    return unquote(url.partition("?")[0].partition("#")[0])


def werkzeug_answer(adapter: MapAdapter, method: str, path: str) -> Answer:
    try:
        endpoint, values = adapter.match(path, method)
    except RequestRedirect as exc:
        return Answer("308", location=redirect_path(exc.new_url))
    except MethodNotAllowed as exc:
        return Answer("405", methods=frozenset(exc.valid_methods or ()))
    except NotFound:
        return Answer("404")
    except Exception as exc:
        return Answer("error", error=repr(exc)[:200])
    return found(str(endpoint), values)


def wsgilite_answer(table: RouteTable, method: str, path: str) -> Answer:
    try:
        route, params = table.match(method, path)
    except RequestRedirect as exc:
        return Answer("308", location=redirect_path(exc.new_url))
    except MethodNotAllowed as exc:
        return Answer("405", methods=frozenset(exc.valid_methods or ()))
    except NotFound:
        return Answer("404")
    except Exception as exc:
        return Answer("error", error=repr(exc)[:200])
    if route.endpoint == "" and route.methods == frozenset({"OPTIONS"}):
        return automatic_options(route)
    return found(route.endpoint, params)


def automatic_options(route: Route) -> Answer:
    """DELIBERATE 2: wsgilite's automatic OPTIONS route answers ("", 200, {"Allow": ...})."""
    reply = route.handler(None)
    if not (isinstance(reply, tuple) and len(reply) == 3 and isinstance(reply[2], dict)):
        return Answer("error", error=f"automatic OPTIONS returned {reply!r}")
    allow = str(reply[2].get("Allow", ""))
    return Answer("allow", methods=frozenset(m.strip() for m in allow.split(",") if m.strip()))


def expected_answer(tables: Tables, method: str, path: str) -> Answer:
    """werkzeug's answer, with DELIBERATE 2 applied: OPTIONS is always allowed."""
    if method == "OPTIONS":
        answer = werkzeug_answer(tables.options_adapter, method, path)
        if answer.kind == "found":
            allowed = frozenset(tables.adapter.allowed_methods(path)) | {"OPTIONS"}
            return Answer("allow", methods=allowed)
        return answer
    answer = werkzeug_answer(tables.adapter, method, path)
    if answer.kind == "405":
        return replace(answer, methods=answer.methods | {"OPTIONS"})
    return answer


def request_path(path: str) -> str:
    """INPUT DOMAIN: the path as werkzeug's Request.path gives it to the App, and so the table."""
    return "/" + path.lstrip("/")


def _merges_runs_of_slashes() -> bool:
    # werkzeug 3.1.0 merged "//" pairs only (`/{2,}?`), so "/a///b" matched nothing; later 3.1
    # releases merge any run, as wsgilite does. On such a werkzeug, paths with "///" are its bug.
    adapter = Map([Rule("/a/b", endpoint="b")]).bind("localhost", "/")
    try:
        adapter.match("/a///b", "GET")
    except RequestRedirect:
        return True
    except NotFound:
        return False
    return True


MERGES_RUNS = _merges_runs_of_slashes()


def assert_agree(tables: Tables, requests: Iterable[tuple[str, str]]) -> None:
    mismatches: list[str] = []
    for method, path in dict.fromkeys((method, request_path(raw)) for method, raw in requests):
        if not MERGES_RUNS and "///" in path:
            continue  # werkzeug 3.1.0's own bug, fixed in its later releases
        expected = expected_answer(tables, method, path)
        actual = wsgilite_answer(tables.table, method, path)
        if actual != expected:
            mismatches.append(
                f"{method} {path!r}\n    werkzeug: {expected}\n    wsgilite: {actual}"
            )
    if mismatches:
        shown = "\n".join(mismatches[:8])
        more = f"\n  ... and {len(mismatches) - 8} more" if len(mismatches) > 8 else ""
        raise AssertionError(
            f"wsgilite disagrees with werkzeug on {len(mismatches)} request(s)\n"
            f"{describe(tables.specs)}\n{shown}{more}"
        )


def agree(
    rules: Sequence[tuple[str, Sequence[str]]], method: str, path: str
) -> tuple[Answer, Answer]:
    """werkzeug's (expected) and wsgilite's answers for one request to a hand-written table."""
    tables = Tables.build(
        [
            RouteDef(rule, frozenset(methods), f"r{index}")
            for index, (rule, methods) in enumerate(rules)
        ]
    )
    return expected_answer(tables, method, path), wsgilite_answer(tables.table, method, path)


# -- values and paths --------------------------------------------------------------------------

SAMPLE_UUID = "12345678-1234-5678-1234-567812345678"
# Path segments of every kind: the words, numbers valid for some converters and not others,
# odd characters (decoded: a "%2F" here is three characters), a newline, and a bad UUID. No
# number long enough for DELIBERATE 3 or 4.
TOKENS = (
    *WORDS,
    "x", "y", "v", "v1", "v-2", "a1", "edit",
    "0", "1", "7", "42", "100", "101", "007", "-5", "\u0663",
    "1.5", "0.25", "2.", ".5", "1e5",
    "\u00e9", "a b", "%2F", "%", "?", ";", "a.b", "ab.json", "a\nb", "\n",
    SAMPLE_UUID, SAMPLE_UUID.upper(), "1234567g-1234-5678-1234-567812345678",
)  # fmt: skip

tokens = st.sampled_from(TOKENS)
digits = st.integers(min_value=0, max_value=10**6).map(str)
floats_text = st.builds(
    "{}.{}".format, st.integers(0, 10**6), st.integers(0, 999)
) | st.sampled_from(["0.0", "1.50", "007.5"])

VALID: dict[str, st.SearchStrategy[str]] = {
    "": tokens,
    "int": digits | st.sampled_from(["0", "007", "100", "101", "\u0663"]),
    "float": floats_text,
    "path": st.lists(tokens | st.just(""), min_size=1, max_size=4).map("/".join),
    "uuid": st.uuids().map(str) | st.uuids().map(lambda value: str(value).upper()),
    "any(x, y)": st.sampled_from(["x", "y"]),
    "any(a, ab)": st.sampled_from(["a", "ab"]),
    "string(length=2)": st.sampled_from(["ab", "xy", "10", "\u00e91", "abc", "a"]),
    "int(min=1, max=100)": st.integers(-5, 150).map(str),
    "int(signed=True)": st.integers(-1000, 1000).map(str),
}


# PERF: every strategy is built once, here; building strategies inside a draw costs more than
# the matching it feeds.
FILLS: dict[Var, st.SearchStrategy[str]] = {
    Var(converter, prefix): st.builds("{}{}".format, st.just(prefix), VALID[converter] | tokens)
    for converter in CONVERTERS
    for prefix in PREFIXES
}  # a value for a variable: one its converter should take, or any token (often invalid)
# One draw a segment and one a method set (draws are what hypothesis spends its time on). Half
# the segments are words; a quarter of the variables have static text before them. Both lists
# start with what hypothesis shrinks towards: the word "a", and GET alone.
SEGMENTS: list[Segment] = [
    *(WORDS * 10),
    *(Var(converter) for converter in CONVERTERS * 2),
    *(Var(converter, prefix) for converter in CONVERTERS for prefix in ("v", "a")),
]
METHOD_SETS = sorted(
    (
        frozenset(combination)
        for size in range(1, len(RULE_METHODS) + 1)
        for combination in itertools.combinations(RULE_METHODS, size)
    ),
    key=len,
)
rule_specs = st.builds(
    RuleSpec,
    segments=st.lists(st.sampled_from(SEGMENTS), max_size=4).map(tuple),
    trailing=st.booleans(),
    methods=st.sampled_from(METHOD_SETS),
)
RULE_TABLES = {
    False: st.lists(rule_specs, min_size=1, max_size=12),
    True: st.lists(rule_specs, min_size=1, max_size=6),
}
words = st.sampled_from(WORDS)
one_in_ten = st.integers(0, 9)
mutations = st.lists(st.sampled_from(["slash", "double", "append", "drop"]), max_size=2)
slash_or_not = st.sampled_from(["", "/"])
random_paths = st.builds(
    "/{}{}".format,
    st.lists(tokens | words | st.just(""), max_size=4).map("/".join),
    slash_or_not,
)
path_kinds = st.integers(0, 3)  # 0-2: from a rule, 3: random


@functools.cache
def below(count: int) -> st.SearchStrategy[int]:
    return st.integers(0, count - 1)


def path_from_rule(draw: st.DrawFn, spec: RuleSpec) -> str:
    """Fill a rule's variables, maybe swap a word, then mutate its slashes and segments."""
    parts: list[str] = []
    for segment in spec.segments:
        if isinstance(segment, Var):
            parts.append(draw(FILLS[segment]))
        elif draw(one_in_ten) == 0:
            parts.append(draw(words))
        else:
            parts.append(segment)
    path = "/" + "/".join(parts) + ("/" if parts and spec.trailing else "")
    for mutation in draw(mutations):
        if mutation == "slash":
            path = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
        elif mutation == "double":
            slashes = [index for index, char in enumerate(path) if char == "/"]
            at = slashes[draw(below(len(slashes)))]
            path = path[:at] + "/" + path[at:]
        elif mutation == "append":
            path = path.rstrip("/") + "/" + draw(tokens) + draw(slash_or_not)
        else:
            path = path.rstrip("/").rpartition("/")[0] or "/"
    return path


@st.composite
def scenarios(
    draw: st.DrawFn,
    methods: Sequence[str] = REQUEST_METHODS,
    pairs: bool = False,
) -> tuple[list[RuleSpec], list[tuple[str, str]]]:
    """A conflict-free table of 1-12 rules, and 1-10 requests to it.

    With `pairs`: a defaults pair first, then 1-6 rules (the pair is what that test is about).
    """
    specs = draw(RULE_TABLES[pairs])
    if pairs:
        specs = [*draw(defaults_pair()), *specs]
    table = without_conflicts(specs)
    method_strategy = METHOD_STRATEGIES[tuple(methods)]
    requests: list[tuple[str, str]] = []
    for _ in range(draw(request_counts)):
        if draw(path_kinds) < 3:
            path = path_from_rule(draw, table[draw(below(len(table)))])
        else:
            path = draw(random_paths)
        requests.append((draw(method_strategy), path))
    return table, requests


# Besides the drawn requests, every table is asked a fixed set of paths made from its own rules,
# with SYSTEMATIC_METHODS (HEAD follows GET, PUT and PATCH fare as DELETE does; the drawn requests
# use all seven): each rule filled with two values per variable (the first one its converter
# takes, the second one it often refuses or one at a bound), then mutated. These cost ~15 µs a
# request, where a drawn one costs ~0.5 ms of hypothesis: most of the thousands of paths a run
# asks come from here, and hypothesis shrinks the table that makes them.
SYSTEMATIC_METHODS = ("GET", "POST", "DELETE", "PROPFIND")
SYSTEMATIC: dict[str, tuple[str, str]] = {
    "": ("a", "7"),
    "int": ("7", "x"),
    "float": ("1.5", "7"),
    "path": ("a/b", "items"),
    "uuid": (SAMPLE_UUID, "a"),
    "any(x, y)": ("y", "a"),
    "any(a, ab)": ("ab", "b"),
    "string(length=2)": ("ab", "abc"),
    "int(min=1, max=100)": ("100", "101"),
    "int(signed=True)": ("-5", "a"),
}


def systematic_paths(specs: Sequence[RuleSpec]) -> list[str]:
    """Each rule, filled both ways, as it is, with its trailing slash toggled, with its last
    slash doubled, with a segment appended and with its last segment dropped."""
    paths: dict[str, None] = {}
    for spec in specs:
        for which in (0, 1):
            parts = [
                s if isinstance(s, str) else s.prefix + SYSTEMATIC[s.converter][which]
                for s in spec.segments
            ]
            path = "/" + "/".join(parts) + ("/" if parts and spec.trailing else "")
            last = path.rstrip("/").rfind("/")
            for variant in (
                path,
                path[:-1] if path.endswith("/") and len(path) > 1 else path + "/",
                path[:last] + "/" + path[last:] if last > 0 else path + "/a",
                path.rstrip("/") + "/a",
                path.rstrip("/").rpartition("/")[0] or "/",
            ):
                paths[variant] = None
    return list(paths)


def all_requests(
    scenario: tuple[list[RuleSpec], list[tuple[str, str]]],
    methods: Sequence[str] = SYSTEMATIC_METHODS,
) -> list[tuple[str, str]]:
    specs, drawn = scenario
    return [*drawn, *((method, path) for path in systematic_paths(specs) for method in methods)]


request_counts = st.integers(1, 10)
OPTIONS_ONLY = ("OPTIONS",)
ALL_METHODS = (*REQUEST_METHODS, "OPTIONS")
METHOD_STRATEGIES: dict[tuple[str, ...], st.SearchStrategy[str]] = {
    methods: st.sampled_from(methods) for methods in (REQUEST_METHODS, OPTIONS_ONLY, ALL_METHODS)
}


@st.composite
def defaults_pair(draw: st.DrawFn) -> list[RuleSpec]:
    """werkzeug's defaults idiom: `/w/` with defaults {"v0": d} and `/w/<conv:v0>`, one endpoint.

    The pair comes first (never dropped by without_conflicts); both rules share endpoint "page".
    """
    lead = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2))
    converter, default = draw(
        st.sampled_from(
            [("int", 1), ("int", 0), ("", "a"), ("any(x, y)", "x"), ("int(min=1, max=100)", 1)]
        )
    )
    base = RuleSpec(
        segments=tuple(lead),
        trailing=draw(st.booleans()),
        methods=draw(st.sampled_from(METHOD_SETS)),
        endpoint="page",
        defaults=(("v0", default),),
    )
    full = RuleSpec(
        segments=(*lead, Var(converter)),
        trailing=draw(st.booleans()),
        methods=draw(st.sampled_from(METHOD_SETS)),
        endpoint="page",
    )
    return [base, full]


# -- the differential tests --------------------------------------------------------------------


@DIFFERENTIAL
@given(scenarios())
def test_every_request_matches_werkzeug(
    scenario: tuple[list[RuleSpec], list[tuple[str, str]]],
) -> None:
    assert_agree(Tables.build(scenario[0]), all_requests(scenario))


@settings(DIFFERENTIAL, max_examples=200)
@given(scenarios(methods=OPTIONS_ONLY))
def test_options_matches_werkzeug_with_automatic_options(
    scenario: tuple[list[RuleSpec], list[tuple[str, str]]],
) -> None:
    assert_agree(Tables.build(scenario[0]), all_requests(scenario, OPTIONS_ONLY))


@settings(DIFFERENTIAL, max_examples=200)
@given(scenarios(methods=ALL_METHODS, pairs=True))
def test_defaults_match_werkzeug(
    scenario: tuple[list[RuleSpec], list[tuple[str, str]]],
) -> None:
    assert_agree(
        Tables.build(scenario[0]), all_requests(scenario, (*SYSTEMATIC_METHODS, "OPTIONS"))
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/page/"), ("GET", "/page/1"), ("GET", "/page/2"), ("POST", "/page/1")],
)
def test_defaults_example(method: str, path: str) -> None:
    # werkzeug: /page/ gives {"v0": 1}; GET /page/1 redirects to /page/ (redirect_defaults), and
    # POST /page/1 does not (the /page/ rule has no POST).
    page = RuleSpec(("page",), True, frozenset({"GET"}), "page", (("v0", 1),))
    numbered = RuleSpec(("page", Var("int")), False, frozenset({"GET", "POST"}), "page")
    assert_agree(Tables.build([page, numbered]), [(method, path)])


# -- the deliberate differences, one example each ----------------------------------------------


def test_deliberate_1_same_shape_and_method_is_refused() -> None:
    first = RuleSpec(("a", Var("int")), False, frozenset({"GET"}), "r0")
    second = RuleSpec(("a", Var("int")), False, frozenset({"GET", "POST"}), "r1")
    reference = Map([make_rule(first.define()), make_rule(second.define())]).bind("localhost", "/")
    # werkzeug keeps both; the first wins for GET, the second answers POST.
    assert reference.match("/a/1", "GET") == ("r0", {"v0": 1})
    assert reference.match("/a/1", "POST") == ("r1", {"v0": 1})
    table = RouteTable()
    table.add(make_route(first.define()))
    with pytest.raises(RouteConflict):
        table.add(make_route(second.define()))
    # What the generators compare instead: the later rule without the shared method.
    assert_agree(
        Tables.build(without_conflicts([first, second])),
        [("GET", "/a/1"), ("POST", "/a/1"), ("PUT", "/a/1")],
    )


def test_deliberate_2_options_is_answered_automatically() -> None:
    spec = RuleSpec(("a",), False, frozenset({"GET", "POST"}), "r0")
    tables = Tables.build([spec])
    # Plain werkzeug: OPTIONS is a method like another, not allowed here.
    plain = werkzeug_answer(tables.adapter, "OPTIONS", "/a")
    assert plain == Answer("405", methods=frozenset(tables.adapter.allowed_methods("/a")))
    # Flask's way: found, Allow = werkzeug's allowed methods plus OPTIONS.
    assert werkzeug_answer(tables.options_adapter, "OPTIONS", "/a").kind == "found"
    assert wsgilite_answer(tables.table, "OPTIONS", "/a") == Answer(
        "allow", methods=frozenset(tables.adapter.allowed_methods("/a")) | {"OPTIONS"}
    )
    # And a 405 lists OPTIONS among the valid methods.
    werkzeug_405 = werkzeug_answer(tables.adapter, "PUT", "/a")
    assert werkzeug_405.kind == "405"
    assert wsgilite_answer(tables.table, "PUT", "/a") == replace(
        werkzeug_405, methods=werkzeug_405.methods | {"OPTIONS"}
    )
    assert_agree(tables, [("OPTIONS", "/a"), ("OPTIONS", "/b"), ("OPTIONS", "/a/")])


def test_deliberate_3_a_converter_value_error_is_404() -> None:
    tables = Tables.build([RuleSpec(("n", Var("int")), False, frozenset({"GET"}), "r0")])
    path = "/n/" + "1" * 5000
    # werkzeug up to 3.1.8 lets int()'s ValueError escape (a 500); 3.1.9 answers 404, as wsgilite.
    with pytest.raises((ValueError, NotFound)):
        tables.adapter.match(path, "GET")
    assert wsgilite_answer(tables.table, "GET", path) == Answer("404")


def test_deliberate_4_a_float_never_becomes_inf() -> None:
    tables = Tables.build([RuleSpec(("f", Var("float")), False, frozenset({"GET"}), "r0")])
    path = "/f/" + "9" * 400 + ".0"
    _, values = tables.adapter.match(path, "GET")
    assert math.isinf(values["v0"])  # werkzeug: inf
    assert wsgilite_answer(tables.table, "GET", path) == Answer("404")
    # Below the float range both agree.
    assert_agree(tables, [("GET", "/f/" + "9" * 300 + ".5")])


def test_path_does_not_match_a_decoded_newline_as_in_werkzeug() -> None:
    tables = Tables.build([RuleSpec(("p", Var("path")), False, frozenset({"GET"}), "r0")])
    # werkzeug's part regexes are compiled without DOTALL: `path`'s ".*?" stops at a newline.
    assert werkzeug_answer(tables.adapter, "GET", "/p/a\nb") == Answer("404")
    assert_agree(tables, [("GET", "/p/a\nb"), ("GET", "/p/a\n"), ("GET", "/p/\nb")])


def test_input_domain_is_request_path() -> None:
    environ = EnvironBuilder().get_environ()
    environ["PATH_INFO"] = "//a//b"
    assert WerkzeugRequest(environ).path == request_path("//a//b") == "/a//b"
    tables = Tables.build([RuleSpec(("a", "b"), False, frozenset({"GET"}), "r0")])
    # MapAdapter.match strips the leading slashes itself: "//a/b" is "/a/b" to werkzeug.
    assert werkzeug_answer(tables.adapter, "GET", "//a/b") == found("r0", {})
    assert_agree(tables, [("GET", "//a/b"), ("GET", "///a/b/")])


# -- regression examples for today's known disagreements ---------------------------------------
# Each expected answer is werkzeug's, computed live by `agree`.

Rules = list[tuple[str, list[str]]]


def check(rules: Rules, method: str, path: str) -> None:
    expected, actual = agree(rules, method, path)
    table = "\n".join(f"  r{i} {','.join(m):<16} {rule}" for i, (rule, m) in enumerate(rules))
    assert actual == expected, (
        f"\n{table}\n{method} {path!r}\n    werkzeug: {expected}\n    wsgilite: {actual}"
    )


@pytest.mark.parametrize(
    ("rules", "method", "path"),
    [
        ([("/a/b", ["GET"])], "GET", "/a//b"),
        ([("/items/<int:n>", ["GET"])], "GET", "/items//7"),
        ([("/a/", ["GET"])], "GET", "/a//"),
        ([("/a/b", ["GET"]), ("/a/<x>/b", ["POST"])], "GET", "/a//b"),
    ],
)
def test_known_double_slashes_are_merged(rules: Rules, method: str, path: str) -> None:
    check(rules, method, path)


@pytest.mark.parametrize(
    ("rules", "method", "path"),
    [
        ([("/a/", ["GET"]), ("/<path:p>", ["GET"])], "GET", "/a"),
        ([("/a/", ["GET"]), ("/<x>", ["GET"])], "GET", "/a"),
        ([("/a/b/", ["GET"]), ("/a/<path:p>", ["GET"])], "GET", "/a/b"),
    ],
)
def test_known_slash_redirect_before_lower_priority_rules(
    rules: Rules, method: str, path: str
) -> None:
    check(rules, method, path)


@pytest.mark.parametrize(
    ("rules", "method", "path"),
    [
        ([("/a/", ["GET"])], "POST", "/a"),
        ([("/items/<int:n>/", ["PUT"])], "GET", "/items/3"),
        ([("/a/", ["GET"])], "PROPFIND", "/a"),
    ],
)
def test_known_slash_redirect_only_for_the_method(rules: Rules, method: str, path: str) -> None:
    check(rules, method, path)


@pytest.mark.parametrize(
    ("rules", "method", "path"),
    [
        ([("/n/<int(max=100):x>", ["GET"])], "POST", "/n/500"),
        ([("/n/<int(min=1, max=100):x>", ["PUT"])], "DELETE", "/n/0"),
        ([("/v<int(max=9):x>", ["GET"])], "POST", "/v10"),
    ],
)
def test_known_method_checked_before_converter_bounds(rules: Rules, method: str, path: str) -> None:
    check(rules, method, path)


@pytest.mark.parametrize(
    ("rules", "method", "path"),
    [
        ([("/n/<int(max=100):x>", ["GET"]), ("/n/<x>", ["GET"])], "GET", "/n/500"),
        ([("/n/<int(min=1, max=100):x>", ["GET"]), ("/<path:p>", ["GET"])], "GET", "/n/0"),
        ([("/v<int(max=9):x>", ["GET"]), ("/<x>", ["POST"])], "GET", "/v10"),
    ],
)
def test_known_rejected_value_does_not_fall_through(rules: Rules, method: str, path: str) -> None:
    check(rules, method, path)


@pytest.mark.parametrize(
    ("rules", "method", "path"),
    [
        ([("/a/<path:p>/", ["GET"])], "GET", "/a/b//"),
        ([("/a/<path:p>", ["GET"]), ("/a/<path:p>/", ["POST"])], "POST", "/a/b"),
        ([("/<path:p>/", ["GET"]), ("/<path:p>", ["POST"])], "GET", "/a"),
    ],
)
def test_known_path_beside_a_trailing_slash(rules: Rules, method: str, path: str) -> None:
    check(rules, method, path)


def test_agree_reports_the_table_and_both_answers() -> None:
    """The failure message names the rules, the request and both answers."""
    tables = Tables.build(without_conflicts([RuleSpec(("a",), False, frozenset({"GET"}))]))
    tables.table = RouteTable()  # an empty wsgilite table disagrees on purpose
    with pytest.raises(AssertionError) as failure:
        assert_agree(tables, [("GET", "/a")])
    message = str(failure.value)
    assert "r0   GET" in message and "/a" in message
    assert "werkzeug: found r0 {}" in message and "wsgilite: 404" in message


def test_uuid_values_are_uuid_objects() -> None:
    # The comparison keeps types: a UUID object is not its string.
    tables = Tables.build([RuleSpec(("u", Var("uuid")), False, frozenset({"GET"}), "r0")])
    _, values = tables.adapter.match("/u/" + SAMPLE_UUID, "GET")
    assert values == {"v0": uuid.UUID(SAMPLE_UUID)}
    assert found("r0", values) != found("r0", {"v0": SAMPLE_UUID})
    assert_agree(tables, [("GET", "/u/" + SAMPLE_UUID), ("GET", "/u/" + SAMPLE_UUID.upper())])
