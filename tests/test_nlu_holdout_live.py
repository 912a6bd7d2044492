"""The NLU hold-out scored against the trained model served by the live Rasa server."""

from __future__ import annotations

import httpx
import pytest

from bot.tools.evaluate import evaluate

pytestmark = pytest.mark.live

TOPIC_FLOOR = 0.90
ARTICLE_FLOOR = 0.70


def test_holdout_topic_and_article_accuracy(live, record_property) -> None:
    with httpx.Client(timeout=30) as client:

        def intent_of(text: str) -> str | None:
            response = client.post(
                f"{live.settings.rasa_url}/model/parse",
                params={"token": live.settings.rasa_token},
                json={"text": text},
            )
            response.raise_for_status()
            return (response.json().get("intent") or {}).get("name")

        report = evaluate(intent_of)
    print(report.summary())
    record_property("topic_accuracy", round(report.topic_accuracy, 3))
    record_property("article_accuracy", round(report.article_accuracy, 3))
    assert report.total >= 150
    assert report.topic_accuracy >= TOPIC_FLOOR, report.summary()
    assert report.article_accuracy >= ARTICLE_FLOOR, report.summary()
