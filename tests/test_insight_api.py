"""The insight API, its CSV and SVG, the missed-question actions and the console pages, on the
real gateway app in-process (no Rasa needed) over a database of known conversations."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from bot.core.config import load_settings
from bot.db.models import local_now
from bot.services.handoff import HandoffService
from tests.console_support import console_app, sign_in
from tests.insight_support import (
    FORNY,
    MISTET,
    answer,
    ask,
    clarify,
    conversation,
    not_understood,
    press,
)


def fill_recent(url: str) -> None:
    now = local_now() - timedelta(hours=2)
    conversation(url, "a1", now, ask(), answer(FORNY, "up"))
    conversation(url, "a2", now, ask("kørekort"), clarify(FORNY, MISTET), press(MISTET),
                 answer(MISTET))
    conversation(url, "a3", now, ask("Hvor kan jeg få et fiskekort? Ring 12345678"),
                 not_understood(), channel="kiosk", branch="nord")


def test_insights_json_csv_and_svg(sqlite_url: str, tmp_path: Path) -> None:
    fill_recent(sqlite_url)
    with console_app(sqlite_url, tmp_path) as app:
        staff = sign_in(app, "staff")
        figures = staff.get("/api/staff/insights?days=7").json()
        assert (figures["conversations"], figures["messages"]) == (3, 8)
        assert figures["outcomes"] == {
            "answered": 1, "clarified": 1, "not_understood": 1, "handoff": 0
        }
        assert figures["containment"] == round(2 / 3, 4)
        assert figures["articles"][FORNY] == {"shown": 1, "thumbs_up": 1, "thumbs_down": 0}
        assert figures["missed"] == [{
            **figures["missed"][0], "text": "Hvor kan jeg få et fiskekort? Ring [telefonnummer]",
            "count": 1,
        }]
        assert "De seneste 7 dage var der 3 samtaler med 8 beskeder." in figures["summary"][0]
        kiosk = staff.get("/api/staff/insights?days=7&channel=kiosk").json()
        assert kiosk["conversations"] == 1
        assert staff.get("/api/staff/insights?days=0").status_code == 422
        assert staff.get("/api/staff/insights?branch=atlantis").status_code == 422

        response = staff.get("/api/staff/insights/outcomes.csv?days=7")
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
        assert rows[0] == ["udfald", "antal"] and ["Ikke forstået", "1"] in rows
        assert staff.get("/api/staff/insights/nothing.csv").status_code == 404
        svg = staff.get("/api/staff/insights/charts/per_day.svg?days=7")
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert "<title id='t'>Samtaler pr. dag</title>" in svg.text and "<script" not in svg.text
        assert "<rect" in staff.get("/api/staff/insights/charts/heat_map.svg").text

        for page in ("/staff/insight", "/staff/articles"):
            served = staff.get(page)
            assert served.status_code == 200
            assert "script-src 'self'" in served.headers["content-security-policy"]


def test_missed_actions_need_an_editor(sqlite_url: str, tmp_path: Path) -> None:
    fill_recent(sqlite_url)
    with console_app(sqlite_url, tmp_path) as app:
        staff, editor = sign_in(app, "staff"), sign_in(app, "editor")
        groups = staff.get("/api/staff/missed?days=7").json()["groups"]
        key = groups[0]["key"]
        assert staff.send("POST", f"/api/staff/missed/{key}/dismiss").status_code == 403
        added = editor.send("POST", f"/api/staff/articles/{MISTET}/questions",
                            {"question": groups[0]["text"], "missed_key": key})
        assert added.status_code == 200
        assert added.json()["questions"][-1] == groups[0]["text"]
        assert staff.get("/api/staff/missed?days=7").json()["groups"] == []


def test_the_summary_box_names_topics_and_articles_in_words(
    sqlite_url: str, tmp_path: Path
) -> None:
    fill_recent(sqlite_url)
    ticket = HandoffService(load_settings(database_url=sqlite_url)).enqueue("a2", "requested")
    with console_app(sqlite_url, tmp_path) as app:
        summary = sign_in(app, "staff").get(f"/api/staff/tickets/{ticket.ticket['id']}/summary")
        assert summary.json()["asked_about"] == ["Kørekort"]
        assert summary.json()["articles"] == [MISTET]  # the title the transcript stored
