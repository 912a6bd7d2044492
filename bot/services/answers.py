"""Turning a knowledge article into the chat answer a citizen sees."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.knowledge import Article, KnowledgeIndex, get_index

OPENING_HOURS_PLACEHOLDER = "{aabningstider}"


@dataclass(frozen=True)
class Answer:
    text: str
    topic: str
    article_id: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def article_button(article: Article) -> dict[str, str]:
    return {"title": article.title, "payload": f'/show_article{{"article_id":"{article.id}"}}'}


def render(article: Article, message: str = "", index: KnowledgeIndex | None = None) -> Answer:
    index = index or get_index()
    text = article.body
    if OPENING_HOURS_PLACEHOLDER in text:
        # Imported here: only opening-hours answers need the library config.
        from bot.services.library import find_branch, format_opening_hours

        text = text.replace(OPENING_HOURS_PLACEHOLDER, format_opening_hours(find_branch(message)))
    buttons = [article_button(index.articles[r]) for r in article.related if r in index.articles]
    return Answer(text=text, topic=article.topic, article_id=article.id, buttons=buttons)


def answer_question(message: str, topic: str, article_id: str | None = None) -> Answer | None:
    """The answer for a message the NLU put in `topic`; a named article wins (button payloads)."""
    index = get_index()
    article = index.articles.get(article_id) if article_id else None
    if article is None:
        # A bare button payload ("/ask_mitid") carries no words: give the topic's overview.
        is_payload = message.startswith("/")
        article = index.default_for(topic) if is_payload else index.best(message, topic)
    return render(article, message, index) if article else None
