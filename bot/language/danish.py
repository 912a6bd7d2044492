"""Danish lemmas and stop words without a downloaded model and without importing spaCy.

Re-used from danish_nlu.text (the tokenizer's own module, see there for why spaCy is not
imported), so that the knowledge search lemmatises exactly as the NLU features do.
"""

from __future__ import annotations

from danish_nlu.text import content_lemmas, lemma, lemma_table, stop_words

__all__ = ["content_lemmas", "lemma", "lemma_table", "stop_words"]
