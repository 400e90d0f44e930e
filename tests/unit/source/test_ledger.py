"""The ledger records what was published and answers by time window, across processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bqingest.contract import Reason
from bqingest.source.generator import MessageKind
from bqingest.source.ledger import Ledger, LedgerEntry, PublishFailure

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
