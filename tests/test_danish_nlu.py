"""The danish_nlu package stands on its own, and the knowledge search uses its text helpers.

Rasa loads danish_nlu in its own environment, where nothing of bot/ or actions/ may be needed;
the gateway and the action server use danish_nlu.text without paying for spaCy or Rasa.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import danish_nlu
from bot.language import danish, text
from danish_nlu import text as nlu_text

PACKAGE = Path(danish_nlu.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_danish_nlu_imports_nothing_of_the_rest_of_the_project(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert not roots & {"bot", "actions", "tests"}


def test_the_search_and_the_tokenizer_share_one_fold_and_one_lemma_table() -> None:
    assert text.fold is nlu_text.fold
    assert danish.lemma is nlu_text.lemma
    assert danish.content_lemmas is nlu_text.content_lemmas


@pytest.mark.slow
def test_knowledge_search_loads_without_spacy_or_rasa() -> None:
    code = (
        "import sys, bot.services.knowledge as k, bot.services.retrieval as r; "
        "r.Bm25Lemmas(k.load_articles()).scores(\"mistet kørekort\"); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('spacy', 'rasa', 'thinc')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
