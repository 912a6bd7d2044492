"""The gateway's Rasa client keeps Rasa's token out of its error messages (they are logged)."""

from __future__ import annotations

import httpx

from bot.gateway.rasa_client import _reason


def test_an_error_names_the_url_without_its_query() -> None:
    url = "http://127.0.0.1:5005/conversations/abc/tracker?token=SECRET&include_events=NONE"
    response = httpx.Response(404, request=httpx.Request("GET", url))
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        reason = _reason(exc)
    assert "SECRET" not in reason and "token" not in reason
    assert "/conversations/abc/tracker" in reason
