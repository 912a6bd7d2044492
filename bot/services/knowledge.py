"""The knowledge base: one Markdown file per answer under knowledge/<topic>/<id>.md.

The NLU model decides the topic (a small, robust classification); this module then picks the
specific article inside that topic by comparing the message with each article's title and
example questions. Character n-grams make the match tolerant of typos, inflections and
missing æøå, without any downloaded model.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from bot.core.config import get_settings
from bot.language.danish import content_lemmas
from bot.language.text import fold

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ArticleError(ValueError):
    """A knowledge file that does not follow the format; the message names the file."""


@dataclass(frozen=True)
class Article:
    id: str
    topic: str
    title: str
    source: str
    reviewed: date
    body: str
    questions: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    path: Path = field(default=Path(), compare=False)

    @property
    def word_count(self) -> int:
        return len(self.body.split())


def parse_article(path: Path) -> Article:
    raw = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(raw)
    if not match:
        raise ArticleError(f"{path}: missing YAML front matter between '---' lines")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"{path}: front matter is not valid YAML: {exc}") from exc
    missing = [key for key in ("id", "topic", "title", "source", "reviewed") if not meta.get(key)]
    if missing:
        raise ArticleError(f"{path}: front matter lacks {', '.join(missing)}")
    reviewed = meta["reviewed"]
    if not isinstance(reviewed, date):
        try:
            reviewed = date.fromisoformat(str(reviewed))
        except ValueError as exc:
            raise ArticleError(f"{path}: reviewed must be a date (YYYY-MM-DD)") from exc
    return Article(
        id=str(meta["id"]),
        topic=str(meta["topic"]),
        title=str(meta["title"]),
        source=str(meta["source"]),
        reviewed=reviewed,
        body=match.group(2).strip(),
        questions=tuple(str(q) for q in meta.get("questions") or ()),
        related=tuple(str(r) for r in meta.get("related") or ()),
        path=path,
    )


def load_articles(directory: Path | None = None) -> dict[str, Article]:
    directory = directory or get_settings().knowledge_dir
    return _load_cached(directory.resolve(), _fingerprint(directory))


def _fingerprint(directory: Path) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime) for p in directory.glob("*/*.md")))


def knowledge_fingerprint(directory: Path) -> tuple[tuple[str, float], ...]:
    """Changes whenever an article, the overviews or the moved ids change on disk."""
    files = [*directory.glob("*/*.md"), *directory.glob("_*.yml")]
    return tuple(sorted((str(p), p.stat().st_mtime) for p in files))


@lru_cache(maxsize=4)
def _load_cached(directory: Path, _fingerprint: tuple) -> dict[str, Article]:
    articles: dict[str, Article] = {}
    for path in sorted(directory.glob("*/*.md")):
        article = parse_article(path)
        if article.id in articles:
            raise ArticleError(f"{path}: duplicate id {article.id!r}")
        articles[article.id] = article
    return articles


@dataclass(frozen=True)
class Match:
    article: Article
    score: float


class KnowledgeIndex:
    """Two views of each article, added up.

    - character n-grams of the title and each example question (typos, missing æøå); an
      article scores the mean of its two best-matching questions, so one lucky phrase does
      not win over an article that many phrasings point to;
    - the content words (lemmas, stop words removed) of the whole article, which catch the
      subject words a citizen uses that none of the example questions happen to contain.
    """

    WORD_WEIGHT = 3.0

    def __init__(self, articles: dict[str, Article]) -> None:
        self.articles = articles
        self._ids = list(articles)
        self._owners: list[str] = []
        phrases: list[str] = []
        for article in articles.values():
            for text in (article.title, *article.questions):
                phrases.append(fold(text))
                self._owners.append(article.id)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self._words = TfidfVectorizer(analyzer=str.split, sublinear_tf=True)
        self._phrase_matrix = self._chars.fit_transform(phrases) if phrases else None
        self._article_matrix = (
            self._words.fit_transform([_article_words(a) for a in articles.values()])
            if articles
            else None
        )

    def scores(self, text: str) -> dict[str, float]:
        if self._phrase_matrix is None or not text.strip():
            return {}
        phrase_scores = linear_kernel(self._chars.transform([fold(text)]), self._phrase_matrix)[0]
        per_article: defaultdict[str, list[float]] = defaultdict(list)
        for owner, score in zip(self._owners, phrase_scores, strict=True):
            per_article[owner].append(float(score))
        word_scores = linear_kernel(
            self._words.transform([" ".join(content_lemmas(text))]), self._article_matrix
        )[0]
        result: dict[str, float] = {}
        for position, article_id in enumerate(self._ids):
            best_two = sorted(per_article[article_id], reverse=True)[:2]
            result[article_id] = sum(best_two) / len(best_two) + self.WORD_WEIGHT * float(
                word_scores[position]
            )
        return result

    def search(self, text: str, topic: str | None = None, limit: int = 3) -> list[Match]:
        """Best articles for the text, best first; restricted to one topic when given."""
        ranked = sorted(
            (
                (score, article_id)
                for article_id, score in self.scores(text).items()
                if not topic or self.articles[article_id].topic == topic
            ),
            reverse=True,
        )[:limit]
        return [Match(self.articles[article_id], score) for score, article_id in ranked]

    def best(self, text: str, topic: str | None = None) -> Article | None:
        matches = self.search(text, topic, limit=1)
        if matches and matches[0].score > 0:
            return matches[0].article
        return self.default_for(topic) if topic else None

    def default_for(self, topic: str) -> Article | None:
        """The topic's overview article: the one named after the topic, else the first."""
        in_topic = [a for a in self.articles.values() if a.topic == topic]
        for article in in_topic:
            if article.id in (topic, topic.replace("_", "-")):
                return article
        return in_topic[0] if in_topic else None


def _article_words(article: Article) -> str:
    return " ".join(content_lemmas(" ".join((article.title, *article.questions, article.body))))


def get_index(directory: Path | None = None) -> KnowledgeIndex:
    directory = directory or get_settings().knowledge_dir
    return _index_cached(directory.resolve(), _fingerprint(directory))


@lru_cache(maxsize=4)
def _index_cached(directory: Path, fingerprint: tuple) -> KnowledgeIndex:
    return KnowledgeIndex(_load_cached(directory, fingerprint))


def is_valid_id(article_id: str) -> bool:
    return bool(_ID_PATTERN.match(article_id))
