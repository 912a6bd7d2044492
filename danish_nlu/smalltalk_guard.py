"""A guard after the intent classifier: small talk must use small talk's words.

DIET is sure of itself on a word it has never seen. "storbil" and "traktor" came out as
``thank`` (0.91), "syn" as ``goodbye`` and "knallert" as ``deny``, so a citizen who typed a
one-word question was thanked or waved goodbye. The small-talk intents have a small closed
vocabulary (tak, hej, farvel, ja, nej ...), so a message read as one of them but without any of
its words, nor a near miss of one ("takk", "farvell"), is really something else: it becomes
``nlu_fallback``, which the knowledge action answers by searching every article (and which
says "det forstod jeg ikke" when nothing fits). Runs after the FallbackClassifier.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from danish_nlu.text import content_lemmas

FALLBACK_INTENT = "nlu_fallback"
VOCABULARY_FILE = "smalltalk_vocabulary.json"


def near(word: str, vocabulary: frozenset[str], ratio: float) -> bool:
    """The word, or a typo of it ("takk", "farvell"), is in the vocabulary."""
    if word in vocabulary:
        return True
    return any(
        SequenceMatcher(None, word, known).ratio() >= ratio
        for known in vocabulary
        if abs(len(known) - len(word)) <= 2
    )


def supported(text: str, vocabulary: frozenset[str], ratio: float) -> bool:
    """A message of stop words only ("jo", "og så") always is; otherwise one of its content
    words must be, or nearly be, in the intent's vocabulary."""
    words = content_lemmas(text)
    return not words or any(near(word, vocabulary, ratio) for word in words)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class SmalltalkGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intents": ["greet", "goodbye", "thank", "affirm", "deny"],
            # How close a typo must be (difflib's ratio): "takk" to "tak" is 0.86.
            "typo_ratio": 0.8,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabularies: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.vocabularies = vocabularies or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SmalltalkGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        guarded = set(self._config["intents"])
        words: dict[str, set[str]] = {intent: set() for intent in guarded}
        for example in training_data.intent_examples:
            intent = example.get(INTENT)
            if intent in guarded:
                words[intent].update(content_lemmas(example.get(TEXT) or ""))
        self.vocabularies = {intent: frozenset(found) for intent, found in words.items()}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                _dump(self.vocabularies), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SmalltalkGuard:
        try:
            with model_storage.read_from(resource) as directory:
                text = (directory / VOCABULARY_FILE).read_text(encoding="utf-8")
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, _load(text))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._guard(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def _guard(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        name = intent.get("name")
        vocabulary = self.vocabularies.get(name)
        text = message.get(TEXT) or ""
        if vocabulary is None or not text or text.startswith("/"):
            return
        if supported(text, vocabulary, float(self._config["typo_ratio"])):
            return
        # As the FallbackClassifier does it: the fallback first, the ranking kept below it.
        fallback = {"name": FALLBACK_INTENT, "confidence": float(intent.get("confidence") or 0)}
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK_INTENT
        ]
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)


def _dump(vocabularies: dict[str, frozenset[str]]) -> str:
    return json.dumps({k: sorted(v) for k, v in vocabularies.items()}, ensure_ascii=False)


def _load(text: str) -> dict[str, frozenset[str]]:
    return {k: frozenset(v) for k, v in json.loads(text).items()}


__all__ = ["SmalltalkGuard", "near", "supported"]
