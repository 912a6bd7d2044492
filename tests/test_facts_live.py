"""Fact questions a citizen asks outright, through /api/chat on the real assistant.

tests/facts/*.yml were written with the articles, each fact checked against the article's
official source: the question, the article that must answer it (``a|b`` where either
article states the fact) and a pattern (a number, a deadline, a name) its answer must
contain. Every one must pass: a wrong deadline costs the citizen a fine. The citizen gets
the fact either straight away or by picking the article from a "Mener du …?" that offers
it; an answer from another article, or a clarification without it, fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.chat_support import articles_of, buttons_of, new_session, shown_articles, text_of

pytestmark = pytest.mark.live

FACTS = [
    fact
    for path in sorted((Path(__file__).parent / "facts").glob("*.yml"))
    for fact in yaml.safe_load(path.read_text(encoding="utf-8"))
]


def test_there_are_enough_fact_questions() -> None:
    assert len(FACTS) >= 40


def delivered(live, fact: dict) -> tuple[bool, str]:
    session = new_session()
    wanted = set(fact["article"].split("|"))
    reply = live.chat(session, fact["question"])
    offered = [a for a in shown_articles(reply) if a in wanted]
    if not articles_of(reply) and offered:
        picked = next(b["payload"] for b in buttons_of(reply) if offered[0] in b["payload"])
        reply = live.chat(session, picked)
    shown = articles_of(reply)
    right = shown[:1] != [] and shown[0] in wanted
    stated = re.search(fact["pattern"], text_of(reply), re.IGNORECASE) is not None
    return right and stated, f"{shown or 'no article'} (want {wanted}): {text_of(reply)}"


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f["article"])
def test_the_fact_is_in_the_answer(live, fact: dict) -> None:
    ok, what = delivered(live, fact)
    assert ok, what
