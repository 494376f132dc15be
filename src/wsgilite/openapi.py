"""OpenAPI 3.1: the document of an app's routes, and the routes that serve it with a docs page.

`document(routes)` describes each route: its path (werkzeug's `<int:id>` as `{id}`), methods,
parameters, request body and responses, from the call plan params.py built for a typed handler,
or from the rule alone for a plain one; tags from the Routers around it, summary and description
from the docstring, extra answers from the decorator's `responses=`. `mount(app)` adds
`/openapi.json` and `/docs`, an interactive page shipped in this package (no CDN, works offline).
Only `App.openapi` and `App.mount_docs` import this module; it knows routes, never the request path.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

from .jsonbody import json_bytes
from .kinds import Kind, kind_of
from .markers import is_model
from .params import PROBLEM_TYPE, Plan
from .response import HTML_UTF8, JSON_TYPE, Response
from .routes import VARIABLE_PARTS

if TYPE_CHECKING:
    from .request import Request
    from .routes import Route

OPENAPI_VERSION = "3.1.0"
_SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})

# The schema of a werkzeug converter's value, for a rule variable of a plain handler.
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "": {"type": "string", "pattern": "^[^/]+$"},
    "default": {"type": "string", "pattern": "^[^/]+$"},
    "string": {"type": "string", "pattern": "^[^/]+$"},
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
    "any": {"type": "string"},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details: every value that failed validation.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "enum": ["path", "query", "header", "cookie", "body"],
                    },
                    "name": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["location", "name", "message", "type"],
            },
        },
    },
    "required": ["title", "status", "errors"],
}


def openapi_path(rule: str) -> str:
    """Return a werkzeug rule as an OpenAPI path: `/users/<int:user_id>` is `/users/{user_id}`."""
    return VARIABLE_PARTS.sub(lambda match: "{" + match.group(2) + "}", rule)


def document(
    routes: Iterable[Route], *, title: str = "API", version: str = "0.1.0", description: str = ""
) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of `routes`."""
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for route in routes:
        if route.options.get("openapi", True) is False:
            continue
        operations = paths.setdefault(openapi_path(route.rule), {})
        for method in sorted(route.methods - _SKIPPED_METHODS):
            operation = _operation(route, method, components)
            for tag in operation.get("tags", ()):
                if tag not in tags:
                    tags.append(tag)
            operations[method.lower()] = operation
    components["ValidationProblem"] = PROBLEM_SCHEMA
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    result: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": {path: operations for path, operations in paths.items() if operations},
        "components": {"schemas": dict(sorted(components.items()))},
    }
    if tags:
        result["tags"] = [{"name": tag} for tag in tags]
    return result


def _operation(route: Route, method: str, components: dict[str, Any]) -> dict[str, Any]:
    options = route.options
    operation: dict[str, Any] = {"operationId": _operation_id(route, method)}
    tags = list(options.get("tags") or route.scope.names[-1:])
    if tags:
        operation["tags"] = tags
    summary, description = _docstring(route.handler)
    if options.get("summary") or summary:
        operation["summary"] = options.get("summary") or summary
    if options.get("description") or description:
        operation["description"] = options.get("description") or description
    plan: Plan | None = getattr(route.call, "plan", None)
    parameters = _parameters(route, plan, components)
    if parameters:
        operation["parameters"] = parameters
    if plan is not None and plan.body is not None:
        operation["requestBody"] = _request_body(plan, components)
    operation["responses"] = _responses(route, plan, components)
    return operation


def _operation_id(route: Route, method: str) -> str:
    if len(route.methods - _SKIPPED_METHODS) > 1:
        return f"{route.endpoint}_{method.lower()}"
    return route.endpoint


def _docstring(handler: object) -> tuple[str, str]:
    text = inspect.getdoc(handler) or ""
    summary, _, rest = text.partition("\n")
    return summary.strip(), rest.strip()


def _parameters(route: Route, plan: Plan | None, components: dict[str, Any]) -> list[Any]:
    typed = {p.name: p for p in plan.parameters} if plan is not None else {}
    parameters: list[dict[str, Any]] = []
    for converter, name in VARIABLE_PARTS.findall(route.rule):
        schema = dict(_CONVERTER_SCHEMAS.get(converter, {"type": "string"}))
        if name in typed:
            declared = typed[name].kind.schema(components)
            if converter in ("", "default", "string") and declared.get("type") == "string":
                declared = {**declared, "pattern": declared.get("pattern", "^[^/]+$")}
            schema = {**declared, **_path_bounds(converter, declared)}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    for parameter in typed.values():
        if parameter.location in ("path", "body"):
            continue
        entry: dict[str, Any] = {
            "name": parameter.key,
            "in": parameter.location,
            "required": parameter.required,
            "schema": _with_default(parameter.kind, parameter.default, components),
        }
        if parameter.description:
            entry["description"] = parameter.description
        if parameter.many:
            entry["explode"] = True
            entry["style"] = "form"
        parameters.append(entry)
    return parameters


