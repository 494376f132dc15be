"""Routes: `Route`, `Router`, and the decorators an App and a Router share.

A Router declares: its routes, the Routers it includes, and its own hooks and error handlers,
which apply to its routes and to those of the Routers inside it, as Flask's blueprints do. When an
App includes a Router, each route comes out qualified (prefix, endpoint name) with the `Scope` of
the Routers around it, and the Routers are closed to further changes. Every handler, hook and
error handler is checked when it is registered: a function that cannot take what it will be
given is a TypeError naming it and the signature it needs, never a 500 later. Nothing here
compiles or matches a path: `routing.RouteTable` does that, for the App.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .errors import ErrorHandlers

if TYPE_CHECKING:
    from .request import Request
    from .response import Response

Handler = Callable[..., object]
H = TypeVar("H", bound=Callable[..., Any])
BeforeHook = Callable[["Request"], object]
AfterHook = Callable[["Request", "Response"], object]
TeardownHook = Callable[["Request", "BaseException | None"], object]

_VARIABLE = re.compile(r"<(?:[^<>]*:)?(\w+)>")
# (converter, name) of each variable: the converter is "" where the rule names none.
VARIABLE_PARTS = re.compile(r"<(?:([A-Za-z_]\w*)(?:\([^<>]*\))?:)?(\w+)>")
# Return annotations that make_response answers as they are; any other may be a model to serialise.
_PLAIN_RETURNS = ("dict", "list[dict", "list[str", "list[int", "list[Any", "str", "bytes",
                  "Response", "tuple", "Any", "object", "Iterator", "Iterable", "Generator",
                  "ReturnValue", "TemplateResponse", "None", "werkzeug", "wsgilite", "typing",
                  "collections")  # fmt: skip
# RFC 9110's method token: WebDAV's PROPFIND and REPORT are methods too.
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class RouteConflict(ValueError):
    """Two routes claim the same endpoint, or the same paths and method."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What the Routers around a route add to it: hooks and error handlers, in running order."""

    before: tuple[BeforeHook, ...] = ()  # outermost Router first, each in registration order
    after: tuple[AfterHook, ...] = ()  # innermost Router first, each in reverse order
    teardown: tuple[TeardownHook, ...] = ()  # as `after`
    error_handlers: tuple[ErrorHandlers, ...] = ()  # innermost Router first
    names: tuple[str, ...] = ()  # the Routers' names, outermost first (OpenAPI tags)
    #: Whether there is any before, after or teardown hook (App.__call__ reads one flag).
    hooked: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hooked", bool(self.before or self.after or self.teardown))

    def inside(self, outer: Scope) -> Scope:
        """Return this scope nested inside `outer` (whose hooks run around this one's)."""
        return Scope(
            before=outer.before + self.before,
            after=self.after + outer.after,
            teardown=self.teardown + outer.teardown,
            error_handlers=self.error_handlers + outer.error_handlers,
            names=outer.names + self.names,
        )


