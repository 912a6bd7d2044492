"""Knowledge answers: one action for every question the knowledge base may answer.

It runs for the topic intents (``ask_<topic>``), ``out_of_scope``, ``follow_up``, ``inform``
outside a form and ``nlu_fallback`` (data/rules/knowledge.yml), so a question the NLU is unsure
about still reaches the retriever, which searches every topic. The conversation's topic and
last article (slots) let a follow-up lean on the previous answer. Thin over bot.answers.

Besides its text messages the action sends one ``{"borger": {...}}`` custom message that says
what the turn was (answer / clarify / overview / not_understood), its topic and the article
shown; the gateway attaches that to the reply (the chat API's ``article``) and stores it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.forms.readers import previous_reply_kind
from bot.core.topics import INTENT_TOPICS
from bot.services.answering import Context, intent_hint
from bot.services.answers import Answer, answer_question, clear_question_answer, overview

# A second "not understood" in a row hands the citizen to a person (actions/handoff.py).
HANDOFF_ACTION = "action_handoff"


def intent_and_confidence(tracker: Tracker) -> tuple[str, float, str | None]:
    """The intent, and the topic it points at with its strength (bot.answering.intent_hint)."""
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    name = str(intent.get("name") or "")
    ranking = [
        (str(r.get("name")), float(r.get("confidence") or 0.0))
        for r in message.get("intent_ranking") or []
    ]
    topic, confidence = intent_hint(
        name, float(intent.get("confidence") or 0.0), ranking, INTENT_TOPICS
    )
    return name, confidence, topic


def send(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    for message in answer.messages:
        dispatcher.utter_message(text=message["text"], buttons=message.get("buttons") or [])
    meta: dict[str, Any] = {"kind": answer.kind, "topic": answer.topic}
    if answer.messages and answer.messages[-1].get("article"):
        meta["article"] = answer.messages[-1]["article"]
    if answer.choices:
        meta["choices"] = answer.choices
    dispatcher.utter_message(json_message={"borger": meta})


class ActionAnswerKnowledge(Action):
    def name(self) -> str:
        return "action_answer_knowledge"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent, confidence, topic = intent_and_confidence(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        if text.strip() == f"/{intent}" and intent.startswith("ask_"):
            tile = overview(INTENT_TOPICS[intent], config.engine)
            if tile is not None:
                send(dispatcher, tile)
                return [SlotSet("topic", tile.topic), SlotSet("article_id", None)]
        article_id = next(tracker.get_latest_entity_values("article_id"), None)
        context = Context(tracker.get_slot("topic"), tracker.get_slot("article_id"))
        answer = answer_question(
            text, topic, article_id, confidence, context, intent, **config.knowledge
        )
        if answer.kind == "not_understood" and previous_reply_kind(tracker) == "not_understood":
            return [FollowupAction(HANDOFF_ACTION)]
        send(dispatcher, answer)
        if answer.kind == "answer":
            return [SlotSet("topic", answer.topic), SlotSet("article_id", answer.article_id)]
        if answer.kind == "clarify":
            return [SlotSet("topic", answer.topic)]
        return []


def answer_instead(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    button: dict[str, str],
    own_topic: str | None = None,
) -> list[EventType] | None:
    """Answer a typed question the NLU sent to another flow when one article plainly answers
    it, with ``button`` to the flow the NLU meant; None when it is not such a question, or
    when the article is of the flow's ``own_topic`` (the flow itself answers that better)."""
    text = str((tracker.latest_message or {}).get("text") or "")
    if text.startswith("/"):
        return None
    context = Context(tracker.get_slot("topic"), tracker.get_slot("article_id"))
    answer = clear_question_answer(text, context, **config.knowledge)
    if answer is None or answer.topic == own_topic:
        return None
    last = answer.messages[-1]
    last["buttons"] = [*(last.get("buttons") or []), button]
    send(dispatcher, answer)
    return [SlotSet("topic", answer.topic), SlotSet("article_id", answer.article_id)]
