"""What ``bqingest status`` reads from the running system: one :class:`Reading` at a time.

A reading is one scrape of every process's ``/metrics`` (source, pipeline, API), a reachability
check of the Pub/Sub emulator, and the warehouse's and the ledger's counts
(:func:`bqingest.operations.counts.read_counts`, what ``bqingest up`` shows). Figures over a
window compare two readings (:mod:`.figures`); rules judge the figures (:mod:`.rules`).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from google.cloud import bigquery
from prometheus_client.parser import text_string_to_metric_families

from bqingest.clients import port_is_open
from bqingest.config import LocalSettings
from bqingest.operations.counts import Counts, read_counts
from bqingest.operations.errors import OperationsError
from bqingest.telemetry import metrics_url

SOURCE: Final = "source"
PIPELINE: Final = "pipeline"
API: Final = "API"

Labels = frozenset[tuple[str, str]]


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


class ScrapeFailed(OperationsError):
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


@dataclass(frozen=True)
class Endpoint:
    """A process's metrics endpoint."""

    name: str
    url: str


def endpoints(settings: LocalSettings) -> list[Endpoint]:
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
    warehouse: Counts = field(default_factory=Counts)

    def of(self, name: str) -> Samples | None:
        return self.samples.get(name)


def take_reading(
    settings: LocalSettings,
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
    emulator = settings.pubsub_emulator_host
    if emulator is not None and not port_is_open(emulator, timeout=1.0):
        errors["Pub/Sub emulator"] = f"{settings.pubsub_emulator_host}: connection refused"
    warehouse = Counts()
    if bq is not None:
        warehouse = read_counts(settings, bq, timeout=5.0)
        if warehouse.error:
            errors["warehouse"] = warehouse.error
    return Reading(at=at, samples=samples, errors=errors, warehouse=warehouse)
