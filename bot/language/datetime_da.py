"""Danish date and time understanding for the appointment booking form.

Citizens write times the way they speak ("på torsdag ved 14-tiden", "i morgen eftermiddag",
"halv tre"), and general parsers such as dateparser miss most of these. `parse_when` turns such
text into a `WhenQuery` that the form filters free slots with, `parse_clock` reads the answer to
"hvilket tidspunkt?", and `format_slot` / `format_date` show slots back in Danish.

Interpretation choices, all relative to `now` as Europe/Copenhagen wall time:

* Text is lower-cased and æ/ø/å folded, so "næste"/"naeste"/"naste" are the same word. Words of
  six or more letters one typo away from a known word are corrected ("tirsdga", "eftermidag"),
  unless the typo could be two different words ("tordag": torsdag or lørdag?).
* A bare weekday ("torsdag", "på torsdag", "til torsdag", "om torsdagen") is its next occurrence,
  today included. "næste torsdag" is the Thursday of next (Monday-based) week: from Monday 23/11
  and from Wednesday 25/11 it is 3/12, not 26/11. A weekday with a week ("torsdag i næste uge",
  "tirsdag i uge 49") is that day of that week, or its next occurrence if that has passed:
  weekday expressions never give a past date. "torsdag om en uge" is the next Thursday plus a
  week. A weekday next to a calendar date ("torsdag d. 3. december", "i morgen torsdag") is
  ignored; the date wins. Weekdays are read in order, so "fra mandag til onsdag" said on a
  Wednesday is next Monday..next Wednesday.
* "i dag"/"i morgen"/"i overmorgen" are single days, "om 3 dage" is today + 3, and "om en uge"/
  "om to uger" is the single day exactly 7/14 days later, not that whole week.
* "denne uge" is today..Sunday, "næste uge"/"ugen efter" is Monday..Sunday of next week, "uge 49"
  is ISO week 49 of this year or, once it is over, of next year (clipped to start today).
  "i weekenden" is the coming Saturday..Sunday (just Sunday on a Sunday), "næste weekend" the
  weekend of next week. "i december" is that month, from today at the earliest.
* A date without a year ("3. december", "3/12") that has passed this year means next year. A
  date with an explicit year is returned as written, even when it is in the past. "d.m" with
  dots is a date when m is 1-12 and no clock word precedes it: "10.12" is 10 December,
  "kl. 10.12" and "14.30" are clock times. "efter d. 3/12" starts the day after (no end),
  "tidligst d. 3/12" on that day, "inden d. 3/12" ends the day before, "senest d. 3/12" on it.
* Hours written the 12-hour way (a word, or 1-12 without a leading zero) from 1 to 6 mean the
  afternoon, because the libraries are open in the daytime: "kl. 2"/"klokken to" is 14:00 and
  "halv tre" 14:30 ("halv" is half *before* the hour). "om morgenen"/"formiddag" keep them in the
  morning; "om eftermiddagen"/"om aftenen" move 1-11 to the afternoon ("kl. 8 om aftenen").
* "ved 14-tiden"/"omkring kl. 14"/"ca. kl. 14" is the window 13:30 (inclusive) to 14:30
  (exclusive) and sets no exact time.
* "efter kl. 12" sets time_from 12:00 (inclusive), "før/inden kl. 12" time_to 12:00 (exclusive),
  "senest kl. 12" time_to 12:01 (so 12:00 fits), "mellem 10 og 12"/"fra 10 til 12"/"kl. 10-12"
  both bounds.
* Parts of day: morgen 08-10, formiddag 09-12, middag 11:30-13:30, eftermiddag 12-17, aften
  17-22. "i eftermiddag"/"i aften"/"i formiddag" without another day also mean today. Explicit
  bounds narrow a part of day; an exact clock time overrides both (time_from/time_to are None).
* Several day expressions give the span from the earliest to the latest ("mandag eller onsdag"
  is Monday..Wednesday); of several exact clock times the first wins.
* Something negated right before it is dropped: "ikke i dag, men i morgen" is tomorrow, and
  "ikke før kl. 12" is from 12:00.
* A bare number is never a time or a date in `parse_when` ("12345678", "jeg er 78 år", "2
  børn"): it needs "kl"/"klokken", the form HH:MM/HH.MM, or a word such as "efter", "mellem",
  "omkring", "halv". `parse_clock` also accepts a bare "14", because the form only calls it right
  after asking "hvilket tidspunkt?".
* Impossible dates or times ("31. februar", "32/12", "kl. 25", "uge 54") make `parse_when` return
  None, so that the form asks again instead of guessing.
* Short weekday forms (man/tir/ons/tor/tors/fre/lør/søn) count only after "på"/"næste", before a
  date or clock time, or as the whole reply: "man" is also "one", "søn" is "son", "tør" "dare".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")

WEEKDAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTH_NAMES = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip

_DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class WhenQuery:
    """What the citizen asked for; None fields put no constraint on a slot."""

    date_from: date | None
    date_to: date | None
    time_from: time | None
    time_to: time | None
    exact_time: time | None

    def matches(self, start: datetime) -> bool:
        """Whether a slot starting at `start` (aware, or naive local time) fits the query."""
        local = _local(start)
        return self._date_ok(local.date()) and self._time_ok(local.time())

    def _date_ok(self, day: date) -> bool:
        if self.date_from is not None and day < self.date_from:
            return False
        return self.date_to is None or day <= self.date_to

    def _time_ok(self, clock: time) -> bool:
        if self.exact_time is not None:
            return clock == self.exact_time
        if self.time_from is not None and clock < self.time_from:
            return False
        return self.time_to is None or clock < self.time_to


def format_date(d: date) -> str:
    """'torsdag d. 26. november'."""
    return f"{WEEKDAY_NAMES[d.weekday()]} d. {d.day}. {MONTH_NAMES[d.month - 1]}"


def format_slot(start: datetime, with_weekday: bool = True) -> str:
    """'torsdag d. 26. november kl. 14.00' (or without the weekday)."""
    local = _local(start)
    day = format_date(local.date())
    if not with_weekday:
        day = day.split(" ", 1)[1]
    return f"{day} kl. {local:%H.%M}"


def parse_when(text: str, now: datetime) -> WhenQuery | None:
    """None when the text contains no date/time expression at all, or an impossible one."""
    today = _local(now).date()
    found = _scan(_normalise(text), today)
    if found.invalid or not found.touched:
        return None
    date_from, date_to = _resolve_dates(found, today)
    time_from, time_to, exact = _resolve_times(found)
    return WhenQuery(date_from, date_to, time_from, time_to, exact)


def parse_clock(text: str) -> time | None:
    """Read a reply to "hvilket tidspunkt?"; unlike `parse_when` a bare "14" or "to" counts.

    An approximate time ("ved 14-tiden") gives its centre; a part of day gives None.
    """
    folded = _normalise(text).strip(" .,!?")
    # The day is irrelevant here; it only resolves date words, which are ignored.
    found = _scan(folded, date.today())
    if found.invalid:
        return None
    if found.exact or found.approx:
        return (found.exact or found.approx)[0]
    match = _BARE_CLOCK.fullmatch(folded)
    return _clock_from(match, "a", found.hint) if match else None


# --- normalisation -------------------------------------------------------------------------

# Canonical (folded) words that typos are corrected towards.
_VOCABULARY = tuple(
    sorted(
        {f"{day}{suffix}" for day in ("mandag", "tirsdag", "onsdag", "torsdag", "fredag",
                                      "lordag", "sondag") for suffix in ("", "en", "e", "s")}
        | {"januar", "februar", "august", "september", "oktober", "november", "december",
           "imorgen", "overmorgen", "formiddag", "formiddagen", "eftermiddag", "eftermiddagen",
           "middagstid", "morgenen", "aftenen", "weekend", "weekenden", "klokken", "omkring"}
    )
)  # fmt: skip
# Real words one edit away from the vocabulary, which must not be "corrected".
_NOT_TYPOS = frozenset(
    {"morgen", "middag", "middagen", "aften", "tidligt", "klokke", "mandat", "mandatet",
     "mandater"}
)  # fmt: skip


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    # "før" must not fold into "for" (which is a different word), so rename it first.
    text = re.sub(r"\bf(?:ø|oe)r\b", "inden", text)
    text = re.sub(r"ae|oe|aa", lambda m: m.group()[0], text)
    text = text.translate(str.maketrans("æøå–—", "aoa--"))
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"[a-z]{6,}", _correct_typo, text)


def _correct_typo(match: re.Match[str]) -> str:
    word = match.group()
    if word in _NOT_TYPOS or word in _VOCABULARY:
        return word
    candidates = [known for known in _VOCABULARY if _one_edit_apart(word, known)]
    # "tursdag" is as close to "tirsdag" as to "torsdag": better no guess than a wrong day.
    if len({candidate[:4] for candidate in candidates}) != 1:
        return word
    return candidates[0]


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-style distance <= 1: one substitution, insertion, deletion or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        shorter, longer = sorted((a, b), key=len)
        return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) != 2:
        return len(diffs) == 1
    i, j = diffs
    return j == i + 1 and a[i] == b[j] and a[j] == b[i]


# --- regular expressions (on normalised text: only a-z, digits and punctuation) -------------

_HOUR_WORDS = {
    "en": 1, "et": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
    "syv": 7, "otte": 8, "ni": 9, "ti": 10, "elleve": 11, "tolv": 12,
}  # fmt: skip
_COUNT_WORDS = {**_HOUR_WORDS, "par": 2, "fjorten": 14}
_WORD = "(?:" + "|".join(sorted(_HOUR_WORDS, key=len, reverse=True)) + ")"
_MONTH = (
    "(?:januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept|sep|okt|nov|dec)"
)
_MONTH_PREFIXES = tuple(name[:3] for name in MONTH_NAMES)
_UNITS = (
    r"dage?|dagen|dogn|uger?|ugen|uges|timer?|minutter|maneder?|ar|arig|born|personer|mennesker"
    r"|stk|gange?|kr|kroner|gb|mb|procent"
)
_UNIT_AHEAD = rf"\s*\.?\s*(?:(?:{_UNITS}|{_MONTH})\b|%)"
_NOT_UNIT = rf"(?!{_UNIT_AHEAD})"
_KL = r"(?:kl(?![a-z])\.?|klokken)"
# A number glued to other digits by . , : / - is part of something else (a date, a phone number).
_ALONE_BEFORE = r"(?<!\d)(?<!\d[.,:/-])"
# A clock may follow a dash: the 12 of "kl. 10-12".
_CLOCK_ALONE_BEFORE = r"(?<!\d)(?<!\d[.,:/])"
_ALONE_AFTER = r"(?!\d|[.,:/]\d)"


def _clock_re(p: str, *, words: bool, digits: bool = True) -> str:
    """A clock time with named groups prefixed by `p` (a regex cannot reuse group names)."""
    token = rf"(?:\d{{1,2}}(?![\d.:]\d)|{_WORD}\b)"
    alternatives = [
        rf"halv\s+(?P<{p}half>{token})",
        rf"kvart\s+(?P<{p}qdir>over|i)\s+(?P<{p}quarter>{token})",
    ]
    if digits:
        alternatives.append(
            rf"{_CLOCK_ALONE_BEFORE}(?P<{p}h>\d{{1,2}})(?:[.:](?P<{p}m>\d{{2}}))?{_ALONE_AFTER}"
        )
    if words:
        alternatives.append(rf"\b(?P<{p}word>{_WORD})\b")
    return "(?:" + "|".join(alternatives) + ")"


_RANGE = re.compile(
    rf"(?P<pre>\b(?:mellem|fra)\s+)?(?P<kl>{_KL}\s*)?{_clock_re('a', words=False)}"
    rf"\s*(?P<sep>-|\btil\b|\bog\b)\s*(?:{_KL}\s*)?{_clock_re('b', words=False)}{_NOT_UNIT}"
)
_APPROX_TIDEN = re.compile(
    rf"(?:\b(?:ved|omkring|ca\.?|cirka)\s+)?(?:{_KL}\s*)?"
    rf"\b(?:(?P<ah>\d{{1,2}})|(?P<aword>{_WORD}))\s*-?\s*tiden\b"
)
_APPROX = re.compile(
    rf"(?:\b(?:omkring|ca\.?|cirka|circa)\s+(?P<kl>{_KL}\s*)?"
    rf"|(?P<kl2>{_KL}\s*)(?:ca\.?|cirka|omkring)\s*){_clock_re('a', words=True)}{_NOT_UNIT}"
)
_BOUND = re.compile(
    r"\b(?P<word>efter|inden|tidligst|senest|senere end|tidligere end|fra|til|indtil)\s+"
    rf"(?P<kl>{_KL}\s*)?{_clock_re('a', words=True)}{_NOT_UNIT}"
)
_LOWER_BOUND_WORDS = frozenset({"efter", "tidligst", "senere end", "fra"})
_KL_CLOCK = re.compile(rf"\b{_KL}\s*:?\s*{_clock_re('a', words=True)}")
_SPOKEN_CLOCK = re.compile(rf"\b{_clock_re('a', words=False, digits=False)}{_NOT_UNIT}")
_HHMM = re.compile(rf"{_ALONE_BEFORE}(?P<ah>[01]?\d|2[0-3])[.:](?P<am>[0-5]\d){_ALONE_AFTER}")
_BARE_CLOCK = re.compile(
    rf"(?:(?:ja|gerne|helst),?\s*)?(?:{_KL}\s*)?{_clock_re('a', words=True)}(?:\s*,?\s*tak)?"
)
_TIME_WORD_BEFORE = re.compile(
    rf"(?:{_KL}|\befter|\binden|\bomkring|\bca\.?|\bcirka|\btidligst|\bindtil)\s*$"
)
_UNIT_AFTER = re.compile(_UNIT_AHEAD)
_VERSION_BEFORE = re.compile(r"\b(?:ios|android|windows|version|v)\s*$")

_ISO_DATE = re.compile(r"(?<![\d./-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d|[./-]\d)")
_NUMERIC_DATE = re.compile(
    rf"{_ALONE_BEFORE}(?P<d>\d{{1,2}})(?P<sep>[./-])(?P<m>\d{{1,2}})"
    r"(?:[./-](?P<y>\d{4}|\d{2}))?(?!\d|[.,:/-]\d)\.?"
)
_TEXT_DATE = re.compile(
    rf"(?:\b(?:d|den)\b\.?\s*)?{_ALONE_BEFORE}(?P<d>\d{{1,2}})\.?\s*(?P<mon>{_MONTH})\b\.?"
    r"(?:\s*(?P<y>\d{4})\b)?"
)
_IN_MONTH = re.compile(
    r"\bi\s+(?P<mon>januar|februar|marts|april|maj|juni|juli|august|september|oktober"
    r"|november|december)\b"
)

_RELATIVE_DAYS = (
    (re.compile(r"\bi\s*dag\b"), 0),
    (re.compile(r"\b(?:i\s*)?over\s*morgen\b"), 2),
    (re.compile(r"\bi\s*morgen\b"), 1),
)
_IN_N = re.compile(
    rf"\bom\s+(?:et\s+)?(?P<n>\d{{1,3}}|par|fjorten|{_WORD})\s+(?P<unit>dage?|dogn|uger?|uges)\b"
)
_THIS_WEEK = re.compile(r"\b(?:i\s+)?(?:denne|den\s+her)\s+uge\b")
_NEXT_WEEK = re.compile(r"\b(?:(?:i\s+)?naste\s+uge|ugen\s+efter(?P<after>\s+naste)?)\b")
_ISO_WEEK = re.compile(r"\b(?:i\s+)?uge\s*(?P<n>\d{1,2})(?!\d)(?:\s+(?P<y>\d{4})\b)?")
_WEEKEND = re.compile(r"\b(?:i\s+)?(?:(?P<next>naste)\s+|denne\s+)?weekend(?:en)?\b")
_WEEKDAY = re.compile(
    r"\b(?P<next>naste\s+)?(?P<day>mandag|tirsdag|onsdag|torsdag|fredag|lordag|sondag)"
    r"(?:en|e|s)?\b"
)
_SHORT_WEEKDAY = re.compile(
    r"\b(?P<next>naste\s+)?(?P<day>man|tirs|tir|ons|tors|tor|fre|lor|son)\b\.?"
)
_WEEKDAY_PREFIXES = ("man", "tir", "ons", "tor", "fre", "lor", "son")
_SHORT_WEEKDAY_BEFORE = re.compile(r"\bpa\s+$")
_SHORT_WEEKDAY_AFTER = re.compile(rf"\s*(?:{_KL}|d\.|den\b|\d{{1,2}}[./:-]\d)")
_NEGATION_BEFORE = re.compile(r"\bikke\s+(?:(?:pa|i|om|til)\s+)?$")
_DATE_BOUND_BEFORE = re.compile(
    r"\b(?P<word>efter|inden|tidligst|senest)\s+(?:(?:d|den)\b\.?\s*)?$"
)

# Longest first, so that "eftermiddag" is not read as "middag".
_DAY_PARTS = (
    (re.compile(r"\b(?P<i>i\s+)?(?:om\s+)?efter\s?middag(?:en|s)?\b"), 12 * 60, 17 * 60),
    (re.compile(r"\b(?P<i>i\s+)?(?:om\s+)?formiddag(?:en|s)?\b"), 9 * 60, 12 * 60),
    (
        re.compile(r"\b(?:(?:ved|omkring)\s+)?middag(?:stid(?:en)?|en)?\b"),
        11 * 60 + 30,
        13 * 60 + 30,
    ),
    (re.compile(r"\b(?P<i>i\s+)?(?:om\s+)?(?<!god )aften(?:en|s)?\b"), 17 * 60, 22 * 60),
    # Bare "morgen" is "tomorrow" or a greeting; only "torsdag morgen" / "i morgen morgen" count.
    (
        re.compile(r"\b(?:om\s+)?morgen(?:en|s)\b|\btidlig\b|(?:(?<=dag )|(?<=gen ))morgen\b"),
        8 * 60,
        10 * 60,
    ),
)
_MORNING_HINT = re.compile(r"\bmorgen(?:en|s)\b|\bformiddag|\btidlig\b|(?:dag|gen)\s+morgen\b")
_AFTERNOON_HINT = re.compile(r"\befter\s?middag|(?<!god )\baften")


# --- scanning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DaySpan:
    start: date
    end: date
    # Where a weekday said together with this expression goes: into the week starting on
    # `week_monday` ("torsdag i næste uge"), or `weeks_ahead` weeks after its next occurrence
    # ("torsdag om en uge").
    week_monday: date | None = None
    weeks_ahead: int | None = None

    @property
    def anchors_weekday(self) -> bool:
        return self.week_monday is not None or self.weeks_ahead is not None


@dataclass
class _Found:
    today: date
    hint: str | None
    spans: list[_DaySpan] = field(default_factory=list)
    weekdays: list[tuple[int, int, bool]] = field(default_factory=list)  # position, day, "næste"
    date_bounds: list[tuple[date | None, date | None]] = field(default_factory=list)
    exact: list[time] = field(default_factory=list)
    approx: list[time] = field(default_factory=list)
    hard: list[tuple[int, int]] = field(default_factory=list)  # explicit bounds, in minutes
    soft: list[tuple[int, int]] = field(default_factory=list)  # parts of day, in minutes
    today_hint: bool = False
    invalid: bool = False
    touched: bool = False


class _Text:
    """Normalised text from which recognised expressions are blanked out, so that no number is
    read twice (the 12 of "3/12" must not become a clock time)."""

    def __init__(self, folded: str) -> None:
        self.original = folded
        self._chars = list(folded)
        self.touched = False

    def find(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return list(pattern.finditer("".join(self._chars)))

    def take(self, match: re.Match[str], *, even_negated: bool = False) -> bool:
        """Blank out `match`; False when it is negated ("ikke i dag") and so does not count."""
        self._chars[match.start() : match.end()] = " " * (match.end() - match.start())
        if self.negated(match) and not even_negated:
            return False
        self.touched = True
        return True

    def negated(self, match: re.Match[str]) -> bool:
        return bool(_NEGATION_BEFORE.search(self.before(match)))

    def before(self, match: re.Match[str]) -> str:
        return self.original[: match.start()]

    def after(self, match: re.Match[str]) -> str:
        return self.original[match.end() :]


def _scan(folded: str, today: date) -> _Found:
    text = _Text(folded)
    found = _Found(today=today, hint=_day_part_hint(folded))
    # Order matters: each step blanks what it recognised before the looser steps run.
    for step in (_take_ranges, _take_dates, _take_approx, _take_bounds, _take_clocks,
                 _take_day_parts, _take_relative_days, _take_weeks, _take_weekdays,
                 _take_days_of_month):  # fmt: skip
        step(text, found)
    found.touched = text.touched
    return found


def _day_part_hint(folded: str) -> str | None:
    morning = bool(_MORNING_HINT.search(folded))
    afternoon = bool(_AFTERNOON_HINT.search(folded))
    if morning == afternoon:
        return None
    return "am" if morning else "pm"


# --- clock times ---------------------------------------------------------------------------


def _take_ranges(text: _Text, found: _Found) -> None:
    for match in text.find(_RANGE):
        if not _is_time_range(match):
            continue
        if not text.take(match):
            continue
        low, high = _clock_from(match, "a", found.hint), _clock_from(match, "b", found.hint)
        if low is None or high is None:
            found.invalid = True
        else:
            found.hard.append((_minutes(low), _minutes(high)))


def _is_time_range(match: re.Match[str]) -> bool:
    if match["sep"] == "og":
        return (match["pre"] or "").startswith("mellem")
    return bool(match["pre"] or match["kl"] or match["am"])


def _take_approx(text: _Text, found: _Found) -> None:
    for pattern in (_APPROX_TIDEN, _APPROX):
        for match in text.find(pattern):
            groups = match.groupdict()
            # "ca. to uger" is not a time; a word needs "kl"/"klokken" or "-tiden".
            if groups["aword"] and not (
                groups.get("kl") or groups.get("kl2") or "tiden" in match.group()
            ):
                continue
            if text.take(match):
                _add_approx(_clock_from(match, "a", found.hint), found)


def _add_approx(centre: time | None, found: _Found) -> None:
    if centre is None:
        found.invalid = True
        return
    minutes = _minutes(centre)
    found.approx.append(centre)
    found.hard.append((max(minutes - 30, 0), min(minutes + 30, _DAY_MINUTES)))


def _take_bounds(text: _Text, found: _Found) -> None:
    for match in text.find(_BOUND):
        if not _is_bound(match):
            continue
        # "ikke før kl. 12" turns "before" into "from".
        lower = (match["word"] in _LOWER_BOUND_WORDS) != text.negated(match)
        text.take(match, even_negated=True)
        clock = _clock_from(match, "a", found.hint)
        if clock is None:
            found.invalid = True
        elif lower:
            found.hard.append((_minutes(clock), _DAY_MINUTES))
        else:
            # time_to is exclusive, but "senest kl. 12" still accepts a slot at 12:00.
            found.hard.append((0, _minutes(clock) + (match["word"] == "senest")))


def _is_bound(match: re.Match[str]) -> bool:
    if match["kl"] or match["ahalf"] or match["aquarter"]:
        return True
    if match["aword"]:
        return False  # "efter to uger", "til en anden dag"
    # "fra 10"/"til 12" alone are too often about other things than the clock.
    return match["word"] not in ("fra", "til") or bool(match["am"])


def _take_clocks(text: _Text, found: _Found) -> None:
    for pattern in (_KL_CLOCK, _SPOKEN_CLOCK, _HHMM):
        for match in text.find(pattern):
            if pattern is _HHMM and _VERSION_BEFORE.search(text.before(match)):
                continue
            if not text.take(match):
                continue
            clock = _clock_from(match, "a", found.hint)
            if clock is None:
                found.invalid = True
            else:
                found.exact.append(clock)


def _clock_from(match: re.Match[str], p: str, hint: str | None) -> time | None:
    groups = match.groupdict()
    if groups.get(p + "half"):
        return _twelve_hour(_hour_number(groups[p + "half"]) - 1, 30, hint)
    if groups.get(p + "quarter"):
        hour = _hour_number(groups[p + "quarter"])
        if groups[p + "qdir"] == "over":
            return _twelve_hour(hour, 15, hint)
        return _twelve_hour(hour - 1, 45, hint)
    if groups.get(p + "word"):
        return _twelve_hour(_HOUR_WORDS[groups[p + "word"]], 0, hint)
    return _digital(groups[p + "h"], groups.get(p + "m"), hint)


def _hour_number(token: str) -> int:
    return _HOUR_WORDS[token] if token in _HOUR_WORDS else int(token)


def _twelve_hour(hour: int, minute: int, hint: str | None) -> time | None:
    if hour == 0:
        hour = 12  # "halv et" is 12:30
    if not 1 <= hour <= 23:
        return None
    return time(_afternoon(hour, hint) if hour <= 12 else hour, minute)


def _digital(hour_text: str, minute_text: str | None, hint: str | None) -> time | None:
    hour, minute = int(hour_text), int(minute_text or 0)
    if hour > 23 or minute > 59:
        return None
    # "kl. 2" is said the 12-hour way; "kl. 02" and "kl. 14" are not.
    if not hour_text.startswith("0") and hour <= 12:
        hour = _afternoon(hour, hint)
    return time(hour, minute)


def _afternoon(hour: int, hint: str | None) -> int:
    if hint == "am":
        return hour
    if hint == "pm":
        return hour + 12 if 1 <= hour <= 11 else hour
    return hour + 12 if 1 <= hour <= 6 else hour


def _take_day_parts(text: _Text, found: _Found) -> None:
    for pattern, start, end in _DAY_PARTS:
        for match in text.find(pattern):
            if not text.take(match):
                continue
            found.soft.append((start, end))
            if match.groupdict().get("i"):
                found.today_hint = True  # "i eftermiddag" is this afternoon


# --- dates ---------------------------------------------------------------------------------


def _take_dates(text: _Text, found: _Found) -> None:
    today = found.today
    for match in text.find(_ISO_DATE):
        _add_date(text, match, found, _explicit_date(match["y"], match["m"], match["d"]))
    for match in text.find(_TEXT_DATE):
        month = _MONTH_PREFIXES.index(match["mon"][:3]) + 1
        _add_date(text, match, found, _calendar_date(int(match["d"]), month, match["y"], today))
    for match in text.find(_NUMERIC_DATE):
        if _is_numeric_date(text, match):
            day, month = int(match["d"]), int(match["m"])
            _add_date(text, match, found, _calendar_date(day, month, match["y"], today))
    for match in text.find(_IN_MONTH):
        if text.take(match):
            found.spans.append(_month_span(MONTH_NAMES.index(match["mon"]) + 1, today))


def _add_date(text: _Text, match: re.Match[str], found: _Found, day: date | None) -> None:
    if not text.take(match):
        return
    if day is None:
        found.invalid = True
        return
    bound = _DATE_BOUND_BEFORE.search(text.before(match))
    if bound is None:
        found.spans.append(_DaySpan(day, day))
    else:
        found.date_bounds.append(_date_bound(bound["word"], day, found.today))


def _date_bound(word: str, day: date, today: date) -> tuple[date | None, date | None]:
    one_day = timedelta(days=1)
    if word == "efter":
        return day + one_day, None
    if word == "tidligst":
        return day, None
    return today, day - one_day if word == "inden" else day


def _is_numeric_date(text: _Text, match: re.Match[str]) -> bool:
    if match["y"]:
        return True
    if not 1 <= int(match["m"]) <= 12 or _UNIT_AFTER.match(text.after(match)):
        return False
    before = text.before(match)
    if _VERSION_BEFORE.search(before):
        return False
    if match["sep"] == ".":
        # After "kl"/"efter"... it is a clock time, unless it cannot be one ("inden 24.12").
        return not _TIME_WORD_BEFORE.search(before) or int(match["d"]) > 23
    return match["sep"] == "/" or not re.search(rf"{_KL}\s*$", before)


def _explicit_date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


# A bare day of the month, as Danes write it in a chat: "den 3.", "d. 21", "d 7.", "den 14"
# (no month named), or a whole answer like "21." (a day over 9 cannot be a place in a list).
_DAY_OF_MONTH = re.compile(
    rf"\b(?:d\.?|den)\s*{_ALONE_BEFORE}(?P<a>[12]\d|3[01]|0?[1-9])(?![\d:,/-]|\.\d){_NOT_UNIT}\.?"
    r"(?!\s*(?:kl\b|klokken|\d))"
    r"|^\s*(?P<b>[12]\d|3[01])\.\s*$"
)


def _take_days_of_month(text: _Text, found: _Found) -> None:
    """The next day with that number: this month, or the next month once it has passed."""
    for match in text.find(_DAY_OF_MONTH):
        if not text.take(match):
            continue
        day = _next_day_of_month(int(match["a"] or match["b"]), found.today)
        if day is None:
            found.invalid = True  # "den 35."
        else:
            found.spans.append(_DaySpan(day, day))


def _next_day_of_month(day: int, today: date) -> date | None:
    for months_ahead in range(3):
        month = (today.month - 1 + months_ahead) % 12 + 1
        year = today.year + (today.month - 1 + months_ahead) // 12
        candidate = _explicit_date(str(year), str(month), str(day))
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _calendar_date(day: int, month: int, year: str | None, today: date) -> date | None:
    if year:
        return _explicit_date(year if len(year) == 4 else f"20{year}", str(month), str(day))
    # Looking a few years ahead lets "29. februar" find the next leap year.
    for candidate_year in range(today.year, today.year + 5):
        candidate = _explicit_date(str(candidate_year), str(month), str(day))
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _month_span(month: int, today: date) -> _DaySpan:
    year = today.year if month >= today.month else today.year + 1
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return _DaySpan(max(first, today), last)


def _take_relative_days(text: _Text, found: _Found) -> None:
    today = found.today
    for pattern, offset in _RELATIVE_DAYS:
        for match in text.find(pattern):
            if text.take(match):
                day = today + timedelta(days=offset)
                found.spans.append(_DaySpan(day, day))
    for match in text.find(_IN_N):
        if text.take(match):
            found.spans.append(_in_days(match, today))


def _in_days(match: re.Match[str], today: date) -> _DaySpan:
    count = int(match["n"]) if match["n"].isdigit() else _COUNT_WORDS[match["n"]]
    days = count * 7 if match["unit"].startswith("uge") else count
    day = today + timedelta(days=days)
    weeks_ahead = days // 7 if days % 7 == 0 else None  # "om 14 dage" = "om to uger"
    return _DaySpan(day, day, weeks_ahead=weeks_ahead)


def _take_weeks(text: _Text, found: _Found) -> None:
    today = found.today
    this_monday = _monday(today)
    for match in text.find(_THIS_WEEK):
        if text.take(match):
            found.spans.append(_week_span(this_monday, today))
    for match in text.find(_NEXT_WEEK):
        if text.take(match):
            weeks = 2 if match["after"] else 1
            found.spans.append(_week_span(this_monday + timedelta(weeks=weeks), today))
    for match in text.find(_ISO_WEEK):
        if text.take(match):
            _add_span(found, _iso_week(int(match["n"]), match["y"], today))
    for match in text.find(_WEEKEND):
        if text.take(match):
            found.spans.append(_weekend(today, bool(match["next"])))


def _add_span(found: _Found, span: _DaySpan | None) -> None:
    if span is None:
        found.invalid = True
    else:
        found.spans.append(span)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_span(monday: date, today: date) -> _DaySpan:
    sunday = monday + timedelta(days=6)
    start = monday if sunday < today else max(monday, today)
    return _DaySpan(start, sunday, week_monday=monday)


def _iso_week(week: int, year: str | None, today: date) -> _DaySpan | None:
    this_year = today.isocalendar().year
    years = [int(year)] if year else [this_year, this_year + 1]
    for candidate_year in years:
        try:
            monday = date.fromisocalendar(candidate_year, week, 1)
        except ValueError:
            continue
        if year or monday + timedelta(days=6) >= today:
            return _week_span(monday, today)
    return None


def _weekend(today: date, next_week: bool) -> _DaySpan:
    monday = _monday(today) + timedelta(weeks=1 if next_week else 0)
    saturday = monday + timedelta(days=5)
    return _DaySpan(max(saturday, today), saturday + timedelta(days=1), week_monday=monday)


def _take_weekdays(text: _Text, found: _Found) -> None:
    for match in text.find(_WEEKDAY):
        _add_weekday(text, match, found)
    for match in text.find(_SHORT_WEEKDAY):
        if _is_short_weekday(text, match):
            _add_weekday(text, match, found)
    found.weekdays.sort()  # in reading order, for "fra mandag til onsdag"


def _add_weekday(text: _Text, match: re.Match[str], found: _Found) -> None:
    if text.take(match):
        weekday = _WEEKDAY_PREFIXES.index(match["day"][:3])
        found.weekdays.append((match.start(), weekday, bool(match["next"])))


def _is_short_weekday(text: _Text, match: re.Match[str]) -> bool:
    if match["next"] or _SHORT_WEEKDAY_BEFORE.search(text.before(match)):
        return True
    if _SHORT_WEEKDAY_AFTER.match(text.after(match)):
        return True
    return text.original.strip(" .,!?") == match.group().strip(" .")


# --- resolution ----------------------------------------------------------------------------


def _resolve_dates(found: _Found, today: date) -> tuple[date | None, date | None]:
    spans = _with_weekdays(found, today)
    if not spans and found.today_hint:
        spans = [_DaySpan(today, today)]
    low = min((span.start for span in spans), default=None)
    high = max((span.end for span in spans), default=None)
    # "efter d. 3. december" narrows the days mentioned, or stands alone.
    for bound_low, bound_high in found.date_bounds:
        low = bound_low if low is None or (bound_low is not None and bound_low > low) else low
        high = (
            bound_high if high is None or (bound_high is not None and bound_high < high) else high
        )
    return low, high


def _with_weekdays(found: _Found, today: date) -> list[_DaySpan]:
    spans = list(found.spans)
    # A weekday next to a calendar date only repeats it ("torsdag d. 3. december").
    if not found.weekdays or any(s.start == s.end and not s.anchors_weekday for s in spans):
        return spans
    anchor = next((span for span in spans if span.anchors_weekday), None)
    if anchor is not None:
        spans.remove(anchor)
    earliest = today
    for _, weekday, next_week in found.weekdays:
        # A later weekday is read after an earlier one: "fra mandag til onsdag".
        day = _weekday_date(weekday, next_week, anchor, earliest, today)
        spans.append(_DaySpan(day, day))
        earliest = day
    return spans


def _weekday_date(
    weekday: int, next_week: bool, anchor: _DaySpan | None, earliest: date, today: date
) -> date:
    upcoming = earliest + timedelta(days=(weekday - earliest.weekday()) % 7)
    if anchor is not None and anchor.weeks_ahead is not None:
        return upcoming + timedelta(weeks=anchor.weeks_ahead)
    if anchor is not None and anchor.week_monday is not None:
        candidate = anchor.week_monday + timedelta(days=weekday)
        if candidate >= today:
            return candidate
        return upcoming  # weekday expressions never give a past date
    if next_week:
        return _monday(today) + timedelta(days=7 + weekday)
    return upcoming


def _resolve_times(found: _Found) -> tuple[time | None, time | None, time | None]:
    if found.exact:
        return None, None, found.exact[0]
    low = max((start for start, _ in found.hard), default=0)
    high = min((end for _, end in found.hard), default=_DAY_MINUTES)
    if found.soft:
        # Parts of day widen each other ("formiddag eller eftermiddag") and yield to bounds.
        soft_low = max(low, min(start for start, _ in found.soft))
        soft_high = min(high, max(end for _, end in found.soft))
        if soft_low < soft_high:
            low, high = soft_low, soft_high
    return _as_time(low, 0), _as_time(high, _DAY_MINUTES), None


def _as_time(minutes: int, unbounded: int) -> time | None:
    return None if minutes == unbounded else time(minutes // 60, minutes % 60)


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _local(moment: datetime) -> datetime:
    """Naive Copenhagen wall time; naive input is taken to be local already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)
