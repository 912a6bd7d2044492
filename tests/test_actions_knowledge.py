"""The knowledge action on trackers built from small JSON fixtures (no live services)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import ActionAnswerKnowledge
from bot.core.topics import INTENT_TOPICS
from bot.services.courses import COURSE_LIST_ANSWERS

FIXTURES = Path(__file__).parent / "fixtures" / "trackers"


def tracker_from(name: str, **latest_message: object) -> Tracker:
    state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    state = copy.deepcopy(state)
    state["latest_message"].update(latest_message)
    return Tracker.from_dict(state)


def run(tracker: Tracker) -> tuple[list[dict], dict[str, object]]:
    """The text messages the citizen sees, and the slots set; the turn's ``borger`` meta
    message (kind, topic, article) is checked in `meta`."""
    dispatcher = CollectingDispatcher()
    events = ActionAnswerKnowledge().run(dispatcher, tracker, {})
    texts = [m for m in dispatcher.messages if m.get("text")]
    return texts, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def meta(tracker: Tracker) -> dict:
    dispatcher = CollectingDispatcher()
    ActionAnswerKnowledge().run(dispatcher, tracker, {})
    (custom,) = [m["custom"]["borger"] for m in dispatcher.messages if m.get("custom")]
    return custom


@pytest.mark.parametrize(
    ("intent", "text", "article"),
    [
        ("ask_koerekort", "Hvordan fornyer jeg mit kørekort?", "koerekort-forny"),
        ("ask_koerekort", "jeg har mistet mit koerekort", "koerekort-mistet"),
        ("ask_mitid", "Min telefon med MitID er blevet stjålet", "mitid-mistet-telefon"),
        ("ask_flytning", "hvor hurtigt skal jeg melde flytning", "flytning-anmeld"),
        ("ask_opening_hours", "hvornår har I åbent", "aabningstider"),
    ],
)
def test_picks_the_specific_article_of_the_topic(intent: str, text: str, article: str) -> None:
    tracker = tracker_from("knowledge_question", text=text, intent={"name": intent})
    messages, slots = run(tracker)
    assert slots == {"topic": INTENT_TOPICS[intent], "article_id": article}
    assert len(messages) == 1
    assert "https://" in messages[0]["text"]
    described = meta(tracker)
    assert described["kind"] == "answer"
    assert described["article"]["id"] == article
    assert described["article"]["source"].startswith("https://")


@pytest.mark.parametrize("intent", sorted(i for i in INTENT_TOPICS if i.startswith("ask_")))
def test_a_bare_topic_button_gets_the_topic_overview(intent: str) -> None:
    tracker = tracker_from("knowledge_question", text=f"/{intent}", intent={"name": intent})
    messages, slots = run(tracker)
    assert slots["topic"] == INTENT_TOPICS[intent]
    assert messages and messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Kørekort", "koerekort"),
        ("korekort?", "koerekort"),
        ("hjælp med digital post", "digital_post"),
        ("Vuggestue", "dagtilbud"),
        ("MitID.", "mitid"),
    ],
)
def test_a_topic_name_typed_alone_opens_the_topic_like_its_tile(text: str, topic: str) -> None:
    tracker = tracker_from("knowledge_question", text=text, intent={"name": f"ask_{topic}"})
    messages, slots = run(tracker)
    assert slots == {"topic": topic, "article_id": None}
    assert meta(tracker)["kind"] == "overview"
    assert len(messages[0]["buttons"]) >= 3


@pytest.mark.parametrize("text", ["åbningstider", "jeg skal flytte", "mistet kørekort"])
def test_a_question_naming_a_topic_is_no_tile(text: str) -> None:
    from bot.services.answers import typed_topic

    assert typed_topic(text) is None


def test_a_typed_reply_to_mener_du_takes_one_of_the_offered_articles() -> None:
    first = tracker_from(
        "knowledge_question", text="jeg har mistet mit kort", intent={"name": "ask_koerekort"}
    )
    dispatcher = CollectingDispatcher()
    ActionAnswerKnowledge().run(dispatcher, first, {})
    (asked,) = [m["custom"]["borger"] for m in dispatcher.messages if m.get("custom")]
    assert asked["kind"] == "clarify" and "koerekort-mistet" in asked["choices"]
    # The next turn's tracker: the clarification as Rasa keeps it, then the typed reply.
    reply = {"text": "kørekortet", "intent": {"name": "ask_koerekort", "confidence": 0.9}}
    state = json.loads((FIXTURES / "knowledge_question.json").read_text(encoding="utf-8"))
    state["events"] = [
        {"event": "user", "text": "jeg har mistet mit kort"},
        *({"event": "bot", "text": m.get("text"), "data": {"custom": m.get("custom")}}
          for m in dispatcher.messages),
        {"event": "user", **reply},
    ]
    state["latest_message"].update(reply)
    state["slots"]["topic"] = asked["topic"]
    messages, slots = run(Tracker.from_dict(state))
    assert slots["article_id"] == "koerekort-mistet", messages


def test_follow_up_button_names_the_article_and_offers_related_ones() -> None:
    messages, slots = run(tracker_from("knowledge_button"))
    assert slots == {"topic": "koerekort", "article_id": "koerekort-mistet"}
    for button in messages[0]["buttons"]:
        assert button["payload"].startswith('/show_article{"article_id":"')


def test_opening_hours_are_filled_in_from_the_library_config() -> None:
    tracker = tracker_from(
        "knowledge_question",
        text="Hvornår har Strandby Bibliotek åbent?",
        intent={"name": "ask_opening_hours"},
    )
    text = run(tracker)[0][0]["text"]
    assert "{aabningstider}" not in text
    assert "Strandby" in text
    assert "Hovedbiblioteket" not in text


def test_a_question_about_the_courses_is_answered_with_the_way_to_sign_up() -> None:
    tracker = tracker_from(
        "knowledge_question", text="koster kurserne noget", intent={"name": "ask_courses"}
    )
    messages, slots = run(tracker)
    assert slots["topic"] == "courses"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert "/list_courses" in payloads and "/sign_up_course" in payloads


def test_a_question_about_it_help_offers_a_booking_instead_of_starting_one() -> None:
    tracker = tracker_from(
        "knowledge_question",
        text="hvad skal jeg have med til min aftale om it-hjælp?",
        intent={"name": "ask_it_help"},
    )
    messages, slots = run(tracker)
    assert slots == {"topic": "it_help", "article_id": "digital-hjaelp-medbring"}
    assert messages[0]["buttons"][0] == {"title": "Book en tid", "payload": "/book_it_help"}


def test_a_plain_question_read_as_a_wish_for_a_person_gets_its_article_and_a_person_button() -> (
    None
):
    from actions.handoff import STAFF_BUTTON, ActionHandoff

    tracker = tracker_from(
        "knowledge_question",
        text="hvor mange år gælder et pas for en voksen?",
        intent={"name": "request_human", "confidence": 0.48},
    )
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, tracker, {})
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"topic": "out_of_scope", "article_id": "pas-bestil"}
    texts = [m for m in dispatcher.messages if m.get("text")]
    assert "10 år" in texts[0]["text"]
    assert STAFF_BUTTON in texts[-1]["buttons"]


@pytest.mark.parametrize(
    "text",
    [
        "jeg vil gerne tale med en medarbejder om mit pas",
        "kan en person ringe mig op om mit kørekort",
        "pas",  # too short to be plainly a question
        "jeg har mistet mit kort og vil gerne have hjælp",  # could be several articles
    ],
)
def test_a_wish_for_a_person_or_an_unclear_message_is_never_answered_instead(text: str) -> None:
    from bot.services.answers import clear_question_answer

    assert clear_question_answer(text) is None


def test_a_course_question_the_list_answers_better_is_not_answered_instead() -> None:
    from actions.replies import answer_instead

    tracker = tracker_from(
        "knowledge_question",
        text="hvad koster det at gå på jeres it kurser?",
        intent={"name": "list_courses"},
    )
    button = {"title": "Se bibliotekets it-kurser", "payload": "/list_courses"}
    # The price article would answer it, but the course list (whose intro says the courses
    # are free) is what the flow is for.
    assert answer_instead(CollectingDispatcher(), tracker, button) is not None
    assert answer_instead(
        CollectingDispatcher(), tracker, button, own_articles=COURSE_LIST_ANSWERS
    ) is None


def test_a_course_question_the_list_does_not_answer_gets_its_article() -> None:
    from actions.replies import answer_instead

    tracker = tracker_from(
        "knowledge_question",
        text="skal jeg selv have min egen computer eller ipad med til kurserne?",
        intent={"name": "list_courses"},
    )
    button = {"title": "Se bibliotekets it-kurser", "payload": "/list_courses"}
    dispatcher = CollectingDispatcher()
    events = answer_instead(dispatcher, tracker, button, own_articles=COURSE_LIST_ANSWERS)
    assert events is not None
    assert {e["name"]: e["value"] for e in events}["article_id"] == "kurser-udstyr"
    # The way to the list the citizen may have meant (the article offers it already).
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    assert payloads.count("/list_courses") == 1


@pytest.mark.parametrize(
    ("text", "answered"),
    [
        ("jeg har glemt at melde flytning, hvad gør jeg nu?", True),  # "glemt" is no stop
        ("stop", False),
        ("glem det", False),
        ("/stop", False),
    ],
)
def test_a_stop_with_no_form_open_answers_a_question_the_nlu_read_as_a_stop(
    text: str, answered: bool
) -> None:
    from actions.knowledge import NOTHING_TO_STOP, ActionNothingToStop

    tracker = tracker_from("knowledge_question", text=text, intent={"name": "stop"})
    dispatcher = CollectingDispatcher()
    ActionNothingToStop().run(dispatcher, tracker, {})
    if answered:
        assert "flyt" in dispatcher.messages[0]["text"].lower()
    else:
        assert [m["text"] for m in dispatcher.messages] == [NOTHING_TO_STOP]


def yes_or_no(
    text: str, intent: str, confidence: float = 0.95, **slots: object
) -> tuple[list[dict], list[dict]]:
    from actions.knowledge import ActionYesOrNo

    tracker = tracker_from(
        "knowledge_question", text=text, intent={"name": intent, "confidence": confidence}
    )
    tracker.slots.update(slots)
    dispatcher = CollectingDispatcher()
    events = ActionYesOrNo().run(dispatcher, tracker, {})
    return dispatcher.messages, events


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("nej, jeg mener hvordan jeg fornyer mit pas", "pas-"),
        ("nej jeg mener til udlandet", "flytning-udlandet"),
        ("nej jeg mente hvis jeg har mistet det", "koerekort-mistet"),
        ("nej, det var ikke det jeg mente. Hvad hvis jeg har mistet kørekortet?",
         "koerekort-mistet"),
    ],
)
def test_a_no_with_a_question_after_it_answers_the_question(text: str, wanted: str) -> None:
    messages, events = yes_or_no(
        text, "deny", topic="koerekort", article_id="koerekort-forny"
    )
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["article_id"].startswith(wanted), messages
    # What the citizen turned down is not what they get again.
    assert slots["article_id"] != "koerekort-forny"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("nej tak", "deny"), ("nej", "deny"), ("ja det stemmer", "affirm"), ("/deny", "deny"),
     ("nej, det var ikke det jeg mente", "deny"), ("ja tak", "affirm")],
)
def test_a_plain_yes_or_no_asks_what_else(text: str, intent: str) -> None:
    from actions.knowledge import ANYTHING_ELSE

    messages, events = yes_or_no(text, intent, topic="koerekort", article_id="koerekort-forny")
    assert [m["text"] for m in messages] == [ANYTHING_ELSE] and events == []


def test_a_yes_with_a_question_after_it_is_a_follow_up() -> None:
    messages, events = yes_or_no(
        "ja, men hvad koster det?", "affirm", topic="koerekort", article_id="koerekort-forny"
    )
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    # The renewal names its fee, so the price question stays with it.
    assert slots == {"topic": "koerekort", "article_id": "koerekort-forny"}, messages


def test_jeg_mener_and_a_topic_name_opens_that_topic() -> None:
    tracker = tracker_from(
        "knowledge_question", text="nej jeg mener mitid", intent={"name": "ask_mitid"}
    )
    tracker.slots.update(topic="nemid")
    described = meta(tracker)
    assert described["kind"] == "overview" and described["topic"] == "mitid"


@pytest.mark.parametrize(
    ("text", "topic", "wanted"),
    [
        ("app", "digital_post", "digital-post-app"),
        ("app", "koerekort", "koerekort-app"),
        ("læseadgang", "digital_post", "digital-post-laeseadgang"),
        ("ny telefon", "mitid", "mitid-ny-telefon"),
        ("melde ud", "dagtilbud", "dagtilbud-venteliste"),  # not moving abroad: the topic's
    ],
)
def test_a_short_reply_the_nlu_read_weakly_as_a_yes_is_answered_in_its_topic(
    text: str, topic: str, wanted: str
) -> None:
    # After a topic's tile (topic set, no article yet), as "app" after Digital Post.
    messages, events = yes_or_no(text, "affirm", 0.48, topic=topic, article_id=None)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"topic": topic, "article_id": wanted}, messages


@pytest.mark.parametrize(
    ("text", "confidence", "topic"),
    [
        ("ja tak", 0.5, "digital_post"),  # a yes, however unsure the NLU is
        ("super", 0.5, "digital_post"),
        ("selvfølgelig", 0.9, None),
    ],
)
def test_a_yes_or_no_the_conversation_does_not_answer_asks_what_else(
    text: str, confidence: float, topic: str | None
) -> None:
    from actions.knowledge import ANYTHING_ELSE

    messages, events = yes_or_no(text, "affirm", confidence, topic=topic, article_id=None)
    assert [m["text"] for m in messages] == [ANYTHING_ELSE] and events == []


@pytest.mark.parametrize(
    ("text", "confidence", "topic", "shown"),
    [
        ("pas", 0.71, None, "pas-"),  # the NLU took the passport for "det passer"
        ("app", 0.95, "digital_post", "digital-post-app"),  # sure, and still not a yes
        ("app", 0.48, None, "-app"),  # no conversation: asked which app
    ],
)
def test_a_subject_the_nlu_took_for_a_yes_is_answered_or_asked_about(
    text: str, confidence: float, topic: str | None, shown: str
) -> None:
    from actions.knowledge import ANYTHING_ELSE

    messages, events = yes_or_no(text, "affirm", confidence, topic=topic, article_id=None)
    assert ANYTHING_ELSE not in [m["text"] for m in messages]
    meta = next(m["custom"]["borger"] for m in messages if m.get("custom"))
    assert meta["kind"] in ("answer", "clarify")
    offered = [meta["article"]["id"]] if meta["kind"] == "answer" else meta["choices"]
    assert any(shown in article_id for article_id in offered), offered


@pytest.mark.parametrize(
    ("text", "answered"),
    [
        ("hvordan sletter jeg en digital fuldmagt igen?", True),
        ("er du dum?", False),
        ("hvorfor forstår du ikke hvad jeg skriver?", False),
        ("det hjælper slet ikke", False),
        ("hvorfor er det så svært at få en fuldmagt?", False),
    ],
)
def test_a_plain_question_read_as_frustration_gets_its_article_and_a_person_button(
    text: str, answered: bool
) -> None:
    from actions.handoff import STAFF_BUTTON, ActionHandoff

    tracker = tracker_from(
        "knowledge_question", text=text, intent={"name": "frustrated", "confidence": 0.96}
    )
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, tracker, {})
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    texts = [m for m in dispatcher.messages if m.get("text")]
    if answered:
        assert slots["article_id"] == "mitid-fuldmagt-tilbagekald"
        assert STAFF_BUTTON in texts[-1]["buttons"]
    else:
        assert slots == {} and texts[0]["text"].startswith("Undskyld")


@pytest.mark.parametrize(
    "text",
    ["hvordan fjerner jeg den igen?", "kan jeg slette den igen?", "hvordan stopper jeg den?"],
)
def test_a_follow_up_question_read_as_frustration_is_answered_or_asked_about(text: str) -> None:
    """After the article on power of attorney, "hvordan fjerner jeg den igen?" (frustrated
    0.98 in the NLU) is about revoking it: its article, or "Mener du …?" with it among the
    choices, never an apology and a person."""
    from actions.handoff import ActionHandoff

    tracker = tracker_from(
        "knowledge_question", text=text, intent={"name": "frustrated", "confidence": 0.98}
    )
    tracker.slots.update({"topic": "mitid", "article_id": "mitid-fuldmagt"})
    dispatcher = CollectingDispatcher()
    ActionHandoff().run(dispatcher, tracker, {})
    (reply,) = [m["custom"]["borger"] for m in dispatcher.messages if m.get("custom")]
    offered = [reply["article"]["id"]] if reply["kind"] == "answer" else reply["choices"]
    assert "mitid-fuldmagt-tilbagekald" in offered, reply
    assert not dispatcher.messages[0]["text"].startswith("Undskyld")


def test_the_article_just_shown_is_never_the_answer_instead_of_a_person() -> None:
    from bot.services.answering import Context
    from bot.services.answers import clear_question_answer

    text = "hvor mange år gælder et pas for en voksen?"
    assert clear_question_answer(text, Context("out_of_scope", "koerekort-forny")) is not None
    assert clear_question_answer(text, Context("out_of_scope", "pas-bestil")) is None


@pytest.mark.parametrize(
    ("text", "topic", "shown", "wanted"),
    [
        # A spouse or a parent asks the same thing for someone else: the article stays.
        ("gælder det også for min mand?", "digital_post", "digital-post-fritagelse",
         "digital-post-fritagelse"),
        ("kan min kone også det?", "digital_post", "digital-post-fritagelse",
         "digital-post-fritagelse"),
        ("gælder det også for min far?", "flytning", "flytning-anmeld", "flytning-anmeld"),
        # A child often has an article of its own.
        ("og til min datter på 10?", "out_of_scope", "pas-bestil", "pas-boern"),
        ("gælder det også for børn?", "mitid", "mitid-faa-mitid", "mitid-boern-unge"),
    ],
)
def test_a_follow_up_about_someone_else_stays_with_the_article_unless_a_child_has_its_own(
    text: str, topic: str, shown: str, wanted: str
) -> None:
    tracker = tracker_from(
        "knowledge_question", text=text, intent={"name": "follow_up", "confidence": 0.99}
    )
    tracker.slots.update(topic=topic, article_id=shown)
    _, slots = run(tracker)
    assert slots["article_id"] == wanted


@pytest.mark.parametrize(
    ("tile_topic", "text", "intent", "wanted"),
    [
        # One or two words after a tile stay in its topic, even where another topic's article
        # matches them better on their own (a passport renewal, changing one's doctor).
        ("koerekort", "fornyelse", "out_of_scope", "koerekort-forny"),
        ("flytning", "læge", "out_of_scope", "flytning-laege"),
        # A price asked after a tile goes to the topic's article that names one.
        ("courses", "pris", "follow_up", "kurser-pris"),
        ("dagtilbud", "hvad koster det", "follow_up", "dagtilbud-priser"),
    ],
)
def test_a_keyword_after_a_tile_is_read_in_the_tile_s_topic(
    tile_topic: str, text: str, intent: str, wanted: str
) -> None:
    tracker = tracker_from(
        "knowledge_question", text=text, intent={"name": intent, "confidence": 1.0}
    )
    tracker.slots.update(topic=tile_topic, article_id=None)
    _, slots = run(tracker)
    assert slots["article_id"] == wanted


def test_a_plain_question_read_as_a_yes_gets_its_article() -> None:
    # No yes or no in it: the NLU's "affirm" is a mistake, as "request_human" can be.
    messages, events = yes_or_no(
        "hvor mange år gælder et pas for en voksen?", "affirm", 0.9,
        topic=None, article_id=None,
    )
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"topic": "out_of_scope", "article_id": "pas-bestil"}, messages
