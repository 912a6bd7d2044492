"""Danish text helpers shared by the tokenizer and the knowledge search: fold(), lemmas and
stop words, without a downloaded model and without importing spaCy.

The lemma table is the one spaCy's lookup lemmatizer uses (shipped by `spacy-lookups-data`),
read directly: importing spaCy pulls in TensorFlow through thinc, which would cost the action
server ~600 MB of memory and seconds of start-up for a dictionary lookup. The stop words are
spaCy's Danish list, vendored in stop_words.txt for the same reason.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

STOP_WORDS_FILE = Path(__file__).with_name("stop_words.txt")
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and spell æøå the way people type them without a Danish keyboard."""
    text = unicodedata.normalize("NFC", text.lower())
    text = text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace("é", "e")
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def lemma_table() -> dict[str, str]:
    path = resources.files("spacy_lookups_data").joinpath("data", "da_lemma_lookup.json.gz")
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        return json.load(handle)


def lemma(word: str) -> str:
    """Folded lemma of one word (the table is lower-case; unknown words stay as they are)."""
    lower = word.lower()
    return fold(lemma_table().get(lower, lower))


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """spaCy's Danish stop words, folded."""
    lines = STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(w) for w in lines if w.strip() and not w.startswith("#"))


def content_lemmas(text: str) -> list[str]:
    """The lemmas of a text without stop words: what a question is about."""
    stops = stop_words()
    lemmas = (lemma(w) for w in _WORD.findall(text))
    return [item for item in lemmas if item not in stops and len(item) > 1]
