"""The event contract: CloudEvents 1.0 over Pub/Sub, and its reference parser.

A Pub/Sub message carries a CloudEvent in one of the two modes of the CloudEvents Pub/Sub
protocol binding:

* **structured**: the whole event is a JSON object in the message body
  (``{"specversion": "1.0", "id": ..., "data": {...}}``);
* **binary**: the attributes are Pub/Sub message attributes prefixed ``ce-`` (``ce-type``,
  ``ce-source``...), ``content-type`` gives ``datacontenttype``, and the body is the data.

A message is binary when it has any ``ce-`` attribute, and structured otherwise. When the event
has no ``id`` the Pub/Sub message id becomes its id (Cloud Scheduler publishes a fixed body, so
its messages can only be told apart by their message ids). When it has no ``time`` the publish
time stands in, because the warehouse partitions on ``time``.

:class:`CloudEvent` and :func:`parse_message` *define* the contract: what is accepted, and the
reason code of every rejection. :func:`parse_event_json` is what the API uses for request bodies.
The pipeline's faster path to the same verdicts is :mod:`bqingest.contract.fast_path`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

import msgspec
import pydantic_core
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.config import JsonDict

from bqingest.contract.errors import REASON_BY_ERROR_TYPE, ContractError, Reason
from bqingest.contract.ids import ID_PATTERN, INVALID_ID_MESSAGE

DEFAULT_MAX_MESSAGE_BYTES: Final = 1024 * 1024
"""Default size limit of one message: body plus attribute keys and values, in bytes."""

BINARY_PREFIX: Final = "ce-"
CONTENT_TYPE_ATTRIBUTE: Final = "content-type"

EXTENSION_NAME: Final = re.compile(r"[a-z0-9]{1,20}")
"""What an extension attribute's name may be: lowercase alphanumerics, at most 20."""

EXAMPLE_ID: Final = "order-000042"
EXAMPLE_EVENT: Final[JsonDict] = {
    "specversion": "1.0",
    "id": EXAMPLE_ID,
    "source": "//shop.example.com/orders",
    "type": "com.example.order.created",
    "subject": "orders/42",
    "time": "2026-11-29T07:00:00Z",
    "datacontenttype": "application/json",
    "data": {"order_id": "42", "amount": 12.5, "currency": "EUR"},
}
"""The example event of the contract's schema and of the API's documentation."""

EventId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event, as the contract accepts it.

    Strict: no type coercion (``"time": 1700000000`` is a ``wrong_type``, not a timestamp).
    Unknown top-level attributes are CloudEvents *extensions*; they are kept (see
    :attr:`extensions`) when their names are lowercase alphanumerics of at most 20 characters
    and their values are strings, integers or booleans.
    """

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        strict=True,
        json_schema_extra={"examples": [EXAMPLE_EVENT]},
    )

    specversion: Literal["1.0"] = Field(description="CloudEvents version; only 1.0 is accepted.")
    id: EventId | None = Field(
        default=None,
        description="Unique per source; 1-128 letters, digits and ._~:- . "
        "Absent: the Pub/Sub message id is used.",
    )
    source: NonEmpty = Field(description="URI-reference of the producer.")
    type: NonEmpty = Field(description="Reverse-DNS event type, e.g. com.example.order.created.")
    subject: str | None = Field(default=None, description="Subject within the source.")
    time: AwareDatetime | None = Field(
        default=None,
        description="RFC 3339 time of the occurrence, with an offset. Absent: the publish time.",
    )
    datacontenttype: str | None = Field(default=None, description="Media type of data.")
    dataschema: str | None = Field(default=None, description="URI of the schema data adheres to.")
    data: Any = Field(default=None, description="The payload: any JSON value.")

    @property
    def extensions(self) -> dict[str, str | int | bool]:
        """The event's extension attributes (validated by :func:`_check_extensions`)."""
        return dict(self.model_extra or {})


class MessageContext(msgspec.Struct, frozen=True):
    """What Pub/Sub tells us about a message besides its body.

    A msgspec Struct rather than a dataclass: the pipeline makes one per message, and a Struct is
    made about five times faster than a frozen dataclass.
    """

    message_id: str
    publish_time: datetime
    attributes: Mapping[str, str]


