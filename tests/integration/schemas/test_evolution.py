"""A schema gains an optional field while the pipeline runs: nothing stops, nothing is rewritten.

500 order.created events, then 500 carrying a new optional ``coupon`` (the pipeline accepts
them: unknown fields pass), then the schema gains ``coupon`` and ``bqingest bootstrap`` runs:
the type's view has a ``coupon`` column, NULL for the first 500 and filled for the others,
read from the JSON stored before the change. The pipeline, never restarted, re-reads its
registry folder: 10 events whose ``coupon`` is an object are dead-lettered ``schema_violation``
naming ``/coupon``. ``bqingest reconcile`` finds nothing missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.cloud import bigquery

from bqingest import clients
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.contract import Reason
from bqingest.contract.registry import SHIPPED_SCHEMAS
from bqingest.source.generator import ORDER_CREATED, EventGenerator, MessageKind, OutgoingMessage
from bqingest.source.ledger import Ledger, ledger_path
from bqingest.source.publisher import BATCH_SETTINGS, SourcePublisher
from bqingest.warehouse import query as warehouse
from bqingest.warehouse.events import EventStore, QueryBounds
from bqingest.warehouse.records import DataFilter, EventFilter
from tests.integration.ingestion import (
    PipelineProcess,
    everything_arrived,
    settings_env,
    wait_until,
)

pytestmark = pytest.mark.integration

REFRESH_SECONDS = 10.0
"""The pipeline's default: how often a worker looks for changed schema files."""


def publish(settings: LocalSettings, messages: list[OutgoingMessage]) -> None:
    client = clients.publisher_client(settings.endpoints, batch_settings=BATCH_SETTINGS)
    boot = clients.pubsub_emulator_boot(settings.endpoints, publisher=client)
    with Ledger(ledger_path(settings)) as ledger:
        publisher = SourcePublisher(
            client, settings.topic_path, ledger, run_id="evolution", pubsub_boot=boot
        )
        for start in range(0, len(messages), 100):
            report = publisher.publish(messages[start : start + 100])
            assert not report.failed, report.failed[:3]
    client.stop()


def object_coupon(generator: EventGenerator) -> OutgoingMessage:
    message = generator.order_created(coupon={"code": "SAVE10", "percent": 10})
    return OutgoingMessage(
        message.data,
        message.attributes,
        MessageKind.MALFORMED,
        None,
        None,
        expected_reason=Reason.SCHEMA_VIOLATION,
    )


@pytest.fixture
def evolving(settings: LocalSettings, tmp_path: Path) -> LocalSettings:
    folder = tmp_path / "schemas"
    shutil.copytree(SHIPPED_SCHEMAS, folder)
    # The shipped schema is the type's second revision, with coupon: start from the first.
    path = folder / ORDER_CREATED / "v1.json"
    document = json.loads(path.read_text())
    del document["properties"]["coupon"]
    path.write_text(json.dumps(document, indent=2))
    return settings.model_copy(update={"schemas_dir": folder, "data_dir": tmp_path})


def run_bootstrap(settings: LocalSettings, bq: bigquery.Client) -> list[str]:
    report = bootstrap(
        settings,
        bigquery_client=bq,
        publisher=clients.publisher_client(settings.endpoints),
        subscriber=clients.subscriber_client(settings.endpoints),
    )
    return report.created + report.updated


def test_an_optional_field_added_while_ingesting(
    evolving: LocalSettings, bq: bigquery.Client, tmp_path: Path
) -> None:
    settings = evolving
    view = f"{settings.project}.{settings.dataset}.events_shop_order_created_v1"
    started = datetime.now(UTC)
    assert view in run_bootstrap(settings, bq)
    generator = EventGenerator(seed=19, max_message_bytes=settings.max_message_bytes)
    before = [generator.order_created() for _ in range(500)]
    after = [generator.order_created(coupon=f"SAVE{n % 20}") for n in range(500)]

    pipeline = PipelineProcess(settings, tmp_path / "pipeline.log")
    pipeline.start()
    try:
        publish(settings, before + after)
        wait_until(everything_arrived(bq, settings), what="the first 1000 events")

        # The schema gains coupon (a reviewed pull request), bootstrap replaces the view.
        path = settings.schemas_dir / ORDER_CREATED / "v1.json"  # type: ignore[operator]
        document = json.loads(path.read_text())
        document["properties"]["coupon"] = {"type": "string", "description": "A promotion code."}
        path.write_text(json.dumps(document, indent=2))
        assert run_bootstrap(settings, bq) == [f"{view} (query)"]
        time.sleep(REFRESH_SECONDS + 1)  # the running pipeline's next look at its folder

        bad = [object_coupon(generator) for _ in range(10)]
        publish(settings, bad)
        wait_until(everything_arrived(bq, settings), what="the 10 schema violations")
        pipeline.assert_running()
    finally:
        pipeline.stop()

    since = bigquery.ScalarQueryParameter("since", "TIMESTAMP", started - timedelta(minutes=5))
    rows = warehouse.query_all(
        bq, f"SELECT id, coupon, total FROM `{view}` WHERE time >= @since", parameters=[since]
    )
    coupons = {row["id"]: row["coupon"] for row in rows}
    assert len(rows) == 1000
    assert all(coupons[m.event_id] is None for m in before)
    assert [coupons[m.event_id] for m in after] == [f"SAVE{n % 20}" for n in range(500)]
    assert all(isinstance(row["total"], float) for row in rows)

    # The API's data.coupon filter reads the column as the view does, on the emulator too.
    store = EventStore(
        lambda: clients.bigquery_client(settings.endpoints),
        table_id=settings.events_table_id,
        bounds=QueryBounds(timeout=60, maximum_bytes_billed=10**12, check_timeout=10),
    )
    wanted = EventFilter(
        type=ORDER_CREATED,
        since=started - timedelta(minutes=5),
        data=(DataFilter("coupon", "STRING", "SAVE3"),),
    )
    found = store.list_events(filters=wanted, order="asc", after=None, limit=1000)
    assert {e.id for e in found} == {m.event_id for n, m in enumerate(after) if n % 20 == 3}
    total = json.loads(after[3].data)["data"]["total"]
    both = replace(wanted, data=(*wanted.data, DataFilter("total", "FLOAT64", total)))
    found = store.list_events(filters=both, order="asc", after=None, limit=1000)
    assert after[3].event_id in {e.id for e in found}
    for event in found:
        data = event.data if isinstance(event.data, dict) else json.loads(event.data)
        assert data["total"] == total
    store.close()

    letters = warehouse.query_all(
        bq,
        f"SELECT reason, error_field, error_message FROM `{settings.dead_letter_table_id}`",
    )
    assert len(letters) == 10
    assert {(r["reason"], r["error_field"]) for r in letters} == {("schema_violation", "/coupon")}
    assert all("'type'" in r["error_message"] for r in letters)

    command = ["reconcile", "--since", started.isoformat(), "--grace", "0", "--json"]
    reconcile = subprocess.run(
        [sys.executable, "-m", "bqingest", *command],
        env={**settings_env(settings), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    report = json.loads(reconcile.stdout)
    assert report["missing_count"] == 0
    assert report["malformed_dead_lettered"] == 10
