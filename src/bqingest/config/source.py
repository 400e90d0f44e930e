"""Settings of the data source (``bqingest source``, Cloud Scheduler's local stand-in)."""

from __future__ import annotations

from typing import ClassVar, Final

from pydantic import Field, model_validator

from bqingest.config.core import CoreSettings

LOCAL_SOURCE_METRICS_PORT: Final = 9464


class SourceSettings(CoreSettings):
    """The source's settings (and the shared core)."""

    group: ClassVar[str] = "source"

    source_every_seconds: float = Field(
        180.0, gt=0, le=24 * 3600, description="Seconds between two batches of the source."
    )
    source_batch_size: int = Field(
        50, ge=1, le=100_000, description="Events the source publishes per batch."
    )
    source_seed: int | None = Field(
        None, description="Seed of the source's generator (same seed, same events); unset: random."
    )
    source_malformed_fraction: float = Field(
        0.02, ge=0, le=1, description="Share of the source's messages malformed on purpose."
    )
    source_duplicate_fraction: float = Field(
        0.02, ge=0, le=1, description="Share of the source's messages that repeat an earlier event."
    )
    source_coupon_from: int | None = Field(
        200,
        ge=0,
        description="After this many messages the source's order.created events carry a new "
        "optional field, coupon (a schema's second revision, docs/schemas.md); unset: never.",
    )
    source_metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Port of the source's Prometheus /metrics. Unset: off when run alone, "
        f"{LOCAL_SOURCE_METRICS_PORT} under `bqingest up`; 0: off.",
    )

    @model_validator(mode="after")
    def _check_fractions(self) -> SourceSettings:
        if self.source_malformed_fraction + self.source_duplicate_fraction > 1:
            raise ValueError(
                "source_malformed_fraction + source_duplicate_fraction must not exceed 1"
            )
        return self
