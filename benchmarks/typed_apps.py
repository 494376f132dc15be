"""The typed-handler apps of bench_typed.py whose annotations must live at module level."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from wsgilite import App, Request
from wsgilite.params import Field, Query


@dataclass
class NewItem:
    name: Annotated[str, Field(min_length=1, max_length=50)]
    age: Annotated[int, Field(ge=0, le=150)]
    tags: list[str] = field(default_factory=list)


@dataclass
class Item:
    id: int
    count: int
    name: str
    age: int
    tags: list[str]


def wsgilite_typed() -> Any:
    app = App(__name__, static_folder=None, template_folder=None)

    @app.post("/items/<item_id>")
    def create_item(
        request: Request, item_id: int, new: NewItem, count: Annotated[int, Query(ge=1, le=100)]
    ) -> Item:
        return Item(item_id, count, new.name, new.age, new.tags)

    return app


def fastapi_typed() -> Any:
    import fastapi
    import pydantic

    class NewItemModel(pydantic.BaseModel):
        name: Annotated[str, pydantic.Field(min_length=1, max_length=50)]
        age: Annotated[int, pydantic.Field(ge=0, le=150)]
        tags: list[str] = []

    class ItemModel(pydantic.BaseModel):
        id: int
        count: int
        name: str
        age: int
        tags: list[str]

    globals().update(NewItemModel=NewItemModel, ItemModel=ItemModel, fastapi=fastapi)
    app = fastapi.FastAPI()

    @app.post("/items/{item_id}")
    async def create_item(
        item_id: int,
        new: NewItemModel,
        count: Annotated[int, fastapi.Query(ge=1, le=100)],
    ) -> ItemModel:
        return ItemModel(id=item_id, count=count, name=new.name, age=new.age, tags=new.tags)

    return app


def flask_openapi3_typed() -> Any:
    import pydantic
    from flask_openapi3 import OpenAPI

    class NewItemBody(pydantic.BaseModel):
        name: Annotated[str, pydantic.Field(min_length=1, max_length=50)]
        age: Annotated[int, pydantic.Field(ge=0, le=150)]
        tags: list[str] = []

    class ItemPath(pydantic.BaseModel):
        item_id: int

    class ItemQuery(pydantic.BaseModel):
        count: Annotated[int, pydantic.Field(ge=1, le=100)]

    class ItemOut(pydantic.BaseModel):
        id: int
        count: int
        name: str
        age: int
        tags: list[str]

    globals().update(
        NewItemBody=NewItemBody, ItemPath=ItemPath, ItemQuery=ItemQuery, ItemOut=ItemOut
    )
    app = OpenAPI(__name__)

    @app.post("/items/<int:item_id>", responses={200: ItemOut})
    def create_item(path: ItemPath, query: ItemQuery, body: NewItemBody) -> Any:
        out = ItemOut(id=path.item_id, count=query.count, name=body.name, age=body.age,
                      tags=body.tags)  # fmt: skip
        return out.model_dump()

    return app


def wsgilite_by_hand() -> Any:
    from werkzeug.exceptions import UnprocessableEntity

    app = App(__name__, static_folder=None, template_folder=None)

    @app.post("/items/<int:item_id>")
    def create_item(request: Request, item_id: int) -> dict[str, Any]:
        count = request.args.get("count", type=int)
        media = request.get_json()
        if count is None or not 1 <= count <= 100 or not isinstance(media, dict):
            raise UnprocessableEntity("count, or the body")
        name, age, tags = media.get("name"), media.get("age"), media.get("tags", [])
        if not isinstance(name, str) or not 1 <= len(name) <= 50:
            raise UnprocessableEntity("name")
        if type(age) is not int or not 0 <= age <= 150:
            raise UnprocessableEntity("age")
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise UnprocessableEntity("tags")
        return {"id": item_id, "count": count, "name": name, "age": age, "tags": tags}

    return app
