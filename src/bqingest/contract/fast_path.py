"""The pipeline's fast path through the contract: :func:`validate_message`.

:func:`validate_message` is the pipeline's entry point. It gives
:func:`~bqingest.contract.events.parse_message`'s verdict (the same events accepted, with the same
values; the same ContractError for the others) at about half the cost, as a plain
:class:`ValidEvent` rather than a pydantic model: it decodes with msgspec, and accepts a message
only when plain checks show that the reference parser (:mod:`bqingest.contract.events`) accepts it
too. Anything else (every rejection, and the rare valid event in an unusual form, such as a
``time`` with a lowercase ``t``) goes to ``parse_message``, so every rejection comes from the
reference, with its reason. ``tests/unit/contract/test_validate_message.py`` compares the two on
the contract's examples and on generated messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from bqingest.contract.events import (
    BINARY_PREFIX,
    CONTENT_TYPE_ATTRIBUTE,
    DEFAULT_MAX_MESSAGE_BYTES,
    EXTENSION_NAME,
    CloudEvent,
    MessageContext,
    is_json_media_type,
    message_size,
    parse_message,
)
from bqingest.contract.ids import ID_PATTERN


class ValidEvent(msgspec.Struct, frozen=True):
    """A complete event the contract accepted: :class:`CloudEvent`'s attributes as plain values.

    What :func:`validate_message` returns. ``id`` and ``time`` are always set (from the message
    when the event leaves them out); ``time`` keeps the offset the producer wrote; ``extensions``
    holds the extension attributes in the order they came.
    """

    specversion: str
    id: str
    source: str
    type: str
    subject: str | None
    time: datetime
    datacontenttype: str | None
    dataschema: str | None
    data: Any
    extensions: dict[str, str | int | bool]


def valid_event(event: CloudEvent) -> ValidEvent:
    """A complete :class:`CloudEvent` (one :func:`parse_message` returned) as a ValidEvent."""
    if event.id is None or event.time is None:
        raise ValueError("valid_event needs a complete event: parse it with parse_message first")
    return ValidEvent(
        specversion=event.specversion,
        id=event.id,
        source=event.source,
        type=event.type,
        subject=event.subject,
        time=event.time,
        datacontenttype=event.datacontenttype,
        dataschema=event.dataschema,
        data=event.data,
        extensions=event.extensions,
    )


# Each check below is one the reference makes too, or a stricter one: the fast path only ever
# says "accepted, with these values" or "ask the reference" (None), never "rejected".

_DECODE: Final = msgspec.json.Decoder().decode
"""Refuses NaN, infinities and numbers that overflow a double (the reference refuses them too)."""

_ENVELOPE: Final = frozenset(CloudEvent.model_fields)
"""Top-level names that are CloudEvent attributes; any other is an extension."""

_FAST_MAX_BRACKETS: Final = 150
"""pydantic's JSON parser refuses nesting deeper than 200 levels, msgspec's goes deeper: a body
with more brackets than this (a bound on its depth) goes to the reference. A body of at most
twice as many bytes cannot hold more, and is not counted."""

_FAST_TIME: Final = re.compile(
    r"\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
).fullmatch
"""The RFC 3339 form producers write (``2026-11-29T07:00:00.123Z``, ``...+01:00``): the subset
of what pydantic accepts that :meth:`datetime.fromisoformat` reads the same way."""

_VALID_ID: Final = re.compile(ID_PATTERN).fullmatch
_EXTENSION_NAME_MATCH: Final = EXTENSION_NAME.fullmatch
_EXTENSION_TYPES: Final = (str, int, bool)
_ABSENT: Final = object()


def _fast_event(fields: Mapping[str, Any], data: Any, context: MessageContext) -> ValidEvent | None:
    """The event ``fields`` (the top-level attributes, ``data`` given apart) make, or None."""
    get = fields.get
    source = get("source")
    kind = get("type")
    subject = get("subject")
    datacontenttype = get("datacontenttype")
    dataschema = get("dataschema")
    if (
        get("specversion") != "1.0"
        or type(source) is not str
        or not source
        or type(kind) is not str
        or not kind
        or (subject is not None and type(subject) is not str)
        or (datacontenttype is not None and type(datacontenttype) is not str)
        or (dataschema is not None and type(dataschema) is not str)
    ):
        return None
    event_id = get("id", _ABSENT)
    if event_id is _ABSENT:
        event_id = context.message_id
    elif type(event_id) is not str or _VALID_ID(event_id) is None:
        return None
    raw_time = get("time")
    if raw_time is None:
        time = context.publish_time
    else:
        if type(raw_time) is not str or _FAST_TIME(raw_time) is None:
            return None
        try:
            time = datetime.fromisoformat(raw_time)
            time.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
    extensions: dict[str, str | int | bool] = {}
    if not fields.keys() <= _ENVELOPE:
        for name, value in fields.items():
            if name in _ENVELOPE:
                continue
            if type(value) not in _EXTENSION_TYPES or _EXTENSION_NAME_MATCH(name) is None:
                return None
            extensions[name] = value
    return ValidEvent(
        "1.0", event_id, source, kind, subject, time, datacontenttype, dataschema, data, extensions
    )


def _fast_json(body: bytes) -> Any:
    """What msgspec decodes ``body`` to when that is what pydantic would decode; else _ABSENT."""
    if (
        len(body) > 2 * _FAST_MAX_BRACKETS
        and body.count(b"[") + body.count(b"{") > _FAST_MAX_BRACKETS
    ):
        return _ABSENT
    try:
        return _DECODE(body)
    except msgspec.DecodeError:
        return _ABSENT


def _fast_binary(
    body: bytes, envelope: dict[str, str], context: MessageContext
) -> ValidEvent | None:
    content_type = envelope.pop("datacontenttype", None) or context.attributes.get(
        CONTENT_TYPE_ATTRIBUTE
    )
    if content_type is not None:
        envelope["datacontenttype"] = content_type
    if "data" in envelope or "data_base64" in envelope:
        return None
    data: Any = None
    if not body:
        pass
    elif content_type is None or is_json_media_type(content_type):
        data = _fast_json(body)
        if data is _ABSENT:
            return None
    elif content_type.split(";", 1)[0].strip().lower().startswith("text/"):
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    else:
        return None
    return _fast_event(envelope, data, context)


def validate_message(
    body: bytes,
    context: MessageContext,
    *,
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> ValidEvent:
    """:func:`parse_message`'s verdict on one Pub/Sub message, as a :class:`ValidEvent`.

    Accepts exactly the messages :func:`parse_message` accepts, with the same values, and raises
    the same ContractError for the others (module docstring: how).
    """
    attributes = context.attributes
    event: ValidEvent | None = None
    if not attributes:
        if len(body) <= max_bytes:
            fields = _fast_json(body)
            if type(fields) is dict:
                event = _fast_event(fields, fields.get("data"), context)
    elif message_size(body, attributes) <= max_bytes:
        envelope = {
            key[len(BINARY_PREFIX) :]: value
            for key, value in attributes.items()
            if key.startswith(BINARY_PREFIX)
        }
        if envelope:
            event = _fast_binary(body, envelope, context)
        else:
            fields = _fast_json(body)
            if type(fields) is dict:
                event = _fast_event(fields, fields.get("data"), context)
    if event is not None:
        return event
    return valid_event(parse_message(body, context, max_bytes=max_bytes))
