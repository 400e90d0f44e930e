"""Metrics, `bqingest status` and `bqingest reconcile` against a running system on the emulators.

One small system for the module: the pipeline, the source (one batch of 120 messages, 10 %
malformed, 5 % repeats) and the API, each a `bqingest` child process with its metrics on a free
port, as `bqingest up` runs them. The last two tests change that system (a row deleted, the
pipeline stopped), so they come last, in this order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import bigquery

from bqingest import clients
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.local.processes import ManagedProcess
from bqingest.local.services import bqingest_command, http_ok
from bqingest.local.stack import LocalStack
from bqingest.operations.readings import Samples, scrape
from bqingest.operations.reconcile import Window, reconcile_counts
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger, ledger_path
from bqingest.telemetry import metrics_url
from bqingest.warehouse import query as warehouse
from tests.integration.ingestion import count_rows, everything_arrived, settings_env, wait_until
from tests.support import free_port

BATCH = 120


@dataclass
class System:
    settings: LocalSettings
    started: datetime
    pipeline: ManagedProcess
    source: ManagedProcess
    api: ManagedProcess
    bq: bigquery.Client

    def scrape(self, port: int | None) -> Samples:
        assert port
        return scrape(metrics_url(self.settings.metrics_host, port))

    def bqingest(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bqingest", *args],
            env={**settings_env(self.settings), "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def system(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    suffix = uuid.uuid4().hex[:8]
    directory = tmp_path_factory.mktemp("operations")
    settings = stack.settings.model_copy(
        update={
            "data_dir": directory,
            "dataset": f"bqingest_{suffix}",
            "topic": f"events-{suffix}",
            "subscription": f"events-pipeline-{suffix}",
            "max_message_bytes": 16 * 1024,
            "api_port": free_port(),
            "source_metrics_port": free_port(),
            "pipeline_metrics_port": free_port(),
        }
    )
    bq = clients.bigquery_client(settings.endpoints)
    publisher, subscriber = (
        clients.publisher_client(settings.endpoints),
        clients.subscriber_client(settings.endpoints),
    )
    bootstrap(settings, bigquery_client=bq, publisher=publisher, subscriber=subscriber)
    subscriber.close()
    env = settings_env(settings)
    started = datetime.now(UTC)

    def process(name: str, *args: str) -> ManagedProcess:
        return ManagedProcess(
            name, bqingest_command(*args), log_path=directory / f"{name}.log", env=env
        )

    pipeline = process("pipeline", "pipeline")
    source = process(
        "source", "source", "--every", "3600", "--batch", str(BATCH), "--seed", "11",
        "--malformed-fraction", "0.1", "--duplicate-fraction", "0.05",
    )  # fmt: skip
    api = process("api", "api")
    running = System(settings, started, pipeline, source, api, bq)
    try:
        pipeline.start()
        pipeline.wait_ready(
            lambda: http_ok(metrics_url(settings.metrics_host, settings.pipeline_metrics_port)),
            timeout=120,
        )
        api.start()
        source.start()
        api.wait_ready(
            lambda: http_ok(metrics_url(settings.api_host, settings.api_port, "/healthz")),
            timeout=60,
        )
        source.wait_ready(
            lambda: http_ok(metrics_url(settings.metrics_host, settings.source_metrics_port)),
            timeout=60,
        )
        wait_until(lambda: _ledger_count(settings) == BATCH, what="the source's batch")
        wait_until(everything_arrived(bq, settings), what="every published message to arrive")
        yield running
    finally:
        for managed in (source, api, pipeline):
            managed.stop()
        bq.close()


def _ledger_count(settings: LocalSettings) -> int:
    with Ledger(ledger_path(settings)) as ledger:
        return sum(ledger.counts().values())


def test_source_metrics_count_every_publish(system: System) -> None:
    samples = system.scrape(system.settings.source_metrics_port)
    with Ledger(ledger_path(system.settings)) as ledger:
        counts = ledger.counts()
    by_kind = samples.by("bqingest_source_published_total", "kind")
    assert {kind: int(by_kind[(kind.value,)]) for kind in MessageKind} == counts
    assert sum(counts.values()) == BATCH
    assert counts[MessageKind.MALFORMED] > 0 and counts[MessageKind.DUPLICATE] > 0
    assert samples.total("bqingest_source_publish_failures_total") == 0
    assert samples.total("bqingest_source_publish_batch_duration_seconds_count") == 1
    assert samples.total("bqingest_source_last_publish_timestamp_seconds") >= (
        system.started.timestamp()
    )


def test_pipeline_metrics_match_the_warehouse(system: System) -> None:
    settings, bq = system.settings, system.bq

    def written() -> tuple[float, float]:
        samples = system.scrape(settings.pipeline_metrics_port)
        rows = samples.by("bqingest_pipeline_rows_written_total", "table")
        return rows[("events",)], rows[("dead_letters",)]

    def in_warehouse() -> tuple[int, int]:
        return count_rows(bq, settings.events_table_id), count_rows(
            bq, settings.dead_letter_table_id
        )

    # The counters move right after each append returns: wait for them to catch up.
    wait_until(lambda: written() == in_warehouse(), timeout=60, what="counters = warehouse rows")
    samples = system.scrape(settings.pipeline_metrics_port)
    events_rows, dead_letter_rows = in_warehouse()
    assert samples.total("bqingest_pipeline_messages_read_total", published="after_start") == BATCH
    assert samples.total("bqingest_pipeline_messages_read_total", published="before_start") == 0
    assert samples.total("bqingest_pipeline_events_parsed_total") == events_rows
    assert samples.total("bqingest_pipeline_parse_rejected_total") == dead_letter_rows
    reasons = warehouse.query_all(
        bq,
        f"SELECT reason, stage, COUNT(*) AS n FROM `{settings.dead_letter_table_id}` "
        "GROUP BY reason, stage",
    )
    assert {
        (reason, stage): int(n)
        for (reason, stage), n in samples.by(
            "bqingest_pipeline_dead_letters_total", "reason", "stage"
        ).items()
    } == {(row["reason"], row["stage"]): row["n"] for row in reasons}
    assert (
        samples.total("bqingest_pipeline_freshness_seconds_count", published="after_start")
        == events_rows
    )
    assert samples.total("bqingest_pipeline_sink_retries_total") == 0


def test_status_once_on_a_healthy_system(system: System) -> None:
    result = system.bqingest("status", "--once", "--interval", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "bqingest status: healthy" in out
    assert "unhealthy" not in out
    assert "every process answers" in out
    assert f"{BATCH:,} in the ledger" in out
    for name in ("source", "pipeline", "API"):
        assert f"{name} " in out and " up" in out


class FixedCount:
    """Stands in for Cloud Monitoring's count of messages the topic accepted."""

    def __init__(self, published: int) -> None:
        self.published = published
        self.asked: list[tuple[str, datetime, datetime]] = []

    def count(self, topic: str, since: datetime, until: datetime) -> int:
        self.asked.append((topic, since, until))
        return self.published


