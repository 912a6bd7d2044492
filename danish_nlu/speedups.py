"""One measured fix inside the Rasa server: check an action server's reply against a schema
compiled once, instead of once per reply.

Rasa 3.6 checks every reply of the action server with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That helper first checks the *schema itself*
against JSON Schema's meta-schema on every call, and Rasa's events schema is large: profiled
with py-spy under `make profile`, this meta-check was about a quarter of the Rasa server's CPU
time in a chat turn. ``install()`` replaces the method with one that validates against a
validator built (and its schema checked) once. The reply is checked against the same schema
and a bad reply raises the same ``ValidationError`` with the same explanation as before.

Installed by the turn channel when the Rasa server starts (danish_nlu/turn_channel.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema.exceptions
import jsonschema.validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


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


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result


def installed() -> bool:
    return RemoteAction._validate_action_result is _validate_action_result
