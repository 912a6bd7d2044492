""""Spørgsmål uden godt svar" (bot/services/missed.py) from known conversations, on both
engines: which questions count as missed, masking, grouping, and staff's actions."""

from __future__ import annotations

from datetime import date, datetime

from bot.db.models import local_now
from bot.services.insight import Period
from bot.services.missed import MissedService, Who, group_key, mask_contacts
from tests.handoff_support import add_staff
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

WEEK = Period(date(2026, 11, 2), date(2026, 11, 8))


def fill(url: str) -> None:
    conversation(url, "m1", datetime(2026, 11, 2, 11),
                 ask("Kan jeg få hjælp til min pension? 20 30 40 50"), not_understood())
    conversation(url, "m2", datetime(2026, 11, 3, 11),
                 ask("hjælp til pension, kan jeg få det"), not_understood())
    conversation(url, "m3", datetime(2026, 11, 4, 11), ask("kørekort udløbet i udlandet"),
                 clarify(FORNY, MISTET), press())
    conversation(url, "m4", datetime(2026, 11, 5, 11),
                 ask("mit kørekort er knækket, mail mig på bo@eksempel.dk 010190-1234"),
                 answer(MISTET, "down"))
    conversation(url, "m5", datetime(2026, 11, 6, 11), ask("fornyelse af kørekort i Spanien"),
                 answer(FORNY), ask("jeg vil tale med et menneske"), ticket=("live", 30))
    # Not missed: a good answer, a clarification resolved by a choice, a question before
    # the week.
    conversation(url, "ok1", datetime(2026, 11, 6, 12), ask(), answer(FORNY, "up"))
    conversation(url, "ok2", datetime(2026, 11, 6, 13), ask("kørekort"), clarify(FORNY, MISTET),
                 press(MISTET), answer(MISTET))
    conversation(url, "old", datetime(2026, 10, 20, 11), ask("pension hjælp"), not_understood())


def test_the_missed_questions_of_a_known_week(db_url: str) -> None:
    fill(db_url)
    groups = MissedService(db_url).groups(WEEK)
    by_reason = {tuple(g["reasons"]): g for g in groups}
    assert [(g["count"], list(g["reasons"])) for g in groups] == [
        (2, ["not_understood"]),
        (1, ["handoff"]),
        (1, ["thumbs_down"]),
        (1, ["something_else"]),
    ]
    pension = groups[0]
    assert pension["text"] in (
        "Kan jeg få hjælp til min pension? [telefonnummer]",
        "hjælp til pension, kan jeg få det",
    )
    assert pension["last_seen"].startswith("2026-11-03T10:00:20")  # 11:00:20 CET, in UTC
    assert by_reason[("thumbs_down",)]["text"] == (
        "mit kørekort er knækket, mail mig på [e-mail] [CPR-nummer fjernet]"
    )
    assert by_reason[("thumbs_down",)]["suggested"] == [MISTET]
    assert by_reason[("something_else",)]["suggested"] == [FORNY, MISTET]
    assert by_reason[("handoff",)]["text"] == "fornyelse af kørekort i Spanien"


def test_a_handled_group_stays_away_until_it_is_asked_again(sqlite_url: str) -> None:
    fill(sqlite_url)
    service = MissedService(sqlite_url)
    who = Who(add_staff(sqlite_url, "erik", "Erik Editor"), "erik")
    pension = service.groups(WEEK)[0]
    service.act(pension["key"], "dismissed", who)
    assert pension["key"] not in {g["key"] for g in service.groups(WEEK)}
    conversation(sqlite_url, "m6", local_now(), ask("Pension, hjælp?"), not_understood())
    today = local_now().date()
    again = service.groups(Period(date(2026, 11, 2), today))
    assert again[0]["key"] == pension["key"] and again[0]["count"] == 3, again


def test_masking_and_grouping() -> None:
    assert mask_contacts("ring +45 20 30 40 50 eller 20304050, skriv a.b@c.dk") == (
        "ring [telefonnummer] eller [telefonnummer], skriv [e-mail]"
    )
    assert mask_contacts("bookingnummer ABC-234 kl. 10.30 den 3/12") == (
        "bookingnummer ABC-234 kl. 10.30 den 3/12"
    )
    assert group_key("Hvordan fornyer jeg mit kørekort?") == group_key("forny kørekort hvordan")
    assert group_key("forny kørekort") != group_key("mistet kørekort")
