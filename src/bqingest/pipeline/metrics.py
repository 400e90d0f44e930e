"""The pipeline's metrics: Beam counters (namespace ``bqingest``) and their Prometheus twins.

Every count goes through one helper here that updates both: the Beam metric (what Dataflow
exports to Cloud Monitoring as ``dataflow.googleapis.com/job/user_counter``, by counter name)
and the Prometheus series in :data:`REGISTRY` (what the local runner serves when it is given a
metrics port; Beam's counters under-report on that runner, see
docs/adr/0002-local-runner-recovery.md). On Dataflow the Prometheus side is updated in the
workers' memory and never served.

============================  ==============================================================
Beam metric                   Prometheus series
============================  ==============================================================
``messages_read``             ``bqingest_pipeline_messages_read_total{published}``
``events_parsed``             ``bqingest_pipeline_events_parsed_total``
``parse_rejected``            ``bqingest_pipeline_parse_rejected_total``
``rows_written_events``       ``bqingest_pipeline_rows_written_total{table="events"}``
``rows_written_dead_letters`` ``bqingest_pipeline_rows_written_total{table="dead_letters"}``
``dead_letters_<reason>``     ``bqingest_pipeline_dead_letters_total{reason, stage}``
``sink_rejected``             ``bqingest_pipeline_sink_rejected_total``
``sink_retries``              ``bqingest_pipeline_sink_retries_total``
``publish_to_write_lag_ms``   ``bqingest_pipeline_freshness_seconds{published}`` (histogram)
============================  ==============================================================

``published`` is ``after_start`` for messages published after this process started and
``before_start`` for older ones: what the local runner's recovery reads again, or a backlog
that waited for the pipeline. Live backlog and freshness are computed from ``after_start``.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from apache_beam.metrics.metric import Metrics
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

from bqingest.contract import Reason
from bqingest.pipeline.series import Series

NAMESPACE: Final = "bqingest"
LAG_DISTRIBUTION: Final = "publish_to_write_lag_ms"
FRESHNESS_BUCKETS: Final = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

# When this process started (imported this module): older messages are counted apart.
PROCESS_STARTED: Final = time.time()


class Count(StrEnum):
    """The Beam counters other than the per-reason dead-letter ones."""

    MESSAGES_READ = "messages_read"
    EVENTS_PARSED = "events_parsed"
    PARSE_REJECTED = "parse_rejected"
    ROWS_WRITTEN_EVENTS = "rows_written_events"
    ROWS_WRITTEN_DEAD_LETTERS = "rows_written_dead_letters"
    SINK_REJECTED = "sink_rejected"
    SINK_RETRIES = "sink_retries"


def dead_letter_counter_name(reason: str) -> str:
    """``dead_letters_<reason>``: the Beam counter of dead letters written with ``reason``."""
    return f"dead_letters_{reason}"


def beam_counter_names() -> frozenset[str]:
    """Every Beam counter name the pipeline defines (what Cloud Monitoring's metric_name holds)."""
    return frozenset(
        [*(count.value for count in Count), *(dead_letter_counter_name(r) for r in Reason)]
    )


REGISTRY: Final = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

_MESSAGES_READ: Final = Counter(
    Series.MESSAGES_READ,
    "Messages read from the subscription (the local runner acknowledges them as it reads), by "
    "whether they were published before or after this process started.",
    ["published"],
    registry=REGISTRY,
)
_ROWS_WRITTEN: Final = Counter(
    Series.ROWS_WRITTEN,
    "Rows written to BigQuery, by table (events, dead_letters).",
    ["table"],
    registry=REGISTRY,
)
_TWINS: Final[dict[Count, Any]] = {
    Count.MESSAGES_READ: _MESSAGES_READ,
    Count.EVENTS_PARSED: Counter(
        Series.EVENTS_PARSED,
        "Messages the event contract accepted.",
        registry=REGISTRY,
    ),
    Count.PARSE_REJECTED: Counter(
        Series.PARSE_REJECTED,
        "Messages the event contract rejected (dead-lettered at the parse stage).",
        registry=REGISTRY,
    ),
    Count.ROWS_WRITTEN_EVENTS: _ROWS_WRITTEN.labels("events"),
    Count.ROWS_WRITTEN_DEAD_LETTERS: _ROWS_WRITTEN.labels("dead_letters"),
    Count.SINK_REJECTED: Counter(
        Series.SINK_REJECTED,
        "Event rows BigQuery refused (dead-lettered at the sink stage).",
        registry=REGISTRY,
    ),
    Count.SINK_RETRIES: Counter(
        Series.SINK_RETRIES,
        "Appends to BigQuery retried after a transient error.",
        registry=REGISTRY,
    ),
}
_DEAD_LETTERS: Final = Counter(
    Series.DEAD_LETTERS,
    "Dead-letter rows written, by reason code and stage (parse, sink).",
    ["reason", "stage"],
    registry=REGISTRY,
)
_FRESHNESS: Final = Histogram(
    Series.FRESHNESS_SECONDS,
    "Time from the Pub/Sub publish of a message to the end of the append that wrote its event "
    "row, by whether it was published before or after this process started.",
    ["published"],
    buckets=FRESHNESS_BUCKETS,
    registry=REGISTRY,
)
# Label children resolved once: labels() takes a lock and validates on every call.
_READ_BY_PUBLISHED: Final = {p: _MESSAGES_READ.labels(p) for p in ("before_start", "after_start")}
_FRESHNESS_BY_PUBLISHED: Final = {p: _FRESHNESS.labels(p) for p in ("before_start", "after_start")}


@lru_cache(maxsize=256)
def _dead_letter_series(reason: str, stage: str) -> Any:
    return _DEAD_LETTERS.labels(reason, stage)


@lru_cache(maxsize=128)
def _beam_counter(name: str) -> Any:
    return Metrics.counter(NAMESPACE, name)


@lru_cache(maxsize=1)
def _beam_lag() -> Any:
    return Metrics.distribution(NAMESPACE, LAG_DISTRIBUTION)


def _published(publish_time: datetime | None) -> str:
    if publish_time is not None and publish_time.timestamp() < PROCESS_STARTED:
        return "before_start"
    return "after_start"


def count(counter: Count, value: int = 1) -> None:
    """Add ``value`` to a Beam counter and its Prometheus twin."""
    if value:
        _beam_counter(counter.value).inc(value)
        _TWINS[counter].inc(value)


def count_message_read(publish_time: datetime | None) -> None:
    """One message read (``messages_read``), labelled by its publish time against our start."""
    _beam_counter(Count.MESSAGES_READ.value).inc()
    _READ_BY_PUBLISHED[_published(publish_time)].inc()


def count_dead_letter(reason: str, stage: str) -> None:
    """One dead-letter row written: ``dead_letters_<reason>`` and its series by reason, stage."""
    _beam_counter(dead_letter_counter_name(reason)).inc()
    _dead_letter_series(reason, stage).inc()


def observe_freshness(publish_time: datetime, written_at: datetime) -> None:
    """Publish-to-write lag of one event row: the Beam distribution (ms) and the histogram (s)."""
    lag = max(written_at - publish_time, timedelta(0))
    _beam_lag().update(int(lag.total_seconds() * 1000))
    _FRESHNESS_BY_PUBLISHED[_published(publish_time)].observe(lag.total_seconds())