NO_SCOPE = Scope()


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One registered route: a rule, its methods, the handler, its endpoint name and scope."""

    rule: str
    methods: frozenset[str]
    handler: Handler
    endpoint: str
    csrf: bool = True
    template_folders: tuple[str, ...] = ()
    defaults: Mapping[str, Any] | None = None
    scope: Scope = NO_SCOPE
    # Whatever else the decorator was given (summary, tags, responses...), for later layers.
    options: Mapping[str, Any] = field(default_factory=dict)
    # A typed handler's call (params.Plan.call, with the Plan as its `plan` attribute):
    # call(request, params) converts, checks, calls.
    call: Callable[[Request, dict[str, Any]], object] | None = None

    def moved(
        self, rule: str, endpoint: str, template_folders: tuple[str, ...], scope: Scope
    ) -> Route:
        """Return this route under another rule, endpoint name, folders and scope."""
        # PERF: dataclasses.replace costs twice this; a Router moves every route it includes.
        return Route(
            rule, self.methods, self.handler, endpoint, self.csrf, template_folders,
            self.defaults, scope, self.options, self.call,
        )  # fmt: skip


@dataclass(slots=True)
class Hooks:
    """The hooks and error handlers one App or Router registered, in registration order."""

    before: list[BeforeHook] = field(default_factory=list)
    after: list[AfterHook] = field(default_factory=list)
    teardown: list[TeardownHook] = field(default_factory=list)
    error_handlers: ErrorHandlers = field(default_factory=ErrorHandlers)
    #: Whether a before, after or teardown hook was ever registered (App.__call__ reads one flag).
    hooked: bool = False

    def add(
        self, kind: Literal["before", "after", "teardown"], hook: Callable[..., object]
    ) -> None:
        """Register `hook` as a `kind` hook."""
        getattr(self, kind).append(hook)
        self.hooked = True

    def scope(self, name: str | None) -> Scope:
        """Return these hooks as a Scope, in the order they run."""
        return Scope(
            before=tuple(self.before),
            after=tuple(reversed(self.after)),
            teardown=tuple(reversed(self.teardown)),
            error_handlers=(self.error_handlers,) if self.error_handlers else (),
            names=(name,) if name else (),
        )


class Decorators:
    """The decorators an App and a Router share; each hands what it registers to the holder."""

    csrf: bool = True

    def _declare(self, route: Route) -> None:
        raise NotImplementedError

    def _hooks(self) -> Hooks:
        raise NotImplementedError

    def route(
        self,
        rule: str,
        methods: Iterable[str] | None = None,
        *,
        endpoint: str | None = None,
        csrf: bool | None = None,
        defaults: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Callable[[H], H]:
        """Register the decorated function for `rule` and `methods` (default GET).

        @app.route("/login", methods=["GET", "POST"])
        def login(request): ...
        """
        if not isinstance(rule, str):
            raise TypeError(
                f"route() takes the rule first, not {rule!r}: write @app.route('/path') or "
                "@app.get('/path') with parentheses"
            )
        if isinstance(methods, str):
            raise TypeError(f"methods={methods!r}: give a list, e.g. methods=[{methods!r}]")
        wanted = frozenset(method.upper() for method in (methods or ("GET",)))
        for method in wanted:
            if not _METHOD.fullmatch(method):
                raise ValueError(f"route {rule!r}: {method!r} is not an HTTP method name")

        def decorator(handler: H) -> H:
            call = typed_call(handler, rule, defaults, options)
            if call is None:
                check_handler(handler, rule, defaults)
            self._declare(
                Route(
                    rule=call.plan.rule if call is not None else rule,  # type: ignore[attr-defined]
                    methods=wanted,
                    handler=handler,
                    endpoint=endpoint or handler.__name__,
                    csrf=self.csrf if csrf is None else csrf,
                    defaults=defaults,
                    options=options,
                    call=call,
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

    def before_request(self, hook: H) -> H:
        """Run `hook(request)` before each handler here; a value it returns answers instead.

        @app.before_request
        def require_login(request): ...
        """
        check_callable(hook, "before_request", "(request)", 1)
        self._hooks().add("before", hook)
        return hook

    def after_request(self, hook: H) -> H:
        """Run `hook(request, response)` on each response here; it returns the response to send.

        @app.after_request
        def add_header(request, response): ...
        """
        check_callable(hook, "after_request", "(request, response)", 2)
        self._hooks().add("after", hook)
        return hook

    def teardown_request(self, hook: H) -> H:
        """Run `hook(request, error)` after each request here, even one that failed.

        @app.teardown_request
        def close_db(request, error): ...
        """
        check_callable(hook, "teardown_request", "(request, error)", 2)
        self._hooks().add("teardown", hook)
        return hook

    def errorhandler(self, key: int | type[BaseException]) -> Callable[[H], H]:
        """Answer status `key`, or exceptions of class `key`, with `handler(request, error)`.

        @app.errorhandler(404)
        def not_found(request, error): ...
        """
        if callable(key) and not isinstance(key, type):
            raise TypeError(
                f"errorhandler() needs a status or exception class: write "
                f"@app.errorhandler(404) above {getattr(key, '__qualname__', key)}"
            )
        ErrorHandlers.check(key)

        def decorator(handler: H) -> H:
            check_callable(handler, f"errorhandler({_key_name(key)})", "(request, error)", 2)
            self._hooks().error_handlers.register(key, handler)
            return handler

        return decorator


def _key_name(key: int | type[BaseException]) -> str:
    return str(key) if isinstance(key, int) else key.__name__


class Router(Decorators):
    """A group of routes under a common prefix, with its own hooks: `app.include(router)`."""

    def __init__(
        self,
        prefix: str = "",
        name: str | None = None,
        *,
        csrf: bool = True,
        template_folder: str | None = None,
    ) -> None:
        # As Flask's url_prefix: "/b/", "b" and "/b" are the same prefix.
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        # Endpoints are qualified by the router's name: Router("/api") -> "api.ping".
        self.name = name if name is not None else self.prefix.strip("/").replace("/", ".")
        self.csrf = csrf
        self.template_folder = template_folder
        self.hooks = Hooks()
        self._routes: list[Route] = []
        self._children: list[Router] = []
        self._closed = False

    def _declare(self, route: Route) -> None:
        self._check_open(f"route {route.rule!r}")
        self._routes.append(route)

    def _hooks(self) -> Hooks:
        self._check_open("a hook or error handler")
        return self.hooks

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise RuntimeError(
                f"{what} was added to a Router already included in an app; add every route, "
                "hook and error handler to a Router before app.include(router)"
            )

    def include(self, router: Router) -> None:
        """Mount `router` inside this one: its routes under this prefix, name and hooks."""
        if router is self:
            raise ValueError("a Router cannot include itself")
        self._check_open(f"Router {router.name or router.prefix!r}")
        self._children.append(router)

    def routes(self) -> Iterator[Route]:
        """Yield every route of this router and those it includes, qualified, with their scope."""
        yield from self._qualified(NO_SCOPE, close=False)

    def mount(self) -> Iterator[Route]:
        """Yield `routes()` for an App, and close this router and those inside it to changes."""
        yield from self._qualified(NO_SCOPE, close=True)

    def _qualified(self, outer: Scope, close: bool) -> Iterator[Route]:
        if close:
            self._closed = True
        scope = self.hooks.scope(self.name).inside(outer)
        for route in self._routes:
            yield self._prefixed(route, scope)
        for child in self._children:
            for route in child._qualified(scope, close):
                yield self._prefixed(route, route.scope)

    def _prefixed(self, route: Route, scope: Scope) -> Route:
        # Under this router's prefix and name, with its template folder searched too.
        folders = route.template_folders
        if self.template_folder:
            folders = (self.template_folder, *folders)
        return route.moved(
            rule=join_rule(self.prefix, route.rule),
            endpoint=f"{self.name}.{route.endpoint}" if self.name else route.endpoint,
            template_folders=folders,
            scope=scope,
        )


def join_rule(prefix: str, rule: str) -> str:
    """Return `rule` under `prefix`, as Flask joins a blueprint's url_prefix and its rules."""
    if not prefix:
        return rule
    return prefix + "/" + rule.lstrip("/") if rule else prefix


