"""Markers: where a typed handler's value comes from, what it must satisfy, how a failure is told.

`Annotated[int, Query(ge=1)]` marks a parameter (`Query`, `Path`, `Header`, `Cookie`, `Body`,
`Form`) or a model's field (`Field`) with its source and constraints; `FieldError` is one failing
value as the 422 problem lists it. The helpers read annotations: the mark, the bare type, whether
it is a model or optional. Nothing here converts a value: kinds.py does, from these.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

# -- Markers: where a value comes from, and what it must satisfy ----------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """Constraints on a value: `Annotated[int, Field(ge=1)]`; inside a model as well."""

    alias: str | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    description: str | None = None

    location: typing.ClassVar[str] = ""


class Query(Field):
    """A query-string parameter: `Annotated[int, Query(ge=1, le=100)]`."""

    location = "query"


class Path(Field):
    """A path variable, with constraints."""

    location = "path"


class Header(Field):
    """A request header; the name is the parameter's, `_` as `-`: `user_agent` is User-Agent."""

    location = "header"


class Cookie(Field):
    """A cookie, by the parameter's name (or `alias`)."""

    location = "cookie"


class Body(Field):
    """The JSON body (any type; a dataclass or TypedDict parameter is the body without it)."""

    location = "body"


class Form(Field):
    """The body as a form (urlencoded or multipart), for a flat dataclass or TypedDict."""

    location = "body"


# -- Failures --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    """One failing value: where it was, its name, what is wrong, and the type it must have."""

    location: str
    name: str
    message: str
    type: str

    def as_dict(self) -> dict[str, str]:
        """Return this error as it appears in the problem body."""
        return {"location": self.location, "name": self.name, "message": self.message,
                "type": self.type}  # fmt: skip


class Invalid(Exception):
    """A scalar value that failed: the message for its FieldError."""


# -- Annotations ---------------------------------------------------------------------------------


def alias_of(annotation: Any, name: str) -> str:
    """Return the name a model field has in JSON and forms: its Field's alias, else `name`."""
    if get_origin(annotation) is Annotated:
        for extra in get_args(annotation)[1:]:
            if isinstance(extra, Field) and extra.alias:
                return extra.alias
    return name


def mark_of(annotation: Any) -> Field | None:
    """Return the Field-style marker inside `Annotated[...]`, if any."""
    if get_origin(annotation) is Annotated:
        for extra in get_args(annotation)[1:]:
            if isinstance(extra, Field):
                return extra
    return None


def strip_annotated(annotation: Any) -> Any:
    """Return the type inside any `Annotated[...]` layers."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def is_model(annotation: Any) -> bool:
    """Return whether `annotation` is a dataclass or TypedDict, or a list of one."""
    annotation = strip_annotated(annotation)
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return bool(args) and is_model(args[0])
    return isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or typing.is_typeddict(annotation)
    )


def is_optional(annotation: Any) -> bool:
    """Return whether `annotation` is `X | None`."""
    annotation = strip_annotated(annotation)
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)
