"""Parse messages with a trained Rasa model; run with the Rasa environment's Python.

    .venv-rasa/bin/python scripts/rasa_parse.py models/borgerservice.tar.gz

Reads one JSON string (a message) per line on standard input and answers each with one JSON
line: {"intent": {...}, "intent_ranking": [...]}. `make eval` (bot/tools/evaluate.py) keeps
it running for the whole evaluation, so that the Python 3.12 environment never imports Rasa.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

# The model names its tokenizer component by its class path in danish_nlu/ (project root).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    import structlog
    from rasa.core.agent import Agent

    # Rasa's structured logger prints every parse at debug level; only the answers matter.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(sys.argv[1])
    loop = asyncio.new_event_loop()
    for line in sys.stdin:
        result = loop.run_until_complete(agent.parse_message(json.loads(line)))
        answer = {
            "intent": result.get("intent") or {},
            "intent_ranking": result.get("intent_ranking") or [],
        }
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
