"""Fixtures: a fresh `app` per test; `client` comes from wsgilite's pytest plugin."""

from __future__ import annotations

import pytest

from wsgilite import App


@pytest.fixture
def app() -> App:
    """A new, empty app (no SECRET_KEY: tests of sessions and CSRF set one)."""
    return App(__name__)
