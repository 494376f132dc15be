"""Typed handlers: a handler's signature read once, at registration, into a call plan.

`plan(handler, rule)` reads the annotations of the parameters after `request` and builds a `Plan`:
for each parameter, where its value comes from (path, query, header, cookie, or the body), how a
text becomes that type, and which constraints it must meet. Per request, the plan converts every
value, collects every failure, and raises `ValidationFailed` (422, RFC 9457 problem JSON) listing
them all, or calls the handler. A return annotation that is a dataclass, TypedDict or a `list[...]`
of one is serialised by the plan. Types are converted by kinds.py, the engine, on the standard
library (benchmarks/README.md says why), from the markers of markers.py; a valid request is read
by the functions compiled.py generates. routes.py imports this module only for a handler that
needs it; the App, the router and plain handlers never see it.
"""

from __future__ import annotations

import dataclasses
import re
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args, get_origin

from werkzeug.exceptions import BadRequest, UnprocessableEntity

from . import compiled
from .bodies import SafeJSON
from .jsonbody import json_bytes
from .kinds import FAILED, Errors, Kind, kind_of
from .markers import (
    Body,
    Cookie,
    Field,
    FieldError,
    Form,
    Header,
    Invalid,
    Path,
    Query,
    is_model,
    is_optional,
    mark_of,
    strip_annotated,
)
from .response import JSON_TYPE, Response

if TYPE_CHECKING:
    from .request import Request

__all__ = ["Body", "Cookie", "Field", "FieldError", "Form", "Header", "Path", "Plan", "Query",
           "ValidationFailed", "plan"]  # fmt: skip

PROBLEM_TYPE = "application/problem+json"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class ValidationFailed(UnprocessableEntity):
    """422: the request's values do not match the handler's signature; `errors` lists them all."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        count = len(errors)
        detail = f"{count} value{'s' if count != 1 else ''} failed validation"
        body = {
            "type": "about:blank",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": detail,
            "errors": [error.as_dict() for error in errors],
        }
        super().__init__(
            detail, response=Response(json_bytes(body), 422, content_type=PROBLEM_TYPE)
        )


# -- The plan ------------------------------------------------------------------------------------

# The werkzeug converter an annotation picks for a rule variable that names none.
_PATH_CONVERTERS: dict[Any, str] = {int: "int", float: "float", uuid.UUID: "uuid"}


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of a typed handler: its name, where it comes from, and its kind."""

    name: str  # the handler's argument
    key: str  # the name in the request (an alias, or a header's spelling)
    location: str  # path, query, header, cookie, body
    kind: Kind
    required: bool
    default: Any
    many: bool = False  # a list from the query string or headers
    form: bool = False  # a body read from a form only
    description: str | None = None


