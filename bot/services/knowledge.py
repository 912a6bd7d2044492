"""The knowledge base: one Markdown file per answer under knowledge/<topic>/<id>.md.

This module reads and checks the articles (front matter and body); finding the article that
answers a question is bot/services/retrieval.py and bot/services/answering.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from bot.core.config import DEFAULT_KNOWLEDGE_DIR

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


def load_articles(directory: Path = DEFAULT_KNOWLEDGE_DIR) -> dict[str, Article]:
    return _load_cached(directory.resolve(), _fingerprint(directory))


def _fingerprint(directory: Path) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime) for p in directory.glob("*/*.md")))


def knowledge_fingerprint(directory: Path) -> tuple[tuple[str, float], ...]:
    """Changes whenever an article, the overviews or the moved ids change on disk."""
    files = [*directory.glob("*/*.md"), *directory.glob("_*.yml")]
    return tuple(sorted((str(p), p.stat().st_mtime) for p in files))


def side_fingerprint(directory: Path) -> tuple[tuple[str, float], ...]:
    """Changes whenever the overviews or the moved ids (knowledge/_*.yml) change on disk."""
    return tuple(sorted((str(p), p.stat().st_mtime) for p in directory.glob("_*.yml")))


@lru_cache(maxsize=4)
def _load_cached(directory: Path, _fingerprint: tuple) -> dict[str, Article]:
    articles: dict[str, Article] = {}
    for path in sorted(directory.glob("*/*.md")):
        article = parse_article(path)
        if article.id in articles:
            raise ArticleError(f"{path}: duplicate id {article.id!r}")
        articles[article.id] = article
    return articles


def is_valid_id(article_id: str) -> bool:
    return bool(_ID_PATTERN.match(article_id))
