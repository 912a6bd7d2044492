"""Text normalisation shared by the NLU tokenizer and the knowledge search."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case and spell æøå the way people type them without a Danish keyboard."""
    text = unicodedata.normalize("NFC", text.lower())
    text = text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace("é", "e")
    return re.sub(r"\s+", " ", text).strip()
