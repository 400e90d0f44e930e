"""The names of the pipeline's Prometheus series, importable without Apache Beam.

``bqingest status`` reads these in processes (and images) that have no Beam;
:mod:`bqingest.pipeline.metrics` defines the series with them.
"""

from __future__ import annotations

from enum import StrEnum


class Series(StrEnum):
    """Series names as scraped (counters end in ``_total``): what dashboards and status read."""

    MESSAGES_READ = "bqingest_pipeline_messages_read_total"
    ROWS_WRITTEN = "bqingest_pipeline_rows_written_total"
    EVENTS_PARSED = "bqingest_pipeline_events_parsed_total"
    PARSE_REJECTED = "bqingest_pipeline_parse_rejected_total"
    SINK_REJECTED = "bqingest_pipeline_sink_rejected_total"
    SINK_RETRIES = "bqingest_pipeline_sink_retries_total"
    DEAD_LETTERS = "bqingest_pipeline_dead_letters_total"
    FRESHNESS_SECONDS = "bqingest_pipeline_freshness_seconds"
