"""Prometheus metrics of the API, in a registry of their own per app (tests build many apps).

Names (:class:`~bqingest.metric_names.ApiSeries`) are a contract with the dashboards and alerts
(docs/api.md lists them): change them only together. Route labels are route *templates*
(``/api/v1/events/{id}``), never raw paths, so the number of series stays bounded whatever
clients send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bqingest.metric_names import ApiSeries

# Seconds. Fine steps where a cached answer lives (well under 1 ms), coarse where BigQuery does.
REQUEST_BUCKETS: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
QUERY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class ApiMetrics:
    """Every metric the API exports."""

    registry: CollectorRegistry
    requests: Counter
    request_duration: Histogram
    inflight: Gauge
    warehouse_query_duration: Histogram
    warehouse_errors: Counter
    warehouse_pending: Gauge
    shed: Counter
    cache_events: Counter
    cache_entries: Gauge
    published_events: Counter
    rejected_events: Counter


def build_metrics() -> ApiMetrics:
    """A fresh registry with every metric registered in it."""
    registry = CollectorRegistry(auto_describe=True)
    return ApiMetrics(
        registry=registry,
        requests=Counter(
            ApiSeries.REQUESTS,
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=registry,
        ),
        request_duration=Histogram(
            ApiSeries.REQUEST_DURATION_SECONDS,
            "Time from request to the end of the response, by route template and method.",
            ["route", "method"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        ),
        inflight=Gauge(
            ApiSeries.INFLIGHT_REQUESTS,
            "HTTP requests being served right now.",
            registry=registry,
        ),
        warehouse_query_duration=Histogram(
            ApiSeries.WAREHOUSE_QUERY_DURATION_SECONDS,
            "Time of each warehouse (and Pub/Sub admin) call in its thread, by query name.",
            ["query"],
            buckets=QUERY_BUCKETS,
            registry=registry,
        ),
        warehouse_errors=Counter(
            ApiSeries.WAREHOUSE_ERRORS,
            "Failed warehouse calls, by query name and error code (timeout, unavailable...).",
            ["query", "error"],
            registry=registry,
        ),
        warehouse_pending=Gauge(
            ApiSeries.WAREHOUSE_PENDING_CALLS,
            "Warehouse calls running or waiting for a thread.",
            registry=registry,
        ),
        shed=Counter(
            ApiSeries.SHED,
            "Requests refused with 503 because the warehouse queue was full.",
            registry=registry,
        ),
        cache_events=Counter(
            ApiSeries.CACHE_EVENTS,
            "By-id cache lookups and removals: result is hit, miss, eviction (LRU) or expiry.",
            ["cache", "result"],
            registry=registry,
        ),
        cache_entries=Gauge(
            ApiSeries.CACHE_ENTRIES,
            "Entries held by each cache.",
            ["cache"],
            registry=registry,
        ),
        published_events=Counter(
            ApiSeries.PUBLISHED_EVENTS,
            "Events accepted by POST and published to Pub/Sub.",
            registry=registry,
        ),
        rejected_events=Counter(
            ApiSeries.REJECTED_EVENTS,
            "POST requests refused by the event contract, by reason code.",
            ["reason"],
            registry=registry,
        ),
    )