class Plan:
    """How to call one typed handler: read, convert and check its values, then serialise."""

    def __init__(
        self,
        handler: Callable[..., object],
        rule: str,
        parameters: list[Parameter],
        returns: Kind | None,
        status: int | None,
        passthrough: tuple[str, ...] = (),
        model: type | None = None,
    ) -> None:
        self.handler = handler
        self.rule = rule  # with the converters the annotations picked
        self.parameters = parameters
        self.returns = returns
        self.status = status
        bodies = [p for p in parameters if p.location == "body"]
        self.body = bodies[0] if bodies else None
        # PERF: one reader per parameter, chosen now for its location, so a request runs no
        # branch on where a value comes from.
        self._readers = [(p.name, _reader(p)) for p in parameters]
        self._plain_result = returns is None and status is None
        self._passthrough = passthrough  # rule variables a handler's **params takes as they are
        self._model = model  # the dataclass the handler returns, if that is what it returns
        #: What the route calls: `call(request, params)`, generated for this handler; it has
        #: this plan as its `plan` attribute.
        self.call = self._compile()

    def __call__(self, request: Request, params: dict[str, Any]) -> object:
        """Call the handler with the request's values converted, or raise ValidationFailed."""
        return self.call(request, params)

    def checked_call(self, request: Request, params: dict[str, Any]) -> object:
        """Call the handler with every value checked, or raise ValidationFailed listing all."""
        errors: Errors = []
        values = {name: read(request, params, errors) for name, read in self._readers}
        if errors:
            raise ValidationFailed(errors)
        for name in self._passthrough:
            values[name] = params[name]
        result = self.handler(request, **values)
        return result if self._plain_result else self._respond(result)

    def _compile(self) -> Callable[[Request, dict[str, Any]], object]:
        # PERF: one generated function reads every value of a valid request with no reader call
        # each, then calls the handler by keyword; at the first doubt it calls checked_call,
        # which reads everything again and lists every error (a valid request never gets there).
        slow = "return checked_call(request, params)"

        def read(index: int, var: str, indent: str) -> list[str]:
            # The parameter's own reader; any error it finds sends everything to checked_call.
            names[f"read{index}"] = self._readers[index][1]
            return [f"{indent}errors = []", f"{indent}{var} = read{index}(request, params, errors)",
                    f"{indent}if errors:", f"{indent}    {slow}"]  # fmt: skip

        names: dict[str, Any] = {"checked_call": self.checked_call, "handler": self.handler,
                                 "Invalid": Invalid, "FAILED": FAILED, "JSON_TYPE": JSON_TYPE,
                                 "loads": SafeJSON.loads, "respond": self._respond}  # fmt: skip
        lines = ["def call(request, params):"]
        if any(p.location == "query" for p in self.parameters):
            lines.append("    args = request.args")
        arguments = []
        for index, p in enumerate(self.parameters):
            var = f"v{index}"
            arguments.append(f"{p.name}={var}")
            names[f"p{index}"], names[f"kind{index}"] = p, p.kind
            if p.location in ("query", "header") and not p.many and p.kind.from_text is not None:
                names[f"text{index}"] = p.kind.from_text
                source = f"args.get({p.key!r})"
                if p.location == "header":  # as EnvironHeaders finds it, without making one
                    name = p.key.upper().replace("-", "_")
                    if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                        name = f"HTTP_{name}"
                    source = f"request.environ.get({name!r})"
                lines += [f"    {var} = {source}", f"    if {var} is None:",
                          f"        {slow}" if p.required else
                          f"        {var} = default(p{index}, None)",
                          "    else:", f"        try:\n            {var} = text{index}({var})",
                          f"        except Invalid:\n            {slow}"]  # fmt: skip
            elif p.location == "path" and p.kind.test is not None:
                # werkzeug's converter made the value (an int); else the reader converts it.
                names.update(p.kind.test[1])
                lines += [f"    {var} = params[{p.name!r}]",
                          f"    if not ({compiled.inline(p.kind.test, var)}):",
                          *read(index, var, "        ")]  # fmt: skip
            elif p.location == "body" and not p.form:
                # PERF: the exact type read from the environ (no property call), else parsed.
                lines += ["    if (request.environ.get('CONTENT_TYPE') != JSON_TYPE",
                          "            and request.mimetype != JSON_TYPE):", f"        {slow}",
                          "    data = request.get_data()", "    if not data:", f"        {slow}",
                          f"    try:\n        {var} = loads(data)",
                          f"    except ValueError:\n        {slow}"]  # fmt: skip
                convert = [f"{var} = kind{index}.from_json({var}, 'body', '', [])",
                           f"if {var} is FAILED:\n    {slow}"]  # fmt: skip
                if p.kind.test is not None:  # valid as it is, else converted (or a model)
                    names.update(p.kind.test[1])
                    lines.append(f"    if not ({compiled.inline(p.kind.test, var)}):")
                    lines += ["        " + line.replace("\n", "\n        ") for line in convert]
                else:
                    lines += ["    " + line.replace("\n", "\n    ") for line in convert]
            else:  # anything else: its own reader
                lines += read(index, var, "    ")
        arguments += [f"{name}=params[{name!r}]" for name in self._passthrough]
        lines.append(f"    result = handler(request, {', '.join(arguments)})")
        if self._model is not None and (self.status is None or isinstance(self.status, int)):
            # PERF: the dataclass it returns as a dict, which make_response encodes directly.
            names["model"] = self._model
            attributes = [item.name for item in dataclasses.fields(self._model)]
            fields = ", ".join(f"{name!r}: result.{name}" for name in attributes)
            names["status"] = None if self.status is None else int(self.status)  # HTTPStatus too
            made = f"{{{fields}}}" if self.status is None else f"({{{fields}}}, status)"
            lines.append(f"    if type(result) is model:\n        return {made}")
        lines.append("    return result" if self._plain_result else "    return respond(result)")
        names["default"] = _default
        call = compiled.function("call", lines, names)
        call.plan = self  # type: ignore[attr-defined]
        return call

    def _respond(self, result: object) -> object:
        if self.returns is not None and not isinstance(result, Response):
            # A model or a list of them: dataclasses, dates and UUIDs become JSON here.
            if type(result) is tuple and result and not isinstance(result[0], Response):
                body = Response(json_bytes(result[0]), self.status, content_type=JSON_TYPE)
                return (body, *result[1:])  # (model, status, headers) or (model, headers)
            return Response(json_bytes(result), self.status, content_type=JSON_TYPE)
        if self.status is not None and type(result) in (dict, list, str):
            return result, self.status
        return result


