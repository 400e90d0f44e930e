"""Source -> Pub/Sub emulator -> pipeline on the local runner -> bqemulator, checked by the ledger.

2,000 messages, 5 % malformed (every rejection class the generator knows) and 5 % repeats of
earlier events; the warehouse must hold exactly the distinct valid ids, each malformed message
must be dead-lettered with the reason the source expected, and no id may be visible twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.cloud import bigquery

from bqingest.config import LocalSettings
from bqingest.source.generator import SCHEDULER_TICK
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger, ledger_path
from bqingest.warehouse import query as warehouse
from tests.integration.ingestion import (
    PipelineProcess,
    assert_exactly_the_ledger,
    everything_arrived,
    start_load,
    wait_until,
)


@pytest.fixture
def ingest_settings(bootstrapped: LocalSettings, tmp_path: Path) -> LocalSettings:
    """This test's resources, its own ledger, and a small size limit (small too_large messages)."""
    return bootstrapped.model_copy(update={"data_dir": tmp_path, "max_message_bytes": 16 * 1024})


def test_two_thousand_events_arrive_exactly_once(
    ingest_settings: LocalSettings, bq: bigquery.Client, tmp_path: Path
) -> None:
    settings = ingest_settings
    pipeline = PipelineProcess(settings, tmp_path / "pipeline.log")
    pipeline.start()
    try:
        load = start_load(
            settings,
            rate=400,
            count=2000,
            seed=3,
            malformed_fraction=0.05,
            duplicate_fraction=0.05,
        )
        report = load.wait()
        assert not report.failed, report.failed[:3]
        wait_until(everything_arrived(bq, settings), what="every published message to arrive")
        pipeline.assert_running()
    finally:
        pipeline.stop()

    state = assert_exactly_the_ledger(bq, settings)
    with Ledger(ledger_path(settings)) as ledger:
        counts = ledger.counts()
        ticks = [e for e in ledger.entries() if e.event_type == SCHEDULER_TICK]
    assert sum(counts.values()) == 2000
    assert 60 <= counts[MessageKind.MALFORMED] <= 140
    assert 60 <= counts[MessageKind.DUPLICATE] <= 140
    # Repeated publishes are rows of their own in events; the view shows each id once.
    assert state.events_rows >= len(state.dedup_ids) + counts[MessageKind.DUPLICATE]
    # Every rejection class the generator produces showed up with its own reason.
    reasons = set().union(*state.dead_letters.values())
    assert len(reasons) >= 8, reasons

    # Binary-mode scheduler ticks without ce-id (what Cloud Scheduler publishes) got their
    # message id as event id, kept their attributes, and took the publish time as time.
    assert ticks, "the generator published no scheduler tick"
    rows = warehouse.query_all(
        bq,
        f"SELECT id, message_id, type, source, attributes, time, publish_time "
        f"FROM `{settings.dedup_view_id}` WHERE type = @type",
        parameters=[bigquery.ScalarQueryParameter("type", "STRING", SCHEDULER_TICK)],
    )
    assert {row["id"] for row in rows} == {tick.message_id for tick in ticks}
    for row in rows:
        assert row["id"] == row["message_id"]
        assert row["source"].startswith("//cloudscheduler.googleapis.com/projects/")
        attributes = row["attributes"]
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        assert attributes["ce-type"] == SCHEDULER_TICK
        assert "ce-id" not in attributes
        assert row["time"] == row["publish_time"]
