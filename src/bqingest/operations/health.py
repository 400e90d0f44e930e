"""What ``bqingest status`` knows: readings of the running processes, the figures derived from
two of them, and the health rules.

A :class:`Reading` is one scrape of every process's ``/metrics`` (source, pipeline, API), a
reachability check of the Pub/Sub emulator, and the warehouse's totals (through
:func:`bqingest.local.progress.read_progress`, the counts ``bqingest up`` shows). Rates and
"during the window" figures compare two readings, ``window`` seconds apart.

**Backlog** on the local runner, which acknowledges each message as it pulls it, is::

    published by the source + published by the API's POST - read by the pipeline (after_start)

counted since each process started: exact when the pipeline started before the others, as under
``bqingest up``; re-reads of older messages (recovery) are labelled ``before_start`` and left
out. A message counted as read a moment before the source counts its publish confirmation would
make it negative: it is shown as 0.

**Rules** (each failure says which and why; any failure makes the status unhealthy):

================  ==================================================================
``answering``     the source, the pipeline and the API answer /metrics; the Pub/Sub
                  emulator accepts connections; the warehouse answers a count
``publishing``    the source had no publish failure during the window
``backlog``       the backlog did not grow by more than ``max_backlog_growth``
``stalled``       not: a backlog at both ends of the window and nothing read in it
``freshness``     p95 publish-to-write lag of rows written in the window within
                  ``max_freshness_seconds``
``sink``          no dead letter at the sink stage or with reason ``internal_error``
                  during the window (the system's faults, not the producers')
``api_errors``    API 5xx share of requests during the window within ``max_api_error_ratio``
================  ==================================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from google.cloud import bigquery

from bqingest.config import Settings
from bqingest.local.processes import port_is_open, split_host_port
from bqingest.local.progress import Progress, read_progress
from bqingest.operations.exposition import (
    Samples,
    ScrapeFailed,
    histogram_quantile,
    metrics_url,
    scrape,
)

SOURCE: Final = "source"
PIPELINE: Final = "pipeline"
API: Final = "API"

_READ = "bqingest_pipeline_messages_read_total"
_FRESHNESS = "bqingest_pipeline_freshness_seconds"
_API_REQUESTS = "bqingest_api_requests_total"
_API_DURATION = "bqingest_api_request_duration_seconds"
# Requests that are not traffic: the status's own scrapes of the API and its probes.
_NOT_TRAFFIC: Final = frozenset({"/metrics", "/healthz", "/readyz"})


@dataclass(frozen=True)
class Endpoint:
    """A process's metrics endpoint."""

    name: str
    url: str


def endpoints(settings: Settings) -> list[Endpoint]:
    """The endpoints of a stack started by ``bqingest up`` with these settings."""
    found = []
    if settings.local_source_metrics_port:
        found.append(
            Endpoint(SOURCE, metrics_url(settings.metrics_host, settings.local_source_metrics_port))
        )
    if settings.local_pipeline_metrics_port:
        found.append(
            Endpoint(
                PIPELINE, metrics_url(settings.metrics_host, settings.local_pipeline_metrics_port)
            )
        )
    found.append(Endpoint(API, metrics_url(settings.api_host, settings.api_port)))
    return found


@dataclass(frozen=True)
class Reading:
    """One look at the running system."""

    at: float
    samples: Mapping[str, Samples]
    errors: Mapping[str, str]
    warehouse: Progress = field(default_factory=Progress)

    def of(self, name: str) -> Samples | None:
        return self.samples.get(name)


