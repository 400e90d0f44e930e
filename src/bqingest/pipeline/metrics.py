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

**Counted per bundle and per batch, not per message.** Each update of a Beam metric or a
Prometheus series takes a lock and a lookup or two, which per message cost about as much as
parsing the message (``benchmarks/bench_metrics.py``). So the parse step tallies its messages in
plain integers (:class:`ParseTally`) and adds them once per bundle, and the sink counts what one
write did once per batch (:func:`count_written`): the same names, the same totals, a handful of
calls per bundle or batch. The freshness histogram takes a batch's lags under one lock
(:class:`BatchHistogram`); Beam's distribution has no batch update, so it still takes one call
per row.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from apache_beam.metrics.metric import Metrics
from prometheus_client import CollectorRegistry, Counter, ProcessCollector
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from bqingest.contract import Reason
from bqingest.metric_names import PipelineSeries

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
    PipelineSeries.MESSAGES_READ,
    "Messages read from the subscription (the local runner acknowledges them as it reads), by "
    "whether they were published before or after this process started.",
    ["published"],
    registry=REGISTRY,
)
_ROWS_WRITTEN: Final = Counter(
    PipelineSeries.ROWS_WRITTEN,
    "Rows written to BigQuery, by table (events, dead_letters).",
    ["table"],
    registry=REGISTRY,
)
_TWINS: Final[dict[Count, Any]] = {
    Count.MESSAGES_READ: _MESSAGES_READ,
    Count.EVENTS_PARSED: Counter(
        PipelineSeries.EVENTS_PARSED,
        "Messages the event contract accepted.",
        registry=REGISTRY,
    ),
    Count.PARSE_REJECTED: Counter(
        PipelineSeries.PARSE_REJECTED,
        "Messages the event contract rejected (dead-lettered at the parse stage).",
        registry=REGISTRY,
    ),
    Count.ROWS_WRITTEN_EVENTS: _ROWS_WRITTEN.labels("events"),
    Count.ROWS_WRITTEN_DEAD_LETTERS: _ROWS_WRITTEN.labels("dead_letters"),
    Count.SINK_REJECTED: Counter(
        PipelineSeries.SINK_REJECTED,
        "Event rows BigQuery refused (dead-lettered at the sink stage).",
        registry=REGISTRY,
    ),
    Count.SINK_RETRIES: Counter(
        PipelineSeries.SINK_RETRIES,
        "Appends to BigQuery retried after a transient error.",
        registry=REGISTRY,
    ),
}
_DEAD_LETTERS: Final = Counter(
    PipelineSeries.DEAD_LETTERS,
    "Dead-letter rows written, by reason code and stage (parse, sink).",
    ["reason", "stage"],
    registry=REGISTRY,
)


