"""Two measured fixes inside the Rasa server, found with py-spy under `make profile`.

1. Check an action server's reply against a schema compiled once, instead of once per reply.

Rasa 3.6 checks every reply of the action server with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That helper first checks the *schema itself*
against JSON Schema's meta-schema on every call, and Rasa's events schema is large: profiled
with py-spy under `make profile`, this meta-check was about a quarter of the Rasa server's CPU
time in a chat turn. ``install()`` replaces the method with one that validates against a
validator built (and its schema checked) once. The reply is checked against the same schema
and a bad reply raises the same ``ValidationError`` with the same explanation as before.

2. Find an event's class by its type name in a table. Rasa's ``Event.resolve_by_type`` walks
every subclass of ``Event`` (recursively, checking each for abstractness) for every event it
reads back from the tracker store, and a turn reads back the whole session: 0.15 ms per event,
about 10 ms a turn ten turns into a conversation. The table gives the same class (the first
match in the same order), is rebuilt when a name is missing (a subclass imported later), and
unknown names end as before (``None`` for the old "topic", the default, or ``ValueError``).

Installed by the turn channel when the Rasa server starts (danish_nlu/turn_channel.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema.exceptions
import jsonschema.validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses


@cache
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # once, where Rasa did it per reply
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = jsonschema.exceptions.best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


_EVENT_CLASSES: dict[str, type[Event]] = {}


def _event_classes() -> dict[str, type[Event]]:
    table: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # the first match wins, as in Rasa's loop
    return table


def resolve_by_type(
    type_name: str, default: type[Event] | None = None
) -> type[Event] | None:
    cls = _EVENT_CLASSES.get(type_name)
    if cls is None:
        _EVENT_CLASSES.clear()
        _EVENT_CLASSES.update(_event_classes())
        cls = _EVENT_CLASSES.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(resolve_by_type)


def installed() -> bool:
    return (
        RemoteAction._validate_action_result is _validate_action_result
        and Event.resolve_by_type is resolve_by_type
    )