# -- Checked at registration ----------------------------------------------------------------------


def _signature(function: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # a builtin or C function: nothing to check
        return None


def _name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{qualname}" if module else qualname


def _plain_function_takes(function: object, variables: list[str]) -> bool:
    # PERF: inspect.signature costs ~20 µs a handler (0.1 s for 4,000 routes); a plain function
    # whose code shows it takes (request, *variables) is accepted from its code object alone.
    # Anything else (defaults, keyword-only, *args, decorators' wrappers) goes to inspect.
    code = getattr(function, "__code__", None)
    if code is None or getattr(function, "__wrapped__", None) is not None:
        return False
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        return False
    names = code.co_varnames[: code.co_argcount]
    return (
        not code.co_posonlyargcount
        and not getattr(function, "__defaults__", None)
        and len(names) == 1 + len(variables)
        and set(names[1:]) == set(variables)
    )


def check_callable(function: object, what: str, expected: str, count: int) -> None:
    """Raise TypeError unless `function` can be called with `count` positional arguments."""
    if not callable(function):
        raise TypeError(f"{what} needs a function {expected}, not {function!r}")
    signature = _signature(function)
    if signature is None:
        return
    try:
        signature.bind(*range(count))
    except TypeError:
        raise TypeError(
            f"{what}: {_name(function)}{signature} cannot be called with {expected}; "
            f"write it as def {getattr(function, '__name__', 'hook')}{expected}: ..."
        ) from None


def check_handler(handler: object, rule: str, defaults: Mapping[str, Any] | None) -> None:
    """Raise TypeError unless `handler` can be called as `handler(request, **rule_variables)`."""
    if not callable(handler):
        raise TypeError(f"route {rule!r} needs a function, not {handler!r}")
    variables = [*_VARIABLE.findall(rule), *(defaults or ())]
    if "request" in variables:
        raise ValueError(
            f"route rule {rule!r} names a variable 'request', which is the handler's first "
            "argument; give the variable another name"
        )
    if _plain_function_takes(handler, variables):
        return
    signature = _signature(handler)
    if signature is None:
        return
    try:
        signature.bind(None, **dict.fromkeys(variables))
    except TypeError as exc:
        name = getattr(handler, "__name__", "handler")
        expected = ", ".join(["request", *dict.fromkeys(variables)])
        raise TypeError(
            f"{_name(handler)}{signature} cannot be called as {name}({expected}) for route "
            f"{rule!r} ({exc}); a handler takes the request first, then the rule's variables: "
            f"def {name}({expected}): ..."
        ) from None


def typed_call(
    handler: object, rule: str, defaults: Mapping[str, Any] | None, options: Mapping[str, Any]
) -> Callable[[Request, dict[str, Any]], object] | None:
    """Return the call plan of a typed handler (params.py), or None for a plain handler."""
    if not callable(handler):
        return None  # check_handler names the mistake
    variables = [*_VARIABLE.findall(rule), *(defaults or ())]
    if "status_code" not in options and not _maybe_typed(handler, rule, variables):
        return None
    # Imported here: an app of plain handlers never loads params.py.
    from .params import plan

    typed = plan(handler, rule, variables, options)
    return None if typed is None else typed.call


def _maybe_typed(handler: object, rule: str, variables: list[str]) -> bool:
    # Cheap tests on the code object and the annotations' text; params.plan decides for sure.
    code = getattr(handler, "__code__", None)
    if getattr(handler, "__wrapped__", None) is not None or code is None:
        signature = _signature(handler)  # type: ignore[arg-type]
        if signature is None:
            return False
        names = [p.name for p in signature.parameters.values()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
    else:
        names = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    if set(names[1:]) - set(variables):
        return True
    annotations = getattr(handler, "__annotations__", None) or {}
    if not annotations:
        return False
    unconverted = {name for converter, name in VARIABLE_PARTS.findall(rule) if not converter}
    for name, annotation in annotations.items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "?")
        if name == "return":
            if not text.startswith(_PLAIN_RETURNS):
                return True
        elif (name in unconverted and text != "str") or "Annotated" in text:
            return True
    return False
