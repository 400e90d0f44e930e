"""`bqingest up --fresh`: the stack's own state goes, listed; nothing else is touched."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from rich.console import Console

from bqingest.local.fresh import StackStillRunning, clean_slate, entries
from bqingest.source.ledger import LEDGER_FILE, Ledger
from tests.conftest import local_settings
from tests.support import free_port


def previous_runs(data_dir: Path) -> None:
    (data_dir / "warehouse").mkdir(parents=True)
    (data_dir / "warehouse" / "bqemulator.duckdb").write_bytes(b"x" * 4096)
    (data_dir / "logs").mkdir()
    (data_dir / "logs" / "pipeline.log").write_text("started\n")
    Ledger(data_dir / LEDGER_FILE).close()
    (data_dir / "notes.txt").write_text("mine, not the stack's")


def quiet_settings(tmp_path: Path):
    """Settings whose emulator ports nothing listens on."""
    return local_settings(
        tmp_path,
        pubsub_emulator_host=f"127.0.0.1:{free_port()}",
        bigquery_emulator_host=f"127.0.0.1:{free_port()}",
        bigquery_emulator_grpc_host=f"127.0.0.1:{free_port()}",
    )


def test_the_stacks_state_is_removed_after_being_listed_and_nothing_else(tmp_path: Path) -> None:
    settings = quiet_settings(tmp_path)
    data_dir = settings.data_dir
    previous_runs(data_dir)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    console = Console(record=True, width=200)
    removed = clean_slate(settings, console)
    said = console.export_text()
    assert {e.path.name for e in removed} >= {"warehouse", "logs", LEDGER_FILE}
    for entry in removed:
        assert str(entry.path) in said and not entry.path.exists()
    assert "4.0 KB" in said and "the warehouse" in said and "the source's ledger" in said
    assert (data_dir / "notes.txt").read_text() == "mine, not the stack's"
    assert "left in place (not the stack's): notes.txt" in said
    assert outside.read_text() == "keep"
    assert entries(data_dir) == []


def test_a_data_directory_with_nothing_in_it_is_fine(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    assert clean_slate(quiet_settings(tmp_path), console) == []
    assert "holds nothing of a previous run" in console.export_text()


def test_it_refuses_while_a_stack_answers_on_its_ports(tmp_path: Path) -> None:
    settings = quiet_settings(tmp_path)
    previous_runs(settings.data_dir)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        busy = settings.model_copy(update={"bigquery_emulator_host": f"127.0.0.1:{port}"})
        with pytest.raises(StackStillRunning, match="stop it"):
            clean_slate(busy, Console(record=True))
    assert (settings.data_dir / "warehouse" / "bqemulator.duckdb").exists()
