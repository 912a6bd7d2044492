"""Staff accounts and sign-in (bot/services/staff_auth.py) against real SQLite and PostgreSQL
databases.

The HTTP side (cookies, CSRF header, 401s, redirects) is tested against the running gateway in
tests/test_handoff_live.py; the CLI in tests/test_cli_staff.py.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select, update

from bot.core.config import load_settings
from bot.db.models import AuditEvent, StaffSession, StaffUser, utc_now
from bot.db.session import session_scope
from bot.services import staff_auth
from bot.services.staff_auth import (
    AccountError,
    AuthError,
    StaffPolicy,
    create_staff,
    csrf_ok,
    identify,
    list_staff,
    login,
    logout,
    set_disabled,
    staff_online,
    still_valid,
)
from tests.handoff_support import STAFF_PASSWORD, add_staff


def test_password_is_stored_as_an_argon2id_hash_only(db_url: str) -> None:
    add_staff(db_url)
    with session_scope(db_url) as session:
        user = session.execute(select(StaffUser)).scalar_one()
        assert user.password_hash.startswith("$argon2id$")
        assert STAFF_PASSWORD not in user.password_hash
    assert [(a.username, a.name, a.active) for a in list_staff(db_url)] == [
        ("anna", "Anna Holm", True)
    ]


@pytest.mark.parametrize(
    ("username", "password"),
    [("A", STAFF_PASSWORD), ("has space", STAFF_PASSWORD), ("bo", "kort"), ("-bo", STAFF_PASSWORD)],
)
def test_bad_user_names_and_short_passwords_are_refused(
    sqlite_url: str, username: str, password: str
) -> None:
    with pytest.raises(AccountError):
        create_staff(sqlite_url, username, "Bo", password)


def test_user_names_are_unique_and_case_insensitive(sqlite_url: str) -> None:
    add_staff(sqlite_url, "anna")
    with pytest.raises(AccountError, match="already exists"):
        create_staff(sqlite_url, "ANNA", "Anna Anden", STAFF_PASSWORD)


def test_login_opens_a_session_stored_only_as_a_hash(db_url: str) -> None:
    staff_id = add_staff(db_url)
    token, identity = login(db_url, " Anna ", STAFF_PASSWORD, "10.0.0.1")
    assert identity.staff_id == staff_id and identity.name == "Anna Holm"
    assert identity.session_id == hashlib.sha256(token.encode()).hexdigest()
    with session_scope(db_url) as session:
        ids = session.execute(select(StaffSession.id)).scalars().all()
        assert ids == [identity.session_id] and token not in ids
        actions = session.execute(select(AuditEvent.action)).scalars().all()
        assert "login" in actions
    assert identify(db_url, token) == identity
    assert identify(db_url, token + "x") is None
    assert identify(db_url, None) is None


def test_wrong_password_and_unknown_user_get_the_same_answer(sqlite_url: str) -> None:
    add_staff(sqlite_url)
    with pytest.raises(AuthError) as wrong:
        login(sqlite_url, "anna", "forkert-kodeord", "10.0.0.1")
    with pytest.raises(AuthError) as unknown:
        login(sqlite_url, "bo", STAFF_PASSWORD, "10.0.0.1")
    assert wrong.value.status_code == unknown.value.status_code == 401
    assert wrong.value.message == unknown.value.message == "Forkert brugernavn eller adgangskode."


def test_logout_and_expiry_end_the_session(sqlite_url: str) -> None:
    add_staff(sqlite_url)
    token, identity = login(sqlite_url, "anna", STAFF_PASSWORD)
    logout(sqlite_url, identity)
    assert identify(sqlite_url, token) is None
    assert not still_valid(sqlite_url, identity.session_id)

    token, identity = login(sqlite_url, "anna", STAFF_PASSWORD)
    with session_scope(sqlite_url) as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.id == identity.session_id)
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    assert identify(sqlite_url, token) is None


def test_disabling_an_account_signs_it_out_everywhere(db_url: str) -> None:
    add_staff(db_url)
    token, _ = login(db_url, "anna", STAFF_PASSWORD)
    set_disabled(db_url, "anna", True)
    assert identify(db_url, token) is None
    with pytest.raises(AuthError):
        login(db_url, "anna", STAFF_PASSWORD)
    set_disabled(db_url, "anna", False)
    assert identify(db_url, login(db_url, "anna", STAFF_PASSWORD)[0]) is not None
    assert identify(db_url, token) is None  # the old session stays revoked


def test_rate_limit_per_user_name(db_url: str) -> None:
    login = partial(staff_auth.login, policy=StaffPolicy(max_failures=3))
    add_staff(db_url)
    add_staff(db_url, "bo", "Bo Lund")
    for _ in range(3):
        with pytest.raises(AuthError) as failed:
            login(db_url, "anna", "forkert-kodeord", "10.0.0.1")
        assert failed.value.status_code == 401
    # Now even the right password is refused, with a Retry-After, until the window passes.
    with pytest.raises(AuthError) as blocked:
        login(db_url, "anna", STAFF_PASSWORD, "10.0.0.2")
    assert blocked.value.status_code == 429
    assert 0 < blocked.value.retry_after <= 901
    assert "For mange forkerte forsøg" in blocked.value.message
    # Another user at the same desk is not locked out.
    assert login(db_url, "bo", STAFF_PASSWORD, "10.0.0.1")[1].username == "bo"
    # Failures older than the window no longer count.
    with session_scope(db_url) as session:
        session.execute(
            update(AuditEvent).values(created_at=utc_now() - timedelta(seconds=901))
        )
    assert login(db_url, "anna", STAFF_PASSWORD, "10.0.0.2")[1].username == "anna"


def test_success_resets_the_user_count_but_not_the_address_count(sqlite_url: str) -> None:
    login = partial(staff_auth.login, policy=StaffPolicy(max_failures=3, max_failures_per_ip=4))
    add_staff(sqlite_url)
    for _ in range(2):
        with pytest.raises(AuthError):
            login(sqlite_url, "anna", "forkert-kodeord", "10.0.0.9")
    login(sqlite_url, "anna", STAFF_PASSWORD, "10.0.0.9")
    for _ in range(2):
        with pytest.raises(AuthError) as failed:
            login(sqlite_url, "anna", "forkert-kodeord", "10.0.0.9")
        assert failed.value.status_code == 401
    # Four failures from one address: that address is blocked, for every user name.
    with pytest.raises(AuthError) as blocked:
        login(sqlite_url, "nogen-andre", "hvad-som-helst", "10.0.0.9")
    assert blocked.value.status_code == 429


def test_csrf_token_must_match(sqlite_url: str) -> None:
    add_staff(sqlite_url)
    _, identity = login(sqlite_url, "anna", STAFF_PASSWORD)
    assert csrf_ok(identity, identity.csrf_token)
    assert not csrf_ok(identity, None)
    assert not csrf_ok(identity, "")
    assert not csrf_ok(identity, identity.csrf_token[:-1] + "x")


def test_staff_are_online_while_their_console_is_heard_from(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not staff_online(db_url)
    add_staff(db_url)
    _, identity = login(db_url, "anna", STAFF_PASSWORD)
    assert staff_online(db_url)
    with session_scope(db_url) as session:
        session.execute(
            update(StaffSession).values(last_seen_at=utc_now() - timedelta(seconds=300))
        )
    assert not staff_online(db_url)
    staff_auth.touch(db_url, identity.session_id)
    assert staff_online(db_url)
    logout(db_url, identity)
    assert not staff_online(db_url)


def test_cookie_is_secure_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BORGER_STAFF_COOKIE_SECURE", raising=False)
    policy = StaffPolicy.from_settings(load_settings())
    assert policy.cookie_secure and policy.cookie_name == "__Host-borger_staff"
    monkeypatch.setenv("BORGER_STAFF_COOKIE_SECURE", "0")
    policy = StaffPolicy.from_settings(load_settings())
    assert not policy.cookie_secure and policy.cookie_name == "borger_staff"
