"""Settings of the read API (``bqingest api``; the Cloud Run service)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode

from bqingest import formats
from bqingest.config.core import CoreSettings
from bqingest.errors import BqingestError

_API_KEY_DIGEST = re.compile(formats.API_KEY_DIGEST)
_KEY_NAME = re.compile(formats.API_KEY_NAME)
ANY_SOURCE = "*"
"""In a key's ``sources``: every source (a trailing ``*`` elsewhere matches a prefix)."""


class ApiKeySpec(BaseModel):
    """One API key as configured: a name, what it may do, the sources it may publish as, and the
    SHA-256 digest of the secret (never the secret).

    A bare digest (the format before keys had scopes) is the key ``key-<first 8 hex>`` with
    both scopes and every source: an existing deployment keeps exactly what it could do.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Stamped on every event the key publishes.")
    scopes: tuple[Literal["read", "write"], ...] = Field(min_length=1)
    sources: tuple[str, ...] = ()
    digest: str

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _KEY_NAME.fullmatch(value):
            raise ValueError(f"a key name is {formats.API_KEY_NAME_TEXT}, not {value[:80]!r}")
        return value

    @field_validator("digest")
    @classmethod
    def _check_digest(cls, value: str) -> str:
        if not _API_KEY_DIGEST.fullmatch(value):
            raise ValueError(
                "each key must be stored as 'sha256:<64 lowercase hex>', never in clear: "
                "make one with `bqingest api hash-key`"
            )
        return value

    @field_validator("sources")
    @classmethod
    def _check_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for source in value:
            if not source or len(source) > 512 or not source.isprintable():
                raise ValueError(f"a source pattern is 1-512 printable characters: {source!r}")
        return value

    @model_validator(mode="after")
    def _write_needs_sources(self) -> ApiKeySpec:
        if "write" in self.scopes and not self.sources:
            raise ValueError(
                f"key {self.name!r} has the write scope but no sources: list the sources it "
                f'may publish as, or ["{ANY_SOURCE}"] for any'
            )
        return self

    @classmethod
    def from_bare_digest(cls, digest: str) -> ApiKeySpec:
        """A key in the old format: both scopes, any source (what it could always do)."""
        name = "key-" + digest.removeprefix("sha256:")[:8]
        return cls(name=name, scopes=("read", "write"), sources=(ANY_SOURCE,), digest=digest)

    def may_publish_as(self, source: str) -> bool:
        """Whether this key may publish events whose ``source`` is ``source``."""
        if "write" not in self.scopes:
            return False
        for pattern in self.sources:
            if pattern.endswith("*"):
                if source.startswith(pattern[:-1]):
                    return True
            elif source == pattern:
                return True
        return False


def _key_spec(value: object) -> object:
    if isinstance(value, str):
        if not _API_KEY_DIGEST.fullmatch(value.strip()):
            raise ValueError(
                "each key must be stored as 'sha256:<64 lowercase hex>' or as an object "
                '{"name", "scopes", "sources", "digest"}, never in clear: make one with '
                "`bqingest api hash-key`"
            )
        return ApiKeySpec.from_bare_digest(value.strip())
    return value


class UnsafeSettings(BqingestError, ValueError):
    """Valid settings that a part of the system refuses to run with outside local mode."""


class ApiSettings(CoreSettings):
    """The read API's settings (and the shared core)."""

    group: ClassVar[str] = "api"

    api_host: str = Field("127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    # Auth: keys are stored as digests only (`bqingest api hash-key` makes one). Outside local
    # the API refuses to start with POST enabled and no key, or closed reads and no key
    # (check_api_is_safe): turning HTTP ingestion off or opening reads is an explicit choice.
    api_keys: Annotated[tuple[ApiKeySpec, ...], NoDecode] = Field(
        (),
        description='API keys, as a JSON array of {"name", "scopes": ["read", '
        '"write"], "sources": [source or prefix*], "digest": "sha256:<64 hex>"} '
        "(`bqingest api hash-key --name N --scope S --source SRC` prints one); a bare "
        "comma-separated list of digests (the old format) still works, each a key with both "
        "scopes and every source. Clients send the key in the X-API-Key header.",
    )
    public_read: bool = Field(
        False,
        description="Reads without an API key.",
        json_schema_extra={"default_text": "true locally, false elsewhere"},
    )
    api_post_enabled: bool = Field(True, description="Serve POST /api/v1/events (publishing).")
    api_post_max_events: int = Field(1000, ge=1, le=1000, description="Events per POST.")
    api_post_max_bytes: int = Field(
        1024 * 1024, ge=1024, le=10 * 1024 * 1024, description="Body size limit of one POST."
    )
    api_post_max_inflight_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Bytes of POST bodies being read, parsed and published at once; beyond it a "
        "POST gets 503 overloaded. Parsing takes up to about 32 times a body's size, so count "
        "32 times this in the instance's memory.",
    )
    api_publish_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="Deadline for Pub/Sub to accept a POST's events."
    )
    api_publish_max_pending_bytes: int = Field(
        64 * 1024**2,
        ge=1024**2,
        le=1024**3,
        description="Bytes of POSTed events that may wait for Pub/Sub at once; beyond it a POST "
        "gets 503 instead of growing the instance's memory.",
    )
    api_query_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Deadline of each warehouse call made for a request."
    )
    api_maximum_bytes_billed: int = Field(
        10 * 1024**3,
        ge=10 * 1024**2,
        description="BigQuery refuses (instead of billing) a query that would scan more bytes.",
    )
    api_threads: int = Field(
        8, ge=1, le=64, description="Threads running warehouse calls (the client blocks)."
    )
    api_queue_size: int = Field(
        64,
        ge=0,
        le=10_000,
        description="Warehouse calls that may wait for a thread; beyond it requests get 503.",
    )
    api_cache_max_bytes: int = Field(
        64 * 1024**2,
        ge=0,
        le=16 * 1024**3,
        description="Bytes of rendered events the by-id cache may hold (0: off). Count it in "
        "the instance's memory: Cloud Run's limit is set in Terraform.",
    )
    api_cache_max_event_bytes: int = Field(
        256 * 1024,
        ge=1024,
        le=10 * 1024**2,
        description="Events whose rendered body is larger are served but never cached.",
    )
    api_cache_ttl_seconds: float = Field(
        300.0, ge=0, le=86_400, description="How long a cached event is served from memory."
    )
    api_negative_cache_ttl_seconds: float = Field(
        2.0, ge=0, le=300, description="How long an id found absent is answered 404 from memory."
    )
    api_http_max_age_seconds: int = Field(
        300, ge=0, le=31_536_000, description="Cache-Control max-age of by-id responses."
    )
    api_default_window_hours: float = Field(
        24 * 7,
        gt=0,
        le=24 * 366 * 10,
        description="A list, count or export that names no `since` covers this many hours "
        "before `until` (or now): every read has a window, so what it scans follows the "
        "window, not the table.",
    )
    api_export_max_rows: int = Field(
        100_000,
        ge=1,
        le=10_000_000,
        description="Most rows one NDJSON export may stream; a larger range is refused with 422 "
        "before the first byte. Keep it within what streams inside the request timeout "
        "(Cloud Run's is set in Terraform).",
    )
    api_count_max_groups: int = Field(
        10_000, ge=1, le=1_000_000, description="Most groups one count request may return."
    )
    api_readiness_timeout_seconds: float = Field(
        3.0, gt=0, le=60, description="Deadline for the warehouse and Pub/Sub to answer /readyz."
    )
    api_access_log: bool = Field(
        False,
        description="Log one JSON line per request (Cloud Run already logs every request, with "
        "its trace).",
        json_schema_extra={"default_text": "true locally, false elsewhere"},
    )
    api_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the API's JSON logs."
    )

    @model_validator(mode="before")
    @classmethod
    def _api_environment_defaults(cls, data: Any) -> Any:
        """Open reads and the access log locally, closed and off elsewhere, unless set."""
        if not isinstance(data, dict):
            return data
        local = data.get("environment", "local") == "local"
        defaults = {"public_read": local, "api_access_log": local}
        return {**defaults, **{k: v for k, v in data.items() if v is not None}}

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, value: object) -> object:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                try:
                    value = json.loads(value)
                except ValueError as exc:
                    raise ValueError(f"BQINGEST_API_KEYS is not valid JSON: {exc}") from None
            else:
                value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return tuple(_key_spec(item) for item in value)
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, value: tuple[ApiKeySpec, ...]) -> tuple[ApiKeySpec, ...]:
        for what in ("name", "digest"):
            seen = [getattr(key, what) for key in value]
            duplicates = sorted({item for item in seen if seen.count(item) > 1})
            if duplicates:
                raise ValueError(f"two keys have the same {what}: {duplicates[0]}")
        return value

    @model_validator(mode="after")
    def _inflight_holds_a_post(self) -> ApiSettings:
        if self.api_post_max_inflight_bytes < self.api_post_max_bytes:
            raise ValueError(
                "BQINGEST_API_POST_MAX_INFLIGHT_BYTES must be at least "
                "BQINGEST_API_POST_MAX_BYTES, or no POST of the largest size could pass"
            )
        return self

    def check_api_is_safe(self) -> None:
        """Refuse to serve the API with a configuration nobody should run in the cloud."""
        if self.is_local or self.api_keys:
            return
        if self.api_post_enabled:
            raise UnsafeSettings(
                f"environment={self.environment} with POST enabled needs BQINGEST_API_KEYS; "
                "or set BQINGEST_API_POST_ENABLED=false to turn HTTP ingestion off"
            )
        if not self.public_read:
            raise UnsafeSettings(
                f"environment={self.environment} with BQINGEST_PUBLIC_READ=false needs "
                "BQINGEST_API_KEYS, or nothing could read; or set BQINGEST_PUBLIC_READ=true "
                "to rely on Cloud Run's IAM invoker check alone"
            )
