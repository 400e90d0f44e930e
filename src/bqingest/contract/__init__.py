"""The event contract: what a valid event is, why an invalid one is refused, and its tables.

One contract serves the pipeline (Pub/Sub messages), the API (request bodies and path ids) and
the infrastructure (table schemas exported for Terraform).
"""

from bqingest.contract.errors import ContractError, Reason
from bqingest.contract.events import (
    DEFAULT_MAX_MESSAGE_BYTES,
    CloudEvent,
    MessageContext,
    parse_event_json,
    parse_message,
)
from bqingest.contract.fast_path import ValidEvent, validate_message
from bqingest.contract.ids import ID_PATTERN, is_valid_id
from bqingest.contract.rows import Stage, dead_letter_row, event_row

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "ID_PATTERN",
    "CloudEvent",
    "ContractError",
    "MessageContext",
    "Reason",
    "Stage",
    "ValidEvent",
    "dead_letter_row",
    "event_row",
    "is_valid_id",
    "parse_event_json",
    "parse_message",
    "validate_message",
]