def take_reading(
    settings: Settings,
    bq: bigquery.Client | None,
    points: list[Endpoint],
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Reading:
    """Scrape every endpoint, check the Pub/Sub emulator, count the warehouse (if ``bq``)."""
    samples: dict[str, Samples] = {}
    errors: dict[str, str] = {}
    at = clock()
    for point in points:
        try:
            samples[point.name] = scrape(point.url)
        except ScrapeFailed as exc:
            errors[point.name] = f"{point.url}: {exc}"
    if settings.pubsub_emulator_host is not None:
        host, port = split_host_port(settings.pubsub_emulator_host)
        if not port_is_open(host, port, timeout=1.0):
            errors["Pub/Sub emulator"] = f"{settings.pubsub_emulator_host}: connection refused"
    warehouse = Progress()
    if bq is not None:
        warehouse = read_progress(settings, bq, timeout=5.0)
        if warehouse.error:
            errors["warehouse"] = warehouse.error
    return Reading(at=at, samples=samples, errors=errors, warehouse=warehouse)


@dataclass(frozen=True)
class Thresholds:
    """Limits of the health rules (``bqingest status`` options)."""

    max_freshness_seconds: float = 60.0
    max_backlog_growth: float = 500.0
    max_api_error_ratio: float = 0.05


@dataclass(frozen=True)
class Check:
    """One rule's verdict."""

    rule: str
    ok: bool
    detail: str


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
            kind: v for (kind,), v in source.by("bqingest_source_published_total", "kind").items()
        }
        values["publish_failures"] = source.total("bqingest_source_publish_failures_total")
        published_delta = _delta(first, last, SOURCE, "bqingest_source_published_total")
        values["published_rate"] = _rate(published_delta, window)
        values["publish_failures_in_window"] = _delta(
            first, last, SOURCE, "bqingest_source_publish_failures_total"
        )
    api = last.of(API)
    if api is not None:
        values["api_published"] = api.total("bqingest_api_published_events_total")
        _api_figures(first.of(API), api, window, values)
    pipeline = last.of(PIPELINE)
    if pipeline is not None:
        _pipeline_figures(first, last, pipeline, window, values)
    if source is not None and pipeline is not None:
        backlog_now = _backlog(last)
        values["backlog"] = backlog_now
        backlog_then = _backlog(first)
        if backlog_now is not None and backlog_then is not None:
            values["backlog_growth"] = backlog_now - backlog_then
    return Figures(**values)  # type: ignore[arg-type]


def _backlog(reading: Reading) -> float | None:
    source, pipeline = reading.of(SOURCE), reading.of(PIPELINE)
    if source is None or pipeline is None:
        return None
    api = reading.of(API)
    published = source.total("bqingest_source_published_total") + (
        api.total("bqingest_api_published_events_total") if api is not None else 0.0
    )
    return max(0.0, published - pipeline.total(_READ, published="after_start"))


