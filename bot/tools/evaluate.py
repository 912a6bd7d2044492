"""Score the NLU hold-out (tests/nlu_holdout.yml): topic accuracy and article accuracy.

The hold-out examples are never used in training (tests/test_nlu_data.py checks that).
`make eval` loads the model in-process; the live test asks the running Rasa server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.config import PROJECT_ROOT, get_settings
from bot.core.topics import topic_for
from bot.services.answers import answer_question

HOLDOUT = PROJECT_ROOT / "tests" / "nlu_holdout.yml"


@dataclass
class Report:
    total: int = 0
    topic_hits: int = 0
    article_total: int = 0
    article_hits: int = 0
    misses: list[str] = field(default_factory=list)
    confusions: Counter = field(default_factory=Counter)

    @property
    def topic_accuracy(self) -> float:
        return self.topic_hits / self.total if self.total else 0.0

    @property
    def article_accuracy(self) -> float:
        return self.article_hits / self.article_total if self.article_total else 0.0

    def summary(self) -> str:
        lines = [
            f"hold-out topic accuracy:   {self.topic_accuracy:.3f} "
            f"({self.topic_hits}/{self.total})",
            f"hold-out article accuracy: {self.article_accuracy:.3f} "
            f"({self.article_hits}/{self.article_total}, among examples with the right topic)",
        ]
        if self.confusions:
            lines.append("topic confusions (expected -> got): " + ", ".join(
                f"{want}->{got} x{n}" for (want, got), n in self.confusions.most_common()
            ))
        return "\n".join(lines + [f"  miss: {m}" for m in self.misses])


def load_holdout(path: Path = HOLDOUT) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def evaluate(intent_of: Callable[[str], str | None], examples: list[dict] | None = None) -> Report:
    report = Report()
    for example in examples if examples is not None else load_holdout():
        text, want = example["text"], example["topic"]
        got = topic_for(intent_of(text))
        report.total += 1
        if got != want:
            report.confusions[(want, got)] += 1
            report.misses.append(f"{text!r}: topic {got}, want {want}")
            continue
        report.topic_hits += 1
        if example.get("article"):
            report.article_total += 1
            answer = answer_question(text, got)
            if answer and answer.article_id == example["article"]:
                report.article_hits += 1
            else:
                found = answer.article_id if answer else None
                report.misses.append(f"{text!r}: article {found}, want {example['article']}")
    return report


def _in_process_parser(model: Path) -> Callable[[str], str | None]:
    import structlog
    from rasa.core.agent import Agent

    # Rasa's structured logger prints every parse at debug level; the report is what matters.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()

    def intent_of(text: str) -> str | None:
        result = loop.run_until_complete(agent.parse_message(text))
        return (result.get("intent") or {}).get("name")

    return intent_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=get_settings().model_path)
    args = parser.parse_args(argv)
    print(evaluate(_in_process_parser(args.model)).summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
