"""Multi-turn conversations through /api/chat on the real assistant (issue 8, items 4-9).

The citizens' words come from tests/holdout/dialogue.yml, written by someone who never saw
the training data, or are the issue's own examples. Where a group of phrasings is tested
together, a small share may miss (the NLU is a model, not a rule), but every group needs at
least three that work and the share that works must stay high.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from bot.db.models import ChatMessage, HelpSlot, local_now
from bot.db.session import session_scope
from bot.services.booking import BookingError, book_slot
from tests.chat_support import (
    articles_of,
    buttons_of,
    new_session,
    press,
    shown_articles,
    text_of,
    unique_phone,
)

pytestmark = pytest.mark.live

PHRASINGS = yaml.safe_load(
    (Path(__file__).parent / "holdout" / "dialogue.yml").read_text(encoding="utf-8")
)
GROUP_FLOOR = 0.8


def payloads(reply: dict) -> list[str]:
    return [b["payload"] for b in buttons_of(reply)]


def assert_group(results: dict[str, bool], floor: float = GROUP_FLOOR) -> None:
    worked = [text for text, ok in results.items() if ok]
    missed = [text for text, ok in results.items() if not ok]
    assert len(worked) >= 3, f"fewer than three phrasings work; missed: {missed}"
    assert len(worked) / len(results) >= floor, f"missed: {missed}"


def is_clarification(reply: dict) -> bool:
    return "Mener du" in text_of(reply) and "/something_else" in payloads(reply)


def offers_a_person(reply: dict) -> bool:
    """An apology and a person: the live queue when staffed, else a callback."""
    text = text_of(reply)
    person = {"/request_human", "/request_callback"} & set(payloads(reply))
    return "Undskyld" in text and bool(person)


# --- item 4: honest about doubt ------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["mistet", "jeg har mistet mit kort", "hvad koster det", "hvor lang tid tager det"]
)
def test_a_vague_question_is_never_answered_with_a_guess(live, text: str) -> None:
    reply = live.chat(new_session(), text)
    assert not articles_of(reply), text_of(reply)
    assert is_clarification(reply) or "/request_human" in payloads(reply), text_of(reply)


def test_a_clarification_offers_articles_and_the_pick_is_logged(live) -> None:
    session = new_session()
    reply = live.chat(session, "mistet")
    assert is_clarification(reply), text_of(reply)
    choices = shown_articles(reply)
    assert len(choices) >= 2
    reply = live.chat(session, payloads(reply)[0])
    assert articles_of(reply) == [choices[0]]
    with session_scope(live.settings.database_url) as db:
        rows = db.execute(
            select(ChatMessage.sender, ChatMessage.payload)
            .where(ChatMessage.conversation_id == session)
            .order_by(ChatMessage.seq)
        ).all()
    kinds = [(sender, (payload or {}).get("kind")) for sender, payload in rows]
    assert ("bot", "clarify") in kinds
    clarified = next(p for s, p in rows if (p or {}).get("kind") == "clarify")
    assert clarified["choices"] == choices
    picked = [p for s, p in rows if s == "citizen" and (p or {}).get("button_payload")]
    assert picked and choices[0] in picked[-1]["button_payload"]


@pytest.mark.parametrize(
    ("first", "reply_text", "article"),
    [
        ("jeg har mistet mit kort", "kørekortet", "koerekort-mistet"),
        ("jeg har mistet mit kort", "det gule sundhedskort", "sundhedskort-mistet"),
        ("kort væk", "mit korekort", "koerekort-mistet"),
    ],
)
def test_a_typed_reply_to_mener_du_takes_the_offered_article_it_names(
    live, first: str, reply_text: str, article: str
) -> None:
    session = new_session()
    reply = live.chat(session, first)
    assert is_clarification(reply), text_of(reply)
    assert article in shown_articles(reply)
    reply = live.chat(session, reply_text)
    assert articles_of(reply) == [article], text_of(reply)


def test_something_else_lets_the_citizen_rephrase_or_reach_staff(live) -> None:
    session = new_session()
    reply = live.chat(session, "mistet")
    assert is_clarification(reply), text_of(reply)
    reply = press(live, session, reply, "Noget andet")
    assert "med dine egne ord" in text_of(reply)
    assert "/request_human" in payloads(reply)


@pytest.mark.parametrize(
    "text",
    [
        "kan jeg låne en boremaskine hos jer",
        "hvornår kører bussen til Roskilde",
        "hvad bliver vejret i morgen",
    ],
)
def test_nothing_fits_says_so_and_offers_help(live, text: str) -> None:
    reply = live.chat(new_session(), text)
    assert not articles_of(reply), text_of(reply)
    assert "/request_human" in payloads(reply), text_of(reply)


def test_a_reply_names_its_article(live) -> None:
    reply = live.chat(new_session(), "Hvordan fornyer jeg mit kørekort?")
    (message,) = [m for m in reply["messages"] if m.get("article")]
    article = message["article"]
    assert article["id"] == "koerekort-forny"
    assert article["source"].startswith("https://") and article["source"] in message["text"]
    assert article["title"] and article["reviewed"]


# --- item 5: conversation context -----------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "first_article", "follow_up", "article"),
    [
        ("jeg skal have fornyet mit pas", "pas-bestil", "gælder det også for børn?", "pas-boern"),
        (
            "hvordan får jeg mitid første gang",
            "mitid-faa-mitid",
            "og hvis man ikke har et pas?",
            "mitid-uden-pas",
        ),
        (
            "jeg skal forny mit kørekort",
            "koerekort-forny",
            "hvad koster det så?",
            "koerekort-forny",
        ),
        # Someone else than a child asks the same thing: the article stays.
        (
            "kan jeg blive fritaget for digital post",
            "digital-post-fritagelse",
            "gælder det også for min kone?",
            "digital-post-fritagelse",
        ),
        (
            "hvordan søger jeg om boligstøtte",
            "boligstoette",
            "hvor lang tid tager det?",
            "boligstoette",
        ),
        # Pointing back keeps the conversation although the words alone pick another topic:
        # changing doctor in general, MitID on several devices, the library's digital help.
        (
            "hvordan melder jeg flytning",
            "flytning-anmeld",
            "hvad så med min læge?",
            "flytning-laege",
        ),
        (
            "kan jeg få digital post på min mobil",
            "digital-post-app",
            "virker den også på min ipad?",
            "digital-post-app",
        ),
        (
            "skal jeg have internationalt kørekort til USA",
            "koerekort-internationalt",
            "hvad skal jeg ha med?",
            "koerekort-internationalt",
        ),
    ],
)
def test_a_follow_up_is_read_against_the_previous_answer(
    live, first: str, first_article: str, follow_up: str, article: str
) -> None:
    session = new_session()
    reply = live.chat(session, first)
    assert articles_of(reply) == [first_article], text_of(reply)
    reply = live.chat(session, follow_up)
    # Answered with the article, or, when two siblings are close, asked about with that
    # article first: either way the follow-up stayed in the conversation.
    assert articles_of(reply) == [article] or shown_articles(reply)[:1] == [article], text_of(
        reply
    )
    assert reply["topic"] == live.chat(new_session(), first)["topic"]


@pytest.mark.parametrize(
    ("tile", "answer", "article"),
    [
        ("/ask_koerekort", "mistet", "koerekort-mistet"),
        ("/ask_mitid", "mistet", "mitid-mistet-telefon"),
        ("/ask_koerekort", "forny", "koerekort-forny"),
        ("/ask_digital_post", "læseadgang", "digital-post-laeseadgang"),
        # Another topic's article matches these better on their own (a passport, a doctor).
        ("/ask_koerekort", "fornyelse", "koerekort-forny"),
        ("/ask_flytning", "læge", "flytning-laege"),
        ("/ask_courses", "pris", "kurser-pris"),
        # The NLU reads these weakly as a yes or as a wish to be rung up.
        ("/ask_digital_post", "app", "digital-post-app"),
        ("/ask_koerekort", "app", "koerekort-app"),
        ("/ask_dagtilbud", "skrive op", "dagtilbud-skriv-op"),
    ],
)
def test_a_short_answer_after_a_tile_belongs_to_the_tile(
    live, tile: str, answer: str, article: str
) -> None:
    session = new_session()
    live.chat(session, tile)
    reply = live.chat(session, answer)
    assert articles_of(reply) == [article], text_of(reply)


@pytest.mark.parametrize(
    ("first", "first_article", "correction", "article"),
    [
        ("jeg skal flytte", "flytning-anmeld", "nej jeg mener til udlandet", "flytning-udlandet"),
        (
            "hvordan fornyer jeg mit kørekort",
            "koerekort-forny",
            "nej, jeg mente hvis jeg har mistet det",
            "koerekort-mistet",
        ),
        (
            "hvad koster vuggestue",
            "dagtilbud-priser",
            "nej ikke det, jeg tænkte på friplads",
            "dagtilbud-friplads",
        ),
    ],
)
def test_a_no_that_says_what_was_meant_gets_that_answered(
    live, first: str, first_article: str, correction: str, article: str
) -> None:
    # The NLU reads these as a "no"; they used to hear "Godt. Er der andet …?".
    session = new_session()
    assert articles_of(live.chat(session, first)) == [first_article]
    reply = live.chat(session, correction)
    assert articles_of(reply) == [article], text_of(reply)


@pytest.mark.parametrize("correction", ["jeg mener mitid", "nej jeg mener mitid", "Nej. MitID!"])
def test_a_correction_naming_a_topic_opens_it(live, correction: str) -> None:
    session = new_session()
    live.chat(session, "nemid")
    reply = live.chat(session, correction)
    assert reply["topic"] == "mitid" and not is_clarification(reply), text_of(reply)


def test_a_plain_no_still_asks_what_else(live) -> None:
    session = new_session()
    live.chat(session, "hvordan fornyer jeg mit kørekort")
    assert "Er der andet" in text_of(live.chat(session, "nej tak"))


def test_a_new_question_changes_the_subject(live) -> None:
    session = new_session()
    assert articles_of(live.chat(session, "jeg skal have fornyet mit pas")) == ["pas-bestil"]
    reply = live.chat(session, "hvornår skal jeg melde flytning når jeg flytter")
    assert articles_of(reply) == ["flytning-anmeld"], text_of(reply)
    assert reply["topic"] == "flytning"


# --- item 6: questions about the library's services are answered, not forms ----------------


def test_questions_about_it_help_and_courses_get_an_answer_not_a_form(live) -> None:
    results: dict[str, bool] = {}
    for case in PHRASINGS["library_question"]:
        reply = live.chat(new_session(), case["text"])
        no_form = not any('"branch"' in p or '"course_session"' in p for p in payloads(reply))
        assert no_form, f"{case['text']!r} started a form: {text_of(reply)}"
        results[case["text"]] = articles_of(reply) == [case["article"]]
    assert_group(results, floor=0.75)


@pytest.mark.parametrize(
    ("text", "button"),
    [
        ("hvad skal jeg medbringe til digital hjælp?", "/book_it_help"),
        ("koster kurserne noget?", "/sign_up_course"),
        ("skal jeg selv have en computer med til kurset?", "/sign_up_course"),
    ],
)
def test_a_service_answer_carries_the_button_that_starts_the_form(
    live, text: str, button: str
) -> None:
    reply = live.chat(new_session(), text)
    assert articles_of(reply), text_of(reply)
    assert button in payloads(reply)


def test_a_clear_wish_still_starts_the_form(live) -> None:
    results = {}
    for text in PHRASINGS["book_wish"]:
        reply = live.chat(new_session(), text)
        results[text] = reply["topic"] == "it_help" and not articles_of(reply)
    assert_group(results)
    signups = {}
    for text in PHRASINGS["signup_wish"]:
        reply = live.chat(new_session(), text)
        signups[text] = reply["topic"] == "courses" and not articles_of(reply)
    assert_group(signups, floor=0.7)


# --- item 7: tiles open an overview ---------------------------------------------------------


@pytest.mark.parametrize("tile", ["/ask_mitid", "/ask_koerekort", "/ask_flytning", "/ask_skole"])
def test_a_tile_opens_an_overview_of_the_topic(live, tile: str) -> None:
    reply = live.chat(new_session(), tile)
    assert not articles_of(reply), "a tile shows an overview, not one article"
    assert len(shown_articles(reply)) >= 3, text_of(reply)
    assert "https://" not in text_of(reply)


def test_the_courses_tile_offers_the_list_of_teams(live) -> None:
    reply = live.chat(new_session(), "/ask_courses")
    assert "/list_courses" in payloads(reply)
    reply = live.chat(new_session(), "/list_courses")
    assert "Her er de næste hold" in text_of(reply) or "ingen kommende hold" in text_of(reply)


# --- item 8: frustration reaches a person ----------------------------------------------------


def test_frustration_is_met_with_an_apology_and_a_person(live) -> None:
    results = {}
    for text in PHRASINGS["frustration"] + PHRASINGS["not_what_i_asked"]:
        session = new_session()
        live.chat(session, "hvordan får jeg mitid")
        results[text] = offers_a_person(live.chat(session, text))
    assert_group(results, floor=0.7)


def test_two_misses_in_a_row_offer_a_person(live) -> None:
    session = new_session()
    first = live.chat(session, "blorp fnarg")
    assert not offers_a_person(first)
    assert offers_a_person(live.chat(session, "xyzzy plugh"))


def test_two_thumbs_down_in_a_row_offer_a_person(live) -> None:
    session = new_session()
    live.chat(session, "hvordan får jeg mitid")
    live.chat(session, "hvordan melder jeg flytning")
    with httpx.Client(base_url=live.url, timeout=30) as client:
        messages = client.get(f"/api/conversation/{session}").json()["messages"]
        answers = [m["seq"] for m in messages if m["sender"] == "bot" and m.get("article")]
        assert len(answers) == 2
        first = client.post(
            "/api/feedback", json={"session_id": session, "seq": answers[0], "rating": "down"}
        ).json()
        assert first["messages"] == []
        second = client.post(
            "/api/feedback", json={"session_id": session, "seq": answers[1], "rating": "down"}
        ).json()
    assert second["messages"], second
    assert offers_a_person({"messages": second["messages"]})


# --- item 9: the forms' known defects ---------------------------------------------------------


def booked_reference(live, contact: str | None = None) -> str:
    """A booking made the way the booking form makes it, on the next free help slot."""
    with session_scope(live.settings.database_url, read_only=True) as db:
        upcoming = db.scalars(
            select(HelpSlot.id).where(HelpSlot.starts_at > local_now()).order_by(HelpSlot.starts_at)
        ).all()
    for slot_id in upcoming:
        try:
            with session_scope(live.settings.database_url) as db:
                phone = contact or unique_phone()
                return book_slot(db, slot_id, "Karen Jensen", phone, "mitid").reference
        except BookingError:
            continue  # taken by an earlier test: the next one
    raise AssertionError("no free help slot left in the demo library")


@pytest.mark.parametrize(
    "sentence",
    [
        "kan jeg flytte min tid {ref}",
        "flyt venligst booking {ref} til en anden dag",
        "min tid har nummer {ref} men jeg skal til lægen, kan den rykkes",
    ],
)
def test_a_reference_inside_a_sentence_is_read(live, sentence: str) -> None:
    reference = booked_reference(live)
    reply = live.chat(new_session(), sentence.format(ref=reference))
    assert "bookingnummer" not in text_of(reply).lower(), text_of(reply)
    assert "telefon" in text_of(reply).lower() or "e-mail" in text_of(reply).lower()


def test_do_i_have_an_appointment_lists_instead_of_cancelling(live) -> None:
    results = {}
    for text in PHRASINGS["list_my_bookings"]:
        reply = live.chat(new_session(), text)
        asked = text_of(reply).lower()
        assert "aflys" not in asked, f"{text!r} opened the cancel form: {asked}"
        results[text] = reply["topic"] in ("it_help", "courses") and (
            "telefon" in asked or "e-mail" in asked
        )
    assert_group(results)


@pytest.mark.parametrize(
    "change_of_mind",
    [
        "glem det, jeg vil hellere booke en ny",
        "annuller, jeg vil hellere tilmelde mig et kursus",
        "glem det, jeg vil hellere have en helt ny tid",
        "nej vent, jeg vil ikke aflyse alligevel",
        "stop, jeg har ombestemt mig",
    ],
)
def test_the_cancel_form_can_be_left_by_changing_one_s_mind(live, change_of_mind: str) -> None:
    session = new_session()
    reply = live.chat(session, "jeg vil aflyse min tid")
    assert "bookingnummer" in text_of(reply), text_of(reply)
    reply = live.chat(session, change_of_mind)
    assert "stop" in text_of(reply).lower(), text_of(reply)
    # The form is over: a question is now answered as a question.
    reply = live.chat(session, "hvordan fornyer jeg mit kørekort")
    assert articles_of(reply) == ["koerekort-forny"], text_of(reply)


@pytest.mark.parametrize("day", ["den 3.", "d. 21", "den 14"])
def test_a_bare_day_of_the_month_is_understood_in_the_booking_form(live, day: str) -> None:
    session = new_session()
    reply = live.chat(session, "jeg vil gerne booke en tid til it-hjælp")
    reply = press(live, session, reply, "Hovedbiblioteket")
    if '"help_topic"' in " ".join(payloads(reply)):
        reply = press(live, session, reply, "MitID")
    assert "tid" in text_of(reply).lower(), text_of(reply)
    reply = live.chat(session, day)
    assert "forstod jeg ikke" not in text_of(reply), text_of(reply)
    live.chat(session, "stop")


@pytest.mark.parametrize("cpr", ["010190-1234", "0101901234", "01 01 90 12 34"])
def test_a_cpr_number_typed_as_the_name_gets_the_cpr_notice(live, cpr: str) -> None:
    session = new_session()
    reply = live.chat(session, "tilmeld mig et kursus")
    if '"course_session"' in " ".join(payloads(reply)):
        reply = live.chat(session, next(p for p in payloads(reply) if "course_session" in p))
    assert "navn" in text_of(reply).lower(), text_of(reply)
    reply = live.chat(session, cpr)
    assert "CPR-nummer" in text_of(reply)
    assert "bogstaver" not in text_of(reply)
    live.chat(session, "stop")


@pytest.mark.parametrize("text", ["pas", "app"])
def test_one_word_about_a_subject_is_not_taken_for_a_yes(live, text: str) -> None:
    # DIET reads "pas" as "det passer" (affirm); the bot used to say "Godt. Er der andet …?".
    reply = live.chat(new_session(), text)
    assert "Er der andet" not in text_of(reply)
    assert articles_of(reply) or is_clarification(reply), text_of(reply)
