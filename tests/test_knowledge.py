"""Knowledge integrity: every article valid, sourced, dated, short, and reachable."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT
from bot.core.topics import INTENT_TOPICS, KNOWLEDGE_TOPICS
from bot.language.text import fold
from bot.services.knowledge import KnowledgeIndex, is_valid_id, load_articles

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
ARTICLES = load_articles(KNOWLEDGE_DIR)
TODAY = date.today()
URL = re.compile(r"https://\S+")


def test_there_are_enough_articles() -> None:
    assert len(ARTICLES) >= 40
    for topic in KNOWLEDGE_TOPICS:
        assert any(a.topic == topic for a in ARTICLES.values()), f"no article for {topic}"


@pytest.mark.parametrize("article", ARTICLES.values(), ids=lambda a: a.id)
def test_article_is_valid(article) -> None:
    assert is_valid_id(article.id)
    assert Path(article.path).stem == article.id
    assert Path(article.path).parent.name == article.topic
    assert article.topic in KNOWLEDGE_TOPICS
    assert article.source.startswith("https://")
    assert article.reviewed <= TODAY, "reviewed date in the future"
    assert article.reviewed >= TODAY - timedelta(days=366), "not reviewed within a year"
    words = len(URL.sub("", article.body).split())
    assert words <= 80, f"{words} words; keep answers chat-sized"
    assert URL.search(article.body), "the answer must carry a link to the official source"
    assert len(article.questions) >= 4
    for related in article.related:
        assert related in ARTICLES, f"related article {related!r} does not exist"
        assert related != article.id


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
            found = KnowledgeIndex(rest).best(question, article.topic)
            total += 1
            if found and found.id == article.id:
                hits += 1
            else:
                misses.append(f"{question!r} -> {found.id if found else None} (want {article.id})")
    accuracy = hits / total
    print(f"leave-one-out article accuracy: {accuracy:.3f} ({hits}/{total})")
    assert accuracy >= 0.75, "\n".join(misses)


def test_fold_spells_danish_letters_as_typed_without_them() -> None:
    assert fold("Kørekort  Ærø Å") == "koerekort aeroe aa"
