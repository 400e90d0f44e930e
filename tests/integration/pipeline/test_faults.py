"""Faults mid-stream: the pipeline SIGKILLed twice, and the warehouse down for 10 seconds.

After each, the warehouse must hold exactly what the ledger says was published, with no id
visible twice. The local runner acknowledges messages when it pulls them, so the kills lose
whatever was in flight unless the restart's recovery (seek back, read-side de-duplication)
brings it back; the outage must be ridden out by the sink's retries without losing rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import bigquery

from bqingest import clients
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.local.stack import LocalStack
from tests.integration.conftest import stack_settings
from tests.integration.ingestion import (
    PipelineProcess,
    assert_exactly_the_ledger,
    everything_arrived,
    start_load,
    wait_until,
    written,
)

SMALL_MESSAGES = 16 * 1024


@pytest.fixture
def ingest_settings(bootstrapped: LocalSettings, tmp_path: Path) -> LocalSettings:
    return bootstrapped.model_copy(
        update={"data_dir": tmp_path, "max_message_bytes": SMALL_MESSAGES}
    )


def test_two_sigkills_mid_stream_lose_nothing_and_show_nothing_twice(
    ingest_settings: LocalSettings, bq: bigquery.Client, tmp_path: Path
) -> None:
    settings = ingest_settings
    runs = [PipelineProcess(settings, tmp_path / f"pipeline-{n}.log") for n in range(3)]
    runs[0].start()
    try:
        load = start_load(
            settings,
            rate=100,
            count=2000,
            seed=11,
            malformed_fraction=0.05,
            duplicate_fraction=0.05,
        )
        for killed, restarted in ((runs[0], runs[1]), (runs[1], runs[2])):
            before = written(bq, settings)
            wait_until(
                lambda before=before: written(bq, settings) >= before + 300,
                what="the pipeline to write 300 more rows before the kill",
            )
            killed.assert_running()
            killed.kill()
            restarted.start()
        report = load.wait()
        assert not report.failed, report.failed[:3]
        wait_until(everything_arrived(bq, settings), what="every message after two kills")
        runs[2].assert_running()
    finally:
        for run in runs:
            run.stop()

    assert_exactly_the_ledger(bq, settings)
    # Each restart replayed from the last publish time written minus the margin, so some
    # messages were written again; the view hid them.
    for run in runs[1:]:
        assert "recovery: last publish time written" in run.log_path.read_text()


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[LocalStack]:
    """A stack of its own: this test stops its BigQuery emulator."""
    with LocalStack(stack_settings(tmp_path / "stack")) as stack:
        yield stack


def test_warehouse_down_for_ten_seconds_mid_stream_loses_nothing(
    own_stack: LocalStack, tmp_path: Path
) -> None:
    settings = own_stack.settings.model_copy(
        update={"data_dir": tmp_path, "max_message_bytes": SMALL_MESSAGES}
    )
    bq = clients.bigquery_client(settings.endpoints)
    bootstrap(
        settings,
        bigquery_client=bq,
        publisher=clients.publisher_client(settings.endpoints),
        subscriber=clients.subscriber_client(settings.endpoints),
    )
    pipeline = PipelineProcess(settings, tmp_path / "pipeline.log")
    pipeline.start()
    try:
        load = start_load(
            settings,
            rate=100,
            count=2000,
            seed=12,
            malformed_fraction=0.05,
            duplicate_fraction=0.05,
        )
        wait_until(lambda: written(bq, settings) >= 300, what="300 rows before the outage")
        own_stack.bigquery.stop()
        time.sleep(10)  # the outage itself, not an assertion
        pipeline.assert_running()
        own_stack.bigquery.launch()
        own_stack.bigquery.wait_ready(timeout=60)
        report = load.wait()
        assert not report.failed, report.failed[:3]
        wait_until(everything_arrived(bq, settings), what="every message after the outage")
        pipeline.assert_running()
    finally:
        pipeline.stop()

    assert_exactly_the_ledger(bq, settings)
    log = pipeline.log_path.read_text()
    assert "failed (503" in log or "failed (504" in log, "the sink never saw the outage"
