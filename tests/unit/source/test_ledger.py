"""The ledger records what was published and answers by time window, across processes."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bqingest.contract import Reason
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import SCHEMA_VERSION, Ledger, LedgerEntry, LedgerError, PublishFailure

T0 = datetime(2026, 11, 29, 7, tzinfo=UTC)


def entry(n: int, kind: MessageKind, event_id: str | None, reason: Reason | None = None):
    return LedgerEntry(f"m{n}", event_id, kind, "t", reason, "run", T0 + timedelta(seconds=n))


def test_record_and_query_by_window(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        ledger.record(
            [
                entry(0, MessageKind.VALID, "a"),
                entry(1, MessageKind.DUPLICATE, "a"),
                entry(2, MessageKind.MALFORMED, None, Reason.NOT_JSON),
                entry(3, MessageKind.VALID, "b"),
            ]
        )
        ledger.record_failures(
            [PublishFailure("c", MessageKind.VALID, "NotFound: topic", "run", T0)]
        )
        assert ledger.expected_event_ids() == {"a", "b"}
        assert ledger.expected_event_ids(since=T0 + timedelta(seconds=1)) == {"a", "b"}
        assert ledger.expected_event_ids(until=T0 + timedelta(seconds=3)) == {"a"}
        assert ledger.expected_dead_letters() == {"m2": Reason.NOT_JSON}
        assert ledger.counts() == {
            MessageKind.VALID: 2,
            MessageKind.MALFORMED: 1,
            MessageKind.DUPLICATE: 1,
        }
        assert [e.message_id for e in ledger.entries(kind=MessageKind.VALID)] == ["m0", "m3"]
        assert ledger.entries()[1] == entry(1, MessageKind.DUPLICATE, "a")
        [failure] = ledger.failures()
        assert failure.error == "NotFound: topic"


def test_another_connection_reads_what_one_wrote(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ledger.sqlite3"
    with Ledger(path) as writer, Ledger(path) as reader:
        writer.record([entry(0, MessageKind.VALID, "a")])
        assert reader.expected_event_ids() == {"a"}


# The first ledger's schema, as a checkout that ran `make run` before has it on disk.
FIRST_SCHEMA = """
CREATE TABLE published (
    message_id TEXT PRIMARY KEY,
    event_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('valid', 'malformed', 'duplicate')),
    event_type TEXT,
    expected_reason TEXT,
    run_id TEXT NOT NULL,
    published_at_us INTEGER NOT NULL
);
CREATE INDEX published_by_time ON published (published_at_us);
CREATE TABLE publish_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT,
    kind TEXT NOT NULL,
    error TEXT NOT NULL,
    run_id TEXT NOT NULL,
    failed_at_us INTEGER NOT NULL
);
"""


def first_ledger(path: Path) -> None:
    """A ledger file of the first schema, with two messages of an emulator run (ids 1 and 2)."""
    db = sqlite3.connect(path)
    db.executescript(FIRST_SCHEMA)
    start = int(T0.timestamp() * 1_000_000)
    db.executemany(
        "INSERT INTO published VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("1", "order-1", "valid", "t", None, "old-run", start),
            ("2", None, "malformed", None, "not_json", "old-run", start + 1),
        ],
    )
    db.execute(
        "INSERT INTO publish_failures (event_id, kind, error, run_id, failed_at_us) "
        "VALUES ('x', 'valid', 'NotFound', 'old-run', ?)",
        [start],
    )
    db.commit()
    db.close()


def test_a_ledger_of_the_first_schema_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first_ledger(path)
    with Ledger(path) as ledger:
        old = ledger.entries()
        # A restarted emulator numbers from 1 again; qualified with its boot, no collision.
        new_boot = {"run_id": "new-run", "published_at": T0, "pubsub_boot": "b00t"}
        ledger.record(
            [
                LedgerEntry("b00t-1", "order-2", MessageKind.VALID, "t", None, **new_boot),
                LedgerEntry(
                    "b00t-2", None, MessageKind.MALFORMED, None, Reason.NOT_JSON, **new_boot
                ),
            ]
        )
        assert {(e.message_id, e.pubsub_boot) for e in ledger.entries()} == {
            ("1", None),
            ("2", None),
            ("b00t-1", "b00t"),
            ("b00t-2", "b00t"),
        }
        assert ledger.expected_dead_letters() == {"2": Reason.NOT_JSON, "b00t-2": Reason.NOT_JSON}
        assert len(ledger.failures()) == 1
    assert [(e.message_id, e.event_id, e.run_id) for e in old] == [
        ("1", "order-1", "old-run"),
        ("2", None, "old-run"),
    ]
    with Ledger(path) as again:  # migrated once; opening again changes nothing
        assert len(again.entries()) == 4
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_two_processes_opening_an_old_ledger_at_once_both_get_the_new_schema(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite3"
    first_ledger(path)
    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda _: _open_and_count(path), range(4)))
    assert counts == [2, 2, 2, 2]


def _open_and_count(path: Path) -> int:
    with Ledger(path) as ledger:
        return len(ledger.entries())


def test_a_ledger_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="bqingest up --fresh"):
        Ledger(path)


def test_a_ledger_of_schema_1_gets_event_source_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first_ledger(path)
    db = sqlite3.connect(path)  # what schema 1 looked like: pubsub_boot, no event_source
    db.execute("ALTER TABLE published ADD COLUMN pubsub_boot TEXT")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        ledger.record(
            [
                LedgerEntry(
                    "b00t-1",
                    "order-2",
                    MessageKind.VALID,
                    "t",
                    None,
                    "new-run",
                    T0,
                    pubsub_boot="b00t",
                    event_source="//shop",
                )
            ]
        )
        assert {(e.message_id, e.event_id, e.event_source) for e in ledger.entries()} == {
            ("1", "order-1", None),
            ("2", None, None),
            ("b00t-1", "order-2", "//shop"),
        }
