"""Settings of the read API (``bqingest api``; the Cloud Run service)."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from bqingest import formats
from bqingest.config.core import CoreSettings
from bqingest.errors import BqingestError

_API_KEY_DIGEST = re.compile(formats.API_KEY_DIGEST)


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
    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="API key digests, comma-separated 'sha256:<64 hex>' (`bqingest api "
        "hash-key`). Clients send the key in the X-API-Key header.",
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
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for digest in value:
            if not _API_KEY_DIGEST.fullmatch(digest):
                raise ValueError(
                    "each key must be stored as 'sha256:<64 lowercase hex>', never in clear: "
                    "make one with `bqingest api hash-key`"
                )
        return value

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
