"""Staff accounts and console sign-in: argon2 password hashes, sessions, CSRF, rate limit.

Sessions live in the database (table staff_sessions), so a gateway restart or a second gateway
instance keeps everyone signed in. The cookie holds a random token; the table holds only its
SHA-256, so a leaked database backup cannot be replayed as a session. Each session has its own
CSRF token, which the console sends in the ``X-CSRF-Token`` header on every state-changing
request (on top of SameSite=Strict cookies and an Origin check in the router).

Failed sign-ins are audit events; the rate limit counts them per user name and per client
address inside a time window, so it holds across restarts and instances too.

Settings (bot/core/config.py, passed in as a :class:`StaffPolicy`):

- ``BORGER_STAFF_COOKIE_SECURE`` (default ``1``): set ``0`` only for plain-http development and
  tests on localhost; browsers do not send ``Secure`` cookies over http.
- ``BORGER_STAFF_SESSION_HOURS`` (default 12): a session ends this long after sign-in.
- ``BORGER_STAFF_PRESENCE_SECONDS`` (default 120): a console counts as signed in while its
  WebSocket has been heard from within this time.
- ``BORGER_LOGIN_MAX_FAILURES`` (default 5) per user name, ``BORGER_LOGIN_MAX_FAILURES_PER_IP``
  (default 20), inside ``BORGER_LOGIN_WINDOW_SECONDS`` (default 900).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.db.models import ROLES, AuditEvent, StaffSession, StaffUser, utc_now
from bot.db.session import session_scope

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 256  # argon2 copes with more; this only stops absurd request bodies
NAME_MAX_CHARS = 200
# The longest progressive delay between two sign-in tries from one address.
_MAX_DELAY_SECONDS = 300
# Presence is written at most this often per session, to spare the database.
_TOUCH_EVERY = timedelta(seconds=15)

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class StaffPolicy:
    """The staff settings, as sign-in and presence use them."""

    cookie_secure: bool = True
    session_hours: int = 12
    presence_seconds: int = 120
    max_failures: int = 5
    max_failures_per_ip: int = 20
    window_seconds: int = 900

    @classmethod
    def from_settings(cls, settings: Settings) -> StaffPolicy:
        return cls(
            cookie_secure=settings.staff_cookie_secure,
            session_hours=settings.staff_session_hours,
            presence_seconds=settings.staff_presence_seconds,
            max_failures=settings.login_max_failures,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            window_seconds=settings.login_window_seconds,
        )

    @property
    def cookie_name(self) -> str:
        return cookie_name(self.cookie_secure)


DEFAULT_POLICY = StaffPolicy()


def cookie_name(secure: bool) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and
    # Path=/; it cannot be used on plain http, so the development name is a plain one.
    return "__Host-borger_staff" if secure else "borger_staff"


class AuthError(Exception):
    """Sign-in refused; ``message`` is Danish and safe to show."""

    def __init__(self, message: str, status_code: int = 401, retry_after: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class AccountError(ValueError):
    """A bad user name, name or password when creating or changing an account."""


@dataclass(frozen=True)
class StaffIdentity:
    """The signed-in staff member behind one console session."""

    staff_id: int
    username: str
    name: str
    session_id: str  # SHA-256 of the cookie token
    csrf_token: str
    role: str = "staff"

    def may(self, role: str) -> bool:
        return has_role(self.role, role)


@dataclass(frozen=True)
class StaffAccount:
    id: int
    username: str
    name: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    role: str = "staff"


ROLE_LABELS = {"staff": "medarbejder", "editor": "redaktør", "admin": "administrator"}


def has_role(held: str, needed: str) -> bool:
    """Roles include the ones before them: admin ⊃ editor ⊃ staff."""
    return held in ROLES and ROLES.index(held) >= ROLES.index(needed)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    return role


# --- audit ------------------------------------------------------------------------------


def record_audit(
    session: Session,
    action: str,
    *,
    staff_id: int | None = None,
    username: str | None = None,
    ip: str | None = None,
    ticket_id: int | None = None,
    conversation_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            action=action,
            staff_id=staff_id,
            username=username,
            ip=(ip or "")[:64] or None,
            ticket_id=ticket_id,
            conversation_id=conversation_id,
            detail=detail,
        )
    )


# --- accounts ---------------------------------------------------------------------------


def normalize_username(username: str) -> str:
    value = (username or "").strip().lower()
    if not USERNAME_PATTERN.match(value):
        raise AccountError(
            "The user name must be 2-64 characters: lower-case letters, digits, '.', '_' or "
            "'-', starting with a letter or digit."
        )
    return value


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_CHARS:
        raise AccountError(f"The password must be at least {PASSWORD_MIN_CHARS} characters.")
    if len(password) > PASSWORD_MAX_CHARS:
        raise AccountError(f"The password must be at most {PASSWORD_MAX_CHARS} characters.")


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def _account(user: StaffUser) -> StaffAccount:
    return StaffAccount(
        user.id, user.username, user.name, user.active, user.created_at, user.last_login_at,
        user.role,
    )


def _identity(user: StaffUser, staff_session: StaffSession) -> StaffIdentity:
    return StaffIdentity(
        user.id, user.username, user.name, staff_session.id, staff_session.csrf_token, user.role
    )


def create_staff(
    url: str | None, username: str, name: str, password: str, role: str = "staff"
) -> StaffAccount:
    username = normalize_username(username)
    check_role(role)
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX_CHARS:
        raise AccountError(f"The name must be 1-{NAME_MAX_CHARS} characters.")
    password_hash = hash_password(password)
    with session_scope(url) as session:
        if session.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
            raise AccountError(f"A staff account {username!r} already exists.")
        user = StaffUser(username=username, name=name, password_hash=password_hash, role=role)
        session.add(user)
        session.flush()
        record_audit(
            session, "staff_created", staff_id=user.id, username=username, detail={"role": role}
        )
        return _account(user)


def _existing(session: Session, username: str) -> StaffUser:
    user = session.execute(
        select(StaffUser).where(StaffUser.username == username)
    ).scalar_one_or_none()
    if user is None:
        raise AccountError(f"No staff account {username!r}.")
    return user


def set_role(
    url: str | None, username: str, role: str, by: str | None = None
) -> StaffAccount:
    """Give an account another role; its open sessions get the new role at once (the role is
    read from the account on every request)."""
    username = normalize_username(username)
    check_role(role)
    with session_scope(url) as session:
        user = _existing(session, username)
        previous, user.role = user.role, role
        record_audit(
            session, "staff_role", staff_id=user.id, username=by or username,
            detail={"account": username, "from": previous, "to": role},
        )
        return _account(user)


def list_staff(url: str | None) -> list[StaffAccount]:
    with session_scope(url, read_only=True) as session:
        users = session.execute(select(StaffUser).order_by(StaffUser.username)).scalars()
        return [_account(u) for u in users]


def set_disabled(url: str | None, username: str, disabled: bool) -> StaffAccount:
    """Disable (and sign out everywhere) or enable an account."""
    username = normalize_username(username)
    with session_scope(url) as session:
        user = _existing(session, username)
        now = utc_now()
        if disabled:
            user.disabled_at = user.disabled_at or now
            session.execute(
                update(StaffSession)
                .where(StaffSession.staff_id == user.id, StaffSession.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        else:
            user.disabled_at = None
        record_audit(
            session, "staff_disabled" if disabled else "staff_enabled", staff_id=user.id,
            username=username,
        )
        return _account(user)


# --- sign-in ----------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Failures:
    pair: int  # this user name from this address, since the name's last success
    address: int  # from this address, any user name
    oldest: datetime | None  # the oldest counted failure (when a block lifts)
    last_from_address: datetime | None


def _failures(session: Session, username: str, ip: str | None, since: datetime) -> _Failures:
    """Failed sign-ins in the window. Counted per address, and per user name *from that
    address*: an attacker elsewhere can slow themselves down, never lock the real user out
    of their own machine."""
    last_success = session.execute(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.action == "login", AuditEvent.username == username
        )
    ).scalar_one()
    pair_since = max(since, last_success) if last_success else since
    same_address = AuditEvent.ip == ip[:64] if ip else AuditEvent.ip.is_(None)
    failed = (AuditEvent.action == "login_failed") & same_address
    pair = session.execute(
        select(func.count(), func.min(AuditEvent.created_at)).where(
            failed, AuditEvent.username == username, AuditEvent.created_at > pair_since
        )
    ).one()
    by_ip = session.execute(
        select(func.count(), func.min(AuditEvent.created_at), func.max(AuditEvent.created_at))
        .where(failed, AuditEvent.created_at > since)
    ).one()
    oldest = min((t for t in (pair[1], by_ip[1]) if t is not None), default=None)
    return _Failures(pair[0], by_ip[0], oldest, by_ip[2])


def _too_many(minutes_or_seconds: int, seconds: bool = False) -> AuthError:
    if seconds:
        return AuthError(
            f"For mange forkerte forsøg. Vent {minutes_or_seconds} sekunder, og prøv igen.",
            status_code=429,
            retry_after=minutes_or_seconds,
        )
    wait = minutes_or_seconds
    minutes = max(1, -(-wait // 60))
    return AuthError(
        f"For mange forkerte forsøg. Prøv igen om {minutes} minut"
        f"{'ter' if minutes != 1 else ''}.",
        status_code=429,
        retry_after=max(wait, 1),
    )


def login(
    url: str,
    username: str,
    password: str,
    ip: str | None = None,
    policy: StaffPolicy = DEFAULT_POLICY,
) -> tuple[str, StaffIdentity]:
    """Check the password and open a session; returns (cookie token, identity).

    Raises AuthError (401 wrong name/password, 429 too many failures). Limits: a user name
    from one address is blocked after BORGER_LOGIN_MAX_FAILURES failures, an address after
    BORGER_LOGIN_MAX_FAILURES_PER_IP, both for the window; past the per-name count every
    further try from that address waits twice as long as the one before (1 s, 2 s, 4 s ...).
    """
    wrong = AuthError("Forkert brugernavn eller adgangskode.")
    username = (username or "").strip().lower()[:64]
    password = password or ""
    window = timedelta(seconds=policy.window_seconds)
    max_pair = policy.max_failures
    now = utc_now()
    with session_scope(url) as session:
        failures = _failures(session, username, ip, now - window)
        if failures.pair >= max_pair or failures.address >= policy.max_failures_per_ip:
            oldest = failures.oldest or now
            raise _too_many(int((oldest + window - now).total_seconds()) + 1)
        if failures.address > max_pair and failures.last_from_address is not None:
            delay = min(2 ** (failures.address - max_pair - 1), _MAX_DELAY_SECONDS)
            waited = (now - failures.last_from_address).total_seconds()
            if waited < delay:
                raise _too_many(max(1, int(delay - waited + 0.999)), seconds=True)
        user = session.execute(
            select(StaffUser).where(StaffUser.username == username)
        ).scalar_one_or_none()
        try:
            stored = user.password_hash if user else _DUMMY_HASH
            _hasher.verify(stored, password[:PASSWORD_MAX_CHARS])
            verified = user is not None
        except (VerificationError, InvalidHashError):
            verified = False
        if not verified or user is None or not user.active:
            record_audit(session, "login_failed", username=username or None, ip=ip)
            session.commit()
            raise wrong
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token = secrets.token_urlsafe(32)
        staff_session = StaffSession(
            id=_token_hash(token),
            staff_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=policy.session_hours),
        )
        session.add(staff_session)
        user.last_login_at = now
        record_audit(session, "login", staff_id=user.id, username=username, ip=ip)
        identity = _identity(user, staff_session)
    return token, identity


def identify(url: str | None, token: str | None, touch: bool = True) -> StaffIdentity | None:
    """The staff member of a valid session cookie, or None. ``touch`` refreshes presence."""
    if not token or len(token) > 200:
        return None
    now = utc_now()
    with session_scope(url) as session:
        staff_session = session.get(StaffSession, _token_hash(token))
        if (
            staff_session is None
            or staff_session.revoked_at is not None
            or staff_session.expires_at <= now
            or not staff_session.staff.active
        ):
            return None
        if touch and now - staff_session.last_seen_at >= _TOUCH_EVERY:
            staff_session.last_seen_at = now
        return _identity(staff_session.staff, staff_session)


def touch(url: str | None, session_id: str) -> None:
    """Presence heartbeat from the console's WebSocket."""
    now = utc_now()
    with session_scope(url) as session:
        session.execute(
            update(StaffSession)
            .where(
                StaffSession.id == session_id,
                StaffSession.revoked_at.is_(None),
                StaffSession.last_seen_at < now - _TOUCH_EVERY,
            )
            .values(last_seen_at=now)
        )


