"""Guessing protection for the citizen's look-ups: wrong references and one-time codes are
counted per chat session and per contact, and too many within the lock period lock both out
for a while. One-time codes for "what have I booked?" are issued and checked here.

Keys are SHA-256 hashes ("session:<id>", "contact:<kind>:<value>"), so the failure table
holds no contact details. Codes are six digits from a CSPRNG, stored only as a hash, bound
to the chat session that asked, valid for CODE_MINUTES and for CODE_ATTEMPTS tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import AccessCode, LookupFailure, utc_now

CODE_DIGITS = 6
CODE_MINUTES = 15
CODE_ATTEMPTS = 3


@dataclass(frozen=True)
class LockPolicy:
    max_failures: int  # 0: never lock
    minutes: int


def lock_keys(session_id: str | None, contact: str | None = None) -> list[str]:
    keys = []
    if session_id:
        keys.append(_hash(f"session:{session_id}"))
    if contact:
        keys.append(_hash(f"contact:{contact.casefold()}"))
    return keys


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def locked_minutes(
    session: Session, keys: list[str], policy: LockPolicy, now: datetime | None = None
) -> int:
    """Minutes left of a lock on any of these keys (0: not locked)."""
    if not policy.max_failures or not keys:
        return 0
    now = now or utc_now()
    since = now - timedelta(minutes=policy.minutes)
    worst = 0
    for key in keys:
        count, oldest = session.execute(
            select(func.count(), func.min(LookupFailure.created_at)).where(
                LookupFailure.key == key, LookupFailure.created_at > since
            )
        ).one()
        if count >= policy.max_failures and oldest is not None:
            left = (oldest + timedelta(minutes=policy.minutes) - now).total_seconds()
            worst = max(worst, max(1, -(-int(left) // 60)))
    return worst


def record_failure(session: Session, keys: list[str]) -> None:
    now = utc_now()
    session.add_all(LookupFailure(key=key, created_at=now) for key in keys)
    session.flush()


def lock_message(minutes: int, phone: str) -> str:
    unit = "minut" if minutes == 1 else "minutter"
    return (
        "Der har været for mange forkerte forsøg, så af sikkerhedshensyn er det spærret et "
        f"stykke tid. Prøv igen om {minutes} {unit}, eller ring til biblioteket på {phone}."
    )


# --- one-time codes -------------------------------------------------------------------------


def _code_hash(code: str, conversation_id: str) -> str:
    # Bound to the session: a code read from one chat is useless in another.
    return hmac.new(conversation_id.encode(), code.encode(), hashlib.sha256).hexdigest()


def issue_code(session: Session, conversation_id: str, kind: str, contact: str) -> str:
    """A new code for this session and contact (earlier ones of the session are retired)."""
    now = utc_now()
    for old in pending_codes(session, conversation_id, now):
        old.used_at = now
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    session.add(
        AccessCode(
            conversation_id=conversation_id,
            contact_kind=kind,
            contact=contact,
            code_hash=_code_hash(code, conversation_id),
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    )
    session.flush()
    return code


def pending_codes(
    session: Session, conversation_id: str, now: datetime | None = None
) -> list[AccessCode]:
    now = now or utc_now()
    return list(
        session.execute(
            select(AccessCode).where(
                AccessCode.conversation_id == conversation_id,
                AccessCode.used_at.is_(None),
                AccessCode.expires_at > now,
                AccessCode.attempts < CODE_ATTEMPTS,
            )
        ).scalars()
    )


def check_code(session: Session, conversation_id: str, typed: str) -> AccessCode | None:
    """The code's record when ``typed`` is this session's pending code (then used up);
    None otherwise, and the try is counted."""
    codes = pending_codes(session, conversation_id)
    digits = "".join(c for c in typed if c.isdigit())
    for code in codes:
        if len(digits) == CODE_DIGITS and hmac.compare_digest(
            code.code_hash, _code_hash(digits, conversation_id)
        ):
            code.used_at = utc_now()
            return code
    for code in codes:
        code.attempts += 1
    return None


def looks_like_code(text: str) -> bool:
    compact = "".join(c for c in text if not c.isspace())
    return len(compact) == CODE_DIGITS and compact.isdigit()
