"""Rasa custom actions, one module per domain; each is thin over the services in bot/.

The action server imports this package before any action: its settings are built here, once,
from the environment (a bad BORGER_* value stops the server at start), and every action reads
them, with the library config and the knowledge base, from :data:`config`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

from bot.core.config import Settings, load_settings
from bot.core.logs import install_log_scrubbing
from bot.db import session as db
from bot.services.answers import KnowledgeEngine, engine_for
from bot.services.handoff import HandoffService
from bot.services.library import Library, load_library


class ActionConfig:
    """The action server's settings and what the actions derive from them."""

    def __init__(self, settings: Settings) -> None:
        self.use(settings)

    def use(self, settings: Settings) -> None:
        """Switch to other settings (the server does this once; tests per test)."""
        self.settings = settings
        self.handoff = HandoffService(settings)
        db.configure(settings)

    @property
    def library(self) -> Library:
        return load_library(self.settings.library_config)

    @property
    def engine(self) -> KnowledgeEngine:
        """The answer engine over the knowledge base (rebuilt when an article changes)."""
        return engine_for(self.settings)

    @property
    def knowledge(self) -> dict[str, Any]:
        """What the answer functions of bot.services.answers need besides the question."""
        return {"engine": self.engine, "library": self.library}

    def session(self, *, read_only: bool = False) -> AbstractContextManager[Session]:
        """A database session for one action (a session per action, never a long-lived one)."""
        return db.session_scope(self.settings.database_url, read_only=read_only)

    def __repr__(self) -> str:
        return f"<ActionConfig {self.settings.database_url}>"


# The action server's entry point: its log lines, like the gateway's, never carry a CPR
# number or a chat session id.
install_log_scrubbing()
config = ActionConfig(load_settings())

__all__ = ["ActionConfig", "config"]
