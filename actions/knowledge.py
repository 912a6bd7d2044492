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
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.forms.readers import latest_text, previous_reply_kind
from actions.handoff import ActionHandoff
from actions.replies import conversation_context, send
from bot.core.topics import INTENT_TOPICS
from bot.language.wishes import is_payload, reply_lead, wants_stop
from bot.services.answering import content_words, intent_hint
from bot.services.answers import Answer, answer_question, overview, read_reply, typed_topic


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


class ActionAnswerKnowledge(Action):
    def name(self) -> str:
        return "action_answer_knowledge"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        answer = knowledge_reply(tracker)
        if answer.kind == "not_understood" and previous_reply_kind(tracker) == "not_understood":
            # Handed over in this same action: a FollowupAction would leave Rasa's policies
            # to predict after action_handoff, and they predicted this action again, in a loop.
            return ActionHandoff().run(dispatcher, tracker, domain)
        send(dispatcher, answer)
        return remembered(answer)


def knowledge_reply(tracker: Tracker) -> Answer:
    """The overview or answer for the latest message, read in the conversation's context."""
    intent, confidence, topic = intent_and_confidence(tracker)
    text = latest_text(tracker)
    question, context = read_reply(text, conversation_context(tracker))
    tile_topic = typed_topic(question)
    if text == f"/{intent}" and intent.startswith("ask_"):
        tile_topic = INTENT_TOPICS[intent]
    if tile_topic is not None:
        tile = overview(tile_topic, config.engine)
        if tile is not None:
            return tile
    article_id = next(tracker.get_latest_entity_values("article_id"), None)
    return answer_question(
        question, topic, article_id, confidence, context, intent, **config.knowledge
    )


def remembered(answer: Answer) -> list[EventType]:
    """The slots an answer leaves for the next turn: its topic, and the article shown."""
    if answer.kind == "overview":
        return [SlotSet("topic", answer.topic), SlotSet("article_id", None)]
    if answer.kind == "answer":
        return [SlotSet("topic", answer.topic), SlotSet("article_id", answer.article_id)]
    if answer.kind == "clarify":
        return [SlotSet("topic", answer.topic)]
    return []


ANYTHING_ELSE = "Godt. Er der andet, jeg kan hjælpe dig med?"


class ActionYesOrNo(Action):
    """A yes or no outside any form. One that goes on with a question of its own ("nej, jeg
    mener mit pas", "ja, men hvad koster det?") gets that question answered, the "no" turning
    down what was just shown; a plain one, or one whose rest nothing answers, hears
    "Er der andet …?". The text lives here, not as a domain response: only this action says it."""

    def name(self) -> str:
        return "action_yes_or_no"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        lead, rest, _ = reply_lead(text)
        # A yes or no that goes on with a question of its own, or a message with no yes or no
        # in it at all that the NLU took for one ("pas", "app", a plain question): answered,
        # or asked about, like any question in the conversation.
        if (lead and rest) or (not lead and not is_payload(text) and content_words(text)):
            answer = knowledge_reply(tracker)
            if answer.kind != "not_understood":
                send(dispatcher, answer)
                return remembered(answer)
        dispatcher.utter_message(text=ANYTHING_ELSE)
        return []


NOTHING_TO_STOP = "Der er ikke noget i gang, som skal stoppes. Hvad kan jeg hjælpe dig med?"
NOTHING_TO_STOP_BUTTONS = [
    {"title": "Book it-hjælp", "payload": "/book_it_help"},
    {"title": "Se kurser", "payload": "/list_courses"},
    {"title": "Vis hvad du kan hjælpe med", "payload": "/greet"},
]


class ActionNothingToStop(Action):
    """"Stop" while no form is open. The NLU reads some questions as a stop because of a
    word such as "glemt" ("jeg er flyttet og har glemt at melde det"): without a stop word
    of its own the message is answered like any question; a real stop ("stop", "glem det")
    hears that nothing is going on."""

    def name(self) -> str:
        return "action_nothing_to_stop"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        if not text.startswith("/") and not wants_stop(text, "stop"):
            return ActionAnswerKnowledge().run(dispatcher, tracker, domain)
        # The text lives here, not as a domain response: only this action says it.
        dispatcher.utter_message(text=NOTHING_TO_STOP, buttons=NOTHING_TO_STOP_BUTTONS)
        return []
