"""Danish lemmas and stop words without a downloaded model and without importing spaCy.

The lemma table is the one spaCy's lookup lemmatizer uses (shipped by `spacy-lookups-data`),
read directly: importing spaCy pulls in TensorFlow through thinc, which would cost the action
server ~600 MB of memory and seconds of start-up for a dictionary lookup.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bot.language.text import fold

_WORD = re.compile(r"\w+", re.UNICODE)


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
    """spaCy's Danish stop words, read from its source file for the reason in the docstring."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source = Path(next(iter(spec.submodule_search_locations)), "lang", "da", "stop_words.py")
    quoted = re.search(r'"""(.*?)"""', source.read_text(encoding="utf-8"), re.DOTALL)
    return frozenset(fold(w) for w in quoted.group(1).split()) if quoted else frozenset()


def content_lemmas(text: str) -> list[str]:
    """The lemmas of a text without stop words: what a question is about."""
    stops = stop_words()
    lemmas = (lemma(w) for w in _WORD.findall(text))
    return [item for item in lemmas if item not in stops and len(item) > 1]
