"""The smallest wsgilite app: `python examples/hello.py`, then open http://127.0.0.1:8000/."""

from wsgilite import App, Request

app = App(__name__)


@app.get("/")
def hello(request: Request) -> str:
    name = request.args.get("name", "World")
    return f"<h1>Hello, {name}!</h1>" if name.isalnum() else "<h1>Hello!</h1>"


if __name__ == "__main__":
    app.run(server="wsgiref", port=8000)