def _path_bounds(converter: str, declared: dict[str, Any]) -> dict[str, Any]:
    # werkzeug's int and float converters take no sign: the smallest value is 0.
    if converter in ("int", "float") and declared.get("minimum", -1) < 0:
        return {"minimum": 0}
    return {}


def _with_default(kind: Kind, default: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = kind.schema(components)
    if "anyOf" in schema and schema["anyOf"][1:] == [{"type": "null"}]:
        schema = schema["anyOf"][0]  # a query value is left out, never null
    if default is not None and type(default) in (int, float, str, bool):
        schema = {**schema, "default": default}
    return schema


def _request_body(plan: Plan, components: dict[str, Any]) -> dict[str, Any]:
    body = plan.body
    assert body is not None
    schema = body.kind.schema(components)
    content: dict[str, Any] = {}
    if not body.form:
        content[JSON_TYPE] = {"schema": schema}
    if body.kind.from_form is not None and body.kind.flat:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"required": body.required, "content": content}


def _responses(route: Route, plan: Plan | None, components: dict[str, Any]) -> dict[str, Any]:
    status = str(route.options.get("status_code") or 200)
    success: dict[str, Any] = {"description": "Success"}
    if plan is not None and plan.returns is not None:
        success["content"] = {JSON_TYPE: {"schema": plan.returns.schema(components)}}
    responses: dict[str, Any] = {status: success}
    if plan is not None and plan.parameters:
        responses["422"] = {
            "description": "A value failed validation",
            "content": {
                PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
            },
        }
    for code, declared in (route.options.get("responses") or {}).items():
        responses[str(code)] = _declared_response(declared, components)
    return responses


def _declared_response(declared: Any, components: dict[str, Any]) -> dict[str, Any]:
    # responses={404: "No such book"}, {404: ErrorModel}, or an OpenAPI response object.
    if isinstance(declared, str):
        return {"description": declared}
    if is_model(declared):
        kind = kind_of(declared, "responses=", {})
        return {
            "description": getattr(declared, "__name__", "Response"),
            "content": {JSON_TYPE: {"schema": kind.schema(components)}},
        }
    if isinstance(declared, dict):
        return {"description": "", **declared}
    raise TypeError(
        f"responses=: give a description, a model or a response object, not {declared!r}"
    )


# -- Serving the document and the docs page -------------------------------------------------------


def docs_page(openapi_url: str, title: str, root: str = "") -> bytes:
    """Return the interactive docs page for an app mounted at `root`, reading `openapi_url`."""
    import html
    import json

    template = resources.files(__package__).joinpath("docs.html").read_text("utf-8")

    def script_value(value: str) -> str:
        return json.dumps(value).replace("<", "\\u003c")

    return (
        template.replace("{{ title }}", html.escape(title))
        .replace("{{ openapi_url_json }}", script_value(root + openapi_url))
        .replace("{{ root_json }}", script_value(root))
        .encode()
    )


def mount(
    app: Any, *, openapi_url: str = "/openapi.json", docs_url: str | None = "/docs", **info: Any
) -> None:
    """Add `openapi_url` (the document, built on first request) and `docs_url` to `app`."""
    cache: list[bytes] = []

    def openapi_json(request: Request) -> Response:
        if not cache:
            cache.append(json_bytes(app.openapi(**info)))
        return Response(cache[0], content_type=JSON_TYPE)

    app.get(openapi_url, endpoint="openapi_json", openapi=False)(openapi_json)
    if docs_url is not None:
        pages: dict[str, bytes] = {}  # by the mount point (SCRIPT_NAME) of the request

        def docs(request: Request) -> Response:
            root = request.root_path
            page = pages.get(root)
            if page is None:
                page = docs_page(openapi_url, info.get("title", "API"), root)
                if len(pages) < 16:
                    pages[root] = page
            return Response(page, content_type=HTML_UTF8)

        app.get(docs_url, endpoint="openapi_docs", openapi=False)(docs)
