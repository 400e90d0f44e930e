"""The figures ``bqingest status`` shows: totals of the last reading, and rates, deltas and
quantiles over the window between two readings.

**Backlog** on the local runner, which acknowledges each message as it pulls it, is::

    published by the source + published by the API's POST - read by the pipeline (after_start)

counted since each process started: exact when the pipeline started before the others, as under
``bqingest up``; re-reads of older messages (recovery) are labelled ``before_start`` and left
out. A message counted as read a moment before the source counts its publish confirmation would
make it negative: it is shown as 0.

Series names are imported from :mod:`bqingest.metric_names`, as the modules that define the metrics
do.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Final

from bqingest.metric_names import ApiSeries, PipelineSeries, SourceSeries
from bqingest.operations.readings import API, PIPELINE, SOURCE, Reading, Samples

# Requests that are not traffic: the status's own scrapes of the API and its probes.
_NOT_TRAFFIC: Final = frozenset({"/metrics", "/healthz", "/readyz"})


def histogram_quantile(quantile: float, buckets: list[tuple[float, float]]) -> float | None:
    """The ``quantile`` of a cumulative histogram as Prometheus' ``histogram_quantile`` computes
    it: linear interpolation between bucket bounds (the first bucket starts at 0). None without
    observations; observations beyond the last finite bound answer that bound."""
    finite = [(bound, count) for bound, count in buckets if bound != float("inf")]
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0 or not finite:
        return None
    bounds = [float(bound) for bound, _ in finite]
    counts = [float(count) for _, count in finite]
    rank = quantile * total
    upper = bisect.bisect_left(counts, rank)  # first bucket holding the rank
    if upper == len(counts):
        return bounds[-1]
    lower_bound = bounds[upper - 1] if upper else 0.0
    lower_count = counts[upper - 1] if upper else 0.0
    if counts[upper] == lower_count:
        return bounds[upper]
    share = (rank - lower_count) / (counts[upper] - lower_count)
    return lower_bound + (bounds[upper] - lower_bound) * share


def _delta(first: Reading, last: Reading, name: str, metric: str, **labels: str) -> float | None:
    a, b = first.of(name), last.of(name)
    if a is None or b is None:
        return None
    return b.total(metric, **labels) - a.total(metric, **labels)


def _bucket_delta(
    first: Samples, last: Samples, metric: str, **labels: str
) -> list[tuple[float, float]]:
    before = dict(first.buckets(metric, **labels))
    after = last.buckets(metric, **labels)
    return [(bound, count - before.get(bound, 0.0)) for bound, count in after]


@dataclass(frozen=True)
class Figures:
    """What the status shows: totals of the last reading, rates over the window."""

    window: float
    published: dict[str, float] | None = None  # by kind, since the source started
    published_rate: float | None = None
    publish_failures: float | None = None
    publish_failures_in_window: float | None = None
    api_published: float | None = None
    read_live: float | None = None
    read_replayed: float | None = None
    read_rate: float | None = None
    read_in_window: float | None = None
    backlog: float | None = None
    backlog_growth: float | None = None
    parsed: float | None = None
    rejected: float | None = None
    written: dict[str, float] | None = None  # by table
    written_rate: dict[str, float] | None = None
    dead_letters: dict[tuple[str, str], float] | None = None  # (reason, stage) -> count
    dead_letters_in_window: dict[tuple[str, str], float] | None = None
    sink_retries: float | None = None
    freshness_p50: float | None = None  # over the window
    freshness_p95: float | None = None
    freshness_rows: float | None = None
    freshness_p95_since_start: float | None = None
    api_requests: float | None = None  # in the window, probes and scrapes left out
    api_rps: float | None = None
    api_p95: float | None = None
    api_5xx: float | None = None
    api_cache_hit_ratio: float | None = None


def _rate(value: float | None, window: float) -> float | None:
    return None if value is None or window <= 0 else value / window


def figures(first: Reading, last: Reading) -> Figures:
    """Figures of the window between two readings (``first`` may be ``last`` for totals only)."""
    window = last.at - first.at
    values: dict[str, object] = {"window": window}
    source = last.of(SOURCE)
    if source is not None:
        values["published"] = {
            kind: v for (kind,), v in source.by(SourceSeries.PUBLISHED, "kind").items()
        }
        values["publish_failures"] = source.total(SourceSeries.PUBLISH_FAILURES)
        published_delta = _delta(first, last, SOURCE, SourceSeries.PUBLISHED)
        values["published_rate"] = _rate(published_delta, window)
        values["publish_failures_in_window"] = _delta(
            first, last, SOURCE, SourceSeries.PUBLISH_FAILURES
        )
    api = last.of(API)
    if api is not None:
        values["api_published"] = api.total(ApiSeries.PUBLISHED_EVENTS)
        _api_figures(first.of(API), api, window, values)
    pipeline = last.of(PIPELINE)
    if pipeline is not None:
        _pipeline_figures(first, last, pipeline, window, values)
    if source is not None and pipeline is not None:
        backlog_now = backlog(last)
        values["backlog"] = backlog_now
        backlog_then = backlog(first)
        if backlog_now is not None and backlog_then is not None:
            values["backlog_growth"] = backlog_now - backlog_then
    return Figures(**values)  # type: ignore[arg-type]


def backlog(reading: Reading) -> float | None:
    """Published minus read since the processes started (module docstring); None without both."""
    source, pipeline = reading.of(SOURCE), reading.of(PIPELINE)
    if source is None or pipeline is None:
        return None
    api = reading.of(API)
    published = source.total(SourceSeries.PUBLISHED) + (
        api.total(ApiSeries.PUBLISHED_EVENTS) if api is not None else 0.0
    )
    return max(
        0.0, published - pipeline.total(PipelineSeries.MESSAGES_READ, published="after_start")
    )


def _pipeline_figures(
    first: Reading, last: Reading, pipeline: Samples, window: float, values: dict[str, object]
) -> None:
    values["read_live"] = pipeline.total(PipelineSeries.MESSAGES_READ, published="after_start")
    values["read_replayed"] = pipeline.total(PipelineSeries.MESSAGES_READ, published="before_start")
    read_delta = _delta(first, last, PIPELINE, PipelineSeries.MESSAGES_READ)
    values["read_in_window"] = read_delta
    values["read_rate"] = _rate(read_delta, window)
    values["parsed"] = pipeline.total(PipelineSeries.EVENTS_PARSED)
    values["rejected"] = pipeline.total(PipelineSeries.PARSE_REJECTED)
    values["sink_retries"] = pipeline.total(PipelineSeries.SINK_RETRIES)
    written = {
        table: v for (table,), v in pipeline.by(PipelineSeries.ROWS_WRITTEN, "table").items()
    }
    values["written"] = written
    dead = pipeline.by(PipelineSeries.DEAD_LETTERS, "reason", "stage")
    values["dead_letters"] = {(r, s): v for (r, s), v in dead.items()}
    earlier = first.of(PIPELINE)
    if earlier is None:
        return
    before_written = {
        table: v for (table,), v in earlier.by(PipelineSeries.ROWS_WRITTEN, "table").items()
    }
    values["written_rate"] = {
        table: (v - before_written.get(table, 0.0)) / window if window > 0 else 0.0
        for table, v in written.items()
    }
    before_dead = earlier.by(PipelineSeries.DEAD_LETTERS, "reason", "stage")
    values["dead_letters_in_window"] = {
        (r, s): v - before_dead.get((r, s), 0.0) for (r, s), v in dead.items()
    }
    live = _bucket_delta(
        earlier, pipeline, PipelineSeries.FRESHNESS_SECONDS, published="after_start"
    )
    values["freshness_rows"] = live[-1][1] if live else 0.0
    values["freshness_p50"] = histogram_quantile(0.5, live)
    values["freshness_p95"] = histogram_quantile(0.95, live)
    values["freshness_p95_since_start"] = histogram_quantile(
        0.95, pipeline.buckets(PipelineSeries.FRESHNESS_SECONDS, published="after_start")
    )


def _traffic(samples: Samples, metric: str, *keys: str) -> dict[tuple[str, ...], float]:
    return {
        key: v
        for key, v in samples.by(metric, "route", *keys).items()
        if key[0] not in _NOT_TRAFFIC
    }


def _api_figures(
    earlier: Samples | None, api: Samples, window: float, values: dict[str, object]
) -> None:
    hits = api.total(ApiSeries.CACHE_EVENTS, result="hit")
    misses = api.total(ApiSeries.CACHE_EVENTS, result="miss")
    values["api_cache_hit_ratio"] = hits / (hits + misses) if hits + misses else None
    if earlier is None or window <= 0:
        return
    now = _traffic(api, ApiSeries.REQUESTS, "status")
    then = _traffic(earlier, ApiSeries.REQUESTS, "status")
    requests = sum(now.values()) - sum(then.values())
    errors = sum(v - then.get(k, 0.0) for k, v in now.items() if k[1].startswith("5"))
    values["api_requests"] = requests
    values["api_rps"] = requests / window
    values["api_5xx"] = errors / requests if requests else None
    by_bound: dict[float, float] = {}
    for (route, bound), v in api.by(
        f"{ApiSeries.REQUEST_DURATION_SECONDS}_bucket", "route", "le"
    ).items():
        if route not in _NOT_TRAFFIC:
            by_bound[float(bound)] = by_bound.get(float(bound), 0.0) + v
    for (route, bound), v in earlier.by(
        f"{ApiSeries.REQUEST_DURATION_SECONDS}_bucket", "route", "le"
    ).items():
        if route not in _NOT_TRAFFIC:
            by_bound[float(bound)] = by_bound.get(float(bound), 0.0) - v
    values["api_p95"] = histogram_quantile(0.95, sorted(by_bound.items()))
