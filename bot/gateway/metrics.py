"""The gateway's figures in Prometheus' text format, at ``GET /metrics``.

Turn latency (a histogram), turns by outcome, the live queue's length and the open
WebSocket connections. Each app has its own registry, so several gateways in one process
(the in-process tests) do not count into each other. Nothing here names a citizen: no session
ids, no texts, only counts.

Who may read it: with ``BORGER_METRICS_TOKEN`` set, whoever sends it as a bearer token;
without one, only a scraper on the gateway's own machine that connects directly (loopback
peer, no X-Forwarded-For, so nothing that came in through the load balancer).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import HTTPConnection

# What a turn came to; ChatReply.outcome holds one of these.
OUTCOMES = (
    "answer",  # a knowledge article
    "clarify",  # "Mener du …?"
    "overview",  # a topic's overview
    "not_understood",
    "form",  # a question of a booking, course or callback form
    "reply",  # any other reply of the bot (small talk, lists, confirmations)
    "handoff",  # the turn queued the chat for staff or asked for a callback
    "to_staff",  # a message in a chat that staff have: the bot stays silent
    "unavailable",  # Rasa did not answer; the citizen got "try again shortly"
)
# Seconds; a turn is tens to hundreds of milliseconds, seconds only under overload.
_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


@dataclass
class GatewayMetrics:
    registry: CollectorRegistry
    turn_seconds: Histogram
    turns: Counter
    queue_length: Gauge
    websockets: Gauge

    @classmethod
    def create(cls) -> GatewayMetrics:
        registry = CollectorRegistry()
        turns = Counter(
            "borger_chat_turns", "Chat turns by what they came to", ["outcome"],
            registry=registry,
        )
        for outcome in OUTCOMES:
            turns.labels(outcome)  # every series exists from the start, at 0
        return cls(
            registry=registry,
            turn_seconds=Histogram(
                "borger_chat_turn_seconds", "Time to answer a chat message (POST /api/chat)",
                buckets=_BUCKETS, registry=registry,
            ),
            turns=turns,
            queue_length=Gauge(
                "borger_handoff_queue_length", "Chats waiting for staff (live queue)",
                registry=registry,
            ),
            websockets=Gauge(
                "borger_websocket_connections", "Open WebSocket connections (citizens, staff)",
                registry=registry,
            ),
        )

    def observe_turn(self, outcome: str, seconds: float) -> None:
        self.turn_seconds.observe(seconds)
        self.turns.labels(outcome if outcome in OUTCOMES else "reply").inc()

    def render(self, queue_length: int) -> tuple[bytes, str]:
        self.queue_length.set(queue_length)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def may_read(connection: HTTPConnection, token: str) -> bool:
    """The rule in the module docstring."""
    if token:
        given = connection.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if connection.headers.get("x-forwarded-for") or connection.client is None:
        return False
    try:
        return ipaddress.ip_address(connection.client.host).is_loopback
    except ValueError:
        return False


def of(connection: HTTPConnection) -> GatewayMetrics | None:
    """The app's metrics (None for an app built without them)."""
    return getattr(connection.app.state, "metrics", None)
