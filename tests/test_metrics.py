"""The gateway's /metrics: Prometheus text with turn latency, turns by outcome, the queue and
the open WebSockets; readable with the token, or directly from the gateway's own machine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.core.config import load_settings
from bot.gateway.app import create_app
from bot.gateway.metrics import GatewayMetrics, may_read
from tests.handoff_support import avoid_midnight_gap, write_library
from tests.test_gateway_inprocess import FakeRasa, chat, sid

TOKEN = "scrape-me-please"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    avoid_midnight_gap()
    settings = load_settings(
        database_url=sqlite_url,
        library_config=write_library(tmp_path / "library.yml", "always"),
        staff_cookie_secure=False,
        metrics_token=TOKEN,
    )
    rasa = FakeRasa(
        replies={
            "Hvordan får jeg MitID?": (
                [{"text": "Du får MitID i appen."},
                 {"custom": {"borger": {"kind": "answer", "topic": "mitid"}}}],
                "ask_mitid",
            ),
            "/request_human": (
                [{"text": "Jeg sender dig videre."},
                 {"custom": {"handoff": "request", "reason": "requested", "topic": None}}],
                "request_human",
            ),
        }
    )
    with TestClient(create_app(settings, rasa)) as test_client:
        yield test_client


def scrape(client: TestClient) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_turns_are_counted_by_outcome_and_timed(client: TestClient) -> None:
    chat(client, sid("m1"), "Hvordan får jeg MitID?")
    chat(client, sid("m1"), "noget helt andet")
    chat(client, sid("m2"), "/request_human")
    chat(client, sid("m2"), "hallo, er der nogen?")  # queued: the bot stays silent
    figures = scrape(client)
    turns = {
        dict(labels)["outcome"]: value
        for (name, labels), value in figures.items()
        if name == "borger_chat_turns_total"
    }
    assert turns["answer"] == 1 and turns["reply"] == 1
    assert turns["handoff"] == 1 and turns["to_staff"] == 1 and turns["unavailable"] == 0
    assert figures[("borger_chat_turn_seconds_count", ())] == 4
    assert figures[("borger_handoff_queue_length", ())] == 1
    assert figures[("borger_websocket_connections", ())] == 0


def _sockets_become(client: TestClient, expected: float) -> bool:
    # The socket is counted once its feed runs, just after the backlog: poll, don't sleep.
    for _ in range(200):
        if scrape(client)[("borger_websocket_connections", ())] == expected:
            return True
        time.sleep(0.02)
    return False


def test_an_open_websocket_is_counted_until_it_closes(client: TestClient) -> None:
    chat(client, sid("m3"), "Hvordan får jeg MitID?")
    with client.websocket_connect(f"/api/ws/{sid('m3')}") as socket:
        assert [socket.receive_json()["type"] for _ in range(2)] == ["message", "message"]
        assert _sockets_become(client, 1)
    assert _sockets_become(client, 0)


def test_without_the_token_nobody_remote_reads_it(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nej"})
    assert wrong.status_code == 403 and wrong.json()["detail"] == "Ingen adgang."


def _connection(host: str, headers: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(client=SimpleNamespace(host=host), headers=headers)


def test_without_a_token_only_a_direct_local_scraper_may_read() -> None:
    assert may_read(_connection("127.0.0.1", {}), "")
    assert may_read(_connection("::1", {}), "")
    assert not may_read(_connection("10.0.0.7", {}), "")
    # Through the load balancer: the peer is local, but the request came from outside.
    assert not may_read(_connection("127.0.0.1", {"x-forwarded-for": "203.0.113.9"}), "")
    assert not may_read(_connection("testclient", {}), "")


def test_each_app_counts_for_itself() -> None:
    one, two = GatewayMetrics.create(), GatewayMetrics.create()
    one.observe_turn("answer", 0.05)
    assert two.turns.labels("answer")._value.get() == 0
    one.observe_turn("something new", 0.05)  # an unknown outcome is filed as a reply
    assert one.turns.labels("reply")._value.get() == 1
