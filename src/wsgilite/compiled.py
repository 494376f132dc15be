"""Compiled readers: generated functions that take valid values with no call per field.

kinds.py checks a value field by field and lists every failure; a typed handler's plan reads each
parameter with its own reader. Most requests are valid, so each model, and each typed handler,
also gets one function generated from its fields' tests (a Kind's `test`: a Python expression
true when a value is valid as it is). It builds the model, or calls the handler, in one go, and at
the first doubt hands over to the full checks, which find every error. It knows nothing of
requests or types: the callers give it their tests, names and fallbacks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

Test = tuple[str, dict[str, Any]]

_serial = itertools.count()


def unique(prefix: str) -> str:
    """Return a name no other generated code uses."""
    return f"_{prefix}{next(_serial)}"


def function(name: str, lines: list[str], namespace: dict[str, Any]) -> Callable[..., Any]:
    """Return the function `name` defined by source `lines`, run with `namespace` as globals."""
    scope = dict(namespace)
    exec("\n".join(lines), scope)  # the source is ours: built from names and reprs
    return scope[name]  # type: ignore[no-any-return]


def inline(test: Test, value: str) -> str:
    """Return `test`'s expression about the variable named `value`."""
    return test[0].replace("{v}", value)


def every(test: Test, items: str) -> Test:
    """Return the test of a list (`items="list"`) or dict (`"dict"`) whose items all pass `test`."""
    name = unique("every")
    loop = "v" if items == "list" else "v.values()"
    lines = [f"def {name}(v):", f"    for x in {loop}:", f"        if not ({inline(test, 'x')}):",
             "            return False", "    return True"]  # fmt: skip
    check = function(name, lines, test[1])
    return f"type({{v}}) is {items} and {name}({{v}})", {**test[1], name: check}


# One field of a model: (attribute, JSON key, test or None, its Kind, default). The Kind's
# from_json is looked up per call: a model that refers to itself gets its own at the end.
Slot = tuple[str, str, Test | None, Any, Any]


def model_reader(
    slots: list[Slot],
    build: Callable[..., Any] | None,
    slow: Callable[[Any, str, str, list[Any]], Any],
    sentinels: dict[str, Any],
) -> Callable[[Any, str, str, list[Any]], Any]:
    """Return `from_json` for a model: its fields read inline, `slow(...)` at the first doubt.

    `build` makes the model from keyword arguments (a dataclass); None makes a dict (a TypedDict,
    whose keys with the default `sentinels["OMITTED"]` are left out when absent). `sentinels`
    names MISSING (no default), FAILED and OMITTED, and `Factory`, the type of a default factory.
    """
    namespace: dict[str, Any] = {**sentinels, "slow": slow, "build": build}
    fail = "return slow(value, location, key, errors)"
    lines = ["def read(value, location, key, errors):",
             f"    if type(value) is not dict:\n        {fail}",
             "    get = value.get"]  # fmt: skip
    if build is None:
        lines.append("    made = {}")
    for index, (attribute, key, test, kind, default) in enumerate(slots):
        # A dataclass's fields are locals passed by keyword; a TypedDict's go into `made`.
        var = f"v{index}"
        target = var if build is not None else f"made[{attribute!r}]"
        lines.append(f"    {var} = get({key!r}, MISSING)")
        lines.append(f"    if {var} is MISSING:")
        if default is sentinels["MISSING"]:
            lines.append(f"        {fail}")
        elif default is sentinels["OMITTED"]:
            lines.append("        pass")
        elif type(default) is sentinels["Factory"]:
            namespace[f"make{index}"] = default.make
            lines.append(f"        {target} = make{index}()")
        else:
            namespace[f"default{index}"] = default
            lines.append(f"        {target} = default{index}")
        if test is not None:
            namespace.update(test[1])
            lines.append(f"    elif not ({inline(test, var)}):\n        {fail}")
            if target != var:
                lines.append(f"    else:\n        {target} = {var}")
        else:
            namespace[f"kind{index}"] = kind
            lines.append("    else:")
            lines.append(f"        {var} = kind{index}.from_json({var}, location, '', [])")
            lines.append(f"        if {var} is FAILED:\n            {fail}")
            if target != var:
                lines.append(f"        {target} = {var}")
    if build is None:
        lines.append("    return made")
    else:
        arguments = ", ".join(f"{slot[0]}=v{index}" for index, slot in enumerate(slots))
        lines.append(f"    return build({arguments})")
    return function("read", lines, namespace)
