"""Per-conversation turn locks are shared while in use and do not pile up afterwards."""

from __future__ import annotations

import gc

from bot.core.config import load_settings
from bot.gateway.chat import ChatService
from bot.gateway.hub import Hub
from bot.gateway.rasa_client import RasaClient


def test_one_lock_per_conversation_while_in_use_and_none_kept_after() -> None:
    nowhere = RasaClient("http://127.0.0.1:9", "http://127.0.0.1:9", timeout=1)
    service = ChatService(load_settings(), nowhere, Hub())
    held = service._lock("a")
    assert service._lock("a") is held
    assert service._lock("b") is not held
    del held
    gc.collect()
    assert len(service._locks) == 0
