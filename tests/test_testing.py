"""Testing: the test client, and the pytest plugin's `client` fixture built from your `app`."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from wsgilite import App, Request

pytest_plugins = ["pytester"]


def test_test_client_is_werkzeugs_client(app: App) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return "hi"

    client = app.test_client()

    assert isinstance(client, Client)
    assert client.get("/").text == "hi"


def test_the_plugin_builds_client_from_the_users_app_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from wsgilite import App

        @pytest.fixture
        def app():
            app = App(__name__)

            @app.get("/ping")
            def ping(request):
                return "pong"

            return app
        """
    )
    pytester.makepyfile(
        """
        def test_ping(client):
            response = client.get("/ping")
            assert response.status_code == 200
            assert response.text == "pong"
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
