"""The production configuration: PostgreSQL for app data and trackers, Redis lock store.

Environment variables alone switch the embedded defaults over; conversations live in the
tracker store, so they survive a restart of the Rasa server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis
import websockets

from bot.core.config import PROJECT_ROOT
from bot.tools.runner import endpoints_config
from tests.fixtures_live import LiveAssistant, free_port, running_assistant

pytestmark = [pytest.mark.live, pytest.mark.postgres]


@pytest.fixture(scope="module")
def production(
    postgres_server, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveAssistant]:
    with running_assistant(
        tmp_path_factory.mktemp("prod-var"),
        BORGER_DATABASE_URL=postgres_server.create_database("prod_app"),
        BORGER_TRACKER_DATABASE_URL=postgres_server.create_database("prod_tracker"),
        BORGER_REDIS_URL=redis_url,
    ) as assistant:
        yield assistant


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


@pytest.fixture(scope="module")
def second_gateway(production: LiveAssistant) -> Iterator[str]:
    """Another gateway instance on the same PostgreSQL and Redis, as behind a load balancer."""
    port = free_port()
    env = {**production.stack._env(), "BORGER_GATEWAY_PORT": str(port)}
    command = production.stack.commands(production.settings.var_dir / "endpoints.yml")["gateway"]
    command[command.index("--port") + 1] = str(port)
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def test_a_message_sent_through_one_gateway_reaches_a_socket_on_the_other(
    production: LiveAssistant, second_gateway: str
) -> None:
    session = uuid.uuid4().hex
    socket_url = second_gateway.replace("http", "ws") + f"/api/ws/{session}"

    async def scenario() -> list[dict]:
        async with websockets.connect(socket_url, open_timeout=10) as socket:
            await asyncio.to_thread(production.chat, session, "Hvordan fornyer jeg mit kørekort?")
            return [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(2)]

    events = asyncio.run(scenario())
    assert [e["message"]["sender"] for e in events] == ["citizen", "bot"]
    assert "kørekort" in events[1]["message"]["text"].lower()
