"""Validation and normalisation of what citizens type as their name and contact details.

Each ``normalize_*`` function returns the canonical value, or None when the input is not
acceptable; the ``*_problem`` functions explain why in Danish, for the chat.
"""

from __future__ import annotations

import re
import unicodedata

from bot.language.privacy import REDACTED, contains_cpr

NAME_MIN_LETTERS = 2
NAME_MAX_CHARS = 100
EMAIL_MAX_CHARS = 254
EMAIL_LOCAL_MAX_CHARS = 64

# Apostrophes: ASCII and the typographic one phones insert ("D’Angelo").
_NAME_PUNCTUATION = frozenset(" -'\u2019.")

# Spaces, dashes, dots, slashes and parentheses people put inside phone numbers.
_PHONE_SEPARATORS = re.compile(r"[\s\-./()]")
# Danish subscriber numbers have 8 digits and start with 2-9 (1xx are short service numbers).
_DANISH_PHONE = re.compile(r"[2-9]\d{7}")

_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*")
# Labels of letters/digits/hyphens (Unicode allowed, e.g. "søborg.dk"), not starting or
# ending with a hyphen; the top-level domain is letters only.
_EMAIL_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}")

NAME_MISSING = "Skriv venligst dit navn."
NAME_HAS_CPR = (
    "Det ligner et CPR-nummer. Du skal ikke oplyse dit CPR-nummer her – skriv kun dit navn."
)
NAME_TOO_LONG = f"Navnet er for langt. Skriv højst {NAME_MAX_CHARS} tegn."
NAME_TOO_SHORT = "Skriv venligst dit navn med mindst to bogstaver."
NAME_BAD_CHARS = "Navnet må kun indeholde bogstaver, mellemrum, bindestreg, apostrof og punktum."
CONTACT_INVALID = (
    "Skriv et dansk telefonnummer med 8 cifre (fx 22 33 44 55) eller en e-mailadresse "
    "(fx navn@eksempel.dk)."
)
CONTACT_HAS_CPR = (
    "Det ligner et CPR-nummer. Du skal ikke oplyse dit CPR-nummer her – skriv dit "
    "telefonnummer eller din e-mail."
)


def normalize_phone(text: str) -> str | None:
    """A Danish phone number as 8 digits ("22345678"), or None.

    Accepts spaces, dashes, dots and a +45/0045 prefix: "22 34 56 78", "+45 22345678".
    """
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = _PHONE_SEPARATORS.sub("", text)
    for prefix in ("+45", "0045"):
        if compact.startswith(prefix):
            compact = compact[len(prefix) :]
            break
    return compact if _DANISH_PHONE.fullmatch(compact) else None


def format_phone(phone: str) -> str:
    """Group 8 digits in pairs, the way Danes write phone numbers: "22 34 56 78"."""
    if len(phone) != 8:
        return phone
    return " ".join(phone[i : i + 2] for i in range(0, 8, 2))


def normalize_email(text: str) -> str | None:
    """The e-mail address with a lower-case domain, or None when it is not plausible."""
    if not isinstance(text, str):
        return None
    candidate = text.strip()
    if not candidate or len(candidate) > EMAIL_MAX_CHARS or candidate.count("@") != 1:
        return None
    local, domain = candidate.split("@")
    if len(local) > EMAIL_LOCAL_MAX_CHARS or not _EMAIL_LOCAL.fullmatch(local):
        return None
    domain = unicodedata.normalize("NFC", domain).lower()
    if not _EMAIL_DOMAIN.fullmatch(domain):
        return None
    return f"{local}@{domain}"


# Candidates for an e-mail address or a phone number inside a sentence.
EMAIL_CANDIDATE = re.compile(r"[^\s,;:<>()\[\]]+@[^\s,;:<>()\[\]]+")
PHONE_CANDIDATE = re.compile(r"(?:\+|00)?\d[\d \-./()]{6,}\d")
MASKED_PHONE = "[telefonnummer]"
MASKED_EMAIL = "[e-mail]"


def contacts_in(text: str) -> list[tuple[str, str]]:
    """Every valid e-mail and Danish phone number in a text, normalised, in order found."""
    found: list[tuple[str, str]] = []
    for match in EMAIL_CANDIDATE.finditer(text or ""):
        email = normalize_email(match.group().strip(".,!"))
        if email:
            found.append(("email", email))
    for match in PHONE_CANDIDATE.finditer(text or ""):
        phone = normalize_phone(match.group().strip())
        if phone:
            found.append(("phone", phone))
    return found


def mask_contacts(text: str) -> str:
    """The text with e-mail addresses and phone numbers replaced (transcripts for analytics)."""

    def email(match: re.Match[str]) -> str:
        return MASKED_EMAIL if normalize_email(match.group().strip(".,!")) else match.group()

    def phone(match: re.Match[str]) -> str:
        return MASKED_PHONE if normalize_phone(match.group().strip()) else match.group()

    return PHONE_CANDIDATE.sub(phone, EMAIL_CANDIDATE.sub(email, text or ""))


def normalize_contact(text: str) -> tuple[str, str] | None:
    """("phone", "22345678") or ("email", "anna@example.dk"), or None."""
    if not isinstance(text, str):
        return None
    if "@" in text:
        email = normalize_email(text)
        return ("email", email) if email else None
    phone = normalize_phone(text)
    return ("phone", phone) if phone else None


def contact_problem(text: str) -> str | None:
    """Why this contact is not accepted (Danish), or None when it is fine."""
    if isinstance(text, str) and contains_cpr(text):
        return CONTACT_HAS_CPR
    return None if normalize_contact(text) else CONTACT_INVALID


def _clean_name(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _name_char_ok(char: str) -> bool:
    # Combining marks are letters' accents that have no precomposed form.
    return (
        char.isalpha()
        or char in _NAME_PUNCTUATION
        or unicodedata.category(char)
        in (
            "Mn",
            "Mc",
        )
    )


def name_problem(text: str) -> str | None:
    """Why this name is not accepted (Danish), or None when it is fine."""
    if not isinstance(text, str) or not text.strip():
        return NAME_MISSING
    # Checked before anything else so a CPR number never slips through as "too long" etc.
    # The gateway has usually replaced it with the redaction marker already.
    if contains_cpr(text) or REDACTED in text:
        return NAME_HAS_CPR
    name = _clean_name(text)
    if len(name) > NAME_MAX_CHARS:
        return NAME_TOO_LONG
    if not all(_name_char_ok(char) for char in name):
        return NAME_BAD_CHARS
    if sum(char.isalpha() for char in name) < NAME_MIN_LETTERS:
        return NAME_TOO_SHORT
    return None


def normalize_name(text: str) -> str | None:
    """The name trimmed and with single spaces, or None when it is not acceptable."""
    if name_problem(text) is not None:
        return None
    return _clean_name(text)