def _read_text(parameter: Parameter, text: str, errors: Errors) -> Any:
    try:
        return parameter.kind.from_text(text)  # type: ignore[misc]
    except Invalid as exc:
        errors.append(FieldError(parameter.location, parameter.key, str(exc), parameter.kind.name))
        return None


Reader = Callable[["Request", dict[str, Any], Errors], Any]


def _reader(parameter: Parameter) -> Reader:
    location, key, name = parameter.location, parameter.key, parameter.name
    if location == "body":
        return lambda request, params, errors: _read_body(parameter, request, errors)
    if location == "path":

        def read_path(request: Request, params: dict[str, Any], errors: Errors) -> Any:
            value = params[name]
            if type(value) is str and parameter.kind.from_text is not None:
                return _read_text(parameter, value, errors)
            if type(value) is int or type(value) is float:  # werkzeug's converter; checks
                return parameter.kind.from_json(value, "path", key, errors)
            return value

        return read_path
    from_text = parameter.kind.from_text
    if location != "query" or parameter.many or from_text is None:
        return lambda request, params, errors: _read_other(parameter, request, errors)

    def read_query(request: Request, params: dict[str, Any], errors: Errors) -> Any:
        text = request.args.get(key)
        if text is None:
            return _default(parameter, errors)
        try:
            return from_text(text)
        except Invalid as exc:
            errors.append(FieldError("query", key, str(exc), parameter.kind.name))
            return None

    return read_query


def _read_other(parameter: Parameter, request: Request, errors: Errors) -> Any:
    location = parameter.location
    if location == "query":
        source: Any = request.args
    elif location == "header":
        source = request.headers
    else:
        source = request.cookies
    if parameter.many:
        texts = source.getlist(parameter.key)
        if not texts:
            return _default(parameter, errors)
        return [_read_text(parameter, text, errors) for text in texts]
    text = source.get(parameter.key)
    if text is None:
        return _default(parameter, errors)
    return _read_text(parameter, text, errors)


def _default(parameter: Parameter, errors: Errors) -> Any:
    if parameter.required:
        errors.append(FieldError(parameter.location, parameter.key, "is required",
                                 parameter.kind.name))  # fmt: skip
        return None
    default = parameter.default
    return list(default) if type(default) is list else default