def test_reconcile_by_counts_as_in_the_cloud(system: System) -> None:
    """The cloud's comparison (no ledger): Pub/Sub's count against distinct message ids."""
    now = datetime.now(UTC)
    window = Window(
        since=system.started - timedelta(minutes=1),
        until=now + timedelta(minutes=2),
        grace=timedelta(0),
        clipped=False,
    )
    counter = FixedCount(BATCH)
    report = reconcile_counts(system.bq, system.settings, window, counter)
    [(topic, since, until)] = counter.asked
    assert topic == system.settings.topic
    assert since.second == since.microsecond == until.second == 0  # whole minutes
    assert report.missing_count == report.unexpected_count == 0
    letters = sum(report.dead_lettered.values())
    assert report.ingested + letters == BATCH and letters > 0
    assert report.sli == pytest.approx(report.ingested / BATCH)
    short = reconcile_counts(system.bq, system.settings, window, FixedCount(BATCH + 3))
    assert short.missing_count == 3 and not short.ok


def test_reconcile_finds_nothing_missing_then_a_deleted_id(system: System) -> None:
    since = system.started.isoformat()
    clean = system.bqingest("reconcile", "--since", since, "--grace", "0", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    report = json.loads(clean.stdout)
    assert report["missing_count"] == 0 and report["missing_ids"] == []
    assert report["unexpected_count"] == 0
    assert report["sli"] == 1.0
    assert sum(report["published"].values()) == BATCH
    assert report["ingested"] == report["valid_event_ids"] > 0
    assert report["malformed_dead_lettered"] == report["published"]["malformed"]
    assert report["severity"] == "INFO"

    with Ledger(ledger_path(system.settings)) as ledger:
        victim = sorted(ledger.expected_event_ids())[0]
    job = system.bq.query(
        f"DELETE FROM `{system.settings.events_table_id}` WHERE id = @id",
        job_config=bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("id", "STRING", victim)]
        ),
    )
    job.result()

    broken = system.bqingest("reconcile", "--since", since, "--grace", "0", "--json")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    report = json.loads(broken.stdout)
    assert report["missing_ids"] == [victim] and report["missing_count"] == 1
    assert report["sli"] == pytest.approx(1 - 1 / report["valid_event_ids"])
    assert report["severity"] == "ERROR"
    table = system.bqingest("reconcile", "--since", since, "--grace", "0")
    assert table.returncode == 1
    assert f"missing: {victim}" in table.stdout


def test_status_once_on_a_system_whose_pipeline_stopped(system: System) -> None:
    system.pipeline.stop()
    result = system.bqingest("status", "--once", "--interval", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bqingest status: UNHEALTHY" in result.stdout
    assert "unhealthy: answering: pipeline not answering" in result.stdout
