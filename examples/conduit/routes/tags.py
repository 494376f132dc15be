"""Tags: every tag in use."""

from __future__ import annotations

from typing import Any

from wsgilite import Request, Router

from .. import store
from ..state import transaction

tags = Router(prefix="/api", name="tags", csrf=False)


@tags.get("/tags")
def list_tags(request: Request) -> dict[str, Any]:
    """`GET /api/tags`: the most used first."""
    with transaction(request) as tx:
        return {"tags": store.all_tags(tx)}
