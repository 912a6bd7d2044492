"""The answer engine's decisions on a small, made-up knowledge base (no model, no database).

A fake retriever gives fixed shares, so each test shows one rule of bot/answering.py: when an
article answers, when the citizen is asked "Mener du …?", when nothing fits, how the intent's
topic and the conversation's topic weigh in, and what counts as a follow-up.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.topics import INTENT_TOPICS
from bot.services.answering import (
    AnswerEngine,
    Context,
    Outcome,
    Thresholds,
    intent_hint,
    is_vague,
    looks_like_follow_up,
)
from bot.services.knowledge import Article
from bot.services.retrieval import Ranking, Retriever


def article(article_id: str, topic: str, title: str = "", body: str = "Tekst.") -> Article:
    return Article(
        id=article_id,
        topic=topic,
        title=title or article_id,
        source=f"https://example.dk/{topic}/{article_id}",
        reviewed=date(2026, 12, 1),
        body=body,
    )


ARTICLES = {
    a.id: a
    for a in (
        article("pas-bestil", "out_of_scope", "Bestil eller forny pas"),
        article("pas-boern", "out_of_scope", "Pas til børn"),
        article("koerekort-mistet", "koerekort", "Mistet kørekort"),
        article("koerekort-forny", "koerekort", "Forny kørekort", "Det koster 280 kr."),
        article("kurser-pris", "courses", "Hvad koster kurserne"),
        article("mitid-mistet-telefon", "mitid", "Mistet telefon med MitID"),
        article("dagtilbud-typer", "dagtilbud", "Typer af dagtilbud", "Vuggestue er for 0-2 år."),
        article("dagtilbud-priser", "dagtilbud", "Priser", "En plads koster 4.000 kr."),
    )
}


class FixedRetriever(Retriever):
    """Shares per query text, as the hybrid retriever would give them."""

    name = "fixed"

    def __init__(self, answers: dict[str, tuple[dict[str, float], float]]) -> None:
        super().__init__(ARTICLES)
        self.answers = answers
        self.asked: list[str] = []

    def rank(self, text: str) -> Ranking:
        self.asked.append(text)
        shares, similarity = self.answers.get(text, ({}, 0.80))
        full = {a: shares.get(a, 0.0) for a in ARTICLES}
        rest = 1.0 - sum(full.values())
        for article_id in full:
            full[article_id] += rest / len(full)
        return Ranking(full, similarity)

    def scores(self, text: str) -> dict[str, float]:
        return self.rank(text).shares


THRESHOLDS = Thresholds(
    answer=0.5, margin=0.1, similar=0.88, clarify=0.15, related=0.86, follow_up_similar=0.86,
    context_prior=4.0, article_prior=0.0,
)


def engine(answers: dict[str, tuple[dict[str, float], float]]) -> AnswerEngine:
    return AnswerEngine(ARTICLES, FixedRetriever(answers), THRESHOLDS)


def test_a_clear_best_article_answers() -> None:
    decision = engine({"nyt pas": ({"pas-bestil": 0.8}, 0.93)}).decide("nyt pas")
    assert decision.outcome is Outcome.ANSWER
    assert decision.article.id == "pas-bestil"


def test_two_close_articles_get_a_clarifying_question() -> None:
    shares = {"pas-bestil": 0.42, "pas-boern": 0.40}
    decision = engine({"pas": (shares, 0.92)}).decide("pas")
    assert decision.outcome is Outcome.CLARIFY
    assert [a.id for a in decision.choices] == ["pas-bestil", "pas-boern"]
    assert decision.article is None


def test_a_best_article_far_from_the_question_is_not_an_answer() -> None:
    # Ahead of the others, but not similar to the question at all: nothing fits.
    decision = engine({"boremaskine": ({"koerekort-mistet": 0.9}, 0.80)}).decide("boremaskine")
    assert decision.outcome is Outcome.NONE


def test_a_loosely_related_best_article_is_offered_not_answered() -> None:
    decision = engine({"kort væk": ({"koerekort-mistet": 0.9}, 0.87)}).decide("kort væk")
    assert decision.outcome is Outcome.CLARIFY
    assert [a.id for a in decision.choices] == ["koerekort-mistet"]


def test_the_intent_topic_tips_a_close_call_but_a_clear_article_elsewhere_wins() -> None:
    close = {"mistet id": ({"koerekort-mistet": 0.40, "mitid-mistet-telefon": 0.38}, 0.92)}
    assert engine(close).decide("mistet id", "koerekort", 1.0).article.id == "koerekort-mistet"
    # The NLU says MitID, but the retriever is sure the question is about the licence.
    clear = {"mistet kørekort": ({"koerekort-mistet": 0.85, "mitid-mistet-telefon": 0.05}, 0.94)}
    decision = engine(clear).decide("mistet kørekort", "mitid", 1.0)
    assert decision.article.id == "koerekort-mistet"


def test_a_follow_up_leans_on_the_conversation_s_topic() -> None:
    # Alone, "id til børn" could be MitID for children as well as a child's passport.
    shares = {"pas-boern": 0.36, "mitid-mistet-telefon": 0.42}
    retriever = FixedRetriever({"og hvad med id til børn?": (shares, 0.90)})
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        "og hvad med id til børn?", context=Context("out_of_scope", "pas-bestil")
    )
    assert decision.follow_up
    assert decision.article.id == "pas-boern"


def test_a_message_without_a_subject_never_changes_the_subject() -> None:
    # Alone, "hvad koster det?" is confidently the course-price article; after the licence
    # article it asks what the licence costs.
    retriever = FixedRetriever(
        {
            "hvad koster det?": ({"kurser-pris": 0.9}, 0.95),
            "hvad koster det? Forny kørekort": ({"koerekort-forny": 0.7}, 0.92),
        }
    )
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        "hvad koster det?", "courses", 0.9, Context("koerekort", "koerekort-forny")
    )
    assert decision.follow_up
    assert decision.article.id == "koerekort-forny"


@pytest.mark.parametrize(
    "text", ["hvad koster det så?", "skal man betale for det", "er det gratis?"]
)
def test_a_price_asked_after_an_article_without_one_is_looked_for_in_the_topic(
    text: str,
) -> None:
    # The article on kinds of day care names no price: the weight it would get as the article
    # just shown goes to the topic's articles that name one, and the query borrows the
    # topic's words, not that article's title. Alone, the retriever would put the article
    # just shown first.
    query = f"{text} dagtilbud børnehave vuggestue"
    shares = {"dagtilbud-priser": 0.30, "dagtilbud-typer": 0.42}
    retriever = FixedRetriever({query: (shares, 0.90)})
    thresholds = Thresholds(**{**THRESHOLDS.__dict__, "article_prior": 1.0})
    decision = AnswerEngine(ARTICLES, retriever, thresholds).decide(
        text, context=Context("dagtilbud", "dagtilbud-typer")
    )
    assert retriever.asked[-1] == query
    assert decision.follow_up and decision.article.id == "dagtilbud-priser"


def test_a_price_asked_after_an_article_that_names_one_stays_with_it() -> None:
    retriever = FixedRetriever(
        {"hvad koster det så? Priser": ({"dagtilbud-priser": 0.6}, 0.90)}
    )
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        "hvad koster det så?", context=Context("dagtilbud", "dagtilbud-priser")
    )
    assert decision.article.id == "dagtilbud-priser"


def test_a_message_without_a_subject_borrows_the_article_s_words() -> None:
    retriever = FixedRetriever(
        {"hvor gør jeg det? Bestil eller forny pas": ({"pas-bestil": 0.8}, 0.93)}
    )
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        "hvor gør jeg det?", context=Context("out_of_scope", "pas-bestil")
    )
    assert "hvor gør jeg det? Bestil eller forny pas" in retriever.asked
    assert decision.article.id == "pas-bestil"


def test_a_short_answer_after_a_tile_is_read_against_the_tile_topic() -> None:
    # "mistet" alone could be anything; after the tile it borrows the tile's word.
    shares = {"koerekort-mistet": 0.30, "mitid-mistet-telefon": 0.40}
    retriever = FixedRetriever({"mistet kørekort": (shares, 0.90)})
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        "mistet", context=Context("koerekort")
    )
    assert retriever.asked[-1] == "mistet kørekort"
    assert decision.article.id == "koerekort-mistet"


def test_a_question_clearly_about_something_else_changes_the_subject() -> None:
    question = "Hvordan melder jeg mit MitID spærret når telefonen er stjålet i toget"
    retriever = FixedRetriever({question: ({"mitid-mistet-telefon": 0.8}, 0.94)})
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        question, context=Context("out_of_scope", "pas-bestil")
    )
    assert not decision.follow_up
    assert decision.article.id == "mitid-mistet-telefon"


def test_a_message_pointing_back_stays_in_the_conversation() -> None:
    # "virker den også på min ipad?" after the Digital Post app: the words alone would pick
    # another topic's article, but "den" is the app just talked about.
    text = "gælder den også i sverige?"
    retriever = FixedRetriever(
        {text: ({"pas-bestil": 0.55, "koerekort-forny": 0.2}, 0.93)}
    )
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        text, context=Context("koerekort", "koerekort-forny")
    )
    assert decision.follow_up
    assert decision.article.id == "koerekort-forny"


@pytest.mark.parametrize(
    "text",
    [
        "hvad så med lægen?",
        "og hvad med mit pas",
        "virker den også på min ipad",
        "hvor længe gælder den",
        "koster det noget at skifte",
        "hvad skal jeg have med derned",
        "og hvis jeg mister det i udlandet?",
    ],
)
def test_messages_that_point_back(text: str) -> None:
    from bot.services.answering import points_back

    assert points_back(text)


@pytest.mark.parametrize(
    "text",
    [
        # "det" as the article of a noun, and "også" adding a new subject.
        "jeg har mistet det gule kort",
        "jeg har også mistet mit pas, hvad gør jeg",
        "hvordan fornyer jeg mit kørekort?",
        # Too much of a subject of its own.
        "og hvad med min søns pas og sundhedskort og kørekort",
    ],
)
def test_messages_that_do_not_point_back(text: str) -> None:
    from bot.services.answering import points_back

    assert not points_back(text)


def test_stop_words_mistaken_for_content_words_by_the_lemma_table() -> None:
    from bot.services.answering import content_words

    # The lemma table turns "med" into "mede" and "have" into "hav".
    assert content_words("hvad skal jeg have med") == []
    assert content_words("hvad skal jeg have med til mit pas") == ["passe"]


@pytest.mark.parametrize(
    "text",
    [
        "hvad koster det så?",
        "gælder det også for børn?",
        "og hvis man ikke har et pas?",
        "hvor lang tid tager det?",
        "mistet",
        "og min mand?",
    ],
)
def test_follow_ups_are_recognised(text: str) -> None:
    assert looks_like_follow_up(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hvordan fornyer jeg mit kørekort?",
        "jeg har mistet min telefon med MitID appen",
        "hvordan skriver jeg mit barn op til vuggestue",
    ],
)
def test_full_questions_are_not_follow_ups(text: str) -> None:
    assert not looks_like_follow_up(text)


def test_the_intent_hint_of_a_fallback_is_its_best_real_intent() -> None:
    ranking = [("nlu_fallback", 0.45), ("ask_koerekort", 0.30), ("greet", 0.1)]
    assert intent_hint("nlu_fallback", 0.45, ranking, INTENT_TOPICS) == ("koerekort", 0.30)
    assert intent_hint("ask_mitid", 0.9, (), INTENT_TOPICS) == ("mitid", 0.9)
    assert intent_hint("out_of_scope", 0.7, (), INTENT_TOPICS) == ("out_of_scope", 0.7)
    assert intent_hint("greet", 0.99, (), INTENT_TOPICS) == (None, 0.0)


@pytest.mark.parametrize("text", ["jeg har mistet mit kort", "kort væk", "glemt kode", "min app"])
def test_a_message_that_could_be_about_several_things_is_asked_about(text: str) -> None:
    assert is_vague(text)
    # Even when the retriever leans clearly on one article, the citizen is asked which.
    retriever = FixedRetriever({text: ({"koerekort-mistet": 0.8, "pas-bestil": 0.1}, 0.95)})
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(text)
    assert decision.outcome is Outcome.CLARIFY
    assert len(decision.choices) >= 2


@pytest.mark.parametrize("text", ["mistet kørekort", "glemt kode til mitid", "mistet pas"])
def test_a_message_that_names_its_subject_is_not_vague(text: str) -> None:
    assert not is_vague(text)


@pytest.mark.parametrize(
    ("question", "body", "answered"),
    [
        ("hvad koster det så?", "Et nyt kort koster 280 kr.", True),
        ("er det gratis", "Det er gratis for pensionister.", True),
        ("hvad koster det?", "Vuggestue er for børn fra 0-2 år.", False),
        ("hvor lang tid tager det?", "Det tager et par uger.", True),
        ("hvor længe skal jeg vente", "Du får svar inden for 5 hverdage.", True),
        ("hvor lang tid tager det?", "Ring til kommunen.", False),
        ("hvad skal jeg have med?", "Tag et foto og dit kørekort med.", True),
        ("skal jeg ha noget med", "Husk dit MitID og dine briller.", True),
        ("hvad skal jeg have med", "Skriv book tid her i chatten.", False),
    ],
)
def test_an_aspect_is_answered_by_an_article_that_names_it(
    question: str, body: str, answered: bool
) -> None:
    from bot.services.answering import asked_aspect

    aspect = asked_aspect(question)
    assert aspect is not None
    assert bool(aspect.answered.search(body)) is answered


def test_a_typed_reply_to_mener_du_picks_among_the_offered_articles() -> None:
    # Alone, "kørekortet" is any licence article; after "Mener du …?" offered the lost health
    # card and the lost licence, it is the lost licence.
    shares = {"koerekort-forny": 0.30, "koerekort-mistet": 0.25, "pas-bestil": 0.05}
    retriever = FixedRetriever({"kørekortet": (shares, 0.91)})
    offered = Context("out_of_scope", None, ("pas-bestil", "koerekort-mistet"))
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide("kørekortet", context=offered)
    assert decision.outcome is Outcome.ANSWER
    assert decision.article.id == "koerekort-mistet"


def test_a_new_question_after_mener_du_is_answered_on_its_own() -> None:
    shares = {"mitid-mistet-telefon": 0.9}
    retriever = FixedRetriever({"min telefon med mitid er stjålet": (shares, 0.95)})
    offered = Context("out_of_scope", None, ("pas-bestil", "koerekort-mistet"))
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        "min telefon med mitid er stjålet", context=offered
    )
    assert decision.article.id == "mitid-mistet-telefon"


def test_an_article_turned_down_is_not_shown_again() -> None:
    # "nej, jeg mener …" after the licence renewal: the renewal is out, the next one answers.
    shares = {"koerekort-forny": 0.6, "koerekort-mistet": 0.35, "pas-bestil": 0.05}
    retriever = FixedRetriever({"mistet kørekort": (shares, 0.92)})
    engine = AnswerEngine(ARTICLES, retriever, THRESHOLDS)
    kept = Context("koerekort", "koerekort-forny")
    assert engine.decide("mistet kørekort", context=kept).article.id == "koerekort-forny"
    turned_down = Context("koerekort", "koerekort-forny", rejected=("koerekort-forny",))
    decision = engine.decide("mistet kørekort", context=turned_down)
    assert decision.article.id == "koerekort-mistet"
    assert all(a.id != "koerekort-forny" for a, _ in decision.ranked)


def test_choices_turned_down_weigh_nothing_in_the_reply() -> None:
    shares = {"pas-bestil": 0.5, "koerekort-mistet": 0.3, "koerekort-forny": 0.2}
    retriever = FixedRetriever({"kørekortet": (shares, 0.93)})
    context = Context("out_of_scope", None, (), ("pas-bestil", "koerekort-mistet"))
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide("kørekortet", context=context)
    assert decision.article.id == "koerekort-forny"


@pytest.mark.parametrize(
    ("text", "question", "says_no"),
    [
        ("nej, jeg mener mit pas", "mit pas", True),
        ("Nej. Jeg mener kørekortet!", "kørekortet!", True),
        ("nej ikke det, jeg tænkte på friplads", "friplads", True),
        ("det var ikke det jeg mente, jeg vil have nyt sundhedskort",
         "jeg vil have nyt sundhedskort", True),
        ("jeg mener mitid", "mitid", False),
        ("ja, men hvad koster det?", "men hvad koster det?", False),
        # A "no, but" goes on from the answer instead of turning it down.
        ("nej, men hvad med min kone?", "men hvad med min kone?", False),
        ("jo, jeg har et pas", "jeg har et pas", False),
    ],
)
def test_a_reply_lead_is_split_from_the_question_after_it(
    text: str, question: str, says_no: bool
) -> None:
    from bot.language.wishes import reply_lead

    lead, rest, no = reply_lead(text)
    assert lead and rest == question and no is says_no


@pytest.mark.parametrize(
    "text",
    ["nej", "nej tak", "nej ellers tak", "ja det stemmer", "det passer ikke", "lige præcis",
     "nej, det var ikke det jeg mente", "/deny"],
)
def test_a_plain_yes_or_no_has_no_question_after_it(text: str) -> None:
    from bot.language.wishes import reply_lead

    lead, rest, _ = reply_lead(text)
    assert rest == "" if lead else rest == text


@pytest.mark.parametrize(
    "text", ["så vidt jeg ved er nemid lukket", "mener du at jeg skal ringe", "men hvad så?"]
)
def test_a_question_that_starts_like_a_reply_keeps_its_words(text: str) -> None:
    from bot.language.wishes import reply_lead

    assert reply_lead(text) == ("", text, False)


def test_a_no_turns_down_the_answer_but_not_the_choices_of_mener_du() -> None:
    from bot.services.answers import read_reply

    after_answer = Context("koerekort", "koerekort-forny")
    assert read_reply("nej, jeg mener hvis det er mistet", after_answer) == (
        "hvis det er mistet", Context("koerekort", "koerekort-forny", rejected=("koerekort-forny",))
    )
    # After "Mener du …?" a citizen who says no often describes one of the choices.
    after_choices = Context("digital_post", None, ("digital-post-fritagelse", "digital-post-laes"))
    assert read_reply("nej, hun vil have det på papir", after_choices) == (
        "hun vil have det på papir", Context("digital_post", None)
    )
    # "jeg mener …" picks among them, so they keep their weight.
    assert read_reply("jeg mener papir", after_choices) == ("papir", after_choices)
    question = "hvordan får jeg mitid"
    assert read_reply(question, after_answer) == (question, after_answer)


def test_a_follow_up_less_similar_than_a_first_question_is_still_asked_about() -> None:
    # In a conversation a short follow-up is less similar to any article than a question of
    # its own; the context vouches for it when offering choices as when answering.
    text = "og hvis vi beholder huset herhjemme?"
    shares = {"pas-bestil": 0.3, "pas-boern": 0.25}
    retriever = FixedRetriever({text: (shares, THRESHOLDS.related - 0.02)})
    in_conversation = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(
        text, context=Context("out_of_scope", "pas-bestil")
    )
    assert in_conversation.follow_up and in_conversation.outcome is Outcome.CLARIFY
    alone = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(text)
    assert alone.outcome is Outcome.NONE


@pytest.mark.parametrize("text", ["hvad koster det", "hvor lang tid tager det?", "min mor"])
def test_a_first_message_without_a_subject_is_asked_about(text: str) -> None:
    retriever = FixedRetriever({text: ({"kurser-pris": 0.6, "dagtilbud-priser": 0.2}, 0.95)})
    decision = AnswerEngine(ARTICLES, retriever, THRESHOLDS).decide(text)
    assert decision.outcome is Outcome.CLARIFY
    assert len(decision.choices) >= 2


@pytest.mark.parametrize(
    ("text", "stands_for"),
    [
        ("gælder den i sverige?", True),
        ("hvad skal jeg have med derned", True),
        # Adds something new to the conversation rather than pointing at what was shown.
        ("og hvad med mit pas?", False),
        ("hvad så med lægen?", False),
    ],
)
def test_a_word_for_the_article_just_shown_is_told_from_a_new_detail(
    text: str, stands_for: bool
) -> None:
    from bot.services.answering import points_back, stands_for_it

    assert points_back(text)
    assert stands_for_it(text) is stands_for
