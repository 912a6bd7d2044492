"""The privacy notice and the accessibility statement: filled from config/library.yml and
the retention settings, on every page's security headers, no open redirect."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security_support import gateway


def test_privacy_notice_says_what_the_settings_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway(tmp_path, monkeypatch, BORGER_TRANSCRIPT_RETENTION_DAYS="14") as client:
        page = client.get("/privatliv")
        assert page.status_code == 200
        text = " ".join(page.text.split())
        for fact in (
            "Sådan behandler vi dine oplysninger",
            "Kildeby Kommune, Kultur og Fritid",  # controller, from config/library.yml
            "dpo@kildeby.dk",
            "artikel 6, stk. 1, litra e",
            "14 dage efter den sidste besked",  # the setting, not a number in a template
            "90 dage efter aftalen",
            "Slet samtalen",
            "Datatilsynet",
        ):
            assert fact in text, fact


def test_accessibility_statement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with gateway(tmp_path, monkeypatch) as client:
        text = " ".join(client.get("/tilgaengelighed").text.split())
        for fact in ("EN 301 549", "WCAG 2.1", "delvist i overensstemmelse", "Kendte afvigelser",
                     "borgerservice@kildeby-bib.dk", "Digitaliseringsstyrelsen"):
            assert fact in text, fact


@pytest.mark.parametrize(
    ("back", "shown"),
    [
        ("/kiosk?branch=hovedbiblioteket", True),
        ("https://evil.example/", False),
        ("//evil.example/kiosk", False),
        ("/kiosk//evil.example", False),
        ("/staff", False),
    ],
)
def test_back_link_only_to_the_kiosk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, back: str, shown: bool
) -> None:
    with gateway(tmp_path, monkeypatch) as client:
        page = client.get("/privatliv", params={"tilbage": back})
        assert ("Tilbage til skærmen" in page.text) is shown
