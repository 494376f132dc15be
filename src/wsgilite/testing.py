"""Testing: werkzeug's test client over an app, and a pytest plugin with a `client` fixture.

The plugin is registered through the `pytest11` entry point: a project that defines its own `app`
fixture gets `client` for free. Nothing here is imported when an app serves requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from werkzeug.test import Client

if TYPE_CHECKING:
    from .app import App


@pytest.fixture
def client(app: App) -> Client:
    """A test client over the `app` fixture your conftest.py defines."""
    return app.test_client()
