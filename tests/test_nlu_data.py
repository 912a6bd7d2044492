"""NLU training data and hold-out hygiene. Needs only PyYAML: no Rasa model, no server.

- every intent has enough examples;
- no example occurs twice anywhere in data/nlu;
- the hold-out (tests/nlu_holdout.yml) never leaks into training data or article questions;
- the hold-out covers every topic and names only articles that exist.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.core.topics import KNOWLEDGE_TOPICS, TOPICS

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = ROOT / "data" / "nlu"
KNOWLEDGE_DIR = ROOT / "knowledge"
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"


MIN_EXAMPLES = {
    "ask_mitid": 70,
    **{f"ask_{topic}": 40 for topic in KNOWLEDGE_TOPICS if topic != "mitid"},
    "greet": 25,
    "bot_challenge": 25,
    "goodbye": 20,
    "thank": 20,
    "affirm": 20,
    "deny": 20,
    "out_of_scope": 25,
    "request_human": 25,
}
# Intents whose examples must be plain text (entities are not used for them).
PLAIN_INTENTS = set(MIN_EXAMPLES)

_ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def normalise(text: str) -> str:
    """Lower-cased, whitespace collapsed, entity markup reduced to its text."""
    text = _ENTITY.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    return " ".join(text.lower().split())


def loose(text: str) -> str:
    """normalise() and also blind to punctuation: "er du en robot?" == "er du en robot"."""
    return " ".join(re.sub(r"[^\w\s]", " ", normalise(text)).split())


def _examples(block: dict) -> list[str]:
    raw = block.get("examples") or ""
    if isinstance(raw, list):  # tolerate the list form too
        return [str(item).strip() for item in raw if str(item).strip()]
    items = []
    for line in str(raw).splitlines():
        line = line.strip()
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line:
            raise AssertionError(f"example line without '- ': {line!r}")
    return items


def load_training() -> list[tuple[str, str, str]]:
    """(intent, example, file name) for every intent example in data/nlu."""
    rows = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue  # synonyms, regexes, lookups
            for example in _examples(block):
                rows.append((str(block["intent"]), example, path.name))
    return rows


def load_article_questions() -> dict[str, tuple[str, list[str]]]:
    """article id -> (topic, questions)."""
    articles = {}
    for path in sorted(KNOWLEDGE_DIR.glob("*/*.md")):
        match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        assert match, f"{path}: no front matter"
        meta = yaml.safe_load(match.group(1)) or {}
        article_id = str(meta.get("id") or path.stem)
        articles[article_id] = (
            str(meta.get("topic") or path.parent.name),
            [str(q) for q in meta.get("questions") or []],
        )
    return articles


TRAINING = load_training()
ARTICLES = load_article_questions()
HOLDOUT_ROWS = yaml.safe_load(HOLDOUT.read_text(encoding="utf-8")) if HOLDOUT.exists() else []


def test_every_nlu_file_is_valid_rasa_yaml() -> None:
    for path in sorted(NLU_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and "nlu" in data, f"{path.name}: no nlu: section"
        assert str(data.get("version", "")).startswith("3."), f"{path.name}: version 3.x expected"


@pytest.mark.parametrize("intent,minimum", sorted(MIN_EXAMPLES.items()))
def test_intent_has_enough_examples(intent: str, minimum: int) -> None:
    count = sum(1 for name, _, _ in TRAINING if name == intent)
    assert count >= minimum, f"{intent}: {count} examples, want at least {minimum}"


def test_no_duplicate_examples_across_files() -> None:
    seen: dict[str, tuple[str, str]] = {}
    duplicates = []
    for intent, example, filename in TRAINING:
        key = normalise(example)
        if key in seen:
            duplicates.append(f"{example!r} in {intent} ({filename}) and {seen[key]}")
        else:
            seen[key] = (intent, filename)
    assert not duplicates, "\n".join(duplicates)


def test_plain_intents_have_no_entity_markup() -> None:
    marked = [
        f"{intent}: {example!r}"
        for intent, example, _ in TRAINING
        if intent in PLAIN_INTENTS and _ENTITY.search(example)
    ]
    assert not marked, "\n".join(marked)


def test_holdout_is_large_and_well_formed() -> None:
    assert isinstance(HOLDOUT_ROWS, list)
    assert len(HOLDOUT_ROWS) >= 150, f"only {len(HOLDOUT_ROWS)} hold-out examples"
    problems = []
    for row in HOLDOUT_ROWS:
        text, topic, article = row.get("text"), row.get("topic"), row.get("article")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"empty text: {row}")
        if topic not in TOPICS:
            problems.append(f"unknown topic {topic!r}: {text!r}")
        if article is not None:
            if article not in ARTICLES:
                problems.append(f"unknown article {article!r}: {text!r}")
            elif ARTICLES[article][0] != topic:
                problems.append(f"article {article!r} is not in topic {topic!r}: {text!r}")
    assert not problems, "\n".join(problems)


def test_holdout_covers_every_topic() -> None:
    counts = Counter(row.get("topic") for row in HOLDOUT_ROWS)
    for topic in TOPICS:
        minimum = 10 if topic in KNOWLEDGE_TOPICS else 8
        assert counts[topic] >= minimum, f"{topic}: {counts[topic]} hold-out examples"


def test_holdout_has_no_duplicates() -> None:
    counts = Counter(normalise(row["text"]) for row in HOLDOUT_ROWS)
    assert not [text for text, n in counts.items() if n > 1]


def test_holdout_never_used_for_training_or_article_questions() -> None:
    training = {loose(example) for _, example, _ in TRAINING}
    questions = {loose(q): article for article, (_, qs) in ARTICLES.items() for q in qs}
    leaks = []
    for row in HOLDOUT_ROWS:
        key = loose(row["text"])
        if key in training:
            leaks.append(f"in data/nlu: {row['text']!r}")
        if key in questions:
            leaks.append(f"in questions of {questions[key]}: {row['text']!r}")
    assert not leaks, "\n".join(leaks)


# --- the article-level hold-outs (tests/holdout/), written independently before tuning ----

HOLDOUT_DIR = ROOT / "tests" / "holdout"


def holdout_texts() -> list[tuple[str, str]]:
    """Every citizen text of tests/holdout/*.yml, with the file it is in."""
    texts: list[tuple[str, str]] = []
    for path in sorted(HOLDOUT_DIR.glob("articles*.yml")):
        texts += [(row["text"], path.name) for row in yaml.safe_load(path.read_text("utf-8"))]
    for path in sorted(HOLDOUT_DIR.glob("conversations*.yml")):
        texts += [
            (str(turn["text"]), path.name)
            for conversation in yaml.safe_load(path.read_text("utf-8"))
            for turn in conversation["turns"]
            if not str(turn["text"]).startswith("/")
        ]
    dialogue = yaml.safe_load((HOLDOUT_DIR / "dialogue.yml").read_text(encoding="utf-8"))
    for group in dialogue.values():
        texts += [
            (item["text"] if isinstance(item, dict) else str(item), "dialogue.yml")
            for item in group
        ]
    return texts


def test_article_holdouts_never_leak_into_training_or_article_questions() -> None:
    training = {loose(example) for _, example, _ in TRAINING}
    questions = {loose(q): article for article, (_, qs) in ARTICLES.items() for q in qs}
    leaks = []
    for text, filename in holdout_texts():
        key = loose(text)
        if key in training:
            leaks.append(f"{filename}: in data/nlu: {text!r}")
        if key in questions:
            leaks.append(f"{filename}: in questions of {questions[key]}: {text!r}")
    assert not leaks, "\n".join(leaks)


def test_later_holdout_files_add_dev_cases_only() -> None:
    # The test half was written once, before tuning (articles.yml, conversations.yml).
    later = [
        p for p in HOLDOUT_DIR.glob("*.yml")
        if p.name not in {"articles.yml", "conversations.yml", "dialogue.yml"}
    ]
    assert later
    for path in later:
        rows = yaml.safe_load(path.read_text("utf-8"))
        assert {row["split"] for row in rows} == {"dev"}, path.name
        labels = {
            a
            for row in rows
            for item in (row.get("turns") or [row])
            for a in str(item["article"]).split("|")
        }
        unknown = labels - set(ARTICLES) - {"none", "overview"}
        assert not unknown, f"{path.name}: labels without an article: {sorted(unknown)}"


def test_article_holdout_is_split_once_and_covers_every_article() -> None:
    rows = yaml.safe_load((HOLDOUT_DIR / "articles.yml").read_text(encoding="utf-8"))
    assert len(rows) >= 250
    assert {row["split"] for row in rows} == {"dev", "test"}
    labelled = {a for row in rows for a in str(row["article"]).split("|")} - {"none"}
    unknown = labelled - set(ARTICLES)
    assert not unknown, f"labels without an article: {sorted(unknown)}"
    for split in ("dev", "test"):
        covered = {
            a for row in rows if row["split"] == split for a in str(row["article"]).split("|")
        }
        missing = set(ARTICLES) - covered
        assert not missing, f"{split} half has no question for {sorted(missing)}"
