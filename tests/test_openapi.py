"""OpenAPI 3.1 (openapi.py): the document, checked by openapi-spec-validator, and its two routes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pytest
from openapi_spec_validator import validate
from serving import free_port, served
from werkzeug.test import Client

from wsgilite import App, Request, Router
from wsgilite.openapi import openapi_path
from wsgilite.params import Field, Header, Query

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Pet:
    """A pet of the shop."""

    id: int
    name: str
    kind: Literal["cat", "dog"] = "cat"
    friends: list[Pet] | None = None


@dataclass
class NewPet:
    name: Annotated[str, Field(min_length=1, max_length=50)]
    kind: Literal["cat", "dog"] = "cat"


@dataclass
class NotFound:
    error: str


def shop(app: App) -> App:
    """Register a small typed API on `app`, with a Router and a plain handler."""
    pets = Router("/pets", name="pets")

    @pets.get("")
    def list_pets(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=100, description="How many")] = 20,
        tags: list[str] = [],  # noqa: B006
        trace: Annotated[str | None, Header(alias="X-Trace")] = None,
    ) -> list[Pet]:
        """List the pets.

        Newest first.
        """
        return []

    @pets.get("/<pet_id>", responses={404: NotFound})
    def show_pet(request: Request, pet_id: int) -> Pet:
        """Show one pet."""
        return Pet(pet_id, "x")

    @pets.post("", status_code=201, summary="Add a pet", tags=["admin"], responses={409: "Taken"})
    def add_pet(request: Request, new: NewPet) -> Pet:
        return Pet(1, new.name, new.kind)

    app.include(pets)

    @app.route("/files/<path:name>", methods=["GET", "DELETE"])
    def file(request: Request, name: str) -> str:
        return name

    return app


def test_the_document_is_valid_openapi_3_1(app: App) -> None:
    document = shop(app).openapi(title="Shop", version="2.0", description="Pets")

    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "2.0", "description": "Pets"}
    assert list(document["paths"]) == ["/pets", "/pets/{pet_id}", "/files/{name}"]
    assert document["tags"] == [{"name": "pets"}, {"name": "admin"}]


def test_rules_become_openapi_paths() -> None:
    assert openapi_path("/a/<int:id>/<path:rest>") == "/a/{id}/{rest}"
    assert openapi_path("/a/<any(x, y):choice>/<name>") == "/a/{choice}/{name}"


def test_parameters_from_the_signature(app: App) -> None:
    operation = shop(app).openapi()["paths"]["/pets"]["get"]

    assert operation["operationId"] == "pets.list_pets"
    assert operation["tags"] == ["pets"]
    assert operation["summary"] == "List the pets."
    assert operation["description"] == "Newest first."
    assert operation["parameters"] == [
        {"name": "limit", "in": "query", "required": False, "description": "How many",
         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "description": "How many",
                    "default": 20}},
        {"name": "tags", "in": "query", "required": False, "explode": True, "style": "form",
         "schema": {"type": "array", "items": {"type": "string"}}},
        {"name": "X-Trace", "in": "header", "required": False, "schema": {"type": "string"}},
    ]  # fmt: skip
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Pet"},
    }


def test_a_path_variable_takes_its_annotation(app: App) -> None:
    operation = shop(app).openapi()["paths"]["/pets/{pet_id}"]["get"]

    assert operation["parameters"] == [
        {"name": "pet_id", "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 0}},
    ]  # fmt: skip
    assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NotFound"
    }


def test_a_body_its_status_and_the_422_problem(app: App) -> None:
    document = shop(app).openapi()
    operation = document["paths"]["/pets"]["post"]

    assert operation["summary"] == "Add a pet"
    assert operation["tags"] == ["admin"]
    assert operation["requestBody"] == {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}},
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": "#/components/schemas/NewPet"}
            },
        },
    }
    assert set(operation["responses"]) == {"201", "422", "409"}
    assert operation["responses"]["409"] == {"description": "Taken"}
    problem = operation["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/ValidationProblem"}
    schemas = document["components"]["schemas"]
    assert schemas["NewPet"] == {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 50},
            "kind": {"type": "string", "enum": ["cat", "dog"]},
        },
        "required": ["name"],
    }
    assert schemas["Pet"]["description"] == "A pet of the shop."
    assert schemas["Pet"]["properties"]["friends"] == {
        "anyOf": [{"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                  {"type": "null"}]
    }  # fmt: skip


def test_a_plain_handler_is_documented_from_its_rule(app: App) -> None:
    operations = shop(app).openapi()["paths"]["/files/{name}"]

    assert set(operations) == {"get", "delete"}
    assert operations["get"]["operationId"] == "file_get"
    assert operations["get"]["parameters"] == [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert operations["get"]["responses"] == {"200": {"description": "Success"}}


def test_mount_docs_serves_the_document_and_the_page(app: App, client: Client) -> None:
    shop(app).mount_docs(title="Shop")

    document = client.get("/openapi.json")
    page = client.get("/docs")

    assert document.mimetype == "application/json"
    assert document.json == app.openapi(title="Shop")
    assert "/openapi.json" not in document.json["paths"]
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "<title>Shop</title>" in text
    assert 'const OPENAPI_URL = "/openapi.json";' in text
    assert "http" not in text.replace("http://", "").split("<script>")[1]  # no CDN
    mounted = client.get("/docs", environ_overrides={"SCRIPT_NAME": "/shop"})
    assert 'const OPENAPI_URL = "/shop/openapi.json";' in mounted.get_data(as_text=True)
    assert 'const ROOT = "/shop";' in mounted.get_data(as_text=True)


# -- the example, served: schemathesis and Chromium ------------------------------------------------


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """examples/api.py served by werkzeug's server on 127.0.0.1; yield its base URL."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "wsgilite.cli", "run", "examples/api.py:app"),
        *("--server", "werkzeug", "--host", "127.0.0.1", "--port", str(port)),
    ]
    with served(command, port, cwd=str(ROOT)) as base_url:
        yield base_url


def test_schemathesis_finds_no_failure_in_the_example(api_url: str, tmp_path: Path) -> None:
    st = shutil.which("st") or shutil.which("schemathesis")
    if st is None:
        if os.environ.get("CI") == "true":
            pytest.fail("schemathesis is missing: pip install -e '.[dev]'")
        pytest.skip("schemathesis is not installed")
    checks = "not_a_server_error,response_schema_conformance,content_type_conformance"
    result = subprocess.run(
        [st, "run", f"{api_url}/openapi.json", "-c", checks, "-n", "30", "--seed", "1"],
        cwd=tmp_path,  # it writes .schemathesis/ and .hypothesis/ where it runs
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "No issues found" in result.stdout


def test_the_docs_page_sends_a_request_in_chromium(api_url: str) -> None:
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(5000)
            outside: list[str] = []
            page.on(
                "request",
                lambda request: (
                    None if request.url.startswith(api_url) else outside.append(request.url)
                ),
            )
            page.goto(f"{api_url}/docs")
            operation = page.locator('details[data-operation="api.show_book"]')
            operation.locator("summary").click()
            operation.locator('input[name="book_id"]').fill("1")
            operation.locator("button.send").click()
            result = operation.locator("pre.result")
            page.wait_for_function(
                "element => element.textContent.startsWith('200')", arg=result.element_handle()
            )
            text = result.text_content() or ""
            assert json.loads(text.split("\n\n", 1)[1])["title"] == "Dune"
            assert page.locator("h2").all_text_contents() == ["default", "api"]
            assert outside == []  # offline: nothing but the app was asked
        finally:
            browser.close()
