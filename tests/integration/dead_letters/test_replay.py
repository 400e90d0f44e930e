"""Fix and replay a dead letter end to end, through the command line, exactly once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from google.cloud import bigquery

from bqingest.config import LocalSettings
from bqingest.contract import Reason
from bqingest.local.services import bqingest_command
from bqingest.operations.dead_letters import REPLAY_ATTRIBUTE
from bqingest.warehouse import query as warehouse
from bqingest.warehouse.dead_letters import Selection, list_dead_letters
from tests.integration.ingestion import PipelineProcess, settings_env, wait_until

BROKEN = {
    "specversion": "1.0",
    "id": "order-fix-1",
    "source": "//shop.bqingest.example/orders",
    "time": "2026-11-29T07:00:00Z",
    # Valid for com.bqingest.shop.order.created's schema once the missing type is added.
    "data": {
        "order_id": "fix-1",
        "customer_id": "cust-1",
        "currency": "EUR",
        "items": [{"sku": "SKU-1", "quantity": 1, "unit_price": 9.5}],
        "total": 9.5,
    },
}


def cli(settings: LocalSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**settings_env(settings), "COLUMNS": "250"}
    return subprocess.run(
        bqingest_command(*args), capture_output=True, text=True, env=env, timeout=120, check=False
    )


def visible(bq: bigquery.Client, settings: LocalSettings, event_id: str) -> list[bigquery.Row]:
    return warehouse.query_all(
        bq,
        f"SELECT id, attributes FROM `{settings.events_table_id}` WHERE id = @id",
        parameters=[bigquery.ScalarQueryParameter("id", "STRING", event_id)],
    )


def test_fix_and_replay_a_dead_letter_once(
    bootstrapped: LocalSettings, bq: bigquery.Client, publisher, tmp_path: Path
) -> None:
    settings = bootstrapped.model_copy(update={"data_dir": tmp_path})
    pipeline = PipelineProcess(settings, tmp_path / "pipeline.log")
    pipeline.start()
    try:
        publisher.publish(settings.topic_path, json.dumps(BROKEN).encode(), origin="shop").result(
            timeout=30
        )
        missing_type = Selection(reason=Reason.MISSING_FIELD)

        def dead_lettered() -> bool:
            return bool(
                list_dead_letters(bq, table=settings.dead_letter_table_id, selection=missing_type)
            )

        wait_until(dead_lettered, what="the broken event to be dead-lettered")
        [letter] = list_dead_letters(
            bq, table=settings.dead_letter_table_id, selection=missing_type
        )
        assert (letter.reason, letter.error_field) == ("missing_field", "type")

        listed = cli(settings, "deadletters", "list", "--reason", "missing_field")
        assert listed.returncode == 0, listed.stderr
        assert letter.dead_letter_id in listed.stdout

        original = tmp_path / "original.json"
        shown = cli(
            settings, "deadletters", "show", letter.dead_letter_id, "--payload-out", str(original)
        )
        assert shown.returncode == 0, shown.stderr
        fixed = tmp_path / "fixed.json"
        fixed.write_text(
            json.dumps(
                {**json.loads(original.read_text()), "type": "com.bqingest.shop.order.created"}
            )
        )

        replayed = cli(
            settings,
            "deadletters",
            "replay",
            "--id",
            letter.dead_letter_id,
            "--payload",
            str(fixed),
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert "1 replayed" in replayed.stdout

        wait_until(lambda: bool(visible(bq, settings, "order-fix-1")), what="the fixed event")
        [row] = visible(bq, settings, "order-fix-1")
        attributes = row["attributes"]
        attributes = json.loads(attributes) if isinstance(attributes, str) else attributes
        assert attributes == {"origin": "shop", REPLAY_ATTRIBUTE: letter.dead_letter_id}

        [done] = list_dead_letters(
            bq,
            table=settings.dead_letter_table_id,
            selection=Selection(ids=(letter.dead_letter_id,), include_replayed=True),
        )
        assert done.replayed_at is not None
        assert not list_dead_letters(
            bq,
            table=settings.dead_letter_table_id,
            selection=Selection(ids=(letter.dead_letter_id,)),
        )

        again = cli(settings, "deadletters", "replay", "--id", letter.dead_letter_id)
        assert again.returncode == 0, again.stderr
        assert "0 replayed" in again.stdout
        pipeline.assert_running()
    finally:
        pipeline.stop()
    assert len(visible(bq, settings, "order-fix-1")) == 1
