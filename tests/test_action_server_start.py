"""The action server builds the answer engine as soon as it listens, not on the first question
(rasa_sdk_plugins): on a fresh machine that build embeds every article, about a minute."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from bot.tools.bench import bench_settings
from bot.tools.runner import Stack


@pytest.mark.live
def test_the_action_server_builds_the_answer_engine_before_any_question(tmp_path: Path) -> None:
    settings = bench_settings(str(tmp_path))
    stack = Stack(settings, log_dir=tmp_path / "logs")
    log = tmp_path / "logs" / "actions.log"
    try:
        stack.start(only=("actions",))
        deadline = time.monotonic() + 240
        while "Answer engine ready" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, log.read_text()
            assert stack.processes["actions"].poll() is None, log.read_text()
            time.sleep(0.5)
        # It listened all the while; the build went on beside it.
        base = f"http://{settings.host}:{settings.actions_port}"
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
        # The gateway's head start: taken once the engine is there, ignored when not usable.
        started = httpx.post(f"{base}/prefetch", json={"text": "mistet mitid"}, timeout=5)
        assert (started.status_code, started.json()) == (202, {"started": True})
        for body in (b"{", b'{"text": 5}', b'{"text": "/greet"}'):
            ignored = httpx.post(f"{base}/prefetch", content=body, timeout=5)
            assert (ignored.status_code, ignored.json()) == (202, {"started": False})
    finally:
        stack.stop()
