"""Every BORGER_* setting in one validated object, built once at each entry point.

The gateway (bot/gateway/app.py), the action server (actions/__init__.py), the CLI
(bot/cli/__init__.py), the runner and the other tools call :func:`load_settings` once and pass
the result down; nothing deeper reads the environment. A bad value stops the process at start
with a message naming the variable (:class:`SettingsError`).

The defaults are safe for one machine: SQLite files under var/, everything on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

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
# 0 turns a limit or a period off.
Limit = Annotated[int, Field(ge=0)]
# Lists in one variable, separated by commas or spaces.
Words = Annotated[tuple[str, ...], NoDecode]


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split())
    return value


def _each(value: Any, check: Callable[[str], None]) -> Any:
    """Check every item of a list setting (pydantic reports the ValueError with the name)."""
    if isinstance(value, tuple):
        for item in value:
            check(item)
    return value


def _kiosk_pair(item: str) -> None:
    branch, _, key = item.partition(":")
    if not branch or not key:
        raise ValueError(f"not a branch:key pair: {item!r}")


def _network(item: str) -> None:
    try:
        ipaddress.ip_network(item, strict=False)
    except ValueError:
        raise ValueError(f"not an address or network: {item!r}") from None


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
    # The gateway hands each citizen message to the action server as it arrives, so the
    # answer's embedding is made while Rasa reads the message (bot.services.answers.prefetch).
    # Only worth it where the action server the gateway reaches is the one Rasa calls.
    prefetch_answers: bool = True
    # Bearer token for the gateway's /metrics; empty: only a scraper on this machine, directly.
    metrics_token: str = ""
    # The Rasa server runs from its own Python 3.10 environment (Rasa 3.6 supports no other).
    rasa_python: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    secret_key: str = ""
    # `make run` restarts a crashed process after this wait, doubled after each crash in a
    # row up to the maximum; a process that stayed up for the stable time starts the count
    # afresh, and after that many crashes in a row the runner gives up (0: never).
    restart_delay_seconds: Annotated[float, Field(gt=0, le=600)] = 1.0
    restart_max_delay_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    restart_stable_seconds: Annotated[float, Field(gt=0)] = 120.0
    restart_max_fast_crashes: Limit = 10

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
    allowed_origins: Words = ()
    kiosk_idle_warn: IdleSeconds = 90.0
    kiosk_idle_reset: IdleSeconds = 120.0
    # "branch:key" pairs; when set, only a kiosk with its key may call staff or start a
    # kiosk session.
    kiosk_keys: Words = ()

    # --- privacy: days after which `python -m bot purge` deletes each kind of personal data
    retention_days: Limit = 90  # bookings and enrolments, after the appointment
    transcript_retention_days: Limit = 30
    ticket_retention_days: Limit = 90
    # The gateway runs the purge this often (0: never; then run `python -m bot purge`).
    purge_every_hours: Limit = 24

    # --- abuse limits (0 turns one off: benchmarks only) ---
    rate_limit_session: Limit = 30  # messages per minute per chat session
    rate_limit_address: Limit = 600  # ... per client address
    max_sockets_per_address: Limit = 200
    # Addresses or networks (CIDR) of load balancers whose X-Forwarded-For is believed.
    trusted_proxies: Words = ()
    max_bookings_per_contact: Limit = 2  # upcoming IT-help bookings per phone or e-mail
    max_waitlist_per_contact: Limit = 2  # course wait-list places per phone or e-mail
    lookup_max_failures: Limit = 5  # wrong references or codes before look-ups lock
    lookup_lock_minutes: Limit = 30

    # --- notifications (no SMTP host: no e-mail; no SMS gateway: no SMS) ---
    smtp_host: str = ""
    smtp_port: Port = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    # "starttls", "ssl" or "none" (a relay on the same machine).
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    sms_gateway_url: str = ""
    sms_token: str = ""
    sms_sender: str = "Biblioteket"

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
        value = _split(value)
        return tuple(origin.rstrip("/") for origin in value) if isinstance(value, tuple) else value

    @field_validator("kiosk_keys", mode="before")
    @classmethod
    def _split_kiosk_keys(cls, value: Any) -> Any:
        return _each(_split(value), _kiosk_pair)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        return _each(_split(value), _network)

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
    def kiosk_key_map(self) -> dict[str, str]:
        """Kiosk key -> branch id (BORGER_KIOSK_KEYS="hovedbiblioteket:k1 nord:k2")."""
        pairs = (item.partition(":") for item in self.kiosk_keys)
        return {key: branch for branch, _, key in pairs}

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
