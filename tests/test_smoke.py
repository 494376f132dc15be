"""The quickstart of README.md, end to end through the test client."""

from werkzeug.test import Client

from wsgilite import App, Request


def test_quickstart_answers_html_and_json(app: App, client: Client) -> None:
    @app.get("/")
    def index(request: Request) -> str:
        return "<h1>Hello</h1>"

    @app.get("/users/<int:user_id>")
    def show_user(request: Request, user_id: int) -> dict[str, int]:
        return {"id": user_id}

    assert client.get("/").text == "<h1>Hello</h1>"
    assert client.get("/users/7").json == {"id": 7}
