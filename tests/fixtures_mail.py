"""A real SMTP server (aiosmtpd) and a fake SMS provider's HTTP API, both on free loopback
ports, so the e-mail and SMS paths are tested end to end without any mock."""

from __future__ import annotations

import contextlib
import email
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.fixtures_db import free_port


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            "BORGER_SMTP_HOST": self.host,
            "BORGER_SMTP_PORT": str(self.port),
            "BORGER_SMTP_FROM": "borgerservice@kildeby-bib.dk",
            "BORGER_SMTP_SECURITY": "none",
        }

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def body(message: Message) -> str:
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        return ""

    @staticmethod
    def calendar(message: Message) -> bytes | None:
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                return part.get_payload(decode=True)
        return None


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.box.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@contextlib.contextmanager
def running_smtp() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port, collecting what it receives."""
    box = Mailbox("127.0.0.1", free_port())
    controller = Controller(_Handler(box), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """An SMTP server for this test; BORGER_SMTP_* point at it."""
    with running_smtp() as box:
        for key, value in box.env().items():
            monkeypatch.setenv(key, value)
        yield box


@dataclass
class SmsGateway:
    url: str
    token: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 202


@pytest.fixture
def sms_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmsGateway]:
    """A fake provider: records JSON posted with the right bearer token."""
    gateway = SmsGateway("", "sms-test-token")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            authorised = self.headers.get("Authorization") == f"Bearer {gateway.token}"
            if authorised:
                gateway.received.append(json.loads(body))
            self.send_response(gateway.status if authorised else 401)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_port}/sms"
    monkeypatch.setenv("BORGER_SMS_GATEWAY_URL", gateway.url)
    monkeypatch.setenv("BORGER_SMS_TOKEN", gateway.token)
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
