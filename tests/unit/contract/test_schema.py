"""Table schemas: derived from the contract, exported for Terraform, never drifting."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bqingest.cli import app
from bqingest.contract import schema
from bqingest.contract.events import CloudEvent

COMMITTED = Path(__file__).parents[3] / "terraform" / "modules" / "bigquery" / "schemas"


def test_every_cloudevents_attribute_has_a_column() -> None:
    envelope = set(CloudEvent.model_fields)
    assert envelope <= set(schema.EVENTS.column_names)


def test_tables_partition_and_cluster_on_their_own_columns() -> None:
    for spec in schema.TABLES:
        assert spec.partition_field in spec.column_names
        assert set(spec.clustering) <= set(spec.column_names)
        by_name = {c.name: c for c in spec.columns}
        assert by_name[spec.partition_field].type == "TIMESTAMP"
        assert by_name[spec.partition_field].mode == "REQUIRED"
    assert schema.EVENTS.partition_field == "time"
    assert schema.EVENTS.clustering == ("id",)


def test_export_writes_bigquery_json_schemas(tmp_path: Path) -> None:
    written = schema.export(tmp_path)
    assert sorted(p.name for p in written) == [
        "dead_letters.json",
        "events.json",
        "events_dedup.sql",
    ]
    events = json.loads((tmp_path / "events.json").read_text())
    assert [c["name"] for c in events] == list(schema.EVENTS.column_names)
    assert all(set(c) == {"name", "type", "mode", "description"} for c in events)
    sql = (tmp_path / "events_dedup.sql").read_text()
    assert "`${project}.${dataset}.${table}`" in sql


def test_committed_schemas_match_the_contract(tmp_path: Path) -> None:
    """Terraform reads the committed copies: regenerate them with `bqingest schema export`."""
    schema.export(tmp_path)
    for fresh in sorted(tmp_path.iterdir()):
        committed = COMMITTED / fresh.name
        assert committed.is_file(), f"{committed} is missing"
        assert committed.read_text() == fresh.read_text(), (
            f"{committed} drifted from the contract: run "
            "`bqingest schema export terraform/modules/bigquery/schemas`"
        )


def test_cli_schema_export(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema", "export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "events.json").is_file()


def test_dedup_view_reads_the_named_table() -> None:
    sql = schema.dedup_view_sql(project="p-1", dataset="d", table="t")
    assert "`p-1.d.t`" in sql
    assert "PARTITION BY source, id ORDER BY publish_time, message_id, ingested_at" in sql
