"""Memory per POST: each event parsed once, the peak a bounded multiple of the body, and the
bytes of POSTs in flight bounded (issue #21: a 1 MiB body of ``[{}, {}, ...]`` took 64 MiB to
parse as one event, 88 MiB as a batch)."""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc

import pytest
from pydantic import ValidationError

from bqingest.api.controllers.publishing import PublishController, PublishLimits
from bqingest.api.errors import InvalidInput
from bqingest.api.metrics import build_metrics
from bqingest.config import ApiKeySpec, ApiSettings
from tests.unit.api.conftest import API_KEY, ApiHarness, FakePublisher

MIB = 1024 * 1024
HEAD = b'{"specversion":"1.0","id":"a","source":"s","type":"t","data":['
NAN_EVENT = b'{"specversion":"1.0","id":"b","source":"s","type":"t","data":NaN}'
PEAK_PER_BODY_BYTE = 40
"""The bound asserted; the worst body found takes about 32 (the code before took 66 to 90)."""


def filled(unit: bytes, room: int = MIB) -> bytes:
    """One event whose data is an array of ``unit`` filling ``room`` bytes."""
    count = (room - len(HEAD) - 2) // (len(unit) + 1)
    return HEAD + b",".join([unit] * count) + b"]}"


WORST_BODIES = {
    "one event of {}": filled(b"{}"),
    "a batch of one event of {}": b"[" + filled(b"{}", MIB - 2) + b"]",
    'one event of {"":{}}': filled(b'{"":{}}'),
    "one event of [[]]": filled(b"[[]]"),
    'one event of {"":0}': filled(b'{"":0}'),
    # msgspec refuses NaN: the batch takes the path that names the event, which held two copies
    "a batch with a NaN after a large event": (
        b"[" + filled(b"{}", MIB - 4 - len(NAN_EVENT)) + b"," + NAN_EVENT + b"]"
    ),
}


@pytest.mark.parametrize("body", WORST_BODIES.values(), ids=WORST_BODIES.keys())
def test_parsing_a_post_takes_a_bounded_multiple_of_its_size(body: bytes) -> None:
    assert MIB - 100 < len(body) <= MIB
    controller = PublishController(
        publisher=FakePublisher(),
        limits=PublishLimits(max_events=1000, max_message_bytes=10 * MIB, max_body_bytes=MIB),
        metrics=build_metrics(),
    )
    key = ApiKeySpec.from_bare_digest("sha256:" + "a" * 64)
    tracemalloc.start()
    try:
        with contextlib.suppress(InvalidInput):  # the NaN batch is refused: its peak matters
            asyncio.run(controller.publish(body, key=key))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_PER_BODY_BYTE * len(body), f"{peak / MIB:.1f} MiB"


def test_posts_beyond_the_bytes_in_flight_get_503(harness_factory) -> None:
    api: ApiHarness = harness_factory(api_post_max_bytes=1024, api_post_max_inflight_bytes=4096)
    inflight = api.controllers.publishing.inflight
    event = {"specversion": "1.0", "id": "a-1", "source": "s", "type": "t"}
    headers = {"X-API-Key": API_KEY}
    inflight.take(4096 - 20)  # other POSTs being parsed
    response = api.client.post("/api/v1/events", json=event, headers=headers)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "overloaded"
    assert api.publisher.published == []
    inflight.give(4096 - 20)
    assert api.client.post("/api/v1/events", json=event, headers=headers).status_code == 202
    assert inflight.used == 0  # every request gives its bytes back, refused or not


def test_the_bound_must_hold_one_post_of_the_largest_size() -> None:
    with pytest.raises(ValidationError, match="at least BQINGEST_API_POST_MAX_BYTES"):
        ApiSettings(  # type: ignore[call-arg]
            _env_file=None, api_post_max_bytes=2 * MIB, api_post_max_inflight_bytes=MIB
        )
