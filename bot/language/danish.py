"""Danish lemmas and stop words without a downloaded model and without importing spaCy.

Re-used from danish_nlu.text (the tokenizer's own module, see there for why spaCy is not
imported), so that the knowledge search lemmatises exactly as the NLU features do.
"""

from __future__ import annotations

import re

from danish_nlu.text import content_lemmas, fold, lemma, lemma_table, stop_words

__all__ = ["content_lemmas", "lemma", "lemma_table", "stop_words", "subject_lemmas"]


_WORD = re.compile(r"\w+", re.UNICODE)


def subject_lemmas(text: str) -> list[str]:
    """Content lemmas without the words that are stop words as typed: the lemma table maps
    some of them onto content words ("med" -> "mede", "have" -> "hav"), which would make
    "hvad skal jeg have med" look like a message with a subject of its own."""
    stops = stop_words()
    return content_lemmas(" ".join(w for w in _WORD.findall(text) if fold(w) not in stops))
