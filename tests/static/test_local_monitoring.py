"""monitoring/: Prometheus' configuration and the provisioned Grafana dashboard of the local stack.

Every metric the dashboard names must be one the code exports: the names are collected from the
registries themselves (the source's, the pipeline's, a fresh API app's), not from the source
text, plus the series Prometheus adds to every scrape (``up``...). Every query parses as PromQL,
and every target of prometheus.yml is a default port of the settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import CollectorRegistry

from bqingest.config import LocalSettings
from tests.static.test_monitoring import _selectors

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "bqingest.json"
# Series Prometheus itself adds to every target it scrapes.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gauge": ("",),
    "untyped": ("",),
    "info": ("_info",),
}


def exported(registry: CollectorRegistry) -> set[str]:
    """The series names a registry exposes (counters as name_total, histograms' parts...)."""
    names = set()
    for family in registry.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES[family.type]}
    return names


def exported_names() -> set[str]:
    from bqingest.api.metrics import build_metrics as api_metrics
    from bqingest.pipeline.metrics import REGISTRY
    from bqingest.source.metrics import build_metrics as source_metrics

    return (
        exported(source_metrics().registry)
        | exported(REGISTRY)
        | exported(api_metrics().registry)
        | PROMETHEUS_SERIES
    )


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def queries() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
    ]


def metric_problems(expr: str, known: set[str]) -> list[str]:
    """The query parses as PromQL (Grafana's $__rate_interval as a duration) and names only
    exported series."""
    try:
        parsed = promql_parser.parse(expr.replace("$__rate_interval", "1m"))
    except ValueError as error:
        return [f"does not parse ({error}): {expr}"]
    names = [selector.name for selector in _selectors(parsed)]
    if not names:
        return [f"names no metric: {expr}"]
    return [f"{name} is exported by nothing" for name in names if name not in known]


def test_the_metric_names_come_from_the_registries() -> None:
    names = exported_names()
    assert {
        "bqingest_source_published_total",
        "bqingest_pipeline_rows_written_total",
        "bqingest_pipeline_freshness_seconds_bucket",
        "bqingest_api_requests_total",
        "process_cpu_seconds_total",
    } <= names
    assert "bqingest_pipeline_rows_written" not in names


def test_the_dashboard_is_a_grafana_dashboard_of_the_provisioned_datasource() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    datasources = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/bqingest.yml").read_text()
    )["datasources"]
    uids = {source["uid"] for source in datasources if source["type"] == "prometheus"}
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in board["panels"]:
        position = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(position) and position["x"] + position["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
    provider = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/bqingest.yml").read_text()
    )["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"]


@pytest.mark.parametrize(("title", "expr"), queries(), ids=[t for t, _ in queries()])
def test_every_query_names_exported_metrics(title: str, expr: str) -> None:
    problems = metric_problems(expr, exported_names())
    assert not problems, problems


def test_the_dashboard_covers_the_whole_path() -> None:
    named = " ".join(expr for _, expr in queries())
    for metric in (
        "bqingest_source_published_total",
        "bqingest_source_publish_failures_total",
        "bqingest_pipeline_messages_read_total",
        "bqingest_pipeline_rows_written_total",
        "bqingest_pipeline_dead_letters_total",
        "bqingest_pipeline_sink_retries_total",
        "bqingest_pipeline_freshness_seconds_bucket",
        "bqingest_api_requests_total",
        "bqingest_api_request_duration_seconds_bucket",
        "bqingest_api_cache_events_total",
    ):
        assert metric in named, metric


def test_the_check_finds_unknown_metrics_and_bad_queries() -> None:
    known = exported_names()
    assert metric_problems("rate(bqingest_pipeline_rows_writen_total[5m])", known)
    assert metric_problems("sum(rate(bqingest_api_requests_total[5m]", known)
    assert not metric_problems("sum(rate(bqingest_api_requests_total[$__rate_interval]))", known)


def test_prometheus_scrapes_the_default_ports_of_the_settings() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: (job.get("metrics_path", "/metrics"), job["static_configs"][0]["targets"])
        for job in config["scrape_configs"]
    }
    defaults = LocalSettings(_env_file=None)  # type: ignore[call-arg]
    assert targets == {
        "bqingest-source": ("/metrics", [f"127.0.0.1:{defaults.local_source_metrics_port}"]),
        "bqingest-pipeline": ("/metrics", [f"127.0.0.1:{defaults.local_pipeline_metrics_port}"]),
        "bqingest-api": ("/metrics", [f"127.0.0.1:{defaults.api_port}"]),
    }
    jobs = set(targets)
    named = " ".join(expr for _, expr in queries())
    assert 'job=~"bqingest-.*"' in named and all(job.startswith("bqingest-") for job in jobs)
