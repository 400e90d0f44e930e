"""Warehouse rows built from events and rejections, keyed by the columns in ``schema``.

Values are plain Python: ``datetime`` (UTC) for TIMESTAMP, ``bytes`` for BYTES, and JSON text
(``str``) for JSON columns, which is what both BigQuery write paths take for JSON. Each writer
converts the rest for its wire format (micros for the Storage Write API, ISO text for insertAll).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

import pydantic_core

from bqingest.contract.errors import ContractError
from bqingest.contract.events import CloudEvent, MessageContext
from bqingest.contract.fast_path import ValidEvent

DEAD_LETTER_PAYLOAD_BYTES: Final = 1024 * 1024
"""The most of a rejected body a dead-letter row holds. A message Pub/Sub accepts can be 10 MB,
and a row that large cannot be appended (one append request is at most 10 MB): the row keeps
this prefix, the whole body's size and SHA-256, and where the whole body was archived."""
ERROR_MESSAGE_CHARS: Final = 2000


class Stage(StrEnum):
    """Where in the pipeline a message was rejected."""

    PARSE = "parse"
    SINK = "sink"


_to_json: Final = pydantic_core.to_json


def _json_text(value: Any) -> str | None:
    return None if value is None else _to_json(value).decode()


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def event_row(
    event: CloudEvent | ValidEvent, context: MessageContext, *, ingested_at: datetime
) -> dict[str, Any]:
    """The ``events`` row for an accepted event: a :class:`ValidEvent` (``validate_message``), or
    a CloudEvent from ``parse_message`` (which guarantees id and time)."""
    if event.id is None or event.time is None:
        raise ValueError("event_row needs a complete event: parse it with parse_message first")
    data = event.data
    extensions = event.extensions
    attributes = context.attributes
    if attributes and type(attributes) is not dict:
        attributes = dict(attributes)  # pydantic_core serializes dicts, not every Mapping
    return {
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "specversion": event.specversion,
        "subject": event.subject,
        "time": event.time.astimezone(UTC),
        "datacontenttype": event.datacontenttype,
        "dataschema": event.dataschema,
        "data": None if data is None else _to_json(data).decode(),
        "extensions": _to_json(extensions).decode() if extensions else None,
        "attributes": _to_json(attributes).decode() if attributes else None,
        "message_id": context.message_id,
        "publish_time": context.publish_time.astimezone(UTC),
        "ingested_at": ingested_at.astimezone(UTC),
    }


def dead_letter_id(*, stage: Stage, message_id: str | None, payload: bytes) -> str:
    """A stable key for one message's rejection at one stage.

    A redelivered message that fails again gets the same key, so the dead-letter table can be read
    de-duplicated and a replay never republishes the same message twice.
    """
    digest = hashlib.sha256()
    digest.update(stage.value.encode())
    digest.update(b"\x00")
    if message_id is not None:
        digest.update(message_id.encode())
    else:
        digest.update(b"payload\x00")
        digest.update(payload)
    return base64.b32encode(digest.digest()[:20]).decode().lower()


def dead_letter_row(
    *,
    payload: bytes,
    attributes: Mapping[str, str],
    message_id: str | None,
    publish_time: datetime | None,
    error: ContractError,
    stage: Stage,
    failed_at: datetime,
) -> dict[str, Any]:
    """The ``dead_letters`` row for a rejected message: everything needed to fix and replay it.

    Its size is bounded whatever the message: the body is cut to :data:`DEAD_LETTER_PAYLOAD_BYTES`
    (``payload_truncated``; the writer archives the whole body and sets ``payload_uri``).
    """
    truncated = len(payload) > DEAD_LETTER_PAYLOAD_BYTES
    return {
        "dead_letter_id": dead_letter_id(stage=stage, message_id=message_id, payload=payload),
        "raw_payload": payload[:DEAD_LETTER_PAYLOAD_BYTES] if truncated else payload,
        "attributes": _json_text(dict(attributes)) if attributes else None,
        "message_id": message_id,
        "publish_time": _utc(publish_time) if publish_time is not None else None,
        "reason": error.reason.value,
        "error_message": error.message[:ERROR_MESSAGE_CHARS],
        "error_field": error.field,
        "stage": stage.value,
        "failed_at": _utc(failed_at),
        "replayed_at": None,
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_truncated": truncated,
        "payload_uri": None,
    }
