"""The Danish tokenizer component: spaCy's language data and lookup lemmas, no model.

Runs in the Rasa environment (.venv-rasa, `make test-rasa`), where Rasa and spaCy are.
"""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from danish_nlu.tokenizer import DanishLemmaTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> DanishLemmaTokenizer:
    return DanishLemmaTokenizer(DanishLemmaTokenizer.get_default_config())


def tokens(tokenizer: DanishLemmaTokenizer, text: str) -> list[tuple[str, int, int, str]]:
    found = tokenizer.tokenize(Message({"text": text}), "text")
    return [(t.text, t.start, t.end, t.lemma) for t in found]


def test_fills_lemmas_from_the_lookup_table(tokenizer: DanishLemmaTokenizer) -> None:
    result = tokens(tokenizer, "Hvordan fornyer jeg mit kørekort?")
    assert [t[0] for t in result] == ["Hvordan", "fornyer", "jeg", "mit", "kørekort"]
    assert [t[3] for t in result] == ["hvordan", "forny", "jeg", "min", "koerekort"]


def test_offsets_point_into_the_original_text(tokenizer: DanishLemmaTokenizer) -> None:
    text = "Jeg  har mistet min telefon, hvad nu?"
    for word, start, end, _ in tokens(tokenizer, text):
        assert text[start:end] == word


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kl. 14", ["kl.", "14"]),
        ("f.eks. MitID-appen", ["f.eks.", "MitID-appen"]),
        ("bl.a. Digital Post", ["bl.a.", "Digital", "Post"]),
    ],
)
def test_keeps_danish_abbreviations_whole(
    tokenizer: DanishLemmaTokenizer, text: str, expected: list[str]
) -> None:
    assert [t[0] for t in tokens(tokenizer, text)] == expected


@pytest.mark.parametrize(
    ("typed", "with_letters"), [("koerekort", "kørekort"), ("flytter", "flytter")]
)
def test_missing_danish_letters_give_the_same_lemma(
    tokenizer: DanishLemmaTokenizer, typed: str, with_letters: str
) -> None:
    assert tokens(tokenizer, typed)[0][3] == tokens(tokenizer, with_letters)[0][3]


def test_punctuation_only_message_still_has_a_token(tokenizer: DanishLemmaTokenizer) -> None:
    assert [t[0] for t in tokens(tokenizer, "???")] == ["???"]
