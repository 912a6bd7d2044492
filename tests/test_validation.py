"""Names and contact details as citizens type them."""

from __future__ import annotations

import pytest

from bot.services.validation import (
    CONTACT_HAS_CPR,
    CONTACT_INVALID,
    NAME_BAD_CHARS,
    NAME_HAS_CPR,
    NAME_MISSING,
    NAME_TOO_LONG,
    NAME_TOO_SHORT,
    contact_problem,
    format_phone,
    name_problem,
    normalize_contact,
    normalize_email,
    normalize_name,
    normalize_phone,
)


@pytest.mark.parametrize(
    "text",
    [
        "22345678",
        "22 34 56 78",
        "2234 5678",
        "22-34-56-78",
        "22.34.56.78",
        "+45 22345678",
        "+4522345678",
        "0045 22345678",
        "(+45) 22 34 56 78",
        " 22345678 ",
        "22\u00a034\u00a056\u00a078",  # non-breaking spaces from copy-paste
    ],
)
def test_phone_formats_accepted(text: str) -> None:
    assert normalize_phone(text) == "22345678"


@pytest.mark.parametrize(
    "text",
    [
        "2234567",  # 7 digits
        "223456789",  # 9 digits
        "12345678",  # Danish numbers start with 2-9
        "02345678",
        "+46 22345678",  # Swedish
        "22a45678",
        "to to tre fire",
        "",
        "+45",
        "22345678 22345678",
        "2" * 50,
    ],
)
def test_phone_rejected(text: str) -> None:
    assert normalize_phone(text) is None


def test_format_phone() -> None:
    assert format_phone("22345678") == "22 34 56 78"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna@example.dk", "anna@example.dk"),
        ("  Anna.Jensen@Example.DK ", "Anna.Jensen@example.dk"),
        ("o'brien+lib@kommune.dk", "o'brien+lib@kommune.dk"),
        ("søren@søborg.dk", None),  # non-ASCII local part: not plausible for the chat
        ("soren@SØBORG.dk", "soren@søborg.dk"),
        ("a@b.co.uk", "a@b.co.uk"),
    ],
)
def test_email_normalised(text: str, expected: str | None) -> None:
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "anna",
        "anna@",
        "@example.dk",
        "anna@example",
        "anna@@example.dk",
        "anna @example.dk",
        "anna..jensen@example.dk",
        ".anna@example.dk",
        "anna@-example.dk",
        "anna@example.d",
        "<script>@example.dk",
        "anna@example.dk<script>",
        "x" * 65 + "@example.dk",
        "a@" + "b" * 250 + ".dk",
    ],
)
def test_email_rejected(text: str) -> None:
    assert normalize_email(text) is None


def test_normalize_contact_picks_kind() -> None:
    assert normalize_contact("+45 22 34 56 78") == ("phone", "22345678")
    assert normalize_contact("Anna@Example.dk") == ("email", "Anna@example.dk")
    assert normalize_contact("ring til mig") is None


def test_contact_problem_messages_are_danish() -> None:
    assert contact_problem("22345678") is None
    assert contact_problem("123") == CONTACT_INVALID
    assert contact_problem("010190-1234") == CONTACT_HAS_CPR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna Jensen", "Anna Jensen"),
        ("  Søren   Ærø-Åberg  ", "Søren Ærø-Åberg"),
        ("Zoë D’Angelo", "Zoë D’Angelo"),
        ("Liv O'Brien", "Liv O'Brien"),
        ("J. Müller", "J. Müller"),
        ("José Núñez", "José Núñez"),
        ("Bo", "Bo"),
    ],
)
def test_names_accepted(text: str, expected: str) -> None:
    assert normalize_name(text) == expected
    assert name_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", NAME_MISSING),
        ("   ", NAME_MISSING),
        ("A", NAME_TOO_SHORT),
        ("A.", NAME_TOO_SHORT),
        ("a" * 101, NAME_TOO_LONG),
        ("x" * 500, NAME_TOO_LONG),
        ("12345678", NAME_BAD_CHARS),
        ("Anna 2", NAME_BAD_CHARS),
        ("Robert'); DROP TABLE bookings;--", NAME_BAD_CHARS),
        ("<script>alert(1)</script>", NAME_BAD_CHARS),
        ("Anna {Jensen}", NAME_BAD_CHARS),
        ("Anna\nJensen\x00", NAME_BAD_CHARS),
        ("Anna 010190-1234", NAME_HAS_CPR),
        ("0101901234", NAME_HAS_CPR),
    ],
)
def test_names_rejected_with_danish_reason(text: str, problem: str) -> None:
    assert normalize_name(text) is None
    assert name_problem(text) == problem


def test_name_rejects_non_strings() -> None:
    assert normalize_name(None) is None  # type: ignore[arg-type]
    assert normalize_phone(None) is None  # type: ignore[arg-type]
    assert normalize_contact(None) is None  # type: ignore[arg-type]
