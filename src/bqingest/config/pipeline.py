"""Settings ``bqingest pipeline`` turns into the pipeline's options (the local runner's process).

On Dataflow the pipeline has no settings: its options come from the Flex Template's parameters
(``bqingest.pipeline.options``), which share their formats and bounds with these.
"""

from __future__ import annotations

from typing import ClassVar, Final

from pydantic import Field

from bqingest.config.core import CoreSettings

LOCAL_PIPELINE_METRICS_PORT: Final = 9465


class PipelineSettings(CoreSettings):
    """The pipeline command's settings (and the shared core)."""

    group: ClassVar[str] = "pipeline"

    recovery_margin_seconds: float = Field(
        120.0,
        ge=0,
        le=24 * 3600,
        description="Local runner: on start, replay the subscription from the last publish time "
        "written minus this margin (docs/adr/0002-local-runner-recovery.md).",
    )
    dead_letter_payloads: str | None = Field(
        None,
        description="Where the whole body of a dead letter too long for its row is stored (a "
        "directory or gs://BUCKET/PATH). Unset: <data dir>/dead-letter-payloads locally; on "
        "Dataflow the template's parameter of the same name (Terraform sets it). `deadletters "
        "show --payload-out` and `replay` read archived bodies from under it only.",
    )
    pipeline_metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Port of the pipeline's Prometheus /metrics (local runner only). Unset: off "
        f"when run alone, {LOCAL_PIPELINE_METRICS_PORT} under `bqingest up`; 0: off.",
    )
