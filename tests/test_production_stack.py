"""The production configuration: PostgreSQL for app data and trackers, Redis lock store.

Environment variables alone switch the embedded defaults over; conversations live in the
tracker store, so they survive a restart of the Rasa server.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from bot.config import get_settings
from bot.runner import Stack, endpoints_config, prepare_database
from tests.fixtures_live import LiveAssistant, free_port

pytestmark = [pytest.mark.live, pytest.mark.postgres]


@pytest.fixture(scope="module")
def production(
    postgres_server, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveAssistant]:
    var_dir = tmp_path_factory.mktemp("prod-var")
    with pytest.MonkeyPatch.context() as env:
        for key, value in {
            "BORGER_VAR_DIR": str(var_dir),
            "BORGER_DATABASE_URL": postgres_server.create_database("prod_app"),
            "BORGER_TRACKER_DATABASE_URL": postgres_server.create_database("prod_tracker"),
            "BORGER_REDIS_URL": redis_url,
            "BORGER_GATEWAY_PORT": str(free_port()),
            "BORGER_RASA_PORT": str(free_port()),
            "BORGER_ACTIONS_PORT": str(free_port()),
            "BORGER_RASA_TOKEN": secrets.token_hex(16),
        }.items():
            env.setenv(key, value)
        settings = get_settings()
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


def test_endpoints_use_postgres_trackers_and_redis_locks(production: LiveAssistant) -> None:
    config = endpoints_config(production.settings)
    assert config["tracker_store"]["dialect"] == "postgresql"
    assert config["lock_store"]["type"] == "redis"


def test_conversation_survives_a_rasa_restart(production: LiveAssistant) -> None:
    session = uuid.uuid4().hex
    assert production.chat(session, "Hvordan fornyer jeg mit kørekort?")["topic"] == "koerekort"
    production.restart("rasa")
    tracker = httpx.get(
        f"{production.settings.rasa_url}/conversations/{session}/tracker",
        params={"token": production.settings.rasa_token},
    ).json()
    said = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert said == ["Hvordan fornyer jeg mit kørekort?"]
    assert production.chat(session, "tak")["topic"] == "smalltalk"


def test_redis_serves_the_lock_store(production: LiveAssistant, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    before = client.info("stats")["total_commands_processed"]
    production.chat(uuid.uuid4().hex, "hej")
    assert client.info("stats")["total_commands_processed"] > before
