"""A Rasa tokenizer for Danish that needs no downloaded model.

spaCy's blank Danish pipeline brings the language data (tokenizer exceptions such as "bl.a.",
"kl." and "f.eks."), and `spacy-lookups-data` ships a Danish lemma lookup table. We fill
`Token.lemma` from it so that the featurizers (which use lemmas by default) see "fornyer",
"fornyede" and "forny" as one word. Lemmas are also folded to how people type without a Danish
keyboard (ø -> oe), so "kørekort" and "koerekort" become the same feature.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language

from danish_nlu.text import fold, lemma


@lru_cache(maxsize=1)
def danish_pipeline() -> Language:
    """spaCy's blank Danish pipeline: its tokenizer knows Danish abbreviations."""
    return spacy.blank("da")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False
)
class DanishLemmaTokenizer(Tokenizer):
    """Splits Danish text with spaCy's language data and fills lemmas from a lookup table."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy", "spacy_lookups_data"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DanishLemmaTokenizer:
        danish_pipeline()  # fail at load time, not on the first message
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        doc = danish_pipeline().make_doc(text)
        kept = [t for t in doc if not (t.is_space or t.is_punct)]
        if not kept:
            # Rasa needs at least one token, e.g. for a message of only "?".
            return [Token(text, 0, len(text), lemma=fold(text))] if text else []
        tokens = [Token(t.text, t.idx, t.idx + len(t.text), lemma=lemma(t.text)) for t in kept]
        return self._apply_token_pattern(tokens)
