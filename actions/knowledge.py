"""Knowledge answers: the NLU gives the topic, bot.services.answers picks and renders the
article."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.core.topics import INTENT_TOPICS
from bot.services.answers import answer_question


class ActionAnswerKnowledge(Action):
    def name(self) -> str:
        return "action_answer_knowledge"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        text = tracker.latest_message.get("text") or ""
        article_id = next(tracker.get_latest_entity_values("article_id"), None)
        topic = INTENT_TOPICS.get(intent) or tracker.get_slot("topic") or ""
        answer = answer_question(text, topic, article_id)
        if answer is None:
            dispatcher.utter_message(response="utter_default")
            return [SlotSet("topic", "out_of_scope")]
        dispatcher.utter_message(text=answer.text, buttons=answer.buttons)
        return [SlotSet("topic", answer.topic), SlotSet("article_id", answer.article_id)]
