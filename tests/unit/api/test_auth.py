"""API keys: required for POST, optional for reads, 401 without one, 403 with a wrong one."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from bqingest.api.main import create_app
from bqingest.api.security import ApiKeys, hash_api_key
from bqingest.config import ApiSettings, UnsafeSettings
from tests.unit.api.conftest import API_KEY, OTHER_KEY, ApiHarness, record

EVENT = {"specversion": "1.0", "id": "a-1", "source": "s", "type": "t"}


def make(**values: object) -> ApiSettings:
    return ApiSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_reads_are_open_when_public(api: ApiHarness) -> None:
    assert api.client.get("/api/v1/order-000042").status_code == 200


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthenticated"),
        ({"X-API-Key": ""}, 401, "unauthenticated"),
        ({"X-API-Key": OTHER_KEY}, 403, "forbidden"),
        ({"X-API-Key": API_KEY}, 200, None),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/a-1", "/api/v1/events", "/api/v1/events/count"])
def test_closed_reads_need_a_valid_key(
    harness_factory, headers: dict[str, str], status: int, code: str | None, path: str
) -> None:
    api = harness_factory([record("a-1")], public_read=False)
    response = api.client.get(path, headers=headers)
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code
        assert api.warehouse.calls == []
    if status == 401:
        assert response.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-API-Key": OTHER_KEY}, 403), ({"X-API-Key": API_KEY}, 202)],
)
def test_post_always_needs_a_valid_key(
    api: ApiHarness, headers: dict[str, str], status: int
) -> None:
    response = api.client.post("/api/v1/events", json=EVENT, headers=headers)
    assert response.status_code == status
    assert len(api.publisher.published) == (1 if status == 202 else 0)


def test_auth_is_checked_before_the_body_is_read(api: ApiHarness) -> None:
    response = api.client.post(
        "/api/v1/events", content=b"x" * 2_000_000, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 401


def test_with_no_key_configured_post_is_refused(harness_factory) -> None:
    api = harness_factory(api_keys=())
    response = api.client.post("/api/v1/events", json=EVENT, headers={"X-API-Key": API_KEY})
    assert response.status_code == 403


def test_post_can_be_turned_off(harness_factory) -> None:
    api = harness_factory(api_post_enabled=False)
    response = api.client.post("/api/v1/events", json=EVENT, headers={"X-API-Key": API_KEY})
    assert response.status_code == 405
    assert "post" not in api.client.get("/openapi.json").json()["paths"]["/api/v1/events"]


def test_any_of_several_keys_is_accepted() -> None:
    keys = ApiKeys([hash_api_key("first-key-0123456789xx"), hash_api_key(API_KEY)])
    keys.check(API_KEY)
    keys.check("first-key-0123456789xx")


def test_keys_are_stored_as_digests_only() -> None:
    digest = hash_api_key(API_KEY)
    assert digest.startswith("sha256:") and API_KEY not in digest
    keys = make(api_keys=f"{digest}, {hash_api_key(OTHER_KEY)}").api_keys
    assert [key.digest for key in keys] == [digest, hash_api_key(OTHER_KEY)]
    with pytest.raises(ValidationError, match="bqingest api hash-key"):
        make(api_keys=API_KEY)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        hash_api_key("short")


def test_public_read_and_access_log_default_by_environment() -> None:
    local = make()
    assert (local.public_read, local.api_access_log) == (True, True)
    cloud = make(environment="prod", project="acme-data-prod")
    assert (cloud.public_read, cloud.api_access_log) == (False, False)
    chosen = make(
        environment="prod", project="acme-data-prod", public_read=True, api_access_log=True
    )
    assert (chosen.public_read, chosen.api_access_log) == (True, True)


def test_the_api_refuses_unsafe_cloud_settings() -> None:
    with pytest.raises(UnsafeSettings, match="BQINGEST_API_KEYS"):
        create_app(make(environment="prod", project="acme-data-prod"))
    with pytest.raises(UnsafeSettings, match="PUBLIC_READ"):
        create_app(make(environment="prod", project="acme-data-prod", api_post_enabled=False))
    # Explicit choices are accepted: no HTTP ingestion, reads behind Cloud Run's IAM only...
    create_app(
        make(environment="prod", project="acme-data-prod", api_post_enabled=False, public_read=True)
    )
    # ...or keys.
    create_app(make(environment="prod", project="acme-data-prod", api_keys=hash_api_key(API_KEY)))


def test_hash_key_command_prints_the_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bqingest", "api", "hash-key"],
        input=API_KEY + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"BQINGEST_API_KEYS={hash_api_key(API_KEY)}"


def test_hash_key_command_generates_a_usable_key() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bqingest", "api", "hash-key", "--generate"],
        capture_output=True,
        text=True,
        check=True,
    )
    key_line, setting = result.stdout.strip().splitlines()
    key = key_line.rsplit(" ", 1)[1]
    assert setting == f"BQINGEST_API_KEYS={hash_api_key(key)}"
    ApiKeys([setting.split("=", 1)[1]]).check(key)
