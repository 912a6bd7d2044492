"""The embedder's head start (bot/services/embeddings.py): a prefetched query is the same
vector as one embedded on the spot, is used once, and a head start that comes too late or
while another is still running starts no second embedding."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from bot.services import embeddings
from bot.services.embeddings import Embedder

QUESTION = "hvordan får jeg mitid uden pas"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(cache_dir=None)


def waiting(embedder: Embedder) -> list[str]:
    return list(embedder._prefetched)  # noqa: SLF001 - what is waiting is the behaviour here


def test_a_prefetched_query_is_the_vector_embedded_on_the_spot(embedder: Embedder) -> None:
    direct = embedder.query(QUESTION + " i dag")
    embedder.prefetch(QUESTION + " nu")
    assert waiting(embedder) == [QUESTION + " nu"]
    prefetched = embedder.query(QUESTION + " nu")
    assert waiting(embedder) == []  # used once, then gone
    again = embedder.query(QUESTION + " nu")
    assert np.allclose(prefetched, again) and not np.allclose(prefetched, direct)


def test_a_head_start_after_its_question_starts_nothing(embedder: Embedder) -> None:
    embedder.query("kan jeg få digital post på papir")
    embedder.prefetch("kan jeg få digital post på papir")
    assert waiting(embedder) == []
    # Only that once: the same words in a later turn get their head start again.
    embedder.prefetch("kan jeg få digital post på papir")
    assert waiting(embedder) == ["kan jeg få digital post på papir"]
    embedder.query("kan jeg få digital post på papir")


def test_no_second_head_start_while_one_is_running(embedder: Embedder) -> None:
    # Holding the engine's lock keeps the first head start running for as long as needed.
    with embedder._lock:  # noqa: SLF001
        embedder.prefetch("hvordan fornyer jeg mit kørekort")
        embedder.prefetch("hvornår har biblioteket åbent")
        assert waiting(embedder) == ["hvordan fornyer jeg mit kørekort"]
    embedder.query("hvordan fornyer jeg mit kørekort")
    assert waiting(embedder) == []


def test_unused_head_starts_are_dropped(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embeddings, "PREFETCH_SECONDS", 0.05)
    embedder.prefetch("et spørgsmål der aldrig bliver stillet")
    embedder._prefetched["et spørgsmål der aldrig bliver stillet"][1].result()  # noqa: SLF001
    time.sleep(0.1)
    embedder.prefetch("et andet spørgsmål")
    assert waiting(embedder) == ["et andet spørgsmål"]
    embedder.query("et andet spørgsmål")


def test_the_prefetch_of_a_message_is_what_the_answer_ranks(tmp_path: Path) -> None:
    """The words after "nej, jeg mener" are what knowledge_reply ranks; a payload, an empty
    or an over-long message starts nothing."""
    from bot.services.answers import prefetch
    from bot.services.embeddings import shared_embedder

    assert prefetch("  nej, jeg mener mit kørekort  ", tmp_path, 2000)
    assert waiting(shared_embedder(tmp_path)) == ["mit kørekort"]
    assert not prefetch('/inform{"help_slot":"12"}', tmp_path, 2000)
    assert not prefetch("   ", tmp_path, 2000)
    assert not prefetch("x" * 2001, tmp_path, 2000)
    assert waiting(shared_embedder(tmp_path)) == ["mit kørekort"]
