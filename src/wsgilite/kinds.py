"""Kinds: how a value of an annotated type is read from text and from JSON, and its schema.

`kind_of(annotation)` turns a type (int, str, bool, float, Enum, Literal, date, datetime, UUID,
Decimal, X | None, list, dict, a dataclass or a TypedDict, with `Field`-style constraints from
`Annotated`) into a `Kind`: a converter from text (a query, path, header, cookie or form value), a
converter from a decoded JSON value that collects every failure as a `FieldError`, and its JSON
Schema for OpenAPI. It is the validation engine, on the standard library only; it knows nothing
of requests, routes or responses: params.py plans a handler's calls with it, openapi.py documents.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import re
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from . import compiled
from .markers import Field, FieldError, Invalid, alias_of

# -- Kinds: how a type is read from text and from JSON, and its schema ----------------------------

Errors = list[FieldError]
Test = compiled.Test


@dataclass(slots=True, eq=False)
class Kind:
    """What the plan knows of one type: converters from text and JSON, its name and schema."""

    name: str  # as in the errors: "integer", "string", "Book"...
    schema: Callable[[dict[str, Any]], dict[str, Any]]
    # text -> value; raises Invalid. None: the type cannot be read from text (a model).
    from_text: Callable[[str], Any] | None
    # (JSON value, location, name, errors) -> value, or FAILED with errors appended
    from_json: Callable[[Any, str, str, Errors], Any]
    flat: bool = True  # a scalar, or a model whose fields all are scalars
    fields: tuple[tuple[str, str, Kind, Any], ...] = ()  # a model's (attr, key, kind, default)
    from_form: Callable[[Any, Errors], Any] | None = None  # a flat model, from a form's texts
    exact: type | None = None  # a scalar's JSON type, taken as it is
    # PERF: a Python expression of `{v}` true when a JSON value is valid as it is, with the names
    # it uses; compiled.py inlines it in a model's reader. None: call from_json.
    test: Test | None = None
    nullable: bool = False  # X | None: None is a value


FAILED = object()
_MISSING: Any = dataclasses.MISSING


def _scalar(
    name: str, schema: dict[str, Any], from_text: Callable[[str], Any],
    from_json: Callable[[Any], Any], exact: type | None = None,
) -> Kind:  # fmt: skip
    def read_json(value: Any, location: str, key: str, errors: Errors) -> Any:
        # PERF: a JSON value of the exact type (most are) skips the converter's call.
        if type(value) is exact:
            return value
        try:
            return from_json(value)
        except Invalid as exc:
            errors.append(FieldError(location, key, str(exc), name))
            return FAILED

    test: Test | None = (f"type({{v}}) is {exact.__name__}", {}) if exact else None
    return Kind(name, lambda components: dict(schema), from_text, read_json, exact=exact, test=test)


# ASCII digits only: int() also takes Arabic-Indic digits, spaces and "1_0".
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,4300}")


_PLAIN_DIGITS = "text.isascii() and text.isdigit() and len(text) <= 4300"


def _int_text(text: str) -> int:
    if text.isascii() and text.isdigit() and len(text) <= 4300:  # PERF: most are; no regex
        return int(text)
    if not _INT_TEXT.fullmatch(text):
        raise Invalid("must be an integer")
    return int(text)


def _int_json(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise Invalid("must be an integer")


def _float_text(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise Invalid("must be a number") from None
    if not math.isfinite(number) or "_" in text:
        raise Invalid("must be a finite number")
    return number


def _float_json(value: Any) -> float:
    if type(value) is float or type(value) is int:
        if not math.isfinite(value):
            raise Invalid("must be a finite number")
        return float(value)
    raise Invalid("must be a number")


def _str_json(value: Any) -> str:
    if type(value) is str:
        return value
    raise Invalid("must be a string")


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _bool_text(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise Invalid("must be a boolean (true or false)")


def _bool_json(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise Invalid("must be a boolean")


def _parsed(
    parse: Callable[[str], Any], what: str
) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    def from_text(text: str) -> Any:
        try:
            return parse(text)
        except (ValueError, TypeError):
            raise Invalid(f"must be {what}") from None

    def from_json(value: Any) -> Any:
        if type(value) is not str:
            raise Invalid(f"must be {what}")
        return from_text(value)

    return from_text, from_json


def _date(text: str) -> datetime.date:
    if len(text) != 10:
        raise ValueError(text)
    return datetime.date.fromisoformat(text)


def _datetime(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("a date-time needs a time zone")
    return value


def _choices(name: str, options: list[Any], build: Callable[[Any], Any]) -> Kind:
    by_text = {str(option.value if isinstance(option, enum.Enum) else option): option
               for option in options}  # fmt: skip
    values = [option.value if isinstance(option, enum.Enum) else option for option in options]
    listed = ", ".join(map(json.dumps, values))

    def from_text(text: str) -> Any:
        if text in by_text:
            return build(by_text[text])
        raise Invalid(f"must be one of {listed}")

    def from_json(value: Any) -> Any:
        for option, plain in zip(options, values, strict=True):
            if value == plain and type(value) is type(plain):
                return build(option)
        raise Invalid(f"must be one of {listed}")

    schema: dict[str, Any] = {"enum": values}
    for json_type, python_type in (("string", str), ("integer", int)):
        if all(type(value) is python_type for value in values):
            schema = {"type": json_type, "enum": values}
    return _scalar(name, schema, from_text, from_json)


def kind_of(annotation: Any, owner: str, seen: dict[Any, Kind]) -> Kind:
    """Return the Kind of `annotation`; `owner` names the handler in registration errors."""
    if annotation in seen:
        return seen[annotation]
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extras = get_args(annotation)
        marks = [extra for extra in extras if isinstance(extra, Field)]
        kind = kind_of(base, owner, seen)
        return _checked(kind, marks[0]) if marks else kind
    if annotation is int:
        return _scalar("integer", {"type": "integer"}, _int_text, _int_json, int)
    if annotation is float:
        return _scalar("number", {"type": "number"}, _float_text, _float_json, None)
    if annotation is str:
        return _scalar("string", {"type": "string"}, str, _str_json, str)
    if annotation is bool:
        return _scalar("boolean", {"type": "boolean"}, _bool_text, _bool_json, bool)
    if annotation is Any or annotation is object:
        return Kind("any", lambda components: {}, str, lambda value, *_: value, flat=False,
                    test=("True", {}))  # fmt: skip
    for known, schema, parse, what in _PARSED:
        if annotation is known:
            return _scalar(schema.get("format", "string"), schema, *_parsed(parse, what))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _choices(annotation.__name__, list(annotation), lambda option: option)
    if origin is Literal:
        return _choices("literal", list(get_args(annotation)), lambda option: option)
    if origin in (Union, types.UnionType):
        return _union(annotation, owner, seen)
    if origin is list or annotation is list:
        (item,) = get_args(annotation) or (Any,)
        return _list(kind_of(item, owner, seen))
    if origin is dict or annotation is dict:
        _, value = get_args(annotation) or (str, Any)
        return _dict(kind_of(value, owner, seen))
    if isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or typing.is_typeddict(annotation)
    ):
        return _model(annotation, owner, seen)
    raise TypeError(
        f"{owner}: wsgilite cannot read a value of type {annotation!r}; use int, float, str, "
        "bool, an Enum or Literal, date, datetime, UUID, Decimal, list[...], X | None, a "
        "dataclass or a TypedDict"
    )


_PARSED: list[tuple[type, dict[str, Any], Callable[[str], Any], str]] = [
    (datetime.datetime, {"type": "string", "format": "date-time"}, _datetime,
     "an ISO 8601 date-time with a time zone"),
    (datetime.date, {"type": "string", "format": "date"}, _date, "a date (YYYY-MM-DD)"),
    (uuid.UUID, {"type": "string", "format": "uuid"}, uuid.UUID, "a UUID"),
    (decimal.Decimal, {"type": "string", "format": "decimal"},
     lambda text: _finite_decimal(decimal.Decimal(text)), "a decimal number"),
]  # fmt: skip


def _finite_decimal(value: decimal.Decimal) -> decimal.Decimal:
    if not value.is_finite():
        raise ValueError("not finite")
    return value


def _union(annotation: Any, owner: str, seen: dict[Any, Kind]) -> Kind:
    members = [member for member in get_args(annotation) if member is not type(None)]
    if len(members) != 1:
        raise TypeError(
            f"{owner}: a union such as {annotation!r} cannot be read; use one type, or X | None"
        )
    inner = kind_of(members[0], owner, seen)

    def from_json(value: Any, location: str, key: str, errors: Errors) -> Any:
        return None if value is None else inner.from_json(value, location, key, errors)

    def schema(components: dict[str, Any]) -> dict[str, Any]:
        return {"anyOf": [inner.schema(components), {"type": "null"}]}

    test = None if inner.test is None else (f"{{v}} is None or ({inner.test[0]})", inner.test[1])
    return dataclasses.replace(inner, schema=schema, from_json=from_json, test=test, nullable=True)


def _list(item: Kind) -> Kind:
    def from_json(value: Any, location: str, key: str, errors: Errors) -> Any:
        if type(value) is not list:
            errors.append(FieldError(location, key, "must be an array", f"array of {item.name}"))
            return FAILED
        read = item.from_json
        result = [read(element, location, f"{key}[{at}]", errors)
                  for at, element in enumerate(value)]  # fmt: skip
        return FAILED if FAILED in result else result

    return Kind(
        f"array of {item.name}",
        lambda components: {"type": "array", "items": item.schema(components)},
        item.from_text,  # a query list converts each of its values
        from_json,
        flat=False,
        test=None if item.test is None else compiled.every(item.test, "list"),
    )


def _dict(value_kind: Kind) -> Kind:
    def from_json(value: Any, location: str, key: str, errors: Errors) -> Any:
        if type(value) is not dict:
            errors.append(FieldError(location, key, "must be an object", "object"))
            return FAILED
        read = value_kind.from_json
        result = {name: read(item, location, f"{key}.{name}" if key else name, errors)
                  for name, item in value.items()}  # fmt: skip
        return FAILED if FAILED in result.values() else result

    def schema(components: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": value_kind.schema(components)}

    test = None if value_kind.test is None else compiled.every(value_kind.test, "dict")
    return Kind("object", schema, None, from_json, flat=False, test=test)


_CHECKS = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern")


def _checked(kind: Kind, mark: Field) -> Kind:
    if all(getattr(mark, name) is None for name in _CHECKS):
        return dataclasses.replace(kind, schema=_described(kind, mark))
    ge, gt, le, lt = mark.ge, mark.gt, mark.le, mark.lt
    shortest, longest = mark.min_length, mark.max_length
    pattern = re.compile(mark.pattern) if mark.pattern is not None else None

    def check(value: Any) -> Any:
        # PERF: one function with its bounds as locals: a check costs ~0.3 µs, not a call each.
        if ge is not None and not value >= ge:
            raise Invalid(f"must be >= {ge}")
        if gt is not None and not value > gt:
            raise Invalid(f"must be > {gt}")
        if le is not None and not value <= le:
            raise Invalid(f"must be <= {le}")
        if lt is not None and not value < lt:
            raise Invalid(f"must be < {lt}")
        if shortest is not None and len(value) < shortest:
            raise Invalid(f"must have at least {shortest} characters or items")
        if longest is not None and len(value) > longest:
            raise Invalid(f"must have at most {longest} characters or items")
        if pattern is not None and pattern.search(value) is None:
            raise Invalid(f"must match {pattern.pattern!r}")
        return value

    test = _checked_test(kind, mark)
    from_text = None
    if kind.from_text is not None and test is not None:
        # PERF: a value that passes the test inline skips check()'s call (most do).
        passes = compiled.inline(test, "value")
        convert = "inner_text(text)"
        if kind.from_text is _int_text:  # digits: int() inline, as _int_text does first
            convert = f"int(text) if {_PLAIN_DIGITS} else {convert}"
        lines = ["def from_text(text):", f"    value = {convert}",
                 f"    return value if {passes} else check(value)"]  # fmt: skip
        names = {**test[1], "inner_text": kind.from_text, "check": check}
        from_text = compiled.function("from_text", lines, names)
    elif kind.from_text is not None:
        inner_text = kind.from_text

        def from_text(text: str) -> Any:
            return check(inner_text(text))

    exact, inner_json = kind.exact, kind.from_json

    def from_json(value: Any, location: str, key: str, errors: Errors) -> Any:
        # PERF: a value of the scalar's own JSON type goes straight to the checks.
        result = value if type(value) is exact else inner_json(value, location, key, errors)
        if result is FAILED or result is None:
            return result
        try:
            return check(result)
        except Invalid as exc:
            errors.append(FieldError(location, key, str(exc), kind.name))
            return FAILED

    return dataclasses.replace(kind, schema=_described(kind, mark), from_text=from_text,
                               from_json=from_json, test=test)  # fmt: skip


def _checked_test(kind: Kind, mark: Field) -> Test | None:
    # The kind's own test, then the mark's bounds, lengths and pattern, as one expression.
    if kind.test is None or kind.nullable:
        return None
    parts, names = [f"({kind.test[0]})"], dict(kind.test[1])
    for attribute, operator in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        bound = getattr(mark, attribute)
        if bound is not None:
            name = compiled.unique(attribute)
            names[name] = bound
            parts.append(f"{{v}} {operator} {name}")
    if mark.min_length is not None:
        parts.append(f"len({{v}}) >= {int(mark.min_length)}")
    if mark.max_length is not None:
        parts.append(f"len({{v}}) <= {int(mark.max_length)}")
    if mark.pattern is not None:
        name = compiled.unique("pattern")
        names[name] = re.compile(mark.pattern)
        parts.append(f"{name}.search({{v}}) is not None")
    return " and ".join(parts), names


def _described(kind: Kind, mark: Field) -> Callable[[dict[str, Any]], dict[str, Any]]:
    extra: dict[str, Any] = {}
    for attribute, keyword in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"),
                               ("lt", "exclusiveMaximum"), ("pattern", "pattern"),
                               ("description", "description")):  # fmt: skip
        if getattr(mark, attribute) is not None:
            extra[keyword] = getattr(mark, attribute)
    for attribute, text_key, array_key in (("min_length", "minLength", "minItems"),
                                           ("max_length", "maxLength", "maxItems")):  # fmt: skip
        if getattr(mark, attribute) is not None:
            extra[text_key if kind.name == "string" else array_key] = getattr(mark, attribute)

    def schema(components: dict[str, Any]) -> dict[str, Any]:
        base = kind.schema(components)
        if "anyOf" in base:  # X | None: the constraints belong to X
            first, *rest = base["anyOf"]
            return {"anyOf": [{**first, **extra}, *rest]}
        return {**base, **extra}

    return schema


def _model(cls: type, owner: str, seen: dict[Any, Kind]) -> Kind:
    kind = Kind(cls.__name__, lambda components: {}, None, lambda *_: FAILED, flat=False)
    seen[cls] = kind  # a model that refers to itself finds this one
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as exc:
        raise TypeError(f"{owner}: the annotations of {cls.__qualname__} name {exc}") from None
    fields: list[tuple[str, str, Kind, Any]] = []
    if dataclasses.is_dataclass(cls):
        for item in dataclasses.fields(cls):
            if not item.init:
                continue
            default = item.default
            if item.default_factory is not dataclasses.MISSING:
                default = _Factory(item.default_factory)
            annotation = hints[item.name]
            field_kind = kind_of(annotation, owner, seen)
            fields.append((item.name, alias_of(annotation, item.name), field_kind, default))
        build: Callable[..., Any] = cls
    else:
        required = cls.__required_keys__  # type: ignore[attr-defined]
        for name, annotation in hints.items():
            default = _MISSING if name in required else _OMITTED
            # Marked keys say it themselves (__required_keys__ misses marks in string annotations).
            while get_origin(annotation) in (typing.Required, typing.NotRequired):
                default = _MISSING if get_origin(annotation) is typing.Required else _OMITTED
                annotation = get_args(annotation)[0]
            fields.append(
                (name, alias_of(annotation, name), kind_of(annotation, owner, seen), default)
            )
        build = dict
    layout = tuple(fields)
    name = cls.__name__

    def from_json(value: Any, location: str, key: str, errors: Errors) -> Any:
        if type(value) is not dict:
            errors.append(FieldError(location, key or "body", "must be an object", name))
            return FAILED
        return assemble(value, location, key, errors, text=False)

    def from_form(form: Any, errors: Errors) -> Any:
        return assemble(form, "body", "", errors, text=True)

    def assemble(value: Any, location: str, key: str, errors: Errors, text: bool) -> Any:
        values: dict[str, Any] = {}
        failed = False
        for attribute, field_key, field_kind, default in layout:
            given = value.get(field_key, _MISSING)
            if given is _MISSING:
                if default is _MISSING:
                    where = f"{key}.{field_key}" if key else field_key
                    errors.append(FieldError(location, where, "is required", field_kind.name))
                    failed = True
                elif type(default) is _Factory:
                    values[attribute] = default.make()
                elif default is not _OMITTED:
                    values[attribute] = default
            elif text:
                try:
                    values[attribute] = field_kind.from_text(given)  # type: ignore[misc]
                except Invalid as exc:
                    errors.append(FieldError(location, field_key, str(exc), field_kind.name))
                    failed = True
            else:
                where = f"{key}.{field_key}" if key else field_key
                converted = field_kind.from_json(given, location, where, errors)
                if converted is FAILED:
                    failed = True
                else:
                    values[attribute] = converted
        return FAILED if failed else build(**values)

    def schema(components: dict[str, Any]) -> dict[str, Any]:
        if name not in components:
            components[name] = {}  # placed first: a model that refers to itself stops here
            properties = {key: field_kind.schema(components) for _, key, field_kind, _ in layout}
            body: dict[str, Any] = {"type": "object", "properties": properties}
            needed = [key for _, key, _, default in layout if default is _MISSING]
            if needed:
                body["required"] = needed
            if cls.__doc__ and not cls.__doc__.startswith(f"{name}("):  # not dataclass's own
                body["description"] = cls.__doc__.strip()
            components[name] = body
        return {"$ref": f"#/components/schemas/{name}"}

    # PERF: a valid body is read by one generated function (~3x faster); it hands anything
    # in doubt to from_json above, which lists every error.
    slots = [(attribute, field_key, field_kind.test, field_kind, default)
             for attribute, field_key, field_kind, default in layout]  # fmt: skip
    sentinels = {"MISSING": _MISSING, "OMITTED": _OMITTED, "FAILED": FAILED, "Factory": _Factory}
    fast = compiled.model_reader(slots, cls if build is cls else None, from_json, sentinels)
    kind.schema, kind.from_json, kind.fields, kind.from_form = schema, fast, layout, from_form
    kind.flat = all(field_kind.from_text is not None for _, _, field_kind, _ in layout)
    return kind


_OMITTED = object()  # a TypedDict key that may be left out: absent from the dict built


@dataclass(frozen=True, slots=True)
class _Factory:
    """A dataclass field's default_factory: called for each value built."""

    make: Callable[[], Any]
