"""The rules every knowledge article follows, with the Danish reason for each broken one.

One place for them: tests/test_knowledge.py checks the Markdown files with these rules, and the
console's editor (bot/services/articles.py) refuses a save that breaks one (HTTP 422).
"""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import date, timedelta
from urllib.parse import urlparse

from bot.core.topics import ARTICLE_TOPICS
from bot.services.knowledge import Article, is_valid_id

MAX_WORDS = 80
MIN_QUESTIONS = 4
MAX_QUESTION_CHARS = 300
MAX_TITLE_CHARS = 200
MAX_SOURCE_CHARS = 500
MAX_BODY_CHARS = 4000
REVIEW_MAX_AGE = timedelta(days=366)
URL = re.compile(r"https://\S+")
_FORMAL = re.compile(r"\b(?:De|Dem|Deres)\b")
_UPPER_IT = re.compile(r"\bIT\b")


def is_specific_page(url: str) -> bool:
    """A source must be the page that says what the article says: not a homepage
    (https://www.mitid.dk/) and not a top-level section (https://www.borger.dk/familie-og-boern).
    A page a query names (https://skat.dk/data.aspx?oid=3468) is specific too."""
    parsed = urlparse(url)
    segments = [p for p in parsed.path.split("/") if p]
    named_by_query = len(segments) == 1 and "." in segments[0] and bool(parsed.query)
    return (
        parsed.scheme == "https"
        and bool(parsed.netloc)
        and (len(segments) >= 2 or named_by_query)
    )


def word_count(body: str) -> int:
    """Words of the answer, links not counted."""
    return len(URL.sub("", body).split())


def article_problems(
    article: Article,
    known_ids: Container[str],
    today: date,
    *,
    check_age: bool = True,
) -> dict[str, str]:
    """Field name -> what is wrong, in Danish (empty when the article is fine).

    ``check_age``: whether a review date older than a year counts (not when restoring a
    version that was valid when it was written)."""
    problems: dict[str, str] = {}
    if not is_valid_id(article.id) or len(article.id) > 100:
        problems["id"] = (
            "Id'et må kun have små bogstaver a-z, tal og bindestreger, fx koerekort-mistet."
        )
    if article.topic not in ARTICLE_TOPICS:
        problems["topic"] = "Vælg et af emnerne."
    if not article.title.strip() or len(article.title) > MAX_TITLE_CHARS:
        problems["title"] = f"Skriv en titel på højst {MAX_TITLE_CHARS} tegn."
    elif _UPPER_IT.search(article.title):
        problems["title"] = "Skriv »it« med små bogstaver (it-hjælp, it-kurser)."
    if not is_specific_page(article.source) or len(article.source) > MAX_SOURCE_CHARS:
        problems["source"] = (
            "Kilden skal være en https-adresse på den konkrete side hos myndigheden, der siger "
            "det, svaret siger – ikke en forside eller en hel sektion."
        )
    body = article.body
    words = word_count(body)
    if not body.strip():
        problems["body"] = "Skriv svaret."
    elif len(body) > MAX_BODY_CHARS or words > MAX_WORDS:
        problems["body"] = (
            f"Svaret er på {words} ord. Skriv højst {MAX_WORDS} ord, så det passer i en chat."
        )
    elif "source" not in problems and article.source not in body:
        problems["body"] = (
            "Svaret skal linke til kilden: skriv adressen i teksten, fx »Læs mere: "
            f"{article.source}«."
        )
    elif _FORMAL.search(body):
        problems["body"] = "Skriv »du« til borgeren, ikke »De«, »Dem« eller »Deres«."
    elif _UPPER_IT.search(body):
        problems["body"] = "Skriv »it« med små bogstaver (it-hjælp, it-kurser)."
    elif article.topic == "nemid" and "MitID" not in body:
        problems["body"] = "NemID er lukket: svaret skal fortælle, hvad man gør med MitID."
    if article.reviewed > today:
        problems["reviewed"] = "Kontroldatoen må ikke ligge i fremtiden."
    elif check_age and article.reviewed < today - REVIEW_MAX_AGE:
        problems["reviewed"] = (
            "Kontroldatoen er mere end et år gammel. Tjek artiklen mod kilden, og skriv "
            "datoen for, hvornår du gjorde det."
        )
    questions = [q.strip() for q in article.questions]
    if len([q for q in questions if q]) < MIN_QUESTIONS:
        problems["questions"] = f"Skriv mindst {MIN_QUESTIONS} måder, en borger kan spørge på."
    elif any(len(q) > MAX_QUESTION_CHARS or not q for q in questions):
        problems["questions"] = f"Et eksempelspørgsmål må højst være {MAX_QUESTION_CHARS} tegn."
    elif len({q.lower() for q in questions}) != len(questions):
        problems["questions"] = "Det samme eksempelspørgsmål står der to gange."
    for related in article.related:
        if related == article.id:
            problems["related"] = "En artikel kan ikke henvise til sig selv."
            break
        if related not in known_ids:
            problems["related"] = f"Den relaterede artikel »{related}« findes ikke."
            break
    return problems
