"""Compiled readers (compiled.py): the generated fast path gives exactly what the full checks give.

Every model gets a generated reader that takes a valid value in one function and hands anything in
doubt to the field-by-field checks; every typed handler gets a generated call. These tests build
each model twice, with and without its generated reader, and feed both the same values (valid,
nearly valid and wrong, drawn by hypothesis): the results and the listed errors must be the same.
"""

from __future__ import annotations

import datetime
import enum
import functools
import json
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from wsgilite import App, Request, compiled, kinds
from wsgilite.markers import FieldError
from wsgilite.params import Field, Header, Query


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


@dataclass
class Tag:
    label: Annotated[str, Field(min_length=1, max_length=5, pattern=r"^[a-z]+$")]
    weight: float = 1.0


@dataclass
class Order:
    name: Annotated[str, Field(min_length=1, max_length=10)]
    count: Annotated[int, Field(ge=1, le=100)]
    ratio: Annotated[float, Field(gt=0, lt=1)] = 0.5
    paid: bool = False
    note: str | None = None
    limit: Annotated[int | None, Field(ge=0)] = None
    size: Size = Size.SMALL
    kind: Literal["a", "b"] = "a"
    when: datetime.date | None = None
    tags: list[Tag] = field(default_factory=list)
    scores: dict[str, int] = field(default_factory=dict)
    labels: Annotated[list[str], Field(max_length=3)] = field(default_factory=list)
    extra: Any = None
    alias: Annotated[int, Field(alias="other-name")] = 0


class Point(TypedDict):
    x: int
    y: NotRequired[int]
    tag: NotRequired[Tag]


@dataclass
class Tree:
    value: int
    children: list[Tree] = field(default_factory=list)


MODELS = [Order, Point, Tree, Tag]


@functools.cache
def both(model: type) -> tuple[kinds.Kind, kinds.Kind]:
    """Return `model`'s Kind with its generated reader, and one with the full checks only."""
    fast = kinds.kind_of(model, "test", {})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiled, "model_reader", lambda slots, build, slow, sentinels: slow)
        full = kinds.kind_of(model, "test", {})
    return fast, full


SCALARS = st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=12)
JSON = st.recursive(
    SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)
TEXT = st.sampled_from(["", "a", "ab", "abcdef", "ABC", "x1", "hello world", "2024-02-29"])
NEARLY = {
    "name": TEXT | JSON,
    "count": st.integers(-2, 102) | st.floats(0, 101) | st.booleans() | TEXT,
    "ratio": st.floats(-0.5, 1.5) | st.integers(-1, 2) | TEXT,
    "paid": st.booleans() | st.integers(0, 1),
    "note": st.none() | TEXT | st.integers(),
    "limit": st.none() | st.integers(-2, 5) | st.floats(-1, 3),
    "size": st.sampled_from(["s", "l", "m", 1]),
    "kind": st.sampled_from(["a", "b", "c", None]),
    "when": st.sampled_from(["2024-02-29", "2023-02-29", "2024-1-1", None, 5]),
    "scores": st.dictionaries(TEXT, st.integers() | TEXT, max_size=3) | JSON,
    "labels": st.lists(TEXT, max_size=5) | JSON,
    "extra": JSON,
    "other-name": st.integers() | TEXT,
    "x": st.integers() | TEXT | st.booleans(),
    "y": st.integers() | st.floats(-2, 2),
    "value": st.integers() | st.floats(-2, 2) | TEXT,
    "label": TEXT | st.integers(),
    "weight": st.floats(-1, 1) | st.integers(-1, 1) | TEXT,
}
TAG = st.fixed_dictionaries({"label": NEARLY["label"]}, optional={"weight": NEARLY["weight"]})
NEARLY["tags"] = st.lists(TAG | JSON, max_size=3) | JSON
NEARLY["tag"] = TAG | JSON
NEARLY["children"] = st.lists(st.fixed_dictionaries({"value": NEARLY["value"]}), max_size=3)
BODIES = (
    st.dictionaries(st.sampled_from(sorted(NEARLY)), st.none(), max_size=18).flatmap(
        lambda keys: st.fixed_dictionaries({key: NEARLY[key] for key in keys})
    )
    | JSON
)


def read(kind: kinds.Kind, value: Any) -> tuple[Any, list[FieldError]]:
    errors: list[FieldError] = []
    return kind.from_json(value, "body", "", errors), errors


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@settings(max_examples=400, deadline=None)
@given(value=BODIES)
def test_a_generated_reader_gives_what_the_full_checks_give(model: type, value: Any) -> None:
    fast, full = both(model)
    assert read(fast, value) == read(full, value)


