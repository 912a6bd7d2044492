"""The vendored stop-word list (danish_nlu/stop_words.txt) is spaCy's, in the Rasa environment
where spaCy is installed."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from danish_nlu import text as nlu_text


def test_vendored_stop_words_are_spacys() -> None:
    spec = importlib.util.find_spec("spacy")
    assert spec is not None and spec.submodule_search_locations
    source = Path(next(iter(spec.submodule_search_locations)), "lang", "da", "stop_words.py")
    quoted = re.search(r'"""(.*?)"""', source.read_text(encoding="utf-8"), re.DOTALL)
    assert quoted is not None
    assert nlu_text.stop_words() == frozenset(nlu_text.fold(w) for w in quoted.group(1).split())


def test_version_channel_names_this_python() -> None:
    import platform

    from danish_nlu.version_channel import versions

    assert versions()["python"] == platform.python_version()
    assert versions()["rasa"].startswith("3.6.")