def still_valid(url: str | None, session_id: str) -> bool:
    """Whether a session is still valid (an open WebSocket re-checks this on each ping)."""
    now = utc_now()
    with session_scope(url, read_only=True) as session:
        staff_session = session.get(StaffSession, session_id)
        return bool(
            staff_session
            and staff_session.revoked_at is None
            and staff_session.expires_at > now
            and staff_session.staff.active
        )


def logout(url: str | None, identity: StaffIdentity, ip: str | None = None) -> None:
    with session_scope(url) as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.id == identity.session_id)
            .values(revoked_at=utc_now())
        )
        record_audit(
            session, "logout", staff_id=identity.staff_id, username=identity.username, ip=ip
        )


def csrf_ok(identity: StaffIdentity, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(
        identity.csrf_token.encode(), str(presented).encode()
    )


def staff_online(url: str, now: datetime | None = None, presence_seconds: int = 120) -> bool:
    """Whether any staff member has a live console: a valid session heard from recently."""
    now = now or utc_now()
    recent = now - timedelta(seconds=presence_seconds)
    with session_scope(url, read_only=True) as session:
        found = session.execute(
            select(StaffSession.id)
            .join(StaffUser, StaffUser.id == StaffSession.staff_id)
            .where(
                StaffSession.revoked_at.is_(None),
                StaffSession.expires_at > now,
                StaffSession.last_seen_at >= recent,
                StaffUser.disabled_at.is_(None),
            )
            .limit(1)
        ).first()
        return found is not None

