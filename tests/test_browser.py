"""The notes example served for real and used through headless Chromium, as a person would.

`wsgilite run examples/notes/app.py:app --server werkzeug` runs in a subprocess on a free port of
127.0.0.1, with its database in tmp_path; playwright drives Debian's Chromium (/usr/bin/chromium,
never a downloaded browser: `apt-get install -y chromium`). The server is stopped by its process
group id when the test ends, pass or fail.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from serving import free_port, served

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def notes_url(tmp_path: Path) -> Iterator[str]:
    """Serve the notes site with `wsgilite run` on 127.0.0.1; yield its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "WSGILITE_DATABASE": str(tmp_path / "notes.db"),
        "WSGILITE_SECRET_KEY": "browser-test-" + "k" * 40,
    }
    command = [
        # `wsgilite run ...`, with the interpreter running the tests.
        *(sys.executable, "-m", "wsgilite.cli", "run", "examples/notes/app.py:app"),
        *("--server", "werkzeug", "--host", "127.0.0.1", "--port", str(port)),
    ]
    with served(command, port, cwd=str(ROOT), env=env) as base_url:
        yield base_url


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh page in headless Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.set_default_timeout(5000)
            yield page
        finally:
            browser.close()


def test_sign_up_log_in_write_a_note_and_log_out(
    notes_url: str, page: Page, tmp_path: Path
) -> None:
    flashes = page.locator(".flash")

    # A visitor asking for the notes is sent to log in, and told why.
    page.goto(notes_url + "/")
    expect(page).to_have_url(notes_url + "/login?next=/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(flashes).to_have_text(["Please log in to see that page."])

    # Sign up.
    page.get_by_role("link", name="Sign up").first.click()
    expect(page).to_have_url(notes_url + "/signup")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(notes_url + "/login")
    expect(flashes).to_have_text(["Account ada created. Log in to start writing notes."])

    # Log in: the nav now shows who is signed in, and the list is empty.
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(notes_url + "/")
    expect(flashes).to_have_text(["Welcome, ada!"])
    expect(page.locator(".nav-user")).to_have_text("Signed in as ada")
    expect(page.locator(".empty")).to_contain_text("No notes yet.")

    # Write a note: back on the list with a flash, the note listed.
    page.get_by_role("link", name="New note").first.click()
    expect(page).to_have_url(notes_url + "/notes/new")
    page.get_by_label("Title").fill("Groceries")
    page.get_by_label("Note").fill("Milk\nEggs <b>fresh</b>")
    page.get_by_role("button", name="Save note").click()
    expect(page).to_have_url(notes_url + "/")
    expect(flashes).to_have_text(["Note saved."])
    expect(page.locator(".note-title")).to_have_text(["Groceries"])
    expect(page.locator(".note-body")).to_have_text("Milk\nEggs <b>fresh</b>")
    expect(page.get_by_role("link", name="Edit")).to_have_attribute(
        "href", re.compile(r"^/notes/\d+/edit$")
    )

    # The flash was shown once: a reload shows the note without it.
    page.reload()
    expect(page.locator(".note-title")).to_have_text(["Groceries"])
    expect(flashes).to_have_count(0)

    # Log out: on the login page, logged out, and the notes are closed again.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(notes_url + "/login")
    expect(flashes).to_have_text(["You have been logged out."])
    expect(page.locator(".nav-user")).to_have_count(0)
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.goto(notes_url + "/")
    expect(page).to_have_url(notes_url + "/login?next=/")

    page.screenshot(path=str(tmp_path / "notes.png"), full_page=True)
