"""Knowledge articles edited in the staff console: read, save, versions, restore, examples,
review dates, and the Markdown files they are seeded from and exported to.

Why the app database: every gateway and action-server instance already shares it, and a save
is one transaction that all of them see at once; the answer engine keys its cache on the
store's stamp (bot/db/articles.py), so the next question after a save is answered from the new
text on every instance, with no retraining or restart. knowledge/*.md stays the seed (new and
changed files are imported by ``python -m bot knowledge import``, which `make run` runs) and
``python -m bot knowledge export`` writes the store back to the files, so changes made in the
console can be reviewed and committed like any other change.

Every save is checked with the knowledge base's own rules (bot/services/article_rules.py) and
refused with a Danish reason (ArticleInvalid, HTTP 422); every version is kept with who and
when, can be restored, and is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.db import articles as store
from bot.db.models import ArticleVersion, KnowledgeArticle, local_now
from bot.db.session import session_scope
from bot.language.privacy import redact_cpr
from bot.services.article_rules import MAX_QUESTION_CHARS, article_problems, word_count
from bot.services.handoff import TOPIC_LABELS
from bot.services.knowledge import Article, load_articles
from bot.services.staff_auth import record_audit
from bot.services.transcripts import iso_utc

DEFAULT_REVIEW_MONTHS = 6
# The audit log's name for each kind of version.
AUDIT_ACTIONS = {
    "created": "article_created",
    "edited": "article_saved",
    "restored": "article_restored",
    "question_added": "article_question_added",
}
ACTION_LABELS = {
    "imported": "Indlæst fra knowledge/",
    "created": "Oprettet",
    "edited": "Rettet",
    "restored": "Gendannet",
    "question_added": "Eksempelspørgsmål tilføjet",
}


class ArticleInvalid(Exception):
    """A save that breaks a rule: ``errors`` maps each field to its Danish reason."""

    def __init__(self, errors: dict[str, str], status_code: int = 422) -> None:
        self.errors = errors
        self.status_code = status_code
        self.message = " ".join(errors.values())
        super().__init__(self.message)


class ArticleNotFound(Exception):
    message = "Artiklen findes ikke."
    status_code = 404


@dataclass(frozen=True)
class Editor:
    """Who makes a change (the signed-in staff member)."""

    staff_id: int
    username: str
    ip: str | None = None


def to_article(row: KnowledgeArticle | ArticleVersion) -> Article:
    article_id = row.article_id if isinstance(row, ArticleVersion) else row.id
    return Article(
        id=article_id,
        topic=row.topic,
        title=row.title,
        source=row.source,
        reviewed=row.reviewed,
        body=row.body,
        questions=tuple(row.questions or ()),
        related=tuple(row.related or ()),
    )


def content(article: Article) -> dict[str, Any]:
    return {
        "topic": article.topic,
        "title": article.title,
        "source": article.source,
        "reviewed": article.reviewed,
        "body": article.body,
        "questions": list(article.questions),
        "related": list(article.related),
    }


def review_due_before(today: date, months: int) -> date:
    """Articles last reviewed before this date are due for review."""
    month = today.month - months
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    day = min(today.day, 28)  # every month has a 28th
    return date(year, month, day)


def store_stamp(url: str) -> int | None:
    """The article store's stamp; None when it is empty or not there (no database yet, or
    not migrated): then the engine reads the Markdown files."""
    parsed = make_url(url)
    database = parsed.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if parsed.get_backend_name() == "sqlite" and on_disk and not Path(database).exists():
        return None  # do not create an empty database file just by asking
    try:
        with session_scope(url, read_only=True) as session:
            return store.knowledge_stamp(session)
    except (OperationalError, ProgrammingError):
        return None


# --- reading the request ------------------------------------------------------------------


def _text(body: Mapping[str, Any], name: str, current: str) -> str:
    value = body.get(name, current)
    if not isinstance(value, str):
        raise ArticleInvalid({name: "Feltet skal være tekst."})
    return value.strip()


def _texts(body: Mapping[str, Any], name: str, current: tuple[str, ...]) -> tuple[str, ...]:
    value = body.get(name, list(current))
    if isinstance(value, str):  # one per line, as the editor's text box sends them
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArticleInvalid({name: "Feltet skal være en liste af tekster."})
    return tuple(v.strip() for v in value if v.strip())


def _date(body: Mapping[str, Any], current: date | None) -> date:
    value = body.get("reviewed", current.isoformat() if current else None)
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ArticleInvalid(
            {"reviewed": "Kontroldatoen skal være en rigtig dato, fx 2026-12-01."}
        ) from exc


def article_from_request(
    article_id: str, body: Mapping[str, Any], current: Article | None
) -> Article:
    """The article a PUT describes: the front matter's fields plus ``body``; a field left out
    keeps its current value."""
    if body.get("id", article_id) != article_id:
        raise ArticleInvalid({"id": "Id'et kan ikke ændres: artiklers id er permanente."})
    blank = Article(article_id, "", "", "", date.min, "")
    base = current or blank
    questions = tuple(redact_cpr(q)[0] for q in _texts(body, "questions", base.questions))
    return Article(
        id=article_id,
        topic=_text(body, "topic", base.topic),
        title=_text(body, "title", base.title),
        source=_text(body, "source", base.source),
        reviewed=_date(body, current.reviewed if current else None),
        body=redact_cpr(_text(body, "body", base.body))[0],
        questions=questions,
        related=_texts(body, "related", base.related),
    )


# --- the service --------------------------------------------------------------------------


class ArticleService:
    def __init__(
        self,
        database_url: str | None,
        knowledge_dir: Path,
        review_months: int = DEFAULT_REVIEW_MONTHS,
    ) -> None:
        self.url = database_url
        self.knowledge_dir = knowledge_dir
        self.review_months = review_months

    @classmethod
    def from_settings(cls, settings: Settings) -> ArticleService:
        return cls(settings.database_url, settings.knowledge_dir, settings.article_review_months)

    # -- views --

    def _dict(self, row: KnowledgeArticle, today: date) -> dict[str, Any]:
        return {
            "id": row.id,
            "topic": row.topic,
            "topic_label": TOPIC_LABELS.get(row.topic, row.topic),
            "title": row.title,
            "source": row.source,
            "reviewed": row.reviewed.isoformat(),
            "body": row.body,
            "questions": list(row.questions or ()),
            "related": list(row.related or ()),
            "version": row.version,
            "updated_at": iso_utc(row.updated_at),
            "updated_by": row.updated_by,
            "words": word_count(row.body),
            "review_due": row.reviewed < review_due_before(today, self.review_months),
        }

    @staticmethod
    def _version_dict(row: ArticleVersion) -> dict[str, Any]:
        return {
            "version": row.version,
            "action": row.action,
            "action_label": ACTION_LABELS.get(row.action, row.action),
            "username": row.username,
            "created_at": iso_utc(row.created_at),
            "restored_from": row.restored_from,
            "title": row.title,
            "body": row.body,
            "source": row.source,
            "reviewed": row.reviewed.isoformat(),
            "questions": list(row.questions or ()),
            "related": list(row.related or ()),
            "topic": row.topic,
        }

    def list(self) -> dict[str, Any]:
        today = local_now().date()
        with session_scope(self.url, read_only=True) as session:
            rows = [self._dict(r, today) for r in store.all_articles(session)]
        return {
            "articles": rows,
            "review_months": self.review_months,
            "review_due_before": review_due_before(today, self.review_months).isoformat(),
            "due": [r["id"] for r in sorted(rows, key=lambda r: r["reviewed"]) if r["review_due"]],
        }

    def get(self, article_id: str) -> dict[str, Any]:
        with session_scope(self.url, read_only=True) as session:
            row = session.get(KnowledgeArticle, article_id)
            if row is None:
                raise ArticleNotFound()
            return self._dict(row, local_now().date())

    def title(self, article_id: str) -> str:
        """The article's title (the id itself when there is no such article)."""
        with session_scope(self.url, read_only=True) as session:
            row = session.get(KnowledgeArticle, article_id)
            return row.title if row is not None else article_id

    def versions(self, article_id: str) -> list[dict[str, Any]]:
        with session_scope(self.url, read_only=True) as session:
            if session.get(KnowledgeArticle, article_id) is None:
                raise ArticleNotFound()
            return [self._version_dict(v) for v in store.versions(session, article_id)]

    def articles(self) -> dict[str, Article]:
        with session_scope(self.url, read_only=True) as session:
            return {r.id: to_article(r) for r in store.all_articles(session)}

    # -- changes --

    def _moved(self) -> dict[str, str]:
        path = self.knowledge_dir / "_moved.yml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        return dict(raw or {})

    def _change(
        self,
        article_id: str,
        editor: Editor,
        make: Any,
        *,
        create: bool = False,
    ) -> dict[str, Any]:
        """One change in one transaction: ``make(session, row)`` returns (article, action,
        restored_from, check_age); the result is checked, stored as a new version, audited."""

        def work(session: Session) -> dict[str, Any]:
            row = store.locked_article(session, article_id)
            if row is None and not create:
                raise ArticleNotFound()
            article, action, restored_from, check_age = make(session, row)
            known = {r.id for r in store.all_articles(session)} | {article_id}
            problems = article_problems(article, known, local_now().date(), check_age=check_age)
            if row is None and article_id in self._moved():
                problems["id"] = "Id'et er brugt før (knowledge/_moved.yml). Vælg et nyt."
            if problems:
                raise ArticleInvalid(problems)
            row = store.write_version(
                session, row, article_id, content(article), action,
                staff_id=editor.staff_id, username=editor.username, restored_from=restored_from,
            )
            record_audit(
                session, AUDIT_ACTIONS[action], staff_id=editor.staff_id, username=editor.username,
                ip=editor.ip, detail={"article_id": article_id, "version": row.version},
            )
            return self._dict(row, local_now().date())

        try:
            with session_scope(self.url) as session:
                return work(session)
        except IntegrityError as exc:
            # Two editors created the same new id at once: the other one was first.
            raise ArticleInvalid({"id": "Der findes allerede en artikel med det id."}, 409) from exc

    def save(
        self, article_id: str, body: Mapping[str, Any], editor: Editor
    ) -> tuple[dict[str, Any], bool]:
        """PUT: change an article, or create it when the id is new; (article, created)."""
        created = False

        def make(session: Session, row: KnowledgeArticle | None) -> tuple:
            nonlocal created
            created = row is None
            expected = body.get("version")
            if row is not None and isinstance(expected, int) and expected != row.version:
                who = row.updated_by or "en anden"
                raise ArticleInvalid(
                    {"version": f"Artiklen er ændret af {who}, siden du åbnede den. Genindlæs "
                     "den, og ret igen."},
                    409,
                )
            current = to_article(row) if row is not None else None
            article = article_from_request(article_id, body, current)
            return article, "created" if created else "edited", None, True

        result = self._change(article_id, editor, make, create=True)
        return result, created

    def restore(self, article_id: str, number: int, editor: Editor) -> dict[str, Any]:
        def make(session: Session, row: KnowledgeArticle | None) -> tuple:
            old = store.version(session, article_id, number)
            if old is None:
                raise ArticleInvalid({"version": "Den version findes ikke."}, 404)
            # Valid when it was written; its review date is kept as it was.
            return to_article(old), "restored", number, False

        return self._change(article_id, editor, make)

    def add_question(self, article_id: str, question: Any, editor: Editor) -> dict[str, Any]:
        """"Tilføj som eksempel": the citizen's words become one of the article's examples."""
        if not isinstance(question, str) or not question.strip():
            raise ArticleInvalid({"question": "Skriv spørgsmålet."})
        text = " ".join(redact_cpr(question)[0].split())
        if len(text) > MAX_QUESTION_CHARS:
            raise ArticleInvalid(
                {"question": f"Spørgsmålet må højst være {MAX_QUESTION_CHARS} tegn."}
            )

        def make(session: Session, row: KnowledgeArticle | None) -> tuple:
            article = to_article(row)
            if text.lower() in (q.lower() for q in article.questions):
                raise ArticleInvalid({"question": "Artiklen har allerede det spørgsmål."}, 409)
            # Not an age check: adding an example does not claim the facts were re-checked.
            added = replace(article, questions=(*article.questions, text))
            return added, "question_added", None, False

        return self._change(article_id, editor, make)

    # -- the Markdown files --

    def import_directory(self, directory: Path | None = None) -> dict[str, int]:
        """Bring knowledge/*.md into the store: new files are added; a changed file replaces
        its article only while nobody has changed that article in the console (a console edit
        wins, and ``export`` writes it back). Returns counts per outcome."""
        counts = {"added": 0, "updated": 0, "unchanged": 0, "kept_console_edit": 0}
        files = load_articles(directory or self.knowledge_dir)
        with session_scope(self.url) as session:
            for article in files.values():
                row = store.locked_article(session, article.id)
                if row is not None and to_article(row) == replace(article, path=Path()):
                    counts["unchanged"] += 1
                elif row is not None and row.updated_by is not None:
                    counts["kept_console_edit"] += 1
                else:
                    counts["updated" if row is not None else "added"] += 1
                    store.write_version(session, row, article.id, content(article), "imported")
        return counts

    def export_directory(self, directory: Path | None = None) -> list[Path]:
        """Write every article to <directory>/<topic>/<id>.md (the seed format)."""
        directory = directory or self.knowledge_dir
        written = []
        for article in self.articles().values():
            path = directory / article.topic / f"{article.id}.md"
            for stale in directory.glob(f"*/{article.id}.md"):
                if stale != path:  # the article moved to another topic
                    stale.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(to_markdown(article), encoding="utf-8")
            written.append(path)
        return written


def _scalar(value: Any) -> str:
    dumped = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000)
    return dumped.strip().removesuffix("...").strip()


def to_markdown(article: Article) -> str:
    """The article as a knowledge/<topic>/<id>.md file (parse_article reads it back)."""
    lines = [
        "---",
        f"id: {article.id}",
        f"topic: {article.topic}",
        f"title: {_scalar(article.title)}",
        f"source: {_scalar(article.source)}",
        f"reviewed: {article.reviewed.isoformat()}",
        "questions:",
        *(f"  - {_scalar(q)}" for q in article.questions),
        f"related: {_scalar(list(article.related))}",
        "---",
        article.body.strip(),
        "",
    ]
    return "\n".join(lines)
