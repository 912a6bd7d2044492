"""Talking to the Rasa server (REST channel + HTTP API) and the action server."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import httpx


class AssistantUnavailable(Exception):
    """Rasa did not answer (down, restarting, or too slow)."""


_QUERY = re.compile(r"\?[^\s'\"]*")


def _reason(exc: Exception) -> str:
    """The error for the log, without query strings: they carry Rasa's token."""
    return _QUERY.sub("", str(exc)) or type(exc).__name__


@dataclass
class TurnResult:
    messages: list[dict[str, Any]]
    intent: str | None = None
    active_loop: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)


class RasaClient:
    def __init__(self, rasa_url: str, actions_url: str, timeout: float, token: str = "") -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.actions_url = actions_url.rstrip("/")
        self._auth = {"token": token} if token else {}
        self._client = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, session_id: str, text: str, metadata: dict[str, Any]) -> TurnResult:
        """One turn in one call: the turn channel answers with the state beside the messages."""
        try:
            response = await self._client.post(
                f"{self.rasa_url}/webhooks/turn/webhook",
                json={"sender": session_id, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            turn = response.json() or {}
            return TurnResult(
                messages=list(turn.get("messages") or []),
                intent=turn.get("intent"),
                active_loop=turn.get("active_loop"),
                slots=dict(turn.get("slots") or {}),
            )
        except (httpx.HTTPError, ValueError, TypeError, AttributeError) as exc:
            raise AssistantUnavailable(_reason(exc)) from exc

    async def prefetch(self, text: str) -> None:
        """Tell the action server a question is coming (it starts embedding it). Only ever a
        head start, so a failure is nobody's business."""
        with contextlib.suppress(httpx.HTTPError):
            await self._client.post(f"{self.actions_url}/prefetch", json={"text": text}, timeout=2)

    async def tracker(self, session_id: str) -> dict[str, Any]:
        """The conversation's full tracker (events, slots), e.g. for the staff summary."""
        try:
            response = await self._client.get(
                f"{self.rasa_url}/conversations/{session_id}/tracker",
                params={"include_events": "ALL", **self._auth},
                timeout=5,
            )
            response.raise_for_status()
            return response.json() or {}
        except (httpx.HTTPError, ValueError) as exc:
            raise AssistantUnavailable(_reason(exc)) from exc

    async def restart(self, session_id: str) -> None:
        """Reset Rasa's tracker of one conversation (a `restart` event), e.g. at a kiosk."""
        try:
            response = await self._client.post(
                f"{self.rasa_url}/conversations/{session_id}/tracker/events",
                params={"include_events": "NONE", **self._auth},
                json=[{"event": "restart"}],
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise AssistantUnavailable(_reason(exc)) from exc

    async def intents(self) -> set[str]:
        """Intent names in the loaded model's domain."""
        try:
            response = await self._client.get(
                f"{self.rasa_url}/domain",
                params=self._auth,
                headers={"Accept": "application/json"},
                timeout=5,
            )
            response.raise_for_status()
            raw = response.json().get("intents") or []
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise AssistantUnavailable(_reason(exc)) from exc
        return {next(iter(i)) if isinstance(i, dict) else str(i) for i in raw}

    async def rasa_ready(self) -> bool:
        try:
            response = await self._client.get(
                f"{self.rasa_url}/status", params=self._auth, timeout=3
            )
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def _python_version(self, url: str) -> str | None:
        try:
            response = await self._client.get(url, timeout=3)
            response.raise_for_status()
            return str(response.json().get("python") or "") or None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    async def rasa_python(self) -> str | None:
        """The Rasa server's Python (danish_nlu/version_channel.py), None if it cannot say."""
        return await self._python_version(f"{self.rasa_url}/webhooks/version/")

    async def actions_python(self) -> str | None:
        """The action server's Python (rasa_sdk_plugins/), None if it cannot say."""
        return await self._python_version(f"{self.actions_url}/version")

    async def actions_ready(self) -> bool:
        try:
            response = await self._client.get(f"{self.actions_url}/health", timeout=3)
            return response.status_code == 200
        except httpx.HTTPError:
            return False
