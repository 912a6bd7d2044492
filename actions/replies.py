"""Sending knowledge answers, shared by the knowledge action and the actions that may answer
a question the NLU sent to their flow (handoff, the course list)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.forms.readers import confidence, latest_text, offered_choices
from bot.services.answering import Context
from bot.services.answers import (
    Answer,
    clear_question_answer,
    misread_question_answer,
    short_reply_answer,
)


def send(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    for message in answer.messages:
        dispatcher.utter_message(text=message["text"], buttons=message.get("buttons") or [])
    meta: dict[str, Any] = {"kind": answer.kind, "topic": answer.topic}
    if answer.messages and answer.messages[-1].get("article"):
        meta["article"] = answer.messages[-1]["article"]
    if answer.choices:
        meta["choices"] = answer.choices
    dispatcher.utter_message(json_message={"borger": meta})


def answer_instead(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    button: dict[str, str] | None,
    own_articles: Collection[str] = (),
) -> list[EventType] | None:
    """Answer a typed question the NLU sent to another flow when one article plainly answers
    it, with ``button`` to the flow the NLU meant; None when it is not such a question, or
    when the article is one of the flow's ``own_articles`` (the flow answers that better)."""
    text = str((tracker.latest_message or {}).get("text") or "")
    if text.startswith("/"):
        return None
    context = Context(tracker.get_slot("topic"), tracker.get_slot("article_id"))
    answer = clear_question_answer(text, context, **config.knowledge)
    if answer is None or answer.article_id in own_articles:
        return None
    return send_with_button(dispatcher, answer, button)


def answer_misread_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, button: dict[str, str] | None
) -> list[EventType] | None:
    """Answer a plain question the NLU took for frustration, or ask "Mener du …?" about it
    (bot.services.answers.misread_question_decision); None when it stays a frustration."""
    context = conversation_context(tracker)
    answer = misread_question_answer(latest_text(tracker), context, **config.knowledge)
    if answer is None:
        return None
    if answer.kind == "answer":
        return send_with_button(dispatcher, answer, button)
    send(dispatcher, answer)  # the "Mener du …?" ends in its own "Noget andet"
    return [SlotSet("topic", answer.topic)]


def send_with_button(
    dispatcher: CollectingDispatcher, answer: Answer, button: dict[str, str] | None
) -> list[EventType]:
    """Send an article that answers instead of the flow the NLU chose, with ``button`` to that
    flow, and remember it as the conversation's article."""
    last = answer.messages[-1]
    buttons = list(last.get("buttons") or [])
    # The article may offer that flow already (the courses' "Tilmeld dig"): once is enough.
    if button and all(b.get("payload") != button["payload"] for b in buttons):
        buttons.append(button)
    last["buttons"] = buttons
    send(dispatcher, answer)
    return [SlotSet("topic", answer.topic), SlotSet("article_id", answer.article_id)]


def conversation_context(tracker: Tracker) -> Context:
    """What the conversation is about: its topic, the article shown, the choices offered."""
    return Context(
        tracker.get_slot("topic"), tracker.get_slot("article_id"), offered_choices(tracker)
    )


def answer_short_reply(
    dispatcher: CollectingDispatcher, tracker: Tracker, button: dict[str, str] | None = None
) -> list[EventType] | None:
    """Answer a short reply the NLU read only weakly as a wish to start a form ("skrive op"
    after the day-care tile) when the conversation answers it (see
    bot.services.answers.short_reply_decision), with ``button`` to the flow the NLU meant."""
    answer = short_reply_answer(
        latest_text(tracker), conversation_context(tracker), confidence(tracker),
        **config.knowledge,
    )
    return None if answer is None else send_with_button(dispatcher, answer, button)
