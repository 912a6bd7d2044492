"""Danish date/time understanding (bot.language.datetime_da), with fixed `now` values.

WEDNESDAY is the main reference: Wednesday 25 November 2026, 10:00 in Copenhagen. This week
runs Monday 23/11 to Sunday 29/11, next week Monday 30/11 to Sunday 6/12 (ISO week 49).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.language.datetime_da import (
    LOCAL_TZ,
    WhenQuery,
    format_date,
    format_slot,
    parse_clock,
    parse_when,
)

WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=LOCAL_TZ)
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL_TZ)
SUNDAY = datetime(2026, 11, 29, 9, 0, tzinfo=LOCAL_TZ)
LATE_DECEMBER = datetime(2026, 12, 28, 9, 0, tzinfo=LOCAL_TZ)  # Monday of ISO week 53


def d(day: int, month: int = 11, year: int = 2026) -> date:
    return date(year, month, day)


def t(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


def days(first: date | None, last: date | None = None) -> WhenQuery:
    """A query for a day (or a span of days) without any time of day."""
    return WhenQuery(first, last if last is not None else first, None, None, None)


def when(
    first: date | None = None,
    last: date | None = None,
    *,
    start: time | None = None,
    end: time | None = None,
    exact: time | None = None,
) -> WhenQuery:
    return WhenQuery(first, last if last is not None else first, start, end, exact)


# --- days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i dag", days(d(25))),
        ("idag", days(d(25))),
        ("I DAG", days(d(25))),
        ("i morgen", days(d(26))),
        ("imorgen", days(d(26))),
        ("kan jeg komme i morgen?", days(d(26))),
        ("i overmorgen", days(d(27))),
        ("overmorgen", days(d(27))),
        ("om 3 dage", days(d(28))),
        ("om tre dage", days(d(28))),
        ("om et par dage", days(d(27))),
        # "om en uge" is the single day a week later, not that whole week.
        ("om en uge", days(d(2, 12))),
        ("om to uger", days(d(9, 12))),
        ("om 14 dage", days(d(9, 12))),
    ],
)
def test_relative_days(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mandag", days(d(30))),
        ("tirsdag", days(d(1, 12))),
        ("onsdag", days(d(25))),  # a bare weekday includes today
        ("torsdag", days(d(26))),
        ("fredag", days(d(27))),
        ("lørdag", days(d(28))),
        ("søndag", days(d(29))),
        ("på torsdag", days(d(26))),
        ("til tirsdag", days(d(1, 12))),
        ("om torsdagen", days(d(26))),
        ("Jeg vil gerne have hjælp til MitID på torsdag", days(d(26))),
        # "næste" is the weekday of next week, even when this week's is still to come.
        ("næste torsdag", days(d(3, 12))),
        ("næste onsdag", days(d(2, 12))),
        ("næste mandag", days(d(30))),
        ("torsdag i næste uge", days(d(3, 12))),
        ("i næste uge på torsdag", days(d(3, 12))),
        ("tirsdag i uge 49", days(d(1, 12))),
        ("torsdag om en uge", days(d(3, 12))),
        # Monday of this week has passed: never a past date, so the next Monday.
        ("mandag i denne uge", days(d(30))),
        ("tors", days(d(26))),
        ("på tor", days(d(26))),
        ("på man", days(d(30))),
        ("lør", days(d(28))),
        ("næste fre", days(d(4, 12))),
        ("fre kl. 10", when(d(27), exact=t(10))),
        ("fra mandag til onsdag", days(d(30), d(2, 12))),
        ("tirsdag eller torsdag", days(d(1, 12), d(3, 12))),
        ("torsdag eller tirsdag", days(d(26), d(1, 12))),
        # The calendar date wins over a weekday said with it.
        ("torsdag d. 3. december", days(d(3, 12))),
        ("i morgen torsdag", days(d(26))),
    ],
)
def test_weekdays_from_wednesday(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (MONDAY, "torsdag", days(d(26))),
        (MONDAY, "næste torsdag", days(d(3, 12))),  # Thursday of next week, not in 3 days
        (MONDAY, "mandag", days(d(23))),
        (MONDAY, "næste mandag", days(d(30))),
        (SUNDAY, "torsdag", days(d(3, 12))),
        (SUNDAY, "næste torsdag", days(d(3, 12))),
        (SUNDAY, "søndag", days(d(29))),
        (SUNDAY, "næste søndag", days(d(6, 12))),
        (SUNDAY, "torsdag om en uge", days(d(10, 12))),
        (SUNDAY, "denne uge", days(d(29))),
        (SUNDAY, "i weekenden", days(d(29))),
        (SUNDAY, "næste uge", days(d(30), d(6, 12))),
        (SUNDAY, "næste weekend", days(d(5, 12), d(6, 12))),
    ],
)
def test_weekdays_and_weeks_from_other_days(now: datetime, text: str, expected: WhenQuery) -> None:
    assert parse_when(text, now) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("denne uge", days(d(25), d(29))),
        ("i denne uge", days(d(25), d(29))),
        ("i den her uge", days(d(25), d(29))),
        ("næste uge", days(d(30), d(6, 12))),
        ("i næste uge", days(d(30), d(6, 12))),
        ("ugen efter", days(d(30), d(6, 12))),
        ("ugen efter næste", days(d(7, 12), d(13, 12))),
        ("uge 49", days(d(30), d(6, 12))),
        ("i uge 48", days(d(25), d(29))),  # the current week, from today
        ("uge 47", days(d(22, 11, 2027), d(28, 11, 2027))),  # over: next year's
        ("uge 49 2027", days(d(6, 12, 2027), d(12, 12, 2027))),
        ("i weekenden", days(d(28), d(29))),
        ("weekend", days(d(28), d(29))),
        ("næste weekend", days(d(5, 12), d(6, 12))),
        ("i december", days(d(1, 12), d(31, 12))),
        ("i januar", days(d(1, 1, 2027), d(31, 1, 2027))),
    ],
)
def test_weeks_and_months(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("d. 3. december", days(d(3, 12))),
        ("den 3. dec", days(d(3, 12))),
        ("3. december", days(d(3, 12))),
        ("3 december", days(d(3, 12))),
        ("3.dec.", days(d(3, 12))),
        ("3/12", days(d(3, 12))),
        ("3.12", days(d(3, 12))),
        ("03-12", days(d(3, 12))),
        ("3/12-2026", days(d(3, 12))),
        ("3.12.2026", days(d(3, 12))),
        ("2026-12-03", days(d(3, 12))),
        ("d. 3. december 2027", days(d(3, 12, 2027))),
        ("25. november", days(d(25))),  # today
        ("26. nov", days(d(26))),
        ("24. nov", days(d(24, 11, 2027))),  # passed this year
        ("1. jan", days(d(1, 1, 2027))),
        ("5. feb", days(d(5, 2, 2027))),
        ("2. mar", days(d(2, 3, 2027))),
        ("7. apr", days(d(7, 4, 2027))),
        ("17. maj", days(d(17, 5, 2027))),
        ("1 jun", days(d(1, 6, 2027))),
        ("1 jul", days(d(1, 7, 2027))),
        ("1. aug", days(d(1, 8, 2027))),
        ("1. sep", days(d(1, 9, 2027))),
        ("1. sept", days(d(1, 9, 2027))),
        ("1. okt", days(d(1, 10, 2027))),
        ("29. februar", days(d(29, 2, 2028))),  # the next leap year
        ("10.12", days(d(10, 12))),  # a date; "kl. 10.12" would be a clock time
        ("mellem 3/12 og 5/12", days(d(3, 12), d(5, 12))),
        # Open-ended: no last day.
        ("efter d. 3. december", WhenQuery(d(4, 12), None, None, None, None)),
        ("tidligst 1. december", WhenQuery(d(1, 12), None, None, None, None)),
        ("inden 24.12", days(d(25), d(23, 12))),
        ("senest d. 1/12", days(d(25), d(1, 12))),
    ],
)
def test_dates(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3. januar", days(d(3, 1, 2027))),
        ("3/1", days(d(3, 1, 2027))),
        ("d. 30. december", days(d(30, 12))),
        ("28/12", days(d(28, 12))),  # today
        ("d. 27. december", days(d(27, 12, 2027))),
        ("i januar", days(d(1, 1, 2027), d(31, 1, 2027))),
        ("i december", days(d(28, 12), d(31, 12))),
        ("denne uge", days(d(28, 12), d(3, 1, 2027))),
        ("næste uge", days(d(4, 1, 2027), d(10, 1, 2027))),
        ("uge 1", days(d(4, 1, 2027), d(10, 1, 2027))),
        ("uge 53", days(d(28, 12), d(3, 1, 2027))),
        ("uge 52", days(d(27, 12, 2027), d(2, 1, 2028))),
        ("i weekenden", days(d(2, 1, 2027), d(3, 1, 2027))),
        ("torsdag", days(d(31, 12))),
        ("næste torsdag", days(d(7, 1, 2027))),
        ("om en uge", days(d(4, 1, 2027))),
    ],
)
def test_year_rollover(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, LATE_DECEMBER) == expected


# --- clock times ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("kl. 14", t(14)),
        ("kl 14", t(14)),
        ("kl.14", t(14)),
        ("klokken 14", t(14)),
        ("kl. 14.30", t(14, 30)),
        ("kl 14:30", t(14, 30)),
        ("14:30", t(14, 30)),
        ("14.30", t(14, 30)),
        ("kl. 9", t(9)),
        ("kl. 09.15", t(9, 15)),
        ("kl. 10.12", t(10, 12)),
        # 1-6 said the 12-hour way is the afternoon; a leading zero is taken literally.
        ("kl. 2", t(14)),
        ("kl. 07", t(7)),
        ("klokken to", t(14)),
        ("klokken ti", t(10)),
        ("klokken et", t(13)),
        # "halv tre" is half *before* three.
        ("halv tre", t(14, 30)),
        ("kl. halv tre", t(14, 30)),
        ("halv 10", t(9, 30)),
        ("halv et", t(12, 30)),
        ("kvart over ti", t(10, 15)),
        ("kvart i elleve", t(10, 45)),
        ("kvart over 2", t(14, 15)),
        ("kvart i to", t(13, 45)),
        ("kl. 8 om morgenen", t(8)),
        ("kl. 6 om morgenen", t(6)),
        ("kl. 8 om aftenen", t(20)),
        ("kl. 14 eller kl. 15", t(14)),  # the first one wins
        ("ikke kl. 10, men kl. 14", t(14)),
    ],
)
def test_exact_clock_times(text: str, clock: time) -> None:
    assert parse_when(text, WEDNESDAY) == when(exact=clock)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # Approximate times are a window of +-30 minutes, end exclusive, not an exact time.
        ("ved 14-tiden", t(13, 30), t(14, 30)),
        ("ved 14 tiden", t(13, 30), t(14, 30)),
        ("omkring kl. 14", t(13, 30), t(14, 30)),
        ("ca. kl. 14", t(13, 30), t(14, 30)),
        ("kl. ca. 14", t(13, 30), t(14, 30)),
        ("omkring 14", t(13, 30), t(14, 30)),
        ("ved totiden", t(13, 30), t(14, 30)),
        ("ved 10-tiden", t(9, 30), t(10, 30)),
        ("omkring klokken halv tre", t(14), t(15)),
        ("efter kl. 12", t(12), None),
        ("efter 12", t(12), None),
        ("efter klokken 13", t(13), None),
        ("tidligst kl. 10", t(10), None),
        ("fra kl. 13", t(13), None),
        ("før kl. 12", None, t(12)),
        ("foer kl 12", None, t(12)),
        ("inden kl. 12", None, t(12)),
        ("inden 12", None, t(12)),
        ("indtil kl. 11", None, t(11)),
        ("senest kl. 12", None, t(12, 1)),
        ("ikke før kl. 12", t(12), None),
        ("mellem 10 og 12", t(10), t(12)),
        ("mellem kl. 10 og 12", t(10), t(12)),
        ("fra 10 til 12", t(10), t(12)),
        ("fra kl. 10 til kl. 12", t(10), t(12)),
        ("kl. 10-12", t(10), t(12)),
        ("10:00-12:00", t(10), t(12)),
        ("mellem 1 og 3", t(13), t(15)),
    ],
)
def test_time_windows(text: str, start: time | None, end: time | None) -> None:
    assert parse_when(text, WEDNESDAY) == when(start=start, end=end)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("om morgenen", when(start=t(8), end=t(10))),
        ("om formiddagen", when(start=t(9), end=t(12))),
        ("formiddag", when(start=t(9), end=t(12))),
        ("ved middagstid", when(start=t(11, 30), end=t(13, 30))),
        ("middag", when(start=t(11, 30), end=t(13, 30))),
        ("om eftermiddagen", when(start=t(12), end=t(17))),
        ("eftermiddag", when(start=t(12), end=t(17))),
        ("om aftenen", when(start=t(17), end=t(22))),
        ("aften", when(start=t(17), end=t(22))),
        ("i aften", when(d(25), start=t(17), end=t(22))),
        ("i eftermiddag", when(d(25), start=t(12), end=t(17))),
        ("i formiddag", when(d(25), start=t(9), end=t(12))),
        ("formiddag eller eftermiddag", when(start=t(9), end=t(17))),
        ("om eftermiddagen efter kl. 14", when(start=t(14), end=t(17))),
        # An explicit bound outside the part of day wins over it.
        ("om formiddagen efter kl. 13", when(start=t(13))),
        ("torsdag morgen", when(d(26), start=t(8), end=t(10))),
        ("i morgen morgen", when(d(26), start=t(8), end=t(10))),
        ("i morgen tidlig", when(d(26), start=t(8), end=t(10))),
    ],
)
def test_parts_of_day(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i morgen eftermiddag", when(d(26), start=t(12), end=t(17))),
        ("torsdag formiddag", when(d(26), start=t(9), end=t(12))),
        ("på fredag om formiddagen", when(d(27), start=t(9), end=t(12))),
        ("torsdag kl. 14", when(d(26), exact=t(14))),
        ("d. 3. december kl. 10.30", when(d(3, 12), exact=t(10, 30))),
        ("næste uge om eftermiddagen", when(d(30), d(6, 12), start=t(12), end=t(17))),
        ("i morgen efter kl. 13", when(d(26), start=t(13))),
        ("i morgen kl. 3", when(d(26), exact=t(15))),
        ("i morgen aften kl 7", when(d(26), exact=t(19))),
        ("fredag d. 27/11 kl. 9.30", when(d(27), exact=t(9, 30))),
        ("Tirsdag den 1. december kl. 13.00", when(d(1, 12), exact=t(13))),
        ("Har I tid torsdag kl 14:30?", when(d(26), exact=t(14, 30))),
        (
            "Jeg vil gerne have hjælp til MitID på torsdag ved 14-tiden",
            when(d(26), start=t(13, 30), end=t(14, 30)),
        ),
        (
            "Kan jeg komme mandag eller tirsdag mellem 10 og 12?",
            when(d(30), d(1, 12), start=t(10), end=t(12)),
        ),
        (
            "mit tlf er 12345678, kan I ringe torsdag efter kl. 13",
            when(d(26), start=t(13)),
        ),
        ("Jeg kan først i uge 49, helst tirsdag", days(d(1, 12))),
        ("Jeg kan ikke i dag, men i morgen kl. 11 passer fint", when(d(26), exact=t(11))),
        (
            "Hej! Jeg har brug for hjælp med NemID, helst d. 3/12 ved 10-tiden tak",
            when(d(3, 12), start=t(9, 30), end=t(10, 30)),
        ),
        (
            "Kan jeg få en tid næste uge om eftermiddagen? Jeg er 78 år",
            when(d(30), d(6, 12), start=t(12), end=t(17)),
        ),
    ],
)
def test_combinations(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


# --- spelling, typos and what must not be understood ----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tirsdga", days(d(1, 12))),
        ("onsdga", days(d(25))),
        ("torsdg", days(d(26))),
        ("fredagg", days(d(27))),
        ("torsdga kl 14", when(d(26), exact=t(14))),
        ("eftermidag", when(start=t(12), end=t(17))),
        ("imorgn", days(d(26))),
        ("loerdag", days(d(28))),
        ("lordag", days(d(28))),
        ("sondag", days(d(29))),
        ("naeste tirsdag", days(d(1, 12))),
        ("naste torsdag", days(d(3, 12))),
        ("paa fredag", days(d(27))),
        ("d. 3. decemer", days(d(3, 12))),
        ("I MORGEN KL. 14", when(d(26), exact=t(14))),
    ],
)
def test_spelling_variants_and_typos(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hej",
        "nej, en anden dag",
        "12345678",
        "jeg er 78 år",
        "MitID",
        "2 børn",
        "14",  # a bare number is only a clock time via parse_clock
        "Jeg har glemt min adgangskode til MitID",
        "Kan man booke hjælp?",
        "Det ved man.",
        "min søn skal have hjælp",
        "Jeg tør ikke bruge MitID",
        "god morgen",
        "god aften",
        "ca. 2 uger",
        "mellem 2 og 3 børn",
        "efter to uger",
        "iOS 17.2",
        "version 2.10",
        "1.5 GB",
        "det koster 3,50 kr",
        "+45 12 34 56 78",
        "tlf. 12.34.56.78",
        "22-33-44-55",
        "tursdag",  # as close to tirsdag as to torsdag: no guess
        "tordag",  # torsdag or lørdag?
        "ikke i dag",
        "nej, ikke torsdag",
    ],
)
def test_no_date_or_time(text: str) -> None:
    assert parse_when(text, WEDNESDAY) is None


@pytest.mark.parametrize(
    "text",
    ["31. februar", "32/12", "31/11", "0. december", "torsdag d. 31. november", "kl. 25",
     "kl. 14.75", "uge 54", "3/13-2026"],
)  # fmt: skip
def test_impossible_dates_and_times_give_none(text: str) -> None:
    assert parse_when(text, WEDNESDAY) is None


def test_naive_now_is_local_time() -> None:
    assert parse_when("i morgen", WEDNESDAY.replace(tzinfo=None)) == days(d(26))


def test_aware_now_in_another_zone_is_converted() -> None:
    # 23:30 UTC on the 25th is already the 26th in Copenhagen.
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert parse_when("i dag", late) == days(d(26))


# --- matches() -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slot", "expected"),
    [
        ("torsdag kl. 14", datetime(2026, 11, 26, 14, 0), True),
        ("torsdag kl. 14", datetime(2026, 11, 26, 14, 30), False),
        ("torsdag kl. 14", datetime(2026, 11, 27, 14, 0), False),
        ("torsdag kl. 14", datetime(2026, 11, 26, 14, 0, tzinfo=LOCAL_TZ), True),
        ("torsdag kl. 14", datetime(2026, 11, 26, 13, 0, tzinfo=UTC), True),
        ("torsdag ved 14-tiden", datetime(2026, 11, 26, 13, 0), False),
        ("torsdag ved 14-tiden", datetime(2026, 11, 26, 13, 30), True),
        ("torsdag ved 14-tiden", datetime(2026, 11, 26, 14, 0), True),
        ("torsdag ved 14-tiden", datetime(2026, 11, 26, 14, 30), False),
        ("næste uge om eftermiddagen", datetime(2026, 11, 30, 12, 0), True),
        ("næste uge om eftermiddagen", datetime(2026, 12, 6, 16, 30), True),
        ("næste uge om eftermiddagen", datetime(2026, 12, 6, 17, 0), False),
        ("næste uge om eftermiddagen", datetime(2026, 11, 30, 11, 30), False),
        ("næste uge om eftermiddagen", datetime(2026, 11, 29, 13, 0), False),
        ("næste uge om eftermiddagen", datetime(2026, 12, 7, 13, 0), False),
        ("efter kl. 12", datetime(2026, 12, 15, 12, 0), True),
        ("efter kl. 12", datetime(2026, 12, 15, 11, 30), False),
        ("før kl. 12", datetime(2026, 12, 15, 11, 30), True),
        ("før kl. 12", datetime(2026, 12, 15, 12, 0), False),
        ("senest kl. 12", datetime(2026, 12, 15, 12, 0), True),
        ("senest kl. 12", datetime(2026, 12, 15, 12, 15), False),
        ("efter d. 3. december", datetime(2026, 12, 3, 10, 0), False),
        ("efter d. 3. december", datetime(2027, 3, 1, 10, 0), True),
        # Summer time: 12:00 UTC is 14:00 in Copenhagen.
        ("1. juni kl. 14", datetime(2027, 6, 1, 12, 0, tzinfo=UTC), True),
    ],
)
def test_matches(text: str, slot: datetime, expected: bool) -> None:
    query = parse_when(text, WEDNESDAY)
    assert query is not None
    assert query.matches(slot) is expected


def test_empty_query_matches_everything() -> None:
    assert WhenQuery(None, None, None, None, None).matches(datetime(2030, 1, 1, 3, 0))


# --- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "with_weekday", "expected"),
    [
        (datetime(2026, 11, 26, 14, 0), True, "torsdag d. 26. november kl. 14.00"),
        (datetime(2026, 11, 26, 14, 0), False, "d. 26. november kl. 14.00"),
        (datetime(2026, 12, 3, 9, 5), True, "torsdag d. 3. december kl. 09.05"),
        (datetime(2026, 11, 28, 10, 30), True, "lørdag d. 28. november kl. 10.30"),
        (datetime(2026, 11, 26, 13, 0, tzinfo=UTC), True,
         "torsdag d. 26. november kl. 14.00"),
        (datetime(2027, 6, 1, 12, 0, tzinfo=UTC), True, "tirsdag d. 1. juni kl. 14.00"),
    ],
)  # fmt: skip
def test_format_slot(start: datetime, with_weekday: bool, expected: str) -> None:
    assert format_slot(start, with_weekday=with_weekday) == expected


def test_format_slot_shows_weekday_by_default() -> None:
    assert format_slot(datetime(2026, 11, 26, 14, 0)) == "torsdag d. 26. november kl. 14.00"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (d(26), "torsdag d. 26. november"),
        (d(29), "søndag d. 29. november"),
        (d(1, 1, 2027), "fredag d. 1. januar"),
        (d(15, 2, 2027), "mandag d. 15. februar"),
    ],
)
def test_format_date(day: date, expected: str) -> None:
    assert format_date(day) == expected


@pytest.mark.parametrize(
    "start",
    [datetime(2026, 11, 26, 14, 0), datetime(2026, 12, 3, 9, 30), datetime(2027, 1, 4, 13, 15)],
)
def test_formatted_slot_reads_back_as_that_slot(start: datetime) -> None:
    query = parse_when(format_slot(start), WEDNESDAY)
    assert query == when(start.date(), exact=start.time())


# --- parse_clock ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14", t(14)),
        ("14.30", t(14, 30)),
        ("14:30", t(14, 30)),
        ("9", t(9)),
        ("2", t(14)),
        ("to", t(14)),
        ("halv tre", t(14, 30)),
        ("kl. 10", t(10)),
        ("klokken 10.15", t(10, 15)),
        ("ved 14-tiden", t(14)),  # the centre of an approximate time
        ("ja, 14", t(14)),
        ("14 tak", t(14)),
        ("gerne kl. 9", t(9)),
        ("12345678", None),
        ("78", None),
        ("25", None),
        ("nej", None),
        ("14 børn", None),
        ("i morgen", None),
        ("om eftermiddagen", None),
    ],
)
def test_parse_clock(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # WEDNESDAY is 25 November: a day still ahead this month, else next month's.
        ("den 27.", days(d(27))),
        ("d. 30", days(d(30))),
        ("d 26.", days(d(26))),
        ("den 28", days(d(28))),
        ("den 3.", days(d(3, 12))),
        ("d.21", days(d(21, 12))),
        ("12.", days(d(12, 12))),
        ("den 27. kl 10", when(d(27), exact=t(10))),
    ],
)
def test_a_bare_day_of_the_month(text: str, expected: WhenQuery) -> None:
    assert parse_when(text, WEDNESDAY) == expected


@pytest.mark.parametrize("text", ["den 2 uger", "det er den 4. gang", "den 35.", "3."])
def test_not_a_day_of_the_month(text: str) -> None:
    found = parse_when(text, WEDNESDAY)
    assert found is None or found.date_from is None
