"""Config: defaults, from_mapping, from_pyfile and typed from_env."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsgilite import App, Config
from wsgilite.config import DEFAULTS


def test_defaults_are_there() -> None:
    config = Config()

    assert config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert set(DEFAULTS) <= set(config)


def test_two_apps_never_share_a_mutable_setting() -> None:
    first, second = App(__name__), App(__name__)
    first.config["SECURITY_HEADERS"]["X-Extra"] = "1"

    assert "X-Extra" not in second.config["SECURITY_HEADERS"]


def test_from_mapping_takes_upper_case_keys_only() -> None:
    config = Config()
    config.from_mapping({"SECRET_KEY": "k", "lower": 1}, DEBUG=True)

    assert config["SECRET_KEY"] == "k"
    assert config["DEBUG"] is True
    assert "lower" not in config


def test_from_pyfile(tmp_path: Path) -> None:
    file = tmp_path / "settings.py"
    file.write_text("SECRET_KEY = 'from-file'\nMAX_FORM_PARTS = 50\n_private = 1\n")
    config = Config()

    config.from_pyfile(file)

    assert config["SECRET_KEY"] == "from-file"
    assert config["MAX_FORM_PARTS"] == 50
    assert "_private" not in config


def test_from_pyfile_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.py"):
        Config().from_pyfile(tmp_path / "nope.py")


def test_from_env_is_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSGILITE_DEBUG", "1")
    monkeypatch.setenv("WSGILITE_CSRF", "false")
    monkeypatch.setenv("WSGILITE_MAX_CONTENT_LENGTH", "1024")
    monkeypatch.setenv("WSGILITE_DATABASE", "/tmp/notes.db")
    monkeypatch.setenv("WSGILITE_SECRET_KEY", "20240611")
    monkeypatch.setenv("WSGILITE_RATIO", "0.5")
    monkeypatch.setenv("OTHER_DEBUG", "true")
    config = Config()

    config.from_env()

    assert config["DEBUG"] is True
    assert config["CSRF"] is False
    assert config["MAX_CONTENT_LENGTH"] == 1024
    assert config["DATABASE"] == "/tmp/notes.db"
    assert config["SECRET_KEY"] == "20240611"
    assert config["RATIO"] == 0.5


def test_from_env_takes_another_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_DEBUG", "true")
    config = Config()

    config.from_env(prefix="NOTES_")

    assert config["DEBUG"] is True
