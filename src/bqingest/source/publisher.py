"""Publishing the source's messages: explicit batching, every outcome recorded, none dropped.

:class:`SourcePublisher` publishes a batch, waits for Pub/Sub to confirm or refuse each message,
records the confirmed ones in the ledger (with their message ids, qualified with the emulator's
boot id under the emulator, as the pipeline records them) and the refused ones in the ledger's
failures, and returns a :class:`PublishReport`. It never retries on its own beyond the
client library's retries and never hides a failure: the caller decides (the scheduled source
prints it and goes on; the load mode exits with an error at the end).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions

from bqingest.clients import recorded_message_id
from bqingest.clock import utc_now
from bqingest.source.generator import OutgoingMessage
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger, LedgerEntry, PublishFailure
from bqingest.source.metrics import SourceMetrics

BATCH_SETTINGS: Final = pubsub_v1.types.BatchSettings(
    max_messages=500,  # Pub/Sub allows 1,000 per request; 500 keeps requests well under 10 MB
    max_bytes=4 * 1024 * 1024,  # a larger single message still goes, alone in its request
    max_latency=0.02,  # 20 ms: batches fill under load and a lone message waits little
)
"""The publisher's batching, explicit rather than the library's defaults (which change)."""


@dataclass
class PublishReport:
    """What one :meth:`SourcePublisher.publish` call did."""

    published: list[LedgerEntry] = field(default_factory=list)
    failed: list[PublishFailure] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[MessageKind, int]:
        counts = dict.fromkeys(MessageKind, 0)
        for entry in self.published:
            counts[entry.kind] += 1
        return counts

    def summary(self) -> str:
        c = self.counts()
        text = (
            f"published {len(self.published)} ({c[MessageKind.VALID]} valid, "
            f"{c[MessageKind.MALFORMED]} malformed, {c[MessageKind.DUPLICATE]} duplicate) "
            f"in {self.seconds:.2f}s"
        )
        if self.failed:
            text += f"; {len(self.failed)} FAILED, first: {self.failed[0].error}"
        return text

    def merge(self, other: PublishReport) -> None:
        self.published += other.published
        self.failed += other.failed
        self.seconds += other.seconds


class SourcePublisher:
    """Publishes :class:`OutgoingMessage` batches to one topic and records them in a ledger.

    ``pubsub_boot`` is the emulator's boot id (:func:`bqingest.clients.pubsub_emulator_boot`),
    None for Pub/Sub itself: every caller says which, so that the ledger's message ids are always
    the ones the pipeline writes.
    """

    def __init__(
        self,
        client: pubsub_v1.PublisherClient,
        topic_path: str,
        ledger: Ledger,
        *,
        run_id: str,
        pubsub_boot: str | None,
        timeout: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
        metrics: SourceMetrics | None = None,
    ) -> None:
        self._client = client
        self._topic = topic_path
        self._ledger = ledger
        self._run_id = run_id
        self._boot = pubsub_boot
        self._timeout = timeout
        self._clock = clock
        self._metrics = metrics

    def publish(self, messages: Sequence[OutgoingMessage]) -> PublishReport:
        """Publish ``messages``, wait for every outcome, record it; never raise for a refusal."""
        started = self._clock()
        report = PublishReport()
        futures = []
        for message in messages:
            try:
                future = self._client.publish(self._topic, message.data, **message.attributes)
            except (ValueError, exceptions.GoogleAPIError) as exc:  # e.g. over 10 MB
                report.failed.append(self._failure(message, exc))
            else:
                futures.append((message, future))
        for message, future in futures:
            try:
                pubsub_id = future.result(timeout=self._timeout)
            except (exceptions.GoogleAPIError, concurrent.futures.TimeoutError) as exc:
                report.failed.append(self._failure(message, exc))
                continue
            message_id = recorded_message_id(pubsub_id, self._boot)
            report.published.append(
                LedgerEntry(
                    message_id=message_id,
                    event_id=message_id if message.id_from_message else message.event_id,
                    event_source=message.event_source,
                    kind=message.kind,
                    event_type=message.event_type,
                    expected_reason=message.expected_reason,
                    run_id=self._run_id,
                    published_at=self._clock(),
                    pubsub_boot=self._boot,
                )
            )
        self._ledger.record(report.published)
        if report.failed:
            self._ledger.record_failures(report.failed)
        report.seconds = (self._clock() - started).total_seconds()
        if self._metrics is not None:
            self._count(report)
        return report

    def _count(self, report: PublishReport) -> None:
        """Metrics follow the ledger: counted once recorded, so they never exceed it."""
        assert self._metrics is not None
        for kind, count in report.counts().items():
            if count:
                self._metrics.published.labels(kind.value).inc(count)
        for failure in report.failed:
            self._metrics.publish_failures.labels(failure.kind.value).inc()
        if report.published:
            self._metrics.last_publish.set(report.published[-1].published_at.timestamp())
        self._metrics.batch_duration.observe(report.seconds)

    def _failure(self, message: OutgoingMessage, exc: BaseException) -> PublishFailure:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        return PublishFailure(message.event_id, message.kind, error, self._run_id, self._clock())
