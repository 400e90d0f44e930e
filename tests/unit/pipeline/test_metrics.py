"""Counting per bundle and per batch gives the figures counting per message gave."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bqingest.metric_names import PipelineSeries as Series
from bqingest.operations.readings import Samples
from bqingest.pipeline import metrics
from bqingest.pipeline.metrics import (
    FRESHNESS_BUCKETS,
    REGISTRY,
    BatchHistogram,
    ParseTally,
    WriteTally,
    count_written,
)


def test_a_batch_histogram_is_exposed_exactly_as_a_histogram_observed_one_by_one() -> None:
    lags = [0.1, 0.25, 0.3, 1.0, 1.5, 7.0, 59.0, 4000.0, 0.0]
    one_by_one, batched = CollectorRegistry(), CollectorRegistry()
    histogram = Histogram(
        "lag_seconds", "doc", ["published"], buckets=FRESHNESS_BUCKETS, registry=one_by_one
    )
    for label in ("before_start", "after_start"):
        histogram.labels(label)
    for lag in lags:
        histogram.labels("after_start").observe(lag)
    batch = BatchHistogram(
        "lag_seconds",
        "doc",
        "published",
        ("before_start", "after_start"),
        FRESHNESS_BUCKETS,
        batched,
    )
    batch.observe_many("after_start", lags[:4])
    batch.observe_many("after_start", lags[4:])

    def samples(registry: CollectorRegistry) -> dict:
        parsed = Samples.parse(generate_latest(registry).decode()).values
        return {key: value for key, value in parsed.items() if not key[0].endswith("_created")}

    assert samples(batched) == samples(one_by_one)


def scrape() -> Samples:
    return Samples.parse(generate_latest(REGISTRY).decode())


def test_the_parse_tally_adds_a_bundle_at_once() -> None:
    before = scrape()
    tally = ParseTally()
    old = datetime.fromtimestamp(metrics.PROCESS_STARTED - 60, UTC)
    new = datetime.fromtimestamp(metrics.PROCESS_STARTED + 60, UTC)
    for publish_time in (old, new, new, None):
        tally.read(publish_time)
    tally.parsed()
    tally.parsed()
    tally.rejected()
    tally.flush()
    tally.flush()  # nothing more: the tally starts from zero again
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        return after.total(name, **labels) - before.total(name, **labels)

    assert delta(Series.MESSAGES_READ, published="before_start") == 1
    assert delta(Series.MESSAGES_READ, published="after_start") == 3
    assert delta(Series.EVENTS_PARSED) == 2
    assert delta(Series.PARSE_REJECTED) == 1


def test_a_batch_is_counted_once_by_table_reason_and_freshness() -> None:
    before = scrape()
    written_at = datetime.fromtimestamp(metrics.PROCESS_STARTED + 100, UTC)
    count_written(
        WriteTally(
            events_written=3,
            dead_letters=Counter({("not_json", "parse"): 2, ("sink_rejected", "sink"): 1}),
            sink_rejected=1,
            retries=2,
            publish_times=[written_at - timedelta(seconds=s) for s in (0.2, 0.7, 3.0)],
        ),
        written_at,
    )
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        return after.total(name, **labels) - before.total(name, **labels)

    assert delta(Series.ROWS_WRITTEN, table="events") == 3
    assert delta(Series.ROWS_WRITTEN, table="dead_letters") == 3
    assert delta(Series.DEAD_LETTERS, reason="not_json", stage="parse") == 2
    assert delta(Series.DEAD_LETTERS, reason="sink_rejected", stage="sink") == 1
    assert delta(Series.SINK_REJECTED) == 1 and delta(Series.SINK_RETRIES) == 2
    fresh = f"{Series.FRESHNESS_SECONDS}_bucket"
    assert delta(fresh, published="after_start", le="0.25") == 1
    assert delta(fresh, published="after_start", le="1.0") == 2
    assert delta(fresh, published="after_start", le="+Inf") == 3
    assert delta(f"{Series.FRESHNESS_SECONDS}_sum") == pytest.approx(3.9)
