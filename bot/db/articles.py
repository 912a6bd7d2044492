"""The article store in the app database: current articles and every version of them.

Each change writes the article row and a new version row in one transaction, so the highest
version id is a stamp that changes with every saved change (and only then); reading it is a
single index lookup, cheap enough for the answer engine to do on every question.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import ArticleVersion, KnowledgeArticle, utc_now

CONTENT_FIELDS = ("topic", "title", "source", "reviewed", "body", "questions", "related")


def knowledge_stamp(session: Session) -> int | None:
    """Changes whenever any article changes; None while the store is empty."""
    return session.execute(select(func.max(ArticleVersion.id))).scalar_one()


def all_articles(session: Session) -> list[KnowledgeArticle]:
    return list(session.execute(select(KnowledgeArticle).order_by(KnowledgeArticle.id)).scalars())


def locked_article(session: Session, article_id: str) -> KnowledgeArticle | None:
    """The article row, locked until the transaction ends (two editors save one at a time)."""
    return session.execute(
        select(KnowledgeArticle).where(KnowledgeArticle.id == article_id).with_for_update()
    ).scalar_one_or_none()


def write_version(
    session: Session,
    row: KnowledgeArticle | None,
    article_id: str,
    values: dict[str, Any],
    action: str,
    *,
    staff_id: int | None = None,
    username: str | None = None,
    restored_from: int | None = None,
) -> KnowledgeArticle:
    """Make ``values`` (the CONTENT_FIELDS) the article's current version (a new article when
    ``row`` is None) and keep them as a version row."""
    now = utc_now()
    if row is None:
        row = KnowledgeArticle(id=article_id, version=0, **values)
        session.add(row)
        session.flush()  # no relationship orders the two inserts: the article goes first
    else:
        for name, value in values.items():
            setattr(row, name, value)
    row.version += 1
    row.updated_at = now
    row.updated_by = username
    session.add(
        ArticleVersion(
            article_id=article_id,
            version=row.version,
            action=action,
            staff_id=staff_id,
            username=username,
            restored_from=restored_from,
            created_at=now,
            **values,
        )
    )
    session.flush()
    return row


def versions(session: Session, article_id: str) -> Sequence[ArticleVersion]:
    return session.execute(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.version.desc())
    ).scalars().all()


def version(session: Session, article_id: str, number: int) -> ArticleVersion | None:
    return session.execute(
        select(ArticleVersion).where(
            ArticleVersion.article_id == article_id, ArticleVersion.version == number
        )
    ).scalar_one_or_none()
