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


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(os.environ.get(name, "").replace(",", " ").split())


def _env_limit(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value < 0:
        raise ValueError(f"{name} must be 0 (off) or a positive whole number, got {value}")
    return value


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
    # --- trust: retention, limits, mail (issue 13) -------------------------------------
    # Days after which `python -m bot purge` deletes each kind of personal data.
    booking_retention_days: int = field(
        default_factory=lambda: _env_limit("BORGER_RETENTION_DAYS", 90)
    )
    transcript_retention_days: int = field(
        default_factory=lambda: _env_limit("BORGER_TRANSCRIPT_RETENTION_DAYS", 30)
    )
    ticket_retention_days: int = field(
        default_factory=lambda: _env_limit("BORGER_TICKET_RETENTION_DAYS", 90)
    )
    # The gateway runs the purge this often (0: never; then run `python -m bot purge`).
    purge_every_hours: int = field(
        default_factory=lambda: _env_limit("BORGER_PURGE_EVERY_HOURS", 24)
    )
    # Messages per minute; 0 turns a limit off (benchmarks only).
    rate_limit_session: int = field(
        default_factory=lambda: _env_limit("BORGER_RATE_LIMIT_SESSION", 30)
    )
    rate_limit_address: int = field(
        default_factory=lambda: _env_limit("BORGER_RATE_LIMIT_ADDRESS", 600)
    )
    max_sockets_per_address: int = field(
        default_factory=lambda: _env_limit("BORGER_MAX_SOCKETS_PER_ADDRESS", 200)
    )
    # Addresses or networks (CIDR) of load balancers whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: _env_list("BORGER_TRUSTED_PROXIES")
    )
    allowed_origins: tuple[str, ...] = field(
        default_factory=lambda: _env_list("BORGER_ALLOWED_ORIGINS")
    )
    # "branch:key" pairs; when set, only a kiosk with its key may call staff or start a
    # kiosk session.
    kiosk_keys: tuple[str, ...] = field(default_factory=lambda: _env_list("BORGER_KIOSK_KEYS"))
    max_active_bookings: int = field(
        default_factory=lambda: _env_limit("BORGER_MAX_BOOKINGS_PER_CONTACT", 2)
    )
    max_waitlist_places: int = field(
        default_factory=lambda: _env_limit("BORGER_MAX_WAITLIST_PER_CONTACT", 2)
    )
    lookup_max_failures: int = field(
        default_factory=lambda: _env_limit("BORGER_LOOKUP_MAX_FAILURES", 5)
    )
    lookup_lock_minutes: int = field(
        default_factory=lambda: _env_limit("BORGER_LOOKUP_LOCK_MINUTES", 30)
    )
    smtp_host: str = field(default_factory=lambda: _env("BORGER_SMTP_HOST", ""))
    smtp_port: int = field(default_factory=lambda: _env_int("BORGER_SMTP_PORT", 587))
    smtp_user: str = field(default_factory=lambda: _env("BORGER_SMTP_USER", ""))
    smtp_password: str = field(default_factory=lambda: _env("BORGER_SMTP_PASSWORD", ""))
    smtp_from: str = field(default_factory=lambda: _env("BORGER_SMTP_FROM", ""))
    # "starttls" (default), "ssl" or "none" (a relay on the same machine).
    smtp_security: str = field(default_factory=lambda: _env("BORGER_SMTP_SECURITY", "starttls"))
    sms_gateway_url: str = field(default_factory=lambda: _env("BORGER_SMS_GATEWAY_URL", ""))
    sms_token: str = field(default_factory=lambda: _env("BORGER_SMS_TOKEN", ""))
    sms_sender: str = field(default_factory=lambda: _env("BORGER_SMS_SENDER", "Biblioteket"))
    cache_dir: Path = field(
        default_factory=lambda: Path(
            _env("BORGER_CACHE_DIR", str(Path.home() / ".cache" / "borgerservice"))
        )
    )

    @property
    def database_url(self) -> str:
        return self.database_url_raw or f"sqlite:///{self.var_dir / 'app.db'}"

    def __post_init__(self) -> None:
        if self.smtp_security not in ("starttls", "ssl", "none"):
            raise ValueError(
                "BORGER_SMTP_SECURITY must be starttls, ssl or none, got "
                f"{self.smtp_security!r}"
            )

    @property
    def kiosk_key_map(self) -> dict[str, str]:
        """Kiosk key -> branch id (BORGER_KIOSK_KEYS="hovedbiblioteket:k1 nord:k2")."""
        pairs = (item.partition(":") for item in self.kiosk_keys)
        return {key: branch for branch, _, key in pairs if branch and key}

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
