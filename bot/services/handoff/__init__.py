"""Handing a conversation to library staff.

- bot/core/handoff_states.py: the state machine (ticket, conversation, what the citizen sees);
- ``service``: :class:`HandoffService`, every change in one transaction, through the machine;
- ``views``: the handoff JSON the widget and the console read;
- ``texts``: the Danish labels and what the citizen is told;
- ``promise``: when the library answers a callback request;
- ``timeouts``: the worker that turns unanswered queued chats into callback requests.
"""

from __future__ import annotations

from bot.services.handoff.promise import response_promise
from bot.services.handoff.service import Change, HandoffError, HandoffService
from bot.services.handoff.texts import CANCEL_PAYLOAD, TOPIC_LABELS

__all__ = [
    "CANCEL_PAYLOAD",
    "TOPIC_LABELS",
    "Change",
    "HandoffError",
    "HandoffService",
    "response_promise",
]
