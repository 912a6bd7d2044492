"""`make eval`: how well the assistant finds the answer, on hold-outs never used to train it.

Prints, for the test half of tests/holdout/articles.yml (or `--split dev`):

- every retriever compared, ranking alone across all topics (top-1, top-3);
- the answer engine as the chat runs it (NLU intent + retriever + thresholds): top-1 and
  top-3 article accuracy, answered right, wrong answers, clarifying questions, fallbacks,
  questions sent to another flow, and what happens to questions nothing should answer;
- the follow-up turns of tests/holdout/conversations.yml;
- the NLU's topic accuracy on tests/nlu_holdout.yml (the original topic hold-out).

`make eval` parses in the Rasa environment (scripts/rasa_parse.py: this Python never imports
Rasa); the live test (tests/test_answers_live.py) asks the running Rasa server instead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.config import PROJECT_ROOT, load_settings
from bot.core.topics import INTENT_TOPICS, topic_for
from bot.services.answers import KnowledgeEngine, get_engine, typed_topic
from bot.services.retrieval import (
    Bm25Lemmas,
    CharLemmaTfidf,
    DenseE5,
    Hybrid,
    LinearSvmClassifier,
    LogRegClassifier,
)
from bot.tools.answer_eval import (
    IntentOf,
    Parse,
    conversation_report,
    engine_report,
    load_cases,
    load_conversations,
    retrieval_report,
)

HOLDOUT = PROJECT_ROOT / "tests" / "nlu_holdout.yml"


@dataclass
class TopicReport:
    total: int = 0
    hits: int = 0
    confusions: Counter = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def line(self) -> str:
        confused = ", ".join(f"{w}->{g} x{n}" for (w, g), n in self.confusions.most_common(8))
        return (
            f"NLU topic accuracy (tests/nlu_holdout.yml): {self.accuracy:.3f} "
            f"({self.hits}/{self.total}){'; ' + confused if confused else ''}"
        )


def load_holdout(path: Path = HOLDOUT) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def topic_accuracy(intent_of: IntentOf) -> TopicReport:
    report = TopicReport()
    for example in load_holdout():
        got = topic_for(intent_of(example["text"]).intent)
        report.total += 1
        if got == example["topic"]:
            report.hits += 1
        else:
            report.confusions[(example["topic"], got)] += 1
    return report


def overview_topic(text: str) -> str | None:
    """The topic of a tile press ("/ask_koerekort") or of a topic's name typed alone
    ("Kørekort"), else None."""
    text = text.strip()
    if text.startswith("/ask_") and text[1:] in INTENT_TOPICS:
        return INTENT_TOPICS[text[1:]]
    return typed_topic(text)


def compared_retrievers(engine: KnowledgeEngine, cache: Path) -> list:
    articles = engine.articles
    return [
        CharLemmaTfidf(articles),
        Bm25Lemmas(articles),
        LogRegClassifier(articles),
        LinearSvmClassifier(articles),
        DenseE5(articles, cache),
        Hybrid(
            articles,
            [(DenseE5(articles, cache), 1.0, 0.0075), (Bm25Lemmas(articles), 0.4, 2.0)],
            name="hybrid (dense + bm25)",
        ),
        engine.retriever,
    ]


def report(
    intent_of: IntentOf | None,
    split: str,
    show_misses: bool,
    engine: KnowledgeEngine,
    cache: Path,
) -> str:
    cases = load_cases(split)
    lines = [f"Article hold-out, {split} half: {len(cases)} questions, {len(engine.articles)} "
             "articles", "", "Retrievers compared (ranking alone, all topics):"]
    for retriever in compared_retrievers(engine, cache):
        started = time.perf_counter()
        result = retrieval_report(retriever.name, retriever, cases)
        per_query = (time.perf_counter() - started) / max(len(cases), 1) * 1000
        lines.append(
            f"  {result.name:24s} top-1 {result.figures()['top1']:.3f}  "
            f"top-3 {result.figures()['top3']:.3f}  ({per_query:.1f} ms per question)"
        )
    lines += ["", "Answer engine as the chat runs it (NLU + retriever + thresholds):"]
    result = engine_report("engine", engine, cases, intent_of, INTENT_TOPICS)
    f = result.figures()
    lines += [
        f"  top-1 article accuracy   {f['top1']:.3f}",
        f"  top-3 recall             {f['top3']:.3f}",
        f"  answered right           {f['answered_right']:.3f}",
        f"  answered wrong           {f['wrong']:.3f}",
        f"  clarifying question      {f['clarified']:.3f}"
        f"  (right article among the choices: {result.clarified_right}/{result.clarified})",
        f"  fallback (no answer)     {f['fallback']:.3f}",
        f"  sent to another flow     {f['elsewhere']:.3f}"
        + (f"  {dict(result.routed)}" if result.routed else ""),
        f"  questions nothing answers ({result.out_of_scope}): declined "
        f"{f['none_declined']:.2f}, answered anyway {f['none_answered']:.2f}",
        f"  (in-scope questions: {result.in_scope})",
    ]
    conversations = conversation_report(
        engine, load_conversations(split), intent_of, INTENT_TOPICS, overview_topic
    )
    lines += ["", conversations.line()]
    if intent_of is not None:
        lines += ["", topic_accuracy(intent_of).line()]
    if show_misses:
        lines += ["", "Misses:", *(f"  {m}" for m in result.misses + conversations.misses)]
    return "\n".join(lines)


class RasaParser:
    """Parses with the trained model in the Rasa environment (scripts/rasa_parse.py, one JSON
    line per text both ways), so that this Python never imports Rasa."""

    def __init__(self, rasa_python: Path, model: Path) -> None:
        self._process = subprocess.Popen(
            [str(rasa_python), str(PROJECT_ROOT / "scripts" / "rasa_parse.py"), str(model)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
        )

    def __call__(self, text: str) -> Parse:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(text) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the Rasa parser stopped; see its output above")
        result = json.loads(line)
        return ranked_parse(result.get("intent") or {}, result.get("intent_ranking") or [])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=60)


def ranked_parse(intent: dict, ranking: list[dict]) -> Parse:
    """An NLU result as the knowledge action reads it (bot.answering.intent_hint)."""
    return Parse(
        intent.get("name"),
        float(intent.get("confidence") or 0.0),
        tuple((str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="default: BORGER_MODEL")
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    parser.add_argument("--no-nlu", action="store_true", help="retrieval alone, no Rasa model")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    settings = load_settings()
    # The committed files, not the console's store: the score belongs to what is in git.
    engine = get_engine(settings.knowledge_dir, settings.cache_dir)
    model = args.model or settings.model_path
    parser_process = None if args.no_nlu else RasaParser(settings.rasa_python, model)
    try:
        print(report(parser_process, args.split, args.misses, engine, settings.cache_dir))
    finally:
        if parser_process is not None:
            parser_process.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