def _read_body(parameter: Parameter, request: Request, errors: Errors) -> Any:
    kind = parameter.kind
    mimetype = request.mimetype
    if mimetype in _FORM_TYPES and kind.flat and kind.from_form is not None:
        result = kind.from_form(request.form, errors)
        return None if result is FAILED else result
    if parameter.form:
        errors.append(FieldError("body", "body", f"must be a form, not {mimetype or 'empty'}",
                                 kind.name))  # fmt: skip
        return None
    data = request.get_data()
    if not data:
        if parameter.required:
            errors.append(FieldError("body", "body", "is required", kind.name))
        return parameter.default if not parameter.required else None
    if mimetype and mimetype != JSON_TYPE and not mimetype.endswith("+json"):
        errors.append(FieldError("body", "body", f"must be application/json, not {mimetype}",
                                 kind.name))  # fmt: skip
        return None
    try:
        value = SafeJSON.loads(data)  # NaN and Infinity are not JSON: refused
    except ValueError as exc:
        # Not a value that failed a check, but no value at all: 400, as request.get_json says.
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    return _checked_body(kind, value, errors)


def _checked_body(kind: Kind, value: Any, errors: Errors) -> Any:
    result = kind.from_json(value, "body", "", errors)
    return None if result is FAILED else result


def plan(
    handler: Callable[..., object], rule: str, variables: list[str], options: Mapping[str, Any]
) -> Plan | None:
    """Return the call plan of a typed `handler` for `rule`, or None if it needs none."""
    import inspect

    from .routes import VARIABLE_PARTS

    owner = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
    try:
        hints = typing.get_type_hints(handler, include_extras=True)
    except NameError as exc:
        raise TypeError(
            f"{owner}: an annotation names {exc}; define it at module level, before the handler"
        ) from None
    signature = inspect.signature(handler)
    converters = {name: converter for converter, name in VARIABLE_PARTS.findall(rule)}
    converters.update({name: "default" for name in variables if name not in converters})
    missing = [name for name in converters if name not in signature.parameters]
    if missing and not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        raise TypeError(
            f"{owner}{signature} does not take {', '.join(missing)} of route {rule!r}; a handler "
            "takes the request first, then the rule's variables, then its typed parameters"
        )
    seen: dict[Any, Kind] = {}
    parameters: list[Parameter] = []
    new_rule = rule
    for position, (name, parameter) in enumerate(signature.parameters.items()):
        if position == 0 or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(name, str if name in converters else Any)
        mark = mark_of(annotation)
        default = parameter.default
        required = default is parameter.empty
        if required and is_optional(annotation):
            required, default = False, None
        base = strip_annotated(annotation)
        if name in converters:
            if not converters[name] and base in _PATH_CONVERTERS:
                new_rule = re.sub(f"<{name}>", f"<{_PATH_CONVERTERS[base]}:{name}>", new_rule)
            kind = kind_of(annotation, owner, seen)
            parameters.append(
                Parameter(
                    name,
                    name,
                    "path",
                    kind,
                    True,
                    None,
                    description=mark.description if mark else None,
                )
            )
            continue
        location = mark.location if mark and mark.location else ""
        if not location:
            location = "body" if is_model(annotation) else "query"
        kind = kind_of(annotation, owner, seen)
        many = get_origin(base) is list
        if location != "body" and kind.from_text is None:
            raise TypeError(
                f"{owner}: parameter {name!r} of type {base!r} cannot come from the "
                f"{location}; annotate it Annotated[..., Body()] to read the body"
            )
        key = mark.alias if mark and mark.alias else name
        if location == "header" and not (mark and mark.alias):
            key = name.replace("_", "-")
        parameters.append(Parameter(
            name, key, location, kind, required, None if required else default, many,
            form=isinstance(mark, Form), description=mark.description if mark else None,
        ))  # fmt: skip
    if sum(1 for p in parameters if p.location == "body") > 1:
        raise TypeError(f"{owner}: only one parameter can be the body; make one model of them")
    returned = hints.get("return")
    if get_origin(returned) is tuple and get_args(returned):
        returned = get_args(returned)[0]  # (model, status, headers): the model is the body
    returns = (
        kind_of(returned, owner, seen) if returned is not None and is_model(returned) else None
    )
    status = options.get("status_code")
    if not parameters and returns is None and status is None and new_rule == rule:
        return None
    model = strip_annotated(returned)
    if not (isinstance(model, type) and dataclasses.is_dataclass(model)):
        model = None
    return Plan(handler, new_rule, parameters, returns, status, tuple(missing), model)
