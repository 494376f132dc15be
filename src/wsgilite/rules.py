"""Rules: a route's rule split into path parts, exactly as werkzeug's `Rule` splits it.

`parse_rule` reads werkzeug's rule syntax (`/users/<int:user_id>`), makes each variable's
converter from the app's converters, and returns the parts werkzeug's matcher would walk, with
werkzeug's regexes and weights. `routing.RouteTable` builds its tree from them. Nothing here
matches a path or knows a route.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from werkzeug.routing import BaseConverter, FloatConverter, Map, ValidationError
from werkzeug.routing.rules import parse_converter_args


class FiniteFloatConverter(FloatConverter):
    """werkzeug's float converter, refusing values too large for a float (never inf)."""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        if not math.isfinite(number):
            raise ValidationError()
        return number


# -- Parsing a rule, as werkzeug's Rule._parse_rule does -------------------------------------------
# PERF: werkzeug's Rule compiles two URL builders per rule (an `ast` compile each): registering
# 4,000 routes took 1.9 s that way, 0.1 s with the parse alone. The grammar, the part regexes and
# the weights below are werkzeug's, and tests/test_routing_differential.py checks the answers
# against werkzeug's matcher on generated tables.

_TOKEN = re.compile(
    r"""
    (?P<slash>/)
    | (?P<static>[^</]+)
    | <(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<arguments>.*?)\))?:)?
       (?P<variable>[a-zA-Z_][a-zA-Z0-9_]*)>
    """,
    re.VERBOSE,
)
SLASHES = re.compile("/{2,}")


class Weight(NamedTuple):
    """werkzeug's ordering of the variable parts tried at one segment (lighter first)."""

    number_static: int
    static: list[tuple[int, int]]
    number_arguments: int
    arguments: list[int]


_NO_WEIGHT = Weight(0, [], 0, [])


@dataclass(frozen=True, slots=True)
class Part:
    """One segment of a rule (or, after a `path` variable, the rest of the path)."""

    content: str  # the text of a static part; the regex of a part with variables
    static: bool
    final: bool = False  # it matches the rest of the path, slashes included
    suffixed: bool = False  # a final part that ends in "/": it decides the slash redirect
    weight: Weight = _NO_WEIGHT


def parse_rule(
    rule: str, converters: Mapping[str, type[BaseConverter]], url_map: Map
) -> tuple[list[Part], dict[str, BaseConverter]]:
    """Split `rule` into its path parts and its variables' converters, as werkzeug does."""
    if not rule.startswith("/"):
        raise ValueError(f"route rule {rule!r} must start with '/'")
    rule = SLASHES.sub("/", rule)  # werkzeug's merge_slashes, on the rule too
    found: dict[str, BaseConverter] = {}
    parts: list[Part] = []
    content, static, final, number = "", True, False, 0
    static_weights: list[tuple[int, int]] = []
    argument_weights: list[int] = []
    position = 0
    while position < len(rule):
        token = _TOKEN.match(rule, position)
        if token is None:
            raise ValueError(f"route rule {rule!r} is malformed at {rule[position:]!r}")
        text, variable = token["static"], token["variable"]
        if text is not None:
            static_weights.append((len(static_weights), -len(text)))
            content += text if static else re.escape(text)
        elif variable is not None:
            if variable in found:
                raise ValueError(f"route rule {rule!r} names the variable {variable!r} twice")
            if static:
                content = re.escape(content)
            static = False
            converter = found[variable] = _converter(rule, token, converters, url_map)
            final = final or not converter.part_isolating
            content += f"(?P<__werkzeug_{number}>{converter.regex})"
            number += 1
            argument_weights.append(converter.weight)
        elif final:
            content += "/"
        else:
            weight = _weight(static_weights, argument_weights)
            parts.append(Part(content if static else content + r"\Z", static, weight=weight))
            content, static, number = "", True, 0
            static_weights, argument_weights = [], []
        position = token.end()
    suffixed = final and content.endswith("/")
    if suffixed:
        # A `path` variable before a final slash: the slash is optional, and decides a redirect.
        content = content[:-1] + "(?<!/)(/?)"
    weight = _weight(static_weights, argument_weights)
    parts.append(Part(content if static else content + r"\Z", static, final, suffixed, weight))
    if suffixed:
        parts.append(Part("", True, weight=weight))
    # The first part is the empty text before the rule's leading slash; paths are split after it.
    return parts[1:], found


def _weight(static: list[tuple[int, int]], arguments: list[int]) -> Weight:
    return Weight(-len(static), static, -len(arguments), arguments)


def _converter(
    rule: str,
    token: re.Match[str],
    converters: Mapping[str, type[BaseConverter]],
    url_map: Map,
) -> BaseConverter:
    name = token["converter"] or "default"
    if name not in converters:
        raise ValueError(
            f"route {rule!r}: the converter {name!r} in {token[0]!r} does not exist; register "
            "custom converters with app.add_converter(name, cls) before the routes that use them"
        )
    args, kwargs = parse_converter_args(token["arguments"] or "")
    return converters[name](url_map, *args, **kwargs)