@pytest.mark.parametrize(
    ("model", "value"),
    [
        (Order, {"name": "pen", "count": 3}),
        (Order, {"name": "pen", "count": 3, "tags": [{"label": "ab", "weight": 2}], "size": "l",
                 "scores": {"a": 1}, "labels": ["x"], "when": "2024-02-29", "other-name": 4}),
        (Point, {"x": 1}),
        (Point, {"x": 1, "y": 2, "tag": {"label": "a"}}),
        (Tree, {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}),
    ],
)  # fmt: skip
def test_valid_bodies_are_read(model: type, value: Any) -> None:
    fast, full = both(model)
    result, errors = read(fast, value)
    assert errors == [] and result is not kinds.FAILED
    assert result == read(full, value)[0]


def test_a_default_factory_makes_a_new_value_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _ = both(Order)
    first, _ = read(fast, {"name": "a", "count": 1})
    second, _ = read(fast, {"name": "a", "count": 1})
    assert first.tags == [] and first.tags is not second.tags


def test_every_checks_each_item() -> None:
    for items, good, bad in (("list", [1, 2], [1, "2"]), ("dict", {"a": 1}, {"a": 1.5})):
        test = compiled.every(("type({v}) is int", {}), items)
        check = compiled.function("check", [f"def check(v): return {compiled.inline(test, 'v')}"],
                                  test[1])  # fmt: skip
        assert check(good) is True
        assert check(bad) is False
        assert check("not a container") is False


# -- The generated call of a typed handler -------------------------------------------------------


def typed_app() -> App:
    app = App(__name__, static_folder=None, template_folder=None)

    @app.post("/orders/<order_id>")
    def create(
        request: Request,
        order_id: int,
        order: Order,
        page: Annotated[int, Query(ge=1, le=10)] = 1,
        q: str | None = None,
        tags: Annotated[list[str], Query()] = [],  # noqa: B006 - copied per request
        agent: Annotated[str | None, Header(alias="X-Agent")] = None,
    ) -> Order:
        order.note = f"{order_id}/{page}/{q}/{','.join(tags)}/{agent}"
        return order

    return app


REQUESTS = st.fixed_dictionaries(
    {
        "path": st.sampled_from(["/orders/1", "/orders/42", "/orders/x"]),
        "query": st.lists(
            st.sampled_from(
                ["page=2", "page=0", "page=11", "page=x", "q=hi", "tags=a", "tags=b", "page=", "q="]
            ),
            max_size=4,
        ).map("&".join),
        "body": BODIES.map(json.dumps) | st.sampled_from(["", "{", "[]", " {} ", "null"]),
        "content_type": st.sampled_from(
            [
                "application/json",
                "application/json; charset=utf-8",
                "text/plain",
                "application/problem+json",
                "",
            ]
        ),
        "agent": st.sampled_from([None, "curl", ""]),
    }
)


@settings(max_examples=300, deadline=None)
@given(sent=REQUESTS)
def test_a_generated_call_answers_as_the_checked_call(sent: dict[str, Any]) -> None:
    # The same app twice: once as it runs, once with every request sent to the full checks.
    fast = typed_app()
    checked = typed_app()
    for route in checked.routes():
        plan = route.call.plan  # type: ignore[union-attr]
        object.__setattr__(route, "call", plan.checked_call)
    answers = []
    for app in (fast, checked):
        headers = {"X-Agent": sent["agent"]} if sent["agent"] is not None else {}
        response = Client(app).post(
            sent["path"], query_string=sent["query"], data=sent["body"],
            content_type=sent["content_type"], headers=headers,
        )  # fmt: skip
        answers.append((response.status_code, response.content_type, response.get_data()))
    assert answers[0] == answers[1]
    assert answers[0][0] in (200, 400, 404, 422)


def test_a_valid_request_never_reaches_the_full_checks() -> None:
    client = Client(typed_app())
    called: list[str] = []

    def watch(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            called.append(frame.f_code.co_name)

    sys.setprofile(watch)
    try:
        response = client.post("/orders/7?page=2&tags=a&tags=b", json={"name": "pen", "count": 3})
    finally:
        sys.setprofile(None)
    assert response.status_code == 200
    assert response.json is not None and response.json["note"] == "7/2/None/a,b/None"
    assert "call" in called and "checked_call" not in called and "assemble" not in called
    # The same request with one bad value goes there, and lists it.
    response = client.post("/orders/7?page=20", json={"name": "pen", "count": 3})
    assert response.status_code == 422
    assert response.json is not None
    assert [error["name"] for error in response.json["errors"]] == ["page"]
