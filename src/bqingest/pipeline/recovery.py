"""Recovery on the local runner: replay what a killed run had acknowledged but not written.

Beam's local runner acknowledges Pub/Sub messages as soon as it pulls them, so a process that dies
(SIGKILL, a crash, the machine) loses whatever it had pulled and not yet written. The subscription
keeps acknowledged messages (``retain_acked_messages``, 7 days), so on start the pipeline
seeks the subscription back to

    (latest publish_time in events or dead_letters) - recovery margin

and reads everything published since then again. Rows that were already written are written a
second time; the ``events_dedup`` view shows one row per id, and dead letters are read by their
stable ``dead_letter_id``, so the replay is invisible to readers. When nothing has been written
yet, the subscription goes back to the start of its retention window.

The margin must cover the time a message can spend between pull and write (the bundles in flight
when the process died, including a sink retrying through a warehouse outage). The reasoning and
its limits are in docs/adr/0002-local-runner-recovery.md. On Dataflow none of this runs: Dataflow
acknowledges a message only after the step that consumed it is durably checkpointed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from google.cloud import bigquery, pubsub_v1

from bqingest.pipeline.errors import RecoveryError
from bqingest.warehouse.totals import last_written_publish_time


@dataclass(frozen=True)
class RecoveryPlan:
    """Where to seek the subscription, and why."""

    last_written: datetime | None
    seek_to: datetime
    margin: timedelta

    def describe(self) -> str:
        if self.last_written is None:
            return (
                f"nothing written yet: replaying the subscription's whole retention "
                f"(from {self.seek_to.isoformat()})"
            )
        return (
            f"last publish time written {self.last_written.isoformat()}: replaying from "
            f"{self.seek_to.isoformat()} ({self.margin.total_seconds():g}s margin)"
        )


def plan(
    last_written: datetime | None,
    *,
    margin: timedelta,
    retention: timedelta,
    now: datetime,
) -> RecoveryPlan:
    """The seek target: last written minus margin, never before the retention window."""
    oldest_retained = now - retention
    if last_written is None:
        return RecoveryPlan(None, oldest_retained, margin)
    return RecoveryPlan(last_written, max(last_written - margin, oldest_retained), margin)


def recover(
    *,
    subscriber: pubsub_v1.SubscriberClient,
    bq: bigquery.Client,
    subscription: str,
    events_table: str,
    dead_letter_table: str,
    margin: timedelta,
    now: datetime,
    timeout: float = 30.0,
) -> RecoveryPlan:
    """Seek ``subscription`` back so that nothing acknowledged and unwritten is lost."""
    current = subscriber.get_subscription(subscription=subscription, timeout=timeout)
    if not current.retain_acked_messages:
        raise RecoveryError(
            f"{subscription} does not retain acknowledged messages, so the local runner cannot "
            "recover what a previous run pulled but did not write: run `bqingest bootstrap` "
            "(it sets retain_acked_messages) or set BQINGEST_RETAIN_ACKED_MESSAGES=true"
        )
    retention = current.message_retention_duration
    if not isinstance(retention, timedelta) or retention <= timedelta(0):
        retention = timedelta(days=7)
    last = last_written_publish_time(
        bq, events_table=events_table, dead_letter_table=dead_letter_table, timeout=timeout
    )
    target = plan(last, margin=margin, retention=retention, now=now)
    subscriber.seek(request={"subscription": subscription, "time": target.seek_to}, timeout=timeout)
    return target
