"""Log records without personal data: CPR numbers redacted and chat session ids hidden.

Installed once by each entry point (gateway, action server). A log record factory rather than
a handler filter, because it sees every record of every logger (uvicorn's WebSocket
handshake lines, Rasa SDK, SQLAlchemy), whichever handler prints it later.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.language.privacy import redact_cpr

# The citizen's session id is their bearer secret: never in a log line (paths of the chat
# API carry it: /api/ws/<id>, /api/conversation/<id>).
_SESSION_PATH = re.compile(r"(/api/(?:ws|conversation)/)[A-Za-z0-9_\-]+")
HIDDEN_ID = "[id]"
# Loggers whose formatter unpacks record.args itself.
_NEEDS_ARGS = frozenset({"uvicorn.access"})
_installed = False


def scrub_log_text(text: str) -> str:
    text, _ = redact_cpr(text)
    return _SESSION_PATH.sub(rf"\g<1>{HIDDEN_ID}", text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_log_text(value)
    if isinstance(value, (int, float)) or value is None:
        return value
    # Anything else (an exception, a tuple address) is printed through str(): scrub that.
    text = str(value)
    scrubbed = scrub_log_text(text)
    return value if scrubbed == text else scrubbed


def install_log_scrubbing() -> None:
    """Make every log record's message safe before any handler formats it (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        # Arguments are scrubbed one by one rather than merged into the message: formatters
        # such as uvicorn's access log read record.args themselves.
        if isinstance(record.msg, str):
            record.msg = scrub_log_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _scrub_value(v) for k, v in record.args.items()}
        # A path split between the message and an argument ("/api/ws/%s") only shows when
        # merged; then the merged text replaces both (not for formatters that need the args).
        if record.args and record.name not in _NEEDS_ARGS:
            try:
                merged = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed record is printed as logging would
                return record
            scrubbed = scrub_log_text(merged)
            if scrubbed != merged:
                record.msg, record.args = scrubbed, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
