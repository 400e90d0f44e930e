"""Prometheus metrics of the source, in a registry of their own (served by ``bqingest source``).

Names (:class:`~bqingest.metric_names.SourceSeries`) are a contract with ``monitoring/``
(Prometheus, Grafana) and ``bqingest status``: change them only together. Counts cover the
process's lifetime; the ledger holds the durable record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from bqingest.metric_names import SourceSeries
from bqingest.source.kinds import MessageKind

BATCH_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class SourceMetrics:
    """Every metric the source exports."""

    registry: CollectorRegistry
    published: Counter
    publish_failures: Counter
    last_publish: Gauge
    batch_duration: Histogram


def build_metrics() -> SourceMetrics:
    """A fresh registry with every metric registered (and every kind at zero)."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    metrics = SourceMetrics(
        registry=registry,
        published=Counter(
            SourceSeries.PUBLISHED,
            "Messages Pub/Sub confirmed (and the ledger recorded), by kind: valid, malformed "
            "(on purpose), duplicate (a repeat of an earlier event id).",
            ["kind"],
            registry=registry,
        ),
        publish_failures=Counter(
            SourceSeries.PUBLISH_FAILURES,
            "Messages Pub/Sub refused or did not confirm in time (recorded in the ledger's "
            "publish_failures), by kind.",
            ["kind"],
            registry=registry,
        ),
        last_publish=Gauge(
            SourceSeries.LAST_PUBLISH_TIMESTAMP_SECONDS,
            "Unix time of the last confirmed publish.",
            registry=registry,
        ),
        batch_duration=Histogram(
            SourceSeries.PUBLISH_BATCH_DURATION_SECONDS,
            "Time to publish one batch and wait for every outcome.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        ),
    )
    for kind in MessageKind:
        metrics.published.labels(kind.value)
        metrics.publish_failures.labels(kind.value)
    return metrics
