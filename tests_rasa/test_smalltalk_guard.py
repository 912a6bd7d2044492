"""The small-talk guard: a message read as small talk without small talk's words is a question.

Runs in the Rasa environment (.venv-rasa, `make test-rasa`), with Rasa's own model storage.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from danish_nlu.smalltalk_guard import SmalltalkGuard, near, supported

EXAMPLES = {
    "thank": ["tak", "mange tak", "tusind tak for hjælpen", "super, tak", "du er en stjerne"],
    "goodbye": ["farvel", "hej hej", "vi ses", "god dag"],
    "affirm": ["ja", "ja tak", "det passer", "korrekt"],
    "deny": ["nej", "nej tak", "forkert"],
    "ask_koerekort": ["storbil", "traktor kørekort"],
}


@pytest.fixture
def guard(tmp_path: Path) -> SmalltalkGuard:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("smalltalk_guard")
    context = ExecutionContext(GraphSchema({}), "test")
    config = SmalltalkGuard.get_default_config()
    trained = SmalltalkGuard.create(config, storage, resource, context)
    examples = [
        Message({"text": text, "intent": intent})
        for intent, texts in EXAMPLES.items() for text in texts
    ]
    trained.train(TrainingData(examples))
    # As Rasa runs it: loaded from the model storage.
    return SmalltalkGuard.load(config, storage, resource, context)


def classified(guard: SmalltalkGuard, text: str, intent: str, confidence: float = 0.91) -> str:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "ask_koerekort",
                                                           "confidence": 0.05}]
    message = Message({"text": text, "intent": ranking[0], "intent_ranking": ranking})
    (processed,) = guard.process([message])
    assert processed.get("intent_ranking")[0] == processed.get("intent")
    return str(processed.get("intent")["name"])


@pytest.mark.parametrize(
    ("text", "intent"),
    [("storbil", "thank"), ("traktor", "thank"), ("syn", "goodbye"), ("knallert", "deny"),
     ("knallert til min søn", "affirm")],
)
def test_small_talk_without_its_words_becomes_a_question(
    guard: SmalltalkGuard, text: str, intent: str
) -> None:
    assert classified(guard, text, intent) == "nlu_fallback"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("mange tak", "thank"),
        ("takk", "thank"),  # a typo of "tak"
        ("tusind taak for det", "thank"),
        ("farvell", "goodbye"),
        ("ja", "affirm"),
        ("jo", "affirm"),  # no content word at all
        ("/affirm", "affirm"),  # a button
        ("storbil", "ask_koerekort"),  # not small talk: not guarded
    ],
)
def test_small_talk_with_its_words_keeps_its_intent(
    guard: SmalltalkGuard, text: str, intent: str
) -> None:
    assert classified(guard, text, intent) == intent


def test_a_typo_is_near_and_another_word_is_not() -> None:
    vocabulary = frozenset({"tak", "farvel"})
    assert near("takk", vocabulary, 0.8) and near("farvell", vocabulary, 0.8)
    assert not near("traktor", vocabulary, 0.8)
    assert supported("og", vocabulary, 0.8)  # only stop words: nothing to judge by
