"""Settings of the operator's commands: ``bootstrap``, ``reconcile`` (also the cloud's scheduled
reconciliation job) and ``deadletters``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from bqingest.config.core import CoreSettings


class OperationsSettings(CoreSettings):
    """The operations commands' settings (and the shared core)."""

    group: ClassVar[str] = "operations"

    @property
    def dead_letter_archive(self) -> str | None:
        """The archive the pipeline writes whole dead-letter bodies to: ``deadletters show
        --payload-out`` and ``replay`` open nothing outside it. Locally the pipeline's default
        (``bqingest pipeline``); elsewhere only what is set."""
        if self.dead_letter_payloads:
            return self.dead_letter_payloads
        if self.is_local:
            return str((self.data_dir / "dead-letter-payloads").resolve())
        return None

    dead_letter_payloads: str | None = Field(
        None,
        description="Where the whole body of a dead letter too long for its row is stored (a "
        "directory or gs://BUCKET/PATH). Unset: <data dir>/dead-letter-payloads locally; on "
        "Dataflow the template's parameter of the same name (Terraform sets it).",
    )
    ack_deadline_seconds: int = Field(
        60, ge=10, le=600, description="bootstrap: the subscription's ack deadline."
    )
    message_retention_seconds: int = Field(
        7 * 24 * 3600,
        ge=600,
        le=31 * 24 * 3600,
        description="bootstrap: how long the subscription keeps messages.",
    )
    retain_acked_messages: bool = Field(
        True,
        description="bootstrap: keep acknowledged messages, so a restarted local pipeline can "
        "seek back.",
    )
    reconcile_event_lookback_hours: int = Field(
        168,
        ge=1,
        le=366 * 24,
        description="reconcile in the cloud: events whose time is more than this before the "
        "window are not counted, so the count reads recent partitions, not the whole table.",
    )
    reconcile_grace_seconds: float = Field(
        300.0,
        ge=0,
        le=7 * 24 * 3600,
        description="reconcile: messages published this recently may still be in flight, so the "
        "window ends this long before now at the latest.",
    )
