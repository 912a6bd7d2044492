"""The whole assistant running for real: action server, Rasa and gateway on free ports.

Session-scoped, because Rasa takes ~20 s to load; every live test shares one stack with its
own SQLite databases in a temp dir. Needs the trained model (`make test` trains first).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.core.config import Settings, load_settings
from bot.tools.runner import Stack, prepare_database
from tests.fixtures_db import free_port
from tests.fixtures_mail import Mailbox, running_smtp


@dataclass
class LiveAssistant:
    stack: Stack
    settings: Settings
    log_dir: Path
    # The SMTP server the stack sends confirmations, reminders and codes to (if any).
    mailbox: Mailbox | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    def chat(self, session_id: str, text: str, client: httpx.Client | None = None) -> dict:
        response = (client or httpx).post(
            f"{self.url}/api/chat", json={"session_id": session_id, "text": text}, timeout=60
        )
        assert response.status_code == 200, response.text
        return response.json()

    def restart(self, name: str) -> None:
        """Stop and start one process (e.g. the gateway) and wait until healthy again."""
        self.stack.stop_one(name)
        self.stack.start(only=(name,))
        self.stack.wait_healthy()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.log_dir.glob("*.log"))


@contextlib.contextmanager
def running_assistant(var_dir: Path, **env: str) -> Iterator[LiveAssistant]:
    """Start the three processes with these environment overrides; stop them afterwards."""
    if not load_settings().model_path.exists():
        pytest.fail("No trained model: run 'make train' (make test does it first).")
    overrides = {
        "BORGER_VAR_DIR": str(var_dir),
        "BORGER_GATEWAY_PORT": str(free_port()),
        "BORGER_RASA_PORT": str(free_port()),
        "BORGER_ACTIONS_PORT": str(free_port()),
        "BORGER_RASA_TOKEN": secrets.token_hex(16),
        "BORGER_DATABASE_URL": f"sqlite:///{var_dir / 'app.db'}",
        # Every live test talks from 127.0.0.1: one address for the whole suite, so the
        # per-address limit would be the suite's, not a client's. The security tests start
        # their own stack with it on (tests/test_security_live.py).
        "BORGER_RATE_LIMIT_ADDRESS": "0",
        # Likewise the sign-in lock-outs: wrong passwords of every staff test add up on that
        # one address (and its progressive delay). tests/test_handoff_live.py and the
        # in-process tests check the lock-outs on stacks of their own.
        "BORGER_LOGIN_MAX_FAILURES": "1000",
        "BORGER_LOGIN_MAX_FAILURES_PER_IP": "1000",
        **env,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in overrides.items():
            patch.setenv(key, value)
        settings = load_settings()
        prepare_database(settings)
        stack = Stack(settings, log_dir=var_dir / "logs")
        assistant = LiveAssistant(stack, settings, var_dir / "logs")
        try:
            stack.start()
            stack.wait_healthy(timeout=300)
            yield assistant
        except Exception:
            print(assistant.logs())
            raise
        finally:
            stack.stop()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAssistant]:
    with running_smtp() as mailbox, running_assistant(
        tmp_path_factory.mktemp("live-var"), **mailbox.env()
    ) as assistant:
        assistant.mailbox = mailbox
        yield assistant
