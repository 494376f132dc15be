"""Decode and validate one small JSON body into a model: wsgilite's own engine, pydantic, msgspec.

    python benchmarks/bench_engines.py

The body of the typed scenario (bench_typed.py): {"name": "Ada", "age": 36, "tags": ["a", "b"]},
into a dataclass with a length check on `name` and bounds on `age`. Each engine starts from the
body's bytes and ends with a model instance; the figure is the best median of 5 runs, in µs.
"""

import json
import statistics
import sys
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from wsgilite.kinds import kind_of
from wsgilite.markers import Field

BODY = b'{"name": "Ada", "age": 36, "tags": ["a", "b"]}'


@dataclass
class NewUser:
    name: Annotated[str, Field(min_length=1, max_length=50)]
    age: Annotated[int, Field(ge=0, le=150)]
    tags: list[str] = field(default_factory=list)


def wsgilite_engine() -> Any:
    kind = kind_of(NewUser, "bench", {})
    read = kind.from_json

    def decode() -> Any:
        return read(json.loads(BODY), "body", "", [])

    return decode


def pydantic_engine() -> Any:
    import pydantic

    @pydantic.dataclasses.dataclass
    class PydanticUser:
        name: Annotated[str, pydantic.Field(min_length=1, max_length=50)]
        age: Annotated[int, pydantic.Field(ge=0, le=150)]
        tags: list[str] = field(default_factory=list)

    adapter = pydantic.TypeAdapter(PydanticUser)
    return lambda: adapter.validate_json(BODY)


def msgspec_engine() -> Any:
    import msgspec

    class MsgspecUser(msgspec.Struct):
        name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
        age: Annotated[int, msgspec.Meta(ge=0, le=150)]
        tags: list[str] = []

    decoder = msgspec.json.Decoder(MsgspecUser)
    return lambda: decoder.decode(BODY)


def measure(decode: Any) -> float:
    runs = [min(timeit.repeat(decode, number=20_000, repeat=3)) / 20_000 for _ in range(5)]
    return statistics.median(runs) * 1e6


if __name__ == "__main__":
    engines = [("wsgilite (kinds.py)", wsgilite_engine), ("pydantic v2", pydantic_engine),
               ("msgspec", msgspec_engine)]  # fmt: skip
    for name, make in engines:
        try:
            decode = make()
        except ImportError as exc:
            print(f"{name:24} not installed ({exc.name})")
            continue
        print(f"{name:24} {measure(decode):6.2f} µs")
