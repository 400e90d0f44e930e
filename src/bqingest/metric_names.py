"""Every Prometheus series name bqingest exports, in one place at the base of the package.

The names are a contract with ``monitoring/`` (Prometheus rules, Grafana), the alerts and
``bqingest status``: change them only together. The parts that define the metrics (the API, the
source, the pipeline) and those that read them (``bqingest status`` in operations, the local
stack's drain) all import them from here, so none imports another part to learn a name, and
nothing that reads the pipeline's names loads Apache Beam. Depends on nothing of bqingest.
"""

from __future__ import annotations

from enum import StrEnum


class ApiSeries(StrEnum):
    """The API's series, as scraped (counters end in ``_total``)."""

    REQUESTS = "bqingest_api_requests_total"
    REQUEST_DURATION_SECONDS = "bqingest_api_request_duration_seconds"
    INFLIGHT_REQUESTS = "bqingest_api_inflight_requests"
    WAREHOUSE_QUERY_DURATION_SECONDS = "bqingest_api_warehouse_query_duration_seconds"
    WAREHOUSE_ERRORS = "bqingest_api_warehouse_errors_total"
    WAREHOUSE_PENDING_CALLS = "bqingest_api_warehouse_pending_calls"
    SHED = "bqingest_api_shed_total"
    CACHE_EVENTS = "bqingest_api_cache_events_total"
    CACHE_ENTRIES = "bqingest_api_cache_entries"
    PUBLISHED_EVENTS = "bqingest_api_published_events_total"
    REJECTED_EVENTS = "bqingest_api_rejected_events_total"


class SourceSeries(StrEnum):
    """The source's series, as scraped (counters end in ``_total``)."""

    PUBLISHED = "bqingest_source_published_total"
    PUBLISH_FAILURES = "bqingest_source_publish_failures_total"
    LAST_PUBLISH_TIMESTAMP_SECONDS = "bqingest_source_last_publish_timestamp_seconds"
    PUBLISH_BATCH_DURATION_SECONDS = "bqingest_source_publish_batch_duration_seconds"


class PipelineSeries(StrEnum):
    """The pipeline's series, as scraped (counters end in ``_total``)."""

    MESSAGES_READ = "bqingest_pipeline_messages_read_total"
    ROWS_WRITTEN = "bqingest_pipeline_rows_written_total"
    EVENTS_PARSED = "bqingest_pipeline_events_parsed_total"
    PARSE_REJECTED = "bqingest_pipeline_parse_rejected_total"
    SINK_REJECTED = "bqingest_pipeline_sink_rejected_total"
    SINK_RETRIES = "bqingest_pipeline_sink_retries_total"
    DEAD_LETTERS = "bqingest_pipeline_dead_letters_total"
    FRESHNESS_SECONDS = "bqingest_pipeline_freshness_seconds"
