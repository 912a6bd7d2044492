"""The kiosk hears back (bot/services/handoff/service.py): when staff take a kiosk call the kiosk's
transcript says who is coming, and when the call is closed before anyone came it says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.services.handoff import HandoffService
from bot.services.handoff.texts import KIOSK_CLOSED_UNANSWERED
from bot.services.transcripts import messages_after
from tests.handoff_support import add_staff, avoid_midnight_gap, write_library


@pytest.fixture
def library(tmp_path: Path) -> Path:
    avoid_midnight_gap()
    return write_library(tmp_path / "l.yml", "always")


def test_taking_a_kiosk_call_names_who_is_coming(db_url: str, library: Path) -> None:
    service = HandoffService(load_settings(database_url=db_url, library_config=library))
    staff_id = add_staff(db_url, "anna", "Anna Holm")
    ok, _, change = service.kiosk_call("kiosk-1", "nord")
    assert ok and change is not None
    taken = service.take(change.ticket["id"], staff_id)
    assert taken.conversation_id == "kiosk-1"
    news = messages_after(db_url, "kiosk-1")[-1]
    assert news["text"] == "En medarbejder er på vej: Anna kommer hen til dig ved skærmen."
    assert news["kiosk"] == "coming" and taken.messages == [news]
    closed = service.close(change.ticket["id"], staff_id, "resolved")
    assert closed.messages == []  # Anna is there: nothing more to say on the screen


def test_a_kiosk_call_closed_unanswered_says_so(db_url: str, library: Path) -> None:
    service = HandoffService(load_settings(database_url=db_url, library_config=library))
    staff_id = add_staff(db_url, "bo", "Bo Berg")
    _, _, change = service.kiosk_call("kiosk-2", "hovedbiblioteket")
    closed = service.close(change.ticket["id"], staff_id, "no_response")
    news = messages_after(db_url, "kiosk-2")[-1]
    assert news["text"] == KIOSK_CLOSED_UNANSWERED and news["kiosk"] == "closed"
    assert closed.conversation_id == "kiosk-2" and closed.messages == [news]