class BatchHistogram(Collector):
    """A Prometheus histogram with one label that takes a batch of observations per call.

    Exposed exactly as ``prometheus_client.Histogram`` would expose it (``_bucket`` with ``le``,
    ``_sum``, ``_count``, every label value from the start), but :meth:`observe_many` takes the
    lock once for the whole batch instead of once per observation.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        label: str,
        values: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._label = label
        self._bounds = (*buckets, float("inf"))
        self._lock = threading.Lock()
        self._counts = {value: [0] * len(self._bounds) for value in values}
        self._sums = dict.fromkeys(values, 0.0)
        registry.register(self)

    def observe_many(self, value: str, amounts: Iterable[float]) -> None:
        """Observe every amount under the label ``value`` (a known one)."""
        bounds = self._bounds
        with self._lock:
            counts = self._counts[value]
            total = 0.0
            for amount in amounts:
                counts[bisect.bisect_left(bounds, amount)] += 1
                total += amount
            self._sums[value] += total

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self._name, self._documentation, labels=[self._label])

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=[self._label])
        with self._lock:
            snapshot = [(v, list(c), self._sums[v]) for v, c in self._counts.items()]
        for value, counts, total in snapshot:
            cumulative, buckets = 0, []
            for bound, n in zip(self._bounds, counts, strict=True):
                cumulative += n
                le = floatToGoString(bound)  # type: ignore[no-untyped-call]
                buckets.append((le, cumulative))
            family.add_metric([value], buckets, total)
        yield family


_PUBLISHED: Final = ("before_start", "after_start")
_FRESHNESS: Final = BatchHistogram(
    PipelineSeries.FRESHNESS_SECONDS,
    "Time from the Pub/Sub publish of a message to the end of the append that wrote its event "
    "row, by whether it was published before or after this process started.",
    "published",
    _PUBLISHED,
    FRESHNESS_BUCKETS,
    REGISTRY,
)
# Label children resolved once: labels() takes a lock and validates on every call.
_READ_BY_PUBLISHED: Final = {p: _MESSAGES_READ.labels(p) for p in _PUBLISHED}


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


@dataclass
class ParseTally:
    """What the parse step read and made of it, in plain integers until :meth:`flush`.

    One per bundle: the step calls :meth:`read` and :meth:`parsed`/:meth:`rejected` for each
    message (an integer increment each) and :meth:`flush` when the bundle finishes.
    """

    read_before_start: int = 0
    read_after_start: int = 0
    events_parsed: int = 0
    parse_rejected: int = 0

    def read(self, publish_time: datetime | None) -> None:
        if publish_time is not None and publish_time.timestamp() < PROCESS_STARTED:
            self.read_before_start += 1
        else:
            self.read_after_start += 1

    def parsed(self) -> None:
        self.events_parsed += 1

    def rejected(self) -> None:
        self.parse_rejected += 1

    def flush(self) -> None:
        """Add the tallies to the metrics (``messages_read``, ``events_parsed``,
        ``parse_rejected``) and start again from zero."""
        read = self.read_before_start + self.read_after_start
        if read:
            _beam_counter(Count.MESSAGES_READ.value).inc(read)
            if self.read_before_start:
                _READ_BY_PUBLISHED["before_start"].inc(self.read_before_start)
            if self.read_after_start:
                _READ_BY_PUBLISHED["after_start"].inc(self.read_after_start)
        count(Count.EVENTS_PARSED, self.events_parsed)
        count(Count.PARSE_REJECTED, self.parse_rejected)
        self.read_before_start = self.read_after_start = 0
        self.events_parsed = self.parse_rejected = 0


@dataclass
class WriteTally:
    """What one write of a batch did, as :func:`count_written` counts it."""

    events_written: int = 0
    dead_letters: Tally[tuple[str, str]] = field(default_factory=Tally)  # (reason, stage) -> n
    sink_rejected: int = 0
    retries: int = 0
    publish_times: list[datetime] = field(default_factory=list)  # of the events written


def count_written(tally: WriteTally, written_at: datetime) -> None:
    """Count one batch's write: rows by table, dead letters by reason and stage, rejections,
    retries, and the publish-to-write lag of every event row (distribution and histogram)."""
    count(Count.ROWS_WRITTEN_EVENTS, tally.events_written)
    count(Count.ROWS_WRITTEN_DEAD_LETTERS, sum(tally.dead_letters.values()))
    count(Count.SINK_REJECTED, tally.sink_rejected)
    count(Count.SINK_RETRIES, tally.retries)
    for (reason, stage), n in tally.dead_letters.items():
        _beam_counter(dead_letter_counter_name(reason)).inc(n)
        _dead_letter_series(reason, stage).inc(n)
    update = _beam_lag().update
    written = written_at.timestamp()
    lags: dict[str, list[float]] = {label: [] for label in _PUBLISHED}
    before, after = lags["before_start"], lags["after_start"]
    for publish_time in tally.publish_times:
        published = publish_time.timestamp()
        lag = written - published if written > published else 0.0
        update(int(lag * 1000))
        (before if published < PROCESS_STARTED else after).append(lag)
    for label, values in lags.items():
        if values:
            _FRESHNESS.observe_many(label, values)
