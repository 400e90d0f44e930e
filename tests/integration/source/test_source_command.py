"""`bqingest source` publishes to the emulator, records the ledger, and reports failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bqingest.clients import recorded_message_id
from bqingest.config import LocalSettings
from bqingest.local.services import bqingest_command
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger, ledger_path
from tests.integration.ingestion import settings_env
from tests.integration.test_emulators import pull


def source(settings: LocalSettings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bqingest_command("source", *args),
        capture_output=True,
        text=True,
        env=settings_env(settings),
        timeout=120,
        check=False,
    )


def test_one_scheduled_batch_is_published_and_recorded(
    bootstrapped: LocalSettings, subscriber, tmp_path: Path
) -> None:
    settings = bootstrapped.model_copy(update={"data_dir": tmp_path})
    result = source(settings, "--batch", "20", "--batches", "1", "--seed", "4")
    assert result.returncode == 0, result.stderr
    assert "published 20" in result.stdout
    with Ledger(ledger_path(settings)) as ledger:
        entries = ledger.entries()
    assert len(entries) == 20
    received = pull(subscriber, settings.subscription_path, want=20)
    # Under the emulator the ledger records message ids qualified with the emulator's boot.
    [boot] = {e.pubsub_boot for e in entries}
    assert boot is not None
    assert {recorded_message_id(m.message.message_id, boot) for m in received} == {
        e.message_id for e in entries
    }
    assert all(e.kind is not MessageKind.MALFORMED or e.expected_reason for e in entries)


def test_a_missing_topic_is_reported_and_recorded_not_dropped(
    settings: LocalSettings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"data_dir": tmp_path})  # nothing bootstrapped
    result = source(settings, "--rate", "50", "--count", "5", "--seed", "4")
    assert result.returncode == 1
    assert "5 message(s) were not published" in result.stdout + result.stderr
    with Ledger(ledger_path(settings)) as ledger:
        assert ledger.entries() == []
        failures = ledger.failures()
    assert len(failures) == 5
    assert all("NotFound" in f.error for f in failures)
