"""Keys with a scope: a name, read and/or write, the sources a key may publish as, and the
key's name stamped on what it publishes (issue #21)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bqingest.api.security import hash_api_key
from bqingest.config import ApiKeySpec, ApiSettings
from tests.unit.api.conftest import API_KEY, ApiHarness, record

READER_KEY = "reader-key-0123456789-abcdefghij"
WRITER_KEY = "writer-key-0123456789-abcdefghij"
SCHEDULER = "//bqingest/scheduler"
SHOP = "//shop.example.com/orders"


def event(source: str, event_id: str = "a-1") -> dict[str, str]:
    return {"specversion": "1.0", "id": event_id, "source": source, "type": "t"}


def scoped_keys() -> str:
    return json.dumps(
        [
            {"name": "dashboard", "scopes": ["read"], "digest": hash_api_key(READER_KEY)},
            {
                "name": "shop",
                "scopes": ["write"],
                "sources": [SHOP, "//shop.example.com/returns/*"],
                "digest": hash_api_key(WRITER_KEY),
            },
        ]
    )


@pytest.fixture
def scoped(harness_factory) -> ApiHarness:
    return harness_factory([record("a-1")], api_keys=scoped_keys(), public_read=False)


def test_a_read_key_cannot_publish(scoped: ApiHarness) -> None:
    response = scoped.client.post(
        "/api/v1/events", json=event(SHOP), headers={"X-API-Key": READER_KEY}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert "write" in response.json()["error"]["message"]
    assert scoped.publisher.published == []


def test_a_write_key_cannot_read(scoped: ApiHarness) -> None:
    assert scoped.client.get("/api/v1/a-1", headers={"X-API-Key": WRITER_KEY}).status_code == 403
    assert scoped.client.get("/api/v1/a-1", headers={"X-API-Key": READER_KEY}).status_code == 200


def test_a_key_cannot_publish_as_another_source(scoped: ApiHarness) -> None:
    # The forgery of the review: a producer key claiming the scheduler's source.
    batch = [event(SHOP, "a-1"), event(SCHEDULER, "a-2")]
    response = scoped.client.post("/api/v1/events", json=batch, headers={"X-API-Key": WRITER_KEY})
    assert response.status_code == 403
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("not_allowed", "[1].source")
    assert "'shop'" in error["message"] and SCHEDULER in error["message"]
    assert scoped.publisher.published == []  # nothing of the batch


def test_source_patterns_match_exactly_or_by_prefix(scoped: ApiHarness) -> None:
    headers = {"X-API-Key": WRITER_KEY}
    ok = [event(SHOP, "a-1"), event("//shop.example.com/returns/eu", "a-2")]
    assert scoped.client.post("/api/v1/events", json=ok, headers=headers).status_code == 202
    near = event(SHOP + "-x", "a-3")
    assert scoped.client.post("/api/v1/events", json=near, headers=headers).status_code == 403


def test_published_events_carry_the_key_name_and_nothing_the_producer_sent(
    scoped: ApiHarness,
) -> None:
    body = {**event(SHOP), "bqingestkey": "scheduler"}  # an extension, not an attribute
    response = scoped.client.post(
        "/api/v1/events",
        json=body,
        headers={"X-API-Key": WRITER_KEY, "bqingest-key": "scheduler"},
    )
    assert response.status_code == 202
    assert scoped.publisher.attributes == [
        {"content-type": "application/cloudevents+json", "bqingest-key": "shop"}
    ]


def test_a_bare_digest_keeps_what_it_could_do(api: ApiHarness) -> None:
    """The old format: both scopes, any source, so a deploy neither gains nor loses write."""
    response = api.client.post(
        "/api/v1/events", json=event(SCHEDULER), headers={"X-API-Key": API_KEY}
    )
    assert response.status_code == 202
    name = "key-" + hash_api_key(API_KEY).removeprefix("sha256:")[:8]
    assert api.publisher.attributes[0]["bqingest-key"] == name


def make(api_keys: object) -> ApiSettings:
    return ApiSettings(_env_file=None, api_keys=api_keys)  # type: ignore[call-arg]


def test_keys_are_read_from_json() -> None:
    keys = make(scoped_keys()).api_keys
    assert [(k.name, k.scopes) for k in keys] == [("dashboard", ("read",)), ("shop", ("write",))]
    assert keys[1].may_publish_as(SHOP) and not keys[0].may_publish_as(SHOP)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('[{"name": "x"', "not valid JSON"),
        ('[{"name": "Shop!", "scopes": ["read"], "digest": "%s"}]', "key name is"),
        ('[{"name": "shop", "scopes": ["write"], "digest": "%s"}]', "no sources"),
        ('[{"name": "shop", "scopes": ["admin"], "digest": "%s"}]', "scopes"),
        ('[{"name": "shop", "scopes": [], "digest": "%s"}]', "scopes"),
        ('[{"name": "shop", "scopes": ["read"], "digest": "secret"}]', "never in clear"),
        ('[{"name": "shop", "scopes": ["read"], "digest": "%s", "source": ["*"]}]', "source"),
        (
            '[{"name": "a", "scopes": ["read"], "digest": "%s"},'
            ' {"name": "a", "scopes": ["read"], "digest": "%s"}]',
            "same name",
        ),
        ('["sha256:0000", "%s"]', "never in clear"),
    ],
)
def test_malformed_keys_are_refused_at_start_up(value: str, message: str) -> None:
    digest = hash_api_key(API_KEY)
    with pytest.raises(ValidationError, match=message):
        make(value.replace("%s", digest))


def test_bare_digests_are_keys_with_both_scopes_and_every_source() -> None:
    (key,) = make(hash_api_key(API_KEY)).api_keys
    assert key == ApiKeySpec.from_bare_digest(hash_api_key(API_KEY))
    assert key.scopes == ("read", "write") and key.may_publish_as(SCHEDULER)


def test_hash_key_command_prints_a_scoped_entry() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [
            *(sys.executable, "-m", "bqingest", "api", "hash-key"),
            *("--name", "shop", "--scope", "write", "--source", SHOP),
        ],
        input=WRITER_KEY + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    entry = result.stdout.strip().split(": ", 1)[1]
    (key,) = make(f"[{entry}]").api_keys
    assert (key.name, key.scopes, key.sources) == ("shop", ("write",), (SHOP,))
    assert key.digest == hash_api_key(WRITER_KEY)
