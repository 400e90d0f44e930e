"""Opaque keyset cursors: where the next page starts, bound to the filters they were made for.

A cursor is base64url JSON holding the last row's ``(time, source, id)``, a fingerprint of the
filters and order the request stated and, when the request named no ``since``, the window start
the first page used (so every page of one listing covers the same window). Reusing a cursor with
other filters is refused (422) rather than silently returning a page of another listing. Nothing
in it is trusted: the id is checked against the contract's pattern, times must exist in UTC, and
every value reaches SQL as a query parameter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Final

from bqingest.api.errors import InvalidInput
from bqingest.contract import Reason, is_valid_id
from bqingest.warehouse.records import EventFilter, Order, Position

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_VERSION: Final = 2


def fingerprint(filters: EventFilter, order: Order) -> str:
    """A short digest of what a listing covers."""
    parts: list[object] = [
        order,
        filters.type,
        filters.source,
        filters.subject,
        filters.since.isoformat() if filters.since else None,
        filters.until.isoformat() if filters.until else None,
    ]
    if filters.data:  # absent from older cursors' listings, which stay valid
        parts.append([[f.name, f.type, str(f.value)] for f in filters.data])
    return hashlib.blake2b(json.dumps(parts).encode(), digest_size=8).hexdigest()


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def encode_cursor(position: Position, *, listing: str, since: datetime | None = None) -> str:
    """The cursor for the page after ``position`` of the listing with fingerprint ``listing``;
    ``since``: the window start to carry when the request named none."""
    payload: dict[str, object] = {
        "v": _VERSION,
        "t": _micros(position.time),
        "s": position.source,
        "i": position.id,
        "f": listing,
    }
    if since is not None:
        payload["w"] = _micros(since)
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, field="cursor", reason=Reason.INVALID_VALUE.value)


def _time(micros: object) -> datetime:
    if not isinstance(micros, int) or isinstance(micros, bool):
        raise _invalid("cursor is not one this API issued")
    try:
        return _EPOCH + micros * _MICROSECOND
    except OverflowError:
        raise _invalid("cursor is not one this API issued") from None


def decode_cursor(cursor: str, *, listing: str) -> tuple[Position, datetime | None]:
    """The position a cursor points after, and the window start it carries (or None).

    422 if it is malformed, from another listing, or from an older version of this API.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid("cursor is not one this API issued") from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        raise _invalid("cursor is not one this API issued (or from an older version: start over)")
    source, event_id = payload.get("s"), payload.get("i")
    if not isinstance(source, str) or not isinstance(event_id, str) or not is_valid_id(event_id):
        raise _invalid("cursor is not one this API issued")
    if payload.get("f") != listing:
        raise _invalid("cursor belongs to a listing with other filters or order")
    position = Position(time=_time(payload.get("t")), source=source, id=event_id)
    since = _time(payload["w"]) if "w" in payload else None
    return position, since
