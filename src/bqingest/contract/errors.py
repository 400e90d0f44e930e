"""Why a message was rejected: one error type, one closed set of reason codes.

Every rejection anywhere in bqingest (the pipeline's parse step, its sink, the API's body
validation) is a :class:`ContractError` carrying a :class:`Reason`. The reason code is what the
dead-letter table stores and what dashboards group by, so the set is closed: adding a member is a
contract change and is documented in ``docs/contract.md``.

A bad message is data, not a failure of bqingest, yet :class:`ContractError` is still the
project's own error: it sits under :class:`bqingest.errors.BqingestError` with the rest (and stays
a ``ValueError``); the tree and the reasons are drawn in :mod:`bqingest.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from bqingest.errors import BqingestError


class Reason(StrEnum):
    """Closed set of rejection reasons, stored verbatim in ``dead_letters.reason``."""

    TOO_LARGE = "too_large"
    """The message (body plus attributes) is over the configured size limit."""
    NOT_UTF8 = "not_utf8"
    """The body should be text (JSON) but is not valid UTF-8."""
    NOT_JSON = "not_json"
    """The body should be JSON but does not parse."""
    NOT_OBJECT = "not_object"
    """A structured-mode body parsed as JSON but is not an object."""
    MISSING_FIELD = "missing_field"
    """A required CloudEvents attribute is absent."""
    WRONG_TYPE = "wrong_type"
    """An attribute has the wrong JSON type (a number where a string belongs, say)."""
    INVALID_VALUE = "invalid_value"
    """An attribute has the right type but a value the contract refuses (an empty ``source``)."""
    INVALID_TIME = "invalid_time"
    """``time`` is not an RFC 3339 timestamp with a time-zone offset, or is out of range."""
    INVALID_ID = "invalid_id"
    """``id`` does not match the contract's id pattern."""
    UNSUPPORTED_SPECVERSION = "unsupported_specversion"
    """``specversion`` is not ``1.0``."""
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
    """The data is neither JSON nor text (``data_base64``, ``application/octet-stream``...)."""
    SCHEMA_VIOLATION = "schema_violation"
    """``data`` breaks its type's schema in the registry: the detail names the JSON pointer in
    ``data`` (``error_field``) and the rule (docs/schemas.md)."""
    UNKNOWN_TYPE = "unknown_type"
    """The type (or the ``dataschema`` it names) has no schema, and the registry refuses unknown
    types (``BQINGEST_UNKNOWN_TYPES=reject``; the default stores them untyped)."""
    SINK_REJECTED = "sink_rejected"
    """BigQuery refused the row when the pipeline wrote it."""
    INTERNAL_ERROR = "internal_error"
    """An unexpected error while processing this message; the message is kept for replay."""


class ContractError(BqingestError, ValueError):
    """A message or request that does not satisfy the event contract.

    ``field`` names the offending attribute when there is one (``"time"``, ``"id"``...).
    """

    def __init__(self, reason: Reason, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"ContractError({self.reason.value!r}, {self.message!r}, field={self.field!r})"


REASON_BY_ERROR_TYPE: Final[Mapping[str, Reason]] = {
    "missing": Reason.MISSING_FIELD,
    "string_type": Reason.WRONG_TYPE,
    "int_type": Reason.WRONG_TYPE,
    "int_parsing": Reason.WRONG_TYPE,
    "bool_parsing": Reason.WRONG_TYPE,
    "datetime_type": Reason.WRONG_TYPE,
    "datetime_parsing": Reason.INVALID_TIME,
    "datetime_from_date_parsing": Reason.INVALID_TIME,
    "timezone_aware": Reason.INVALID_TIME,
    "datetime_object_invalid": Reason.INVALID_TIME,
    "extra_forbidden": Reason.INVALID_VALUE,
}
"""A pydantic error ``type`` on one field -> the reason code; anything unlisted is
``INVALID_VALUE``. The contract's parser and the API's request validation both read it, so every
rejection speaks one vocabulary (the parser adds what only a whole body can fail:
:mod:`bqingest.contract.events`)."""
