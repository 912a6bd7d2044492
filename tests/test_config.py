"""One settings object: every BORGER_* variable validated at start, named when it is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.core.config import PROJECT_ROOT, Settings, SettingsError, load_settings
from bot.gateway.app import create_app


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BORGER_* variable set (the live fixture sets some for the whole session)."""
    for name in [n for n in os.environ if n.startswith("BORGER_")]:
        monkeypatch.delenv(name)


def test_defaults_are_safe_for_one_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'app.db'}"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.actions_url == "http://127.0.0.1:5055"
    assert settings.staff_cookie_secure and settings.allowed_origins == ()


def test_values_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_environment(monkeypatch)
    monkeypatch.setenv("BORGER_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BORGER_RASA_PORT", "6006")
    monkeypatch.setenv("BORGER_ALLOWED_ORIGINS", "https://kildeby-bib.dk/, https://www.kildeby-bib.dk")
    monkeypatch.setenv("BORGER_STAFF_COOKIE_SECURE", "0")
    monkeypatch.setenv("BORGER_MAX_MESSAGE_CHARS", "")  # empty means the default
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert settings.rasa_url == "http://127.0.0.1:6006"
    assert settings.allowed_origins == ("https://kildeby-bib.dk", "https://www.kildeby-bib.dk")
    assert not settings.staff_cookie_secure
    assert settings.max_message_chars == 2000


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BORGER_GATEWAY_PORT", "otte tusind"),
        ("BORGER_RASA_PORT", "70000"),
        ("BORGER_HANDOFF_TIMEOUT_SECONDS", "0"),
        ("BORGER_STAFF_COOKIE_SECURE", "måske"),
        ("BORGER_RETENTION_DAYS", "-1"),
        ("BORGER_KIOSK_IDLE_WARN", "abc"),
        ("BORGER_LOGIN_MAX_FAILURES", "3.5"),
    ],
)
def test_a_bad_value_names_its_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_the_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.host = "0.0.0.0"  # type: ignore[misc]
    assert isinstance(settings.with_database("sqlite:///x.db"), Settings)
    assert settings.with_database("sqlite:///x.db").database_url == "sqlite:///x.db"


def test_gateway_and_cli_refuse_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("BORGER_DB_POOL_SIZE", "ti")
    with pytest.raises(SettingsError, match="BORGER_DB_POOL_SIZE"):
        create_app()
    assert cli_main(["staff", "list"]) == 1
    assert "BORGER_DB_POOL_SIZE" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["-c", "import actions"],  # what the action server does first
        ["-m", "bot.tools.runner"],
    ],
    ids=["action server", "runner"],
)
def test_action_server_and_runner_refuse_to_start(command: list[str]) -> None:
    env = {**os.environ, "BORGER_MAX_MESSAGE_CHARS": "lang"}
    result = subprocess.run(
        [sys.executable, *command], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "BORGER_MAX_MESSAGE_CHARS" in result.stderr
