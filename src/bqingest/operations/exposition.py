"""Prometheus metrics over HTTP: serve a registry, read an endpoint back into samples.

The source and the pipeline serve their registries with :func:`serve` (the API serves its own at
``/metrics`` through FastAPI); ``bqingest status`` reads all three with :func:`scrape`.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from bqingest.operations.errors import MetricsPortUnavailable

Labels = frozenset[tuple[str, str]]


def serve(registry: CollectorRegistry, *, host: str, port: int, variable: str) -> WSGIServer:
    """Serve ``registry`` at ``http://host:port/metrics`` from a daemon thread.

    ``variable`` names the setting of the port, for the error message.
    """
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise MetricsPortUnavailable(
            f"cannot serve metrics on {host}:{port} ({exc.strerror or exc}): set {variable} "
            "to a free port, or to 0 to turn this endpoint off"
        ) from exc
    return server


def metrics_url(host: str, port: int, path: str = "/metrics") -> str:
    """``http://host:port/path``, bracketing IPv6 hosts; the wildcard becomes the loopback."""
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - a bind address, read as "this machine"
        host = "127.0.0.1"
    return f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"


@dataclass(frozen=True)
class Samples:
    """Every sample of one scrape: (name, labels) -> value."""

    values: Mapping[tuple[str, Labels], float] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Samples:
        values: dict[tuple[str, Labels], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                values[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
        return cls(values)

    def select(self, name: str, **labels: str) -> Iterable[tuple[dict[str, str], float]]:
        """Samples of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        for (sample_name, sample_labels), value in self.values.items():
            if sample_name == name and wanted <= sample_labels:
                yield dict(sample_labels), value

    def total(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` matching ``labels`` (0 when there are none)."""
        return sum(value for _, value in self.select(name, **labels))

    def by(self, name: str, *keys: str, **labels: str) -> dict[tuple[str, ...], float]:
        """Sum of ``name`` grouped by the values of ``keys``."""
        grouped: dict[tuple[str, ...], float] = {}
        for sample_labels, value in self.select(name, **labels):
            key = tuple(sample_labels.get(k, "") for k in keys)
            grouped[key] = grouped.get(key, 0.0) + value
        return grouped

    def buckets(self, name: str, **labels: str) -> list[tuple[float, float]]:
        """Cumulative histogram buckets of ``name`` (``name_bucket``), summed over other labels,
        as sorted (upper bound, count) pairs."""
        by_bound: dict[float, float] = {}
        for sample_labels, value in self.select(f"{name}_bucket", **labels):
            bound = float(sample_labels["le"])
            by_bound[bound] = by_bound.get(bound, 0.0) + value
        return sorted(by_bound.items())


class ScrapeFailed(Exception):
    """The endpoint did not answer with Prometheus text; the message says how."""


def scrape(url: str, *, timeout: float = 2.0) -> Samples:
    """Read one Prometheus endpoint; raise :class:`ScrapeFailed` with the reason otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http URLs we build
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        raise ScrapeFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ScrapeFailed(str(reason)) from exc
    try:
        return Samples.parse(text)
    except ValueError as exc:
        raise ScrapeFailed(f"not Prometheus text: {exc}") from exc


def histogram_quantile(quantile: float, buckets: list[tuple[float, float]]) -> float | None:
    """The ``quantile`` of a cumulative histogram, interpolated linearly inside its bucket as
    Prometheus' ``histogram_quantile`` does; None without observations. Observations beyond the
    last finite bound answer that bound."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = quantile * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            if count == lower_count:
                return bound
            share = (rank - lower_count) / (count - lower_count)
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound
