"""The real gateway app in-process (FastAPI's TestClient over a real database) for the staff
API tests that need no Rasa: sign in with a role, call the API with the session's CSRF token."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from bot.core.config import PROJECT_ROOT, Settings, load_settings
from bot.gateway.app import create_app
from bot.services.articles import ArticleService
from bot.services.staff_auth import create_staff
from tests.handoff_support import STAFF_PASSWORD

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
# One account per role (user name = role), created by ``console_app``.
NAMES = {"staff": "Sofie Staff", "editor": "Erik Editor", "admin": "Ada Admin"}


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def console_settings(url: str, tmp_path: Path) -> Settings:
    """No Rasa behind it (a port nothing listens on): the console pages need none."""
    return load_settings(
        database_url=url, var_dir=tmp_path / "var", knowledge_dir=KNOWLEDGE_DIR,
        rasa_port=_unused_port(), actions_port=_unused_port(),
    )


@dataclass
class Console:
    client: TestClient
    csrf: str = ""

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def send(self, method: str, path: str, body: dict | None = None) -> httpx.Response:
        return self.client.request(
            method, path, json=body if body is not None else {},
            headers={"X-CSRF-Token": self.csrf},
        )


@contextmanager
def console_app(url: str, tmp_path: Path, seed_articles: bool = True) -> Iterator[TestClient]:
    """The gateway app on ``url`` with one account per role (and the articles imported)."""
    if seed_articles:
        ArticleService(url, KNOWLEDGE_DIR).import_directory()
    for role, name in NAMES.items():
        create_staff(url, role, name, STAFF_PASSWORD, role=role)
    app = create_app(console_settings(url, tmp_path))
    # https: the session cookie is Secure (and __Host-) as in production.
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def sign_in(app_client: TestClient, username: str) -> Console:
    """A fresh client (own cookies) on the same app, signed in as ``username``."""
    client = TestClient(app_client.app, base_url="https://testserver")
    token = client.get("/api/staff/csrf").json()["csrf"]
    response = client.post(
        "/api/staff/login", json={"username": username, "password": STAFF_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    return Console(client, response.json()["csrf"])
