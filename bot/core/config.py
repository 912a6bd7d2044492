"""Every BORGER_* setting in one validated object, built once at each entry point.

The gateway (bot/gateway/app.py), the action server (actions/__init__.py), the CLI
(bot/cli/__init__.py), the runner and the other tools call :func:`load_settings` once and pass
the result down; nothing deeper reads the environment. A bad value stops the process at start
with a message naming the variable (:class:`SettingsError`).

The defaults are safe for one machine: SQLite files under var/, everything on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV_PREFIX = "BORGER_"
# The shipped files, also the services' defaults when a caller (a test, the evaluation)
# passes none.
DEFAULT_LIBRARY_CONFIG = PROJECT_ROOT / "config" / "library.yml"
DEFAULT_KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "borgerservice"

Port = Annotated[int, Field(ge=1, le=65535)]
Positive = Annotated[int, Field(ge=1)]
IdleSeconds = Annotated[float, Field(ge=1, le=3600)]


class SettingsError(ValueError):
    """A BORGER_* variable with a value that cannot be used; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    # --- processes ---
    host: str = "127.0.0.1"  # the interface all three processes listen on
    gateway_port: Port = 8000
    rasa_port: Port = 5005
    actions_port: Port = 5055
    rasa_url: str = ""  # default http://{host}:{rasa_port}
    actions_url: str = ""  # default http://{host}:{actions_port}
    # Protects Rasa's HTTP API; `make run` makes a random one per start when unset.
    rasa_token: str = ""
    rasa_timeout: Annotated[float, Field(gt=0)] = 30
    # The Rasa server runs from its own Python 3.10 environment (Rasa 3.6 supports no other).
    rasa_python: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    secret_key: str = ""

    # --- files ---
    var_dir: Path = PROJECT_ROOT / "var"
    model: Path = PROJECT_ROOT / "models" / "borgerservice.tar.gz"
    cache_dir: Path = DEFAULT_CACHE_DIR
    library_config: Path = DEFAULT_LIBRARY_CONFIG
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR

    # --- databases ---
    database_url: str = ""  # default sqlite:///{var_dir}/app.db
    tracker_database_url: str = ""  # default sqlite:///{var_dir}/tracker.db
    db_pool_size: Positive = 10
    db_max_overflow: Annotated[int, Field(ge=0)] = 20
    redis_url: str = ""  # empty: in-memory lock store, in-process hub

    # --- citizens ---
    max_message_chars: Positive = 2000
    # Library websites that embed the widget, separated by commas or spaces; "*" allows any.
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    kiosk_idle_warn: IdleSeconds = 90.0
    kiosk_idle_reset: IdleSeconds = 120.0
    retention_days: Annotated[int, Field(ge=0)] = 90

    # --- articles ---
    # Articles whose review date is older than this are listed as due for review.
    article_review_months: Positive = 6

    # --- staff and handoff ---
    handoff_timeout_seconds: Positive = 300
    # False only for plain-http localhost development and tests (browsers drop Secure cookies).
    staff_cookie_secure: bool = True
    staff_session_hours: Positive = 12
    staff_presence_seconds: Positive = 120
    login_max_failures: Positive = 5
    login_max_failures_per_ip: Positive = 20
    login_window_seconds: Positive = 900

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(origin.rstrip("/") for origin in value.replace(",", " ").split())
        return value

    @model_validator(mode="after")
    def _derived_defaults(self) -> Settings:
        # Frozen model: the defaults that depend on other fields are filled in once, here.
        derived = {
            "database_url": self.database_url or f"sqlite:///{self.var_dir / 'app.db'}",
            "tracker_database_url": (
                self.tracker_database_url or f"sqlite:///{self.var_dir / 'tracker.db'}"
            ),
            "rasa_url": (self.rasa_url or f"http://{self.host}:{self.rasa_port}").rstrip("/"),
            "actions_url": (
                self.actions_url or f"http://{self.host}:{self.actions_port}"
            ).rstrip("/"),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        return self

    @property
    def model_path(self) -> Path:
        return self.model

    @property
    def rasa_timeout_seconds(self) -> float:
        return self.rasa_timeout

    def with_database(self, url: str | None) -> Settings:
        """The same settings on another app database (the CLI's --database-url)."""
        return self if not url else self.model_copy(update={"database_url": url})


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**values: Any) -> Settings:
    """The settings from the environment (``values`` win over it), or SettingsError."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            got = error.get("input")
            shown = f", got {got!r}" if isinstance(got, str | int | float) else ""
            problems.append(f"{env_name(field)}: {error['msg']}{shown}")
        raise SettingsError("Bad configuration: " + "; ".join(problems)) from None
