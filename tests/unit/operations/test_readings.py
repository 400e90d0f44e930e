"""Reading Prometheus text back, and quantiles of histograms, as status computes them."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bqingest.operations.figures import histogram_quantile
from bqingest.operations.readings import Samples, ScrapeFailed, scrape
from bqingest.telemetry import MetricsPortUnavailable, metrics_url, serve
from tests.support import free_port


def registry_with_data() -> CollectorRegistry:
    registry = CollectorRegistry()
    counter = Counter("jobs_total", "Jobs.", ["kind"], registry=registry)
    counter.labels("a").inc(3)
    counter.labels("b").inc(4)
    histogram = Histogram("lag_seconds", "Lag.", buckets=(1, 2, 4), registry=registry)
    for value in (0.5, 1.5, 1.5, 3.0):
        histogram.observe(value)
    return registry


def test_samples_select_sum_and_group() -> None:
    samples = Samples.parse(generate_latest(registry_with_data()).decode())
    assert samples.total("jobs_total") == 7
    assert samples.total("jobs_total", kind="b") == 4
    assert samples.by("jobs_total", "kind") == {("a",): 3, ("b",): 4}
    assert samples.total("absent_total") == 0
    assert samples.buckets("lag_seconds") == [(1, 1), (2, 3), (4, 4), (float("inf"), 4)]


@pytest.mark.parametrize(
    ("quantile", "expected"),
    [(0.25, 1.0), (0.5, 1.5), (0.75, 2.0), (1.0, 4.0)],
)
def test_quantiles_interpolate_inside_the_bucket(quantile: float, expected: float) -> None:
    buckets = [(1.0, 1.0), (2.0, 3.0), (4.0, 4.0), (float("inf"), 4.0)]
    assert histogram_quantile(quantile, buckets) == pytest.approx(expected)


def test_quantile_without_observations_or_beyond_the_last_bound() -> None:
    assert histogram_quantile(0.95, []) is None
    assert histogram_quantile(0.95, [(1.0, 0.0), (float("inf"), 0.0)]) is None
    assert histogram_quantile(0.95, [(1.0, 0.0), (float("inf"), 5.0)]) == 1.0


def test_serve_then_scrape_and_a_busy_port_says_which_setting() -> None:
    port = free_port()
    server = serve(registry_with_data(), host="127.0.0.1", port=port, variable="BQINGEST_X")
    try:
        assert scrape(metrics_url("127.0.0.1", port)).total("jobs_total") == 7
        with pytest.raises(MetricsPortUnavailable, match="BQINGEST_X to a free port, or to 0"):
            serve(CollectorRegistry(), host="127.0.0.1", port=port, variable="BQINGEST_X")
    finally:
        server.shutdown()
        server.server_close()


def test_scrape_failures_say_why() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(ScrapeFailed, match="refused"):
            scrape(f"http://127.0.0.1:{port}/metrics", timeout=1)


def test_metrics_url_reads_wildcards_as_this_machine() -> None:
    assert metrics_url("0.0.0.0", 9464) == "http://127.0.0.1:9464/metrics"
    assert metrics_url("::1", 9464) == "http://[::1]:9464/metrics"
    assert metrics_url("localhost", 8000, "/healthz") == "http://localhost:8000/healthz"


def _numpy_quantile(quantile: float, buckets: list[tuple[float, float]]) -> float | None:
    """The implementation before bisect replaced numpy, kept as the reference."""
    import numpy as np

    finite = [(bound, count) for bound, count in buckets if bound != float("inf")]
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0 or not finite:
        return None
    bounds = np.array([bound for bound, _ in finite])
    counts = np.array([count for _, count in finite])
    rank = quantile * total
    upper = int(np.searchsorted(counts, rank, side="left"))
    if upper == len(counts):
        return float(bounds[-1])
    lower_bound = float(bounds[upper - 1]) if upper else 0.0
    lower_count = float(counts[upper - 1]) if upper else 0.0
    if counts[upper] == lower_count:
        return float(bounds[upper])
    share = (rank - lower_count) / (counts[upper] - lower_count)
    return lower_bound + (float(bounds[upper]) - lower_bound) * float(share)


@settings(max_examples=300, deadline=None)
@given(
    increments=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=12),
    beyond=st.integers(min_value=0, max_value=20),
    quantile=st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0])
    | st.floats(min_value=0.0, max_value=1.0),
)
def test_quantiles_match_numpy_searchsorted(
    increments: list[int], beyond: int, quantile: float
) -> None:
    """Same results as the numpy version this replaced, on cumulative histograms of any shape
    (empty buckets, ties, observations beyond the last bound)."""
    bounds = [0.005 * 2**i for i in range(len(increments))]
    cumulative = [float(sum(increments[: i + 1])) for i in range(len(increments))]
    buckets = [*zip(bounds, cumulative, strict=True), (float("inf"), cumulative[-1] + beyond)]
    assert histogram_quantile(quantile, buckets) == _numpy_quantile(quantile, buckets)


def test_figures_need_no_numpy() -> None:
    """``bqingest status`` should not pull numpy in for one binary search."""
    import ast
    from pathlib import Path

    import bqingest.operations.figures as figures

    tree = ast.parse(Path(figures.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "numpy" not in imported
