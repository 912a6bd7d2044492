"""CPR numbers must never be stored or logged: detect and redact them as early as possible.

A CPR number is DDMMYY-SSSS, but people write it in many ways: ``010190-1234``,
``01 01 90 12 34``, ``0101 90 1234``, ``01-01-90-1234``, ``01.01.90-1234``, with an en dash
or a slash, with non-breaking, double or zero-width spaces, in full-width digits (a phone
keyboard in another script). So the text is read as *groups of digits* (any Unicode decimal
digit, zero-width characters ignored) joined by short runs of separators (spaces of any kind,
dashes, dots, slashes), and ten digits in consecutive groups count as a CPR number when

- the group boundaries fall where a person would put them: after the day, the month, the year
  or inside the serial (positions 2, 4, 6, 8), and always after the year if anywhere at all —
  so a date with a four-digit year and a clock time ("01.12.2026 10.00") is not one;
- the first six digits form a real calendar date. A bare 10-digit number that is not a date
  (an order number, say) is left alone, but one with a date-shaped prefix is redacted even if
  the modulus-11 check fails, since many valid CPR numbers since 2007 do not satisfy it.

Digits glued to more digits (a 12-digit number) never match: groups are taken whole.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

REDACTED = "[CPR-nummer fjernet]"
CPR_DIGITS = 10
# Where a person may split DDMMYYSSSS; a split anywhere requires the one after the year.
_ALLOWED_BOUNDARIES = frozenset({2, 4, 6, 8})
_YEAR_BOUNDARY = 6
# At most this many separator characters between two groups ("010190 - 1234").
_MAX_SEPARATOR_RUN = 3
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_OTHER_SEPARATORS = "./\uff0e\uff0f\u2044"


@dataclass(frozen=True)
class _Group:
    start: int  # index of the first digit in the text
    end: int  # index after the last digit
    digits: str  # ASCII digits


def _is_separator(char: str) -> bool:
    return char.isspace() or char in _DASHES or char in _OTHER_SEPARATORS


def _is_invisible(char: str) -> bool:
    # Zero-width space/joiners, word joiner, BOM, soft hyphen: format characters (Cf).
    return unicodedata.category(char) == "Cf"


def _digit(char: str) -> str | None:
    value = unicodedata.decimal(char, None)
    return None if value is None else str(value)


def _chains(text: str) -> Iterator[list[_Group]]:
    """Runs of digit groups that are joined by short separator runs."""
    chain: list[_Group] = []
    i, n = 0, len(text)
    while i < n:
        digit = _digit(text[i])
        if digit is None:
            i += 1
            continue
        # A group: digits, with invisible characters inside skipped.
        start, digits, end = i, [], i
        while i < n:
            value = _digit(text[i])
            if value is not None:
                digits.append(value)
                i += 1
                end = i
            elif _is_invisible(text[i]):
                i += 1
            else:
                break
        group = _Group(start, end, "".join(digits))
        # Does it continue the chain? Only if the gap since the last group is separators.
        if chain:
            gap = text[chain[-1].end : start]
            visible = [c for c in gap if not _is_invisible(c)]
            joined = len(visible) <= _MAX_SEPARATOR_RUN and all(_is_separator(c) for c in visible)
            if not joined:
                yield chain
                chain = []
        chain.append(group)
    if chain:
        yield chain


def _is_date(day: str, month: str, year: str) -> bool:
    try:
        # The century is unknown; 2000 is a leap year, so 29 Feb with any YY is accepted.
        date(2000 + int(year), int(month), int(day))
    except ValueError:
        try:
            date(1900 + int(year), int(month), int(day))
        except ValueError:
            return False
    return True


def _looks_like_cpr(groups: list[_Group]) -> bool:
    boundaries, position = set(), 0
    for group in groups[:-1]:
        position += len(group.digits)
        boundaries.add(position)
    if not boundaries <= _ALLOWED_BOUNDARIES:
        return False
    if boundaries and _YEAR_BOUNDARY not in boundaries:
        return False
    digits = "".join(g.digits for g in groups)
    return _is_date(digits[0:2], digits[2:4], digits[4:6])


def _cpr_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for chain in _chains(text):
        i = 0
        while i < len(chain):
            total, j = 0, i
            while j < len(chain) and total < CPR_DIGITS:
                total += len(chain[j].digits)
                j += 1
            window = chain[i:j]
            if total == CPR_DIGITS and _looks_like_cpr(window):
                spans.append((window[0].start, window[-1].end))
                i = j
            else:
                i += 1
    return spans


def redact_cpr(text: str) -> tuple[str, bool]:
    """Return the text with CPR-like numbers replaced, and whether anything was replaced."""
    if not text:
        return text, False
    spans = _cpr_spans(text)
    if not spans:
        return text, False
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(REDACTED)
        last = end
    parts.append(text[last:])
    return "".join(parts), True


def contains_cpr(text: str) -> bool:
    return bool(text) and bool(_cpr_spans(text))


def redact_json(value: Any) -> tuple[Any, bool]:
    """Every string inside a JSON-like value redacted (Rasa's tracker events, payloads)."""
    if isinstance(value, str):
        return redact_cpr(value)
    if isinstance(value, list):
        items = [redact_json(item) for item in value]
        return [item for item, _ in items], any(found for _, found in items)
    if isinstance(value, dict):
        pairs = {key: redact_json(item) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, any(
            found for _, found in pairs.values()
        )
    return value, False
