"""Settings read from the environment, with safe embedded defaults.

Every process (gateway, action server, CLI, tests) reads its configuration here, so that one
environment variable switches all of them at once (e.g. to PostgreSQL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    var_dir: Path = field(
        default_factory=lambda: Path(_env("BORGER_VAR_DIR", str(PROJECT_ROOT / "var")))
    )
    host: str = field(default_factory=lambda: _env("BORGER_HOST", "127.0.0.1"))
    gateway_port: int = field(default_factory=lambda: _env_int("BORGER_GATEWAY_PORT", 8000))
    rasa_port: int = field(default_factory=lambda: _env_int("BORGER_RASA_PORT", 5005))
    actions_port: int = field(default_factory=lambda: _env_int("BORGER_ACTIONS_PORT", 5055))
    # Empty means "SQLite file under var/"; see the properties below.
    database_url_raw: str = field(default_factory=lambda: _env("BORGER_DATABASE_URL", ""))
    tracker_database_url_raw: str = field(
        default_factory=lambda: _env("BORGER_TRACKER_DATABASE_URL", "")
    )
    redis_url: str = field(default_factory=lambda: _env("BORGER_REDIS_URL", ""))
    library_config: Path = field(
        default_factory=lambda: Path(
            _env("BORGER_LIBRARY_CONFIG", str(PROJECT_ROOT / "config" / "library.yml"))
        )
    )
    knowledge_dir: Path = field(
        default_factory=lambda: Path(_env("BORGER_KNOWLEDGE_DIR", str(PROJECT_ROOT / "knowledge")))
    )
    max_message_chars: int = field(
        default_factory=lambda: _env_int("BORGER_MAX_MESSAGE_CHARS", 2000)
    )
    rasa_timeout_seconds: int = field(default_factory=lambda: _env_int("BORGER_RASA_TIMEOUT", 30))
    secret_key: str = field(default_factory=lambda: _env("BORGER_SECRET_KEY", ""))
    # Protects Rasa's HTTP API; `make run` makes a random one per start when unset.
    rasa_token: str = field(default_factory=lambda: _env("BORGER_RASA_TOKEN", ""))
    # Articles whose review date is older than this are listed as due for review.
    review_months: int = field(
        default_factory=lambda: _env_int("BORGER_ARTICLE_REVIEW_MONTHS", 6)
    )
    cache_dir: Path = field(
        default_factory=lambda: Path(
            _env("BORGER_CACHE_DIR", str(Path.home() / ".cache" / "borgerservice"))
        )
    )

    @property
    def database_url(self) -> str:
        return self.database_url_raw or f"sqlite:///{self.var_dir / 'app.db'}"

    @property
    def tracker_database_url(self) -> str:
        return self.tracker_database_url_raw or f"sqlite:///{self.var_dir / 'tracker.db'}"

    @property
    def model_path(self) -> Path:
        return Path(_env("BORGER_MODEL", str(PROJECT_ROOT / "models" / "borgerservice.tar.gz")))

    @property
    def rasa_url(self) -> str:
        return _env("BORGER_RASA_URL", f"http://{self.host}:{self.rasa_port}")

    @property
    def actions_url(self) -> str:
        return _env("BORGER_ACTIONS_URL", f"http://{self.host}:{self.actions_port}")


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; tests change the environment)."""
    return Settings()
