"""CPR numbers must never be stored or logged: detect and redact them as early as possible.

A CPR number is DDMMYY-SSSS. We redact anything that looks like one and whose first six
digits form a real calendar date; a bare 10-digit number that is not a date (an order number,
say) is left alone, but one with a date-shaped prefix is redacted even if the modulus-11 check
fails, since many valid CPR numbers since 2007 do not satisfy it.
"""

from __future__ import annotations

import re
from datetime import date

REDACTED = "[CPR-nummer fjernet]"

# Optional separator between date and serial: '-', space, '.', or nothing. Digits must not be
# glued to other digits on either side (a 12-digit number is not a CPR number).
_CPR_PATTERN = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})[ \-.]?(\d{4})(?!\d)")


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


def redact_cpr(text: str) -> tuple[str, bool]:
    """Return the text with CPR-like numbers replaced, and whether anything was replaced."""
    found = False

    def _replace(match: re.Match[str]) -> str:
        nonlocal found
        day, month, year, _serial = match.groups()
        if not _is_date(day, month, year):
            return match.group(0)
        found = True
        return REDACTED

    return _CPR_PATTERN.sub(_replace, text), found


def contains_cpr(text: str) -> bool:
    return redact_cpr(text)[1]