# ValidationError "type" -> our reason: the field-level table every validation shares, and what
# only a whole event body can fail (its only Literal is specversion); anything unlisted is
# INVALID_VALUE.
_REASON_BY_ERROR_TYPE: Final[Mapping[str, Reason]] = {
    **REASON_BY_ERROR_TYPE,
    "json_invalid": Reason.NOT_JSON,
    "json_type": Reason.NOT_JSON,
    "model_type": Reason.NOT_OBJECT,
    "model_attributes_type": Reason.NOT_OBJECT,
    "dict_type": Reason.NOT_OBJECT,
    "literal_error": Reason.UNSUPPORTED_SPECVERSION,
}


def _to_contract_error(exc: ValidationError, body: bytes | None = None) -> ContractError:
    """Turn pydantic's first complaint into one ContractError with a reason code."""
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    field = ".".join(str(part) for part in first["loc"]) or None
    if kind == "json_invalid" and body is not None:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as err:
            return ContractError(
                Reason.NOT_UTF8, f"body is not valid UTF-8 (byte {err.start}): {err.reason}"
            )
    reason = _REASON_BY_ERROR_TYPE.get(kind, Reason.INVALID_VALUE)
    if field == "id" and reason is Reason.INVALID_VALUE:
        reason = Reason.INVALID_ID
    if reason is Reason.MISSING_FIELD:
        message = f"required attribute '{field}' is missing"
    elif reason is Reason.INVALID_ID:
        message = INVALID_ID_MESSAGE
    elif reason in (Reason.NOT_JSON, Reason.NOT_OBJECT):
        message = first["msg"]
        field = None
    else:
        message = f"{field}: {first['msg']}" if field else first["msg"]
    return ContractError(reason, message, field=field)


def _check_extensions(event: CloudEvent) -> None:
    for name, value in (event.model_extra or {}).items():
        if name == "data_base64":
            raise ContractError(
                Reason.UNSUPPORTED_CONTENT_TYPE,
                "data_base64 (binary data) is not supported: send JSON or text data",
                field=name,
            )
        if not EXTENSION_NAME.fullmatch(name):
            raise ContractError(
                Reason.INVALID_VALUE,
                f"extension attribute name '{name[:40]}' must be 1-20 lowercase letters or digits",
                field=name[:40],
            )
        if not isinstance(value, str | int | bool):
            raise ContractError(
                Reason.WRONG_TYPE,
                f"extension attribute '{name}' must be a string, integer or boolean",
                field=name,
            )