def _pipeline_figures(
    first: Reading, last: Reading, pipeline: Samples, window: float, values: dict[str, object]
) -> None:
    values["read_live"] = pipeline.total(_READ, published="after_start")
    values["read_replayed"] = pipeline.total(_READ, published="before_start")
    read_delta = _delta(first, last, PIPELINE, _READ)
    values["read_in_window"] = read_delta
    values["read_rate"] = _rate(read_delta, window)
    values["parsed"] = pipeline.total("bqingest_pipeline_events_parsed_total")
    values["rejected"] = pipeline.total("bqingest_pipeline_parse_rejected_total")
    values["sink_retries"] = pipeline.total("bqingest_pipeline_sink_retries_total")
    written = {
        table: v
        for (table,), v in pipeline.by("bqingest_pipeline_rows_written_total", "table").items()
    }
    values["written"] = written
    dead = pipeline.by("bqingest_pipeline_dead_letters_total", "reason", "stage")
    values["dead_letters"] = {(r, s): v for (r, s), v in dead.items()}
    earlier = first.of(PIPELINE)
    if earlier is None:
        return
    before_written = {
        table: v
        for (table,), v in earlier.by("bqingest_pipeline_rows_written_total", "table").items()
    }
    values["written_rate"] = {
        table: (v - before_written.get(table, 0.0)) / window if window > 0 else 0.0
        for table, v in written.items()
    }
    before_dead = earlier.by("bqingest_pipeline_dead_letters_total", "reason", "stage")
    values["dead_letters_in_window"] = {
        (r, s): v - before_dead.get((r, s), 0.0) for (r, s), v in dead.items()
    }
    live = _bucket_delta(earlier, pipeline, _FRESHNESS, published="after_start")
    values["freshness_rows"] = live[-1][1] if live else 0.0
    values["freshness_p50"] = histogram_quantile(0.5, live)
    values["freshness_p95"] = histogram_quantile(0.95, live)
    values["freshness_p95_since_start"] = histogram_quantile(
        0.95, pipeline.buckets(_FRESHNESS, published="after_start")
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
    hits = api.total("bqingest_api_cache_events_total", result="hit")
    misses = api.total("bqingest_api_cache_events_total", result="miss")
    values["api_cache_hit_ratio"] = hits / (hits + misses) if hits + misses else None
    if earlier is None or window <= 0:
        return
    now = _traffic(api, _API_REQUESTS, "status")
    then = _traffic(earlier, _API_REQUESTS, "status")
    requests = sum(now.values()) - sum(then.values())
    errors = sum(v - then.get(k, 0.0) for k, v in now.items() if k[1].startswith("5"))
    values["api_requests"] = requests
    values["api_rps"] = requests / window
    values["api_5xx"] = errors / requests if requests else None
    by_bound: dict[float, float] = {}
    for (route, bound), v in api.by(f"{_API_DURATION}_bucket", "route", "le").items():
        if route not in _NOT_TRAFFIC:
            by_bound[float(bound)] = by_bound.get(float(bound), 0.0) + v
    for (route, bound), v in earlier.by(f"{_API_DURATION}_bucket", "route", "le").items():
        if route not in _NOT_TRAFFIC:
            by_bound[float(bound)] = by_bound.get(float(bound), 0.0) - v
    values["api_p95"] = histogram_quantile(0.95, sorted(by_bound.items()))


def checks(first: Reading, last: Reading, thresholds: Thresholds) -> list[Check]:
    """Every rule's verdict for the window between ``first`` and ``last``."""
    seen = figures(first, last)
    down = {**first.errors, **last.errors}
    results = [
        Check(
            "answering",
            not down,
            "; ".join(f"{name} not answering ({error})" for name, error in sorted(down.items()))
            or "every process answers",
        )
    ]
    failures = seen.publish_failures_in_window
    results.append(
        Check(
            "publishing",
            not failures,
            f"{failures:.0f} publish failure(s) in the last {seen.window:.0f}s"
            if failures
            else "no publish failure",
        )
    )
    growth = seen.backlog_growth
    results.append(
        Check(
            "backlog",
            growth is None or growth <= thresholds.max_backlog_growth,
            f"backlog grew by {growth:.0f} messages in {seen.window:.0f}s "
            f"(limit {thresholds.max_backlog_growth:.0f})"
            if growth is not None
            else "backlog unknown (needs the source and the pipeline)",
        )
    )
    stalled = (
        seen.backlog_growth is not None
        and _backlog(first) not in (None, 0.0)
        and seen.backlog not in (None, 0.0)
        and not seen.read_in_window
    )
    results.append(
        Check(
            "stalled",
            not stalled,
            f"{seen.backlog:.0f} message(s) waiting and none read in {seen.window:.0f}s"
            if stalled
            else "the pipeline reads what is published",
        )
    )
    p95 = seen.freshness_p95
    results.append(
        Check(
            "freshness",
            p95 is None or p95 <= thresholds.max_freshness_seconds,
            f"p95 publish-to-write lag {p95:.1f}s over {seen.freshness_rows:.0f} row(s) "
            f"(limit {thresholds.max_freshness_seconds:g}s)"
            if p95 is not None
            else "no event row written in the window",
        )
    )
    system_faults = {
        key: v
        for key, v in (seen.dead_letters_in_window or {}).items()
        if v and (key[1] == "sink" or key[0] == "internal_error")
    }
    results.append(
        Check(
            "sink",
            not system_faults,
            "dead letters the system caused: "
            + ", ".join(f"{r} ({s}) {v:.0f}" for (r, s), v in sorted(system_faults.items()))
            if system_faults
            else "no sink-stage or internal_error dead letter",
        )
    )
    ratio = seen.api_5xx
    results.append(
        Check(
            "api_errors",
            ratio is None or ratio <= thresholds.max_api_error_ratio,
            f"{ratio:.1%} of {seen.api_requests:.0f} API request(s) answered 5xx "
            f"(limit {thresholds.max_api_error_ratio:.0%})"
            if ratio is not None
            else "no API request in the window",
        )
    )
    return results
