"""CPR redaction catches every way people write a CPR number, and nothing else; log lines
never carry CPR numbers or chat session ids."""

from __future__ import annotations

import logging

import pytest

from bot.core.logs import install_log_scrubbing, scrub_log_text
from bot.language.privacy import REDACTED, contains_cpr, redact_cpr, redact_json

NBSP, ZWSP, EN_DASH = "\u00a0", "\u200b", "\u2013"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")

CPR_FORMS = [
    "010190-1234",
    "0101901234",
    "010190 1234",
    "01 01 90 12 34",
    "0101 90 1234",
    "01-01-90-1234",
    "01.01.90-1234",
    "01.01.90.1234",
    f"010190{EN_DASH}1234",
    "010190/1234",
    "01/01/90-1234",
    f"010190{NBSP}1234",
    f"01{NBSP}01{NBSP}90{NBSP}12{NBSP}34",
    "010190  1234",
    "010190 - 1234",
    f"0101{ZWSP}901234",
    f"010190{ZWSP}-{ZWSP}1234",
    "010190-1234".translate(FULL_WIDTH),
    "310785\u20111234",  # non-breaking hyphen
]


@pytest.mark.parametrize("cpr", CPR_FORMS)
def test_every_written_form_is_redacted(cpr: str) -> None:
    text, found = redact_cpr(f"Mit cpr er {cpr}, kan du hjælpe?")
    assert found, cpr
    assert text == f"Mit cpr er {REDACTED}, kan du hjælpe?"
    assert not any(ch.isdecimal() for ch in text)


@pytest.mark.parametrize(
    "text",
    [
        "Ring på 22 33 44 55",
        "+45 22 33 44 55",
        "0045 22334455",
        "ordre 123456789012",  # 12 digits: not a CPR number
        "1234567890",  # not a date
        "den 01.12.2026 10.00",  # a date with a four-digit year and a time
        "kl. 10.30 den 3. december",
        "010190-12345",  # too long a serial
        "320190-1234",  # day 32
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert redact_cpr(text) == (text, False)


def test_two_numbers_and_a_phone_in_one_message() -> None:
    text, found = redact_cpr("22 33 44 55 01 01 90 12 34 og 020290-4321")
    assert found
    assert text == f"22 33 44 55 {REDACTED} og {REDACTED}"
    assert contains_cpr("0101901234") and not contains_cpr("")


def test_json_values_are_redacted_deep() -> None:
    value = {"text": "cpr 0101901234", "parse_data": {"entities": [{"value": "01 01 90 12 34"}]}}
    clean, found = redact_json(value)
    assert found
    assert clean == {"text": f"cpr {REDACTED}", "parse_data": {"entities": [{"value": REDACTED}]}}
    assert redact_json({"n": 5, "ok": True}) == ({"n": 5, "ok": True}, False)


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    install_log_scrubbing()
    logger = logging.getLogger("tests.privacy")
    secret = "aB3dE6fG9hJ2kL5mN8pQ1r"
    with caplog.at_level(logging.INFO):
        logger.info('%s - "WebSocket %s" [accepted]', ("127.0.0.1", 5000), f"/api/ws/{secret}")
        logger.info("citizen wrote %s", "cpr 01 01 90 12 34")
        logger.warning("GET /api/conversation/%s?after=3", secret)
    text = caplog.text
    assert secret not in text and "12 34" not in text
    assert "/api/ws/[id]" in text and REDACTED in text
    assert scrub_log_text("/api/conversation/abc?after=1") == "/api/conversation/[id]?after=1"
