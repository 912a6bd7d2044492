"""Danish lemmas without a downloaded model: spaCy's blank "da" pipeline + lookup table.

Kept free of Rasa imports so the knowledge search (in the action server) can use it too.
"""

from __future__ import annotations

import re
from functools import lru_cache

import spacy
from spacy.lang.da.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc

from bot.text import fold

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def danish_pipeline() -> Language:
    """Blank Danish spaCy pipeline with the lookup lemmatizer (loaded once per process)."""
    nlp = spacy.blank("da")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # Reads the table from the installed spacy-lookups-data package; no network involved.
    nlp.initialize()
    return nlp


def lemmatize(words: list[str]) -> list[str]:
    """Folded lemmas for already split words (lower-cased first: the table is lower-case)."""
    nlp = danish_pipeline()
    doc = Doc(nlp.vocab, words=[w.lower() for w in words])
    return [fold(token.lemma_ or token.text) for token in nlp.get_pipe("lemmatizer")(doc)]


@lru_cache(maxsize=4096)
def _lemma(word: str) -> str:
    return lemmatize([word])[0]


STOP_LEMMAS = frozenset(fold(w) for w in STOP_WORDS)


def content_lemmas(text: str) -> list[str]:
    """The lemmas of a text without stop words: what a question is about."""
    lemmas = (_lemma(w) for w in _WORD.findall(text.lower()))
    return [lemma for lemma in lemmas if lemma not in STOP_LEMMAS and len(lemma) > 1]
