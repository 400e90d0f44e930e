"""POST /api/v1/events: contract validation, ids, limits, media types, publisher failures."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from google.api_core import exceptions as google

from bqingest.api.errors import translate_google_error
from bqingest.contract import MessageContext, parse_event_json, parse_message
from tests.unit.api.conftest import API_KEY, ApiHarness

AUTH = {"X-API-Key": API_KEY}
EVENT = {
    "specversion": "1.0",
    "id": "order-000042",
    "source": "//shop.example.com/orders",
    "type": "com.example.order.created",
    "time": "2026-11-29T08:00:00+01:00",
    "data": {"amount": 12.5},
}


def post(api: ApiHarness, body, *, content_type: str = "application/json", **kwargs):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**AUTH, "Content-Type": content_type, **kwargs.pop("headers", {})}
    return api.client.post("/api/v1/events", content=content, headers=headers, **kwargs)


def test_one_event_is_published_exactly_as_sent(api: ApiHarness) -> None:
    body = json.dumps(EVENT).encode()
    response = post(api, body)
    assert response.status_code == 202
    assert response.json() == {"ids": ["order-000042"], "count": 1}
    assert api.publisher.published == [body]


def test_published_messages_are_what_the_pipeline_accepts(api: ApiHarness) -> None:
    no_id = {k: v for k, v in EVENT.items() if k != "id"}
    post(api, [EVENT, no_id], headers={"Idempotency-Key": "batch-1"})
    context = MessageContext(message_id="m1", publish_time=datetime.now(UTC), attributes={})
    parsed = [parse_message(message, context) for message in api.publisher.published]
    assert parsed[0].id == "order-000042"
    assert parsed[1].id != "m1"  # the API's generated id, not the Pub/Sub message id
    assert parsed[1].time == parsed[0].time  # the producer's time is kept


def test_ids_are_derived_from_the_idempotency_key_so_a_retry_makes_no_new_event(
    api: ApiHarness,
) -> None:
    no_id = {k: v for k, v in EVENT.items() if k != "id"}
    key = {"Idempotency-Key": "3f1c-retry-me"}
    first = post(api, [EVENT, no_id, no_id], headers=key)
    assert first.status_code == 202
    ids = first.json()["ids"]
    assert ids[0] == "order-000042" and len(set(ids)) == 3
    uuid.UUID(ids[1])
    published_ids = [json.loads(m)["id"] for m in api.publisher.published]
    assert published_ids == ids
    retried = post(api, [EVENT, no_id, no_id], headers=key)  # after a timeout, say
    assert retried.json()["ids"] == ids  # the same events again: readers see each once
    other = post(api, [EVENT, no_id, no_id], headers={"Idempotency-Key": "another"})
    assert other.json()["ids"][1:] != ids[1:]


def test_an_event_without_id_needs_an_idempotency_key(api: ApiHarness) -> None:
    no_id = {k: v for k, v in EVENT.items() if k != "id"}
    response = post(api, [EVENT, no_id])
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["field"], error["reason"]) == ("[1].id", "missing_field")
    assert "Idempotency-Key" in error["message"]
    assert api.publisher.published == []
    bad_key = post(api, no_id, headers={"Idempotency-Key": "has space"})
    assert bad_key.status_code == 422
    assert bad_key.json()["error"]["field"] == "Idempotency-Key"


def test_a_batch_pubsub_took_in_part_says_which_ids_were_accepted(api: ApiHarness) -> None:
    from bqingest.api.errors import UpstreamUnavailable
    from bqingest.api.publisher import PubSubPartialFailure

    api.publisher.fail = PubSubPartialFailure([0, 2], UpstreamUnavailable("Pub/Sub: unavailable"))
    events = [{**EVENT, "id": f"e-{n}"} for n in range(3)]
    response = post(api, events)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "partly_published"
    assert error["accepted"] == ["e-0", "e-2"]
    assert "retry the whole request" in error["message"]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({**EVENT, "time": "yesterday"}, "time", "invalid_time"),
        ({**EVENT, "id": "no spaces"}, "id", "invalid_id"),
        ({k: v for k, v in EVENT.items() if k != "type"}, "type", "missing_field"),
        ({**EVENT, "specversion": "0.3"}, "specversion", "unsupported_specversion"),
        ({**EVENT, "source": 7}, "source", "wrong_type"),
        ({**EVENT, "data_base64": "AAAA"}, "data_base64", "unsupported_content_type"),
        ([EVENT, {**EVENT, "time": 1700000000}], "[1].time", "wrong_type"),
        ([EVENT, "not an object"], "[1]", "not_object"),
        ([], None, "invalid_value"),
        (b"{not json", None, "not_json"),
        (b"[not json", None, "not_json"),
        (b"\xff\xfe", None, "not_utf8"),
        (b"42", None, "not_object"),
        (
            b'{"specversion":"1.0","id":"n","source":"s","type":"t","data":{"x":NaN}}',
            "data.x",
            "invalid_value",
        ),
        (
            b'[{"specversion":"1.0","id":"n","source":"s","type":"t","data":[1e400]}]',
            "[0].data[0]",
            "invalid_value",
        ),
        ({**EVENT, "time": "0001-01-01T00:00:00+01:00"}, "time", "invalid_time"),
    ],
)
def test_a_bad_body_is_422_with_the_field_and_the_contract_reason(
    api: ApiHarness, body, field: str | None, reason: str
) -> None:
    response = post(api, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["reason"]) == (field, reason)
    assert api.publisher.published == []  # all or nothing
    metrics = api.client.get("/metrics").text
    assert f'bqingest_api_rejected_events_total{{reason="{reason}"}} 1.0' in metrics


def test_too_many_events_is_413(harness_factory) -> None:
    api = harness_factory(api_post_max_events=2)
    response = post(api, [EVENT, EVENT, EVENT])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_too_many_bytes_is_413_even_without_content_length(harness_factory) -> None:
    api = harness_factory(api_post_max_bytes=2048)
    big = {**EVENT, "data": "x" * 3000}
    assert post(api, big).status_code == 413

    def chunks():
        yield json.dumps(big).encode()

    streamed = api.client.post(
        "/api/v1/events", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_an_event_over_the_message_limit_is_422(harness_factory) -> None:
    api = harness_factory(max_message_bytes=1024)
    response = post(api, [EVENT, {**EVENT, "data": "x" * 2000}])
    assert response.status_code == 422
    assert (response.json()["error"]["field"], response.json()["error"]["reason"]) == (
        "[1]",
        "too_large",
    )


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_only_json_media_types_are_accepted(api: ApiHarness, content_type: str) -> None:
    response = post(api, EVENT, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_structured_cloudevents_media_type_is_accepted(api: ApiHarness) -> None:
    response = post(api, EVENT, content_type="application/cloudevents+json; charset=utf-8")
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (google.ServiceUnavailable("down"), "unavailable"),
        (google.NotFound("Topic not found"), "resource_missing"),
    ],
)
def test_publisher_failures_are_503(api: ApiHarness, failure: Exception, code: str) -> None:
    # The fake raises what the real adapter raises: the Google error, translated (the real
    # adapter against the emulator is in tests/integration/api).
    api.publisher.fail = translate_google_error(failure, what="Pub/Sub publish")
    response = post(api, EVENT)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == code


def test_the_published_event_parses_with_the_contract(api: ApiHarness) -> None:
    post(api, {**EVENT, "tenant": "acme"})
    assert parse_event_json(api.publisher.published[0]).extensions == {"tenant": "acme"}
