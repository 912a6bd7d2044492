"""The fixed list of topics (DESIGN.md) and how intents and forms map onto them."""

from __future__ import annotations

# Topics answered from the knowledge base (knowledge/<topic>/); intents are ask_<topic>.
KNOWLEDGE_TOPICS = (
    "mitid",
    "nemid",
    "digital_post",
    "flytning",
    "koerekort",
    "skole",
    "dagtilbud",
    "opening_hours",
    "it_help",
    "courses",
)
TOPICS = (*KNOWLEDGE_TOPICS, "staff", "smalltalk", "out_of_scope")
# Folders under knowledge/: the knowledge topics plus out_of_scope, whose short articles say
# where to go with matters outside the assistant's own topics (passport, tax, pension ...).
ARTICLE_TOPICS = (*KNOWLEDGE_TOPICS, "out_of_scope")

INTENT_TOPICS: dict[str, str] = {
    **{f"ask_{topic}": topic for topic in KNOWLEDGE_TOPICS},
    "book_it_help": "it_help",
    "cancel_booking": "it_help",
    "move_booking": "it_help",
    "my_bookings": "it_help",
    "sign_up_course": "courses",
    "cancel_enrolment": "courses",
    "request_human": "staff",
    "complain": "staff",
    "request_callback": "staff",
    "greet": "smalltalk",
    "goodbye": "smalltalk",
    "thank": "smalltalk",
    "bot_challenge": "smalltalk",
    "affirm": "smalltalk",
    "deny": "smalltalk",
    "out_of_scope": "out_of_scope",
    "nlu_fallback": "out_of_scope",
}

FORM_TOPICS: dict[str, str] = {
    "booking_form": "it_help",
    "cancel_booking_form": "it_help",
    "move_booking_form": "it_help",
    "my_bookings_form": "it_help",
    "course_signup_form": "courses",
    "cancel_enrolment_form": "courses",
    "callback_form": "staff",
}

# Intents that only continue whatever is going on; they carry no topic of their own.
_CONTEXT_INTENTS = {"affirm", "deny", "inform", "stop", "show_article", "choose"}


def topic_for(
    intent: str | None, active_loop: str | None = None, slot_topic: str | None = None
) -> str:
    """The topic of a bot turn, from what the tracker knows after the turn.

    An active form wins (an answer like "ja" inside the booking form is about IT help);
    then the intent; then the last topic an action set; otherwise out_of_scope.
    """
    if active_loop and active_loop in FORM_TOPICS:
        return FORM_TOPICS[active_loop]
    if intent and intent not in _CONTEXT_INTENTS and intent in INTENT_TOPICS:
        return INTENT_TOPICS[intent]
    if slot_topic in TOPICS:
        return slot_topic  # type: ignore[return-value]
    if intent in ("affirm", "deny"):
        return "smalltalk"
    return "out_of_scope"


# A topic's name typed on its own ("Kørekort", "digital post?") is a tile press: the citizen
# names a subject and asks nothing yet. Folded spellings (bot/language/text.py: æ -> ae ...).
# Not "åbningstider": typed alone, that asks for the hours themselves.
TOPIC_NAMES: dict[str, tuple[str, ...]] = {
    "mitid": ("mitid", "mit id"),
    "nemid": ("nemid", "nem id"),
    "digital_post": ("digital post", "digitalpost", "e-boks", "eboks"),
    "flytning": ("flytning", "flytninger"),
    "koerekort": ("koerekort", "korekort"),
    "skole": ("skole", "skolen", "skolestart", "skoleindskrivning"),
    "dagtilbud": ("dagtilbud", "daginstitution", "vuggestue", "boernehave", "dagpleje"),
    "it_help": ("it-hjaelp", "it hjaelp", "digital hjaelp", "it-hjalp", "it hjalp"),
    "courses": ("kurser", "kursus", "it-kurser", "it kurser", "kurserne"),
}
