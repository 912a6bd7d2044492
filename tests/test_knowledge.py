"""Knowledge integrity: every article valid, sourced, dated, short, and reachable."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.core.config import PROJECT_ROOT
from bot.core.topics import ARTICLE_TOPICS, INTENT_TOPICS, KNOWLEDGE_TOPICS
from bot.language.text import fold
from bot.services.article_rules import article_problems, is_specific_page
from bot.services.knowledge import load_articles
from bot.services.retrieval import CharLemmaTfidf

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
ARTICLES = load_articles(KNOWLEDGE_DIR)
TODAY = date.today()
URL = re.compile(r"https://\S+")


def test_there_are_enough_articles() -> None:
    assert len(ARTICLES) >= 100
    for topic in ARTICLE_TOPICS:
        assert any(a.topic == topic for a in ARTICLES.values()), f"no article for {topic}"


@pytest.mark.parametrize("article", ARTICLES.values(), ids=lambda a: a.id)
def test_article_is_valid(article) -> None:
    """The rules the console's editor also enforces on every save (bot/article_rules.py):
    id, topic, a specific https source that the body links, a review date within the last
    year and not in the future, at most 80 words, enough example questions, live related ids,
    du-form, "it" in lower case."""
    assert Path(article.path).stem == article.id
    assert Path(article.path).parent.name == article.topic
    assert article_problems(article, ARTICLES, TODAY) == {}
    assert URL.search(article.body), "the answer must carry a link to the official source"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.mitid.dk/",
        "https://www.mitid.dk",
        "https://www.borger.dk/familie-og-boern",
        "https://kildeby-bib.dk/",
        "http://www.fstyr.dk/privat/koerekort/fornyelse-af-koerekort",
    ],
)
def test_a_homepage_or_section_is_not_a_source(url: str) -> None:
    assert not is_specific_page(url)


def test_a_specific_page_is_a_source() -> None:
    assert is_specific_page(
        "https://www.fstyr.dk/privat/koerekort/fornyelse-og-erstatning/duplikatkoerekort"
    )
    assert is_specific_page("https://skat.dk/data.aspx?oid=3468")
    assert not is_specific_page("https://skat.dk/index.aspx")


def test_moved_ids_point_at_live_articles() -> None:
    moved = yaml.safe_load((KNOWLEDGE_DIR / "_moved.yml").read_text(encoding="utf-8")) or {}
    for old, new in moved.items():
        assert old not in ARTICLES, f"{old} is listed as moved but still exists"
        assert new in ARTICLES, f"{old} moved to {new}, which does not exist"


def test_answers_speak_to_the_citizen_as_du() -> None:
    formal = re.compile(r"\b(?:De|Dem|Deres)\b")
    assert not [a.id for a in ARTICLES.values() if formal.search(a.body)]


def test_it_is_written_in_lower_case() -> None:
    """Dansk Sprognævn writes "it" in lower case (it-hjælp, it-kurser)."""
    upper = re.compile(r"\bIT\b")
    assert not [a.id for a in ARTICLES.values() if upper.search(a.body + a.title)]


@pytest.mark.parametrize(
    "article", [a for a in ARTICLES.values() if a.topic == "nemid"], ids=lambda a: a.id
)
def test_nemid_answers_point_to_mitid(article) -> None:
    assert "MitID" in article.body


@pytest.mark.parametrize("topic", KNOWLEDGE_TOPICS)
def test_every_topic_is_reachable_from_an_intent(topic: str) -> None:
    assert topic in INTENT_TOPICS.values()
    domain = (PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")
    intent = f"ask_{topic}"
    assert INTENT_TOPICS[intent] == topic
    assert re.search(rf"^\s*-\s*{intent}\s*$", domain, re.MULTILINE), f"{intent} not in domain"


@pytest.mark.slow
def test_questions_find_their_own_article_when_left_out() -> None:
    """Leave-one-out: each example question must still find its article among its siblings."""
    hits = total = 0
    misses: list[str] = []
    for article in ARTICLES.values():
        for question in article.questions:
            rest = {
                a.id: (
                    a
                    if a.id != article.id
                    else a.__class__(**{**a.__dict__, "questions": tuple(
                        q for q in a.questions if q != question)})
                )
                for a in ARTICLES.values()
                if a.topic == article.topic
            }
            found = CharLemmaTfidf(rest).ranked(question)[0][0]
            total += 1
            if found == article.id:
                hits += 1
            else:
                misses.append(f"{question!r} -> {found} (want {article.id})")
    accuracy = hits / total
    print(f"leave-one-out article accuracy: {accuracy:.3f} ({hits}/{total})")
    assert accuracy >= 0.75, "\n".join(misses)


def test_fold_spells_danish_letters_as_typed_without_them() -> None:
    assert fold("Kørekort  Ærø Å") == "koerekort aeroe aa"


def test_overviews_name_live_articles_of_their_topic() -> None:
    overviews = yaml.safe_load((KNOWLEDGE_DIR / "_overviews.yml").read_text(encoding="utf-8"))
    assert set(overviews) == set(KNOWLEDGE_TOPICS)
    for topic, entry in overviews.items():
        assert entry["intro"].strip()
        assert len(entry["articles"]) >= 3, topic
        for article_id in entry["articles"]:
            assert article_id in ARTICLES, f"{topic}: {article_id} does not exist"


def test_fact_questions_name_an_article_that_states_the_fact() -> None:
    facts = [
        fact
        for path in sorted((PROJECT_ROOT / "tests" / "facts").glob("*.yml"))
        for fact in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    assert len(facts) >= 40
    questions = {fold(q) for a in ARTICLES.values() for q in a.questions}
    for fact in facts:
        for article_id in fact["article"].split("|"):
            assert re.search(fact["pattern"], ARTICLES[article_id].body, re.IGNORECASE), fact
        assert fold(fact["question"]) not in questions, f"copied from the article: {fact}"