def _first_non_finite(data: Any) -> str | None:
    """Where ``data`` holds NaN or an infinity (``NaN``, ``Infinity`` or a number like ``1e400``
    that overflows a double), as a path such as ``data.readings[3]``; None when it holds none.

    JSON has no such numbers (RFC 8259), and BigQuery's JSON type refuses them: an event that
    carries one is refused here rather than written as invalid JSON.
    """
    pending: list[tuple[Any, str]] = [(data, "data")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                return path
        elif isinstance(value, dict):
            pending.extend((item, f"{path}.{key}") for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
    return None


def _check_data(event: CloudEvent) -> None:
    where = _first_non_finite(event.data)
    if where is not None:
        raise ContractError(
            Reason.INVALID_VALUE,
            f"{where} is NaN or infinite (or overflows a 64-bit float): JSON numbers must be "
            "finite",
            field=where[:200],
        )


def _check_time(event: CloudEvent) -> None:
    """``time`` must exist in UTC: ``0001-01-01T00:00:00+01:00`` is a valid RFC 3339 text whose
    instant falls before year 1, which neither Python nor BigQuery's TIMESTAMP can hold."""
    if event.time is not None:
        try:
            event.time.astimezone(UTC)
        except OverflowError:
            raise ContractError(
                Reason.INVALID_TIME,
                f"time {event.time.isoformat()} is outside 0001-01-01..9999-12-31 in UTC",
                field="time",
            ) from None


def message_size(body: bytes, attributes: Mapping[str, str]) -> int:
    """What a message weighs against its size limit: body, attribute keys and values."""
    return len(body) + sum(map(len, attributes)) + sum(map(len, attributes.values()))


def _complete(event: CloudEvent, context: MessageContext | None) -> CloudEvent:
    """Fill ``id`` and ``time`` from the message when the event leaves them out."""
    if "id" in event.model_fields_set and event.id is None:
        raise ContractError(Reason.WRONG_TYPE, "id: must be a string, not null", field="id")
    update: dict[str, Any] = {}
    if event.id is None:
        if context is None:
            raise ContractError(
                Reason.MISSING_FIELD, "required attribute 'id' is missing", field="id"
            )
        update["id"] = context.message_id
    if event.time is None and context is not None:
        update["time"] = context.publish_time
    return event.model_copy(update=update) if update else event


def parse_event_json(body: bytes | str) -> CloudEvent:
    """Validate one structured-mode event (a JSON object) without any Pub/Sub context.

    Used by the API for request bodies: ``id`` and ``time`` stay ``None`` when absent.
    """
    raw = body.encode() if isinstance(body, str) else body
    try:
        event = CloudEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise _to_contract_error(exc, raw) from None
    _check_extensions(event)
    if "id" in event.model_fields_set and event.id is None:
        raise ContractError(Reason.WRONG_TYPE, "id: must be a string, not null", field="id")
    _check_time(event)
    _check_data(event)
    return event


def is_json_media_type(content_type: str) -> bool:
    """Whether ``content_type`` names JSON (``application/json``, ``text/json``, ``*+json``)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def _binary_data(body: bytes, content_type: str | None) -> Any:
    if not body:
        return None
    if content_type is None or is_json_media_type(content_type):
        try:
            return pydantic_core.from_json(body)
        except ValueError as exc:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ContractError(
                    Reason.NOT_UTF8, f"body is not valid UTF-8 (byte {err.start}): {err.reason}"
                ) from None
            raise ContractError(Reason.NOT_JSON, f"data is not valid JSON: {exc}") from None
    if content_type.split(";", 1)[0].strip().lower().startswith("text/"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ContractError(
                Reason.NOT_UTF8, f"text data is not valid UTF-8 (byte {err.start}): {err.reason}"
            ) from None
    raise ContractError(
        Reason.UNSUPPORTED_CONTENT_TYPE,
        f"content-type '{content_type[:80]}' is not supported: send JSON or text data",
        field="datacontenttype",
    )


def _parse_binary(body: bytes, attributes: Mapping[str, str]) -> CloudEvent:
    envelope = {
        key[len(BINARY_PREFIX) :]: value
        for key, value in attributes.items()
        if key.startswith(BINARY_PREFIX)
    }
    content_type = envelope.pop("datacontenttype", None) or attributes.get(CONTENT_TYPE_ATTRIBUTE)
    if content_type is not None:
        envelope["datacontenttype"] = content_type
    if "data" in envelope or "data_base64" in envelope:
        raise ContractError(
            Reason.INVALID_VALUE, "binary mode carries data in the body, not in an attribute"
        )
    try:
        event = CloudEvent.model_validate_strings(envelope)
    except ValidationError as exc:
        raise _to_contract_error(exc) from None
    _check_extensions(event)
    data = _binary_data(body, content_type)
    return event.model_copy(update={"data": data}) if data is not None else event


def parse_message(
    body: bytes,
    context: MessageContext,
    *,
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> CloudEvent:
    """Parse and validate one Pub/Sub message into a complete CloudEvent.

    The returned event always has ``id`` and ``time``. Raises ContractError otherwise.
    """
    size = message_size(body, context.attributes)
    if size > max_bytes:
        raise ContractError(
            Reason.TOO_LARGE, f"message is {size} bytes, over the limit of {max_bytes} bytes"
        )
    if any(key.startswith(BINARY_PREFIX) for key in context.attributes):
        event = _parse_binary(body, context.attributes)
    else:
        try:
            event = CloudEvent.model_validate_json(body)
        except ValidationError as exc:
            raise _to_contract_error(exc, body) from None
        _check_extensions(event)
    _check_time(event)
    _check_data(event)
    return _complete(event, context)
