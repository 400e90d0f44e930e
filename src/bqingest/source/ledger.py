"""The source's ledger: what it published, durably, so tests and reconciliation can compare.

One SQLite file under the data directory (``<data_dir>/source-ledger.sqlite3``), written by the
source after Pub/Sub confirms each message, readable by any other process at the same time (WAL
mode). It outlives the Pub/Sub emulator: every ``bqingest up`` in a checkout appends to the same
file. One row per published message:

=================  ===========================================================================
message_id         the message id as the pipeline records it in the warehouse (primary key):
                   Pub/Sub's own id, or under the emulator ``<boot>-<id>``
                   (:func:`bqingest.clients.recorded_message_id`), because the emulator numbers
                   its messages from 1 again after every start
pubsub_boot        the emulator's boot id (NULL for Pub/Sub itself, and for rows recorded
                   before the ledger had this column: their message ids are the emulator's own)
event_id           the event's id; for events without one (scheduler ticks) the message id;
                   NULL for malformed messages
event_source       the event's CloudEvents ``source``, which with its id is the event's
                   identity (NULL for malformed messages, and for rows recorded before the
                   ledger had this column)
kind               ``valid``, ``malformed`` or ``duplicate`` (a repeat of an earlier event id)
event_type         CloudEvents type, when there is one
expected_reason    for malformed messages: the reason code the pipeline must give them
run_id             which source run published it
published_at       when Pub/Sub confirmed the publish, by the source's clock (UTC)
=================  ===========================================================================

Messages Pub/Sub refused are in ``publish_failures`` with the error. Time windows are half-open,
``since <= published_at < until``. Pub/Sub's own ``publish_time`` is set by the server a few
milliseconds earlier; the ledger's clock is the source's.

The schema has a version (SQLite's ``user_version``); opening a file of an older version migrates
it in place, keeping every row (:data:`SCHEMA_VERSION`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from bqingest.config import CoreSettings
from bqingest.contract import Reason
from bqingest.errors import BqingestError
from bqingest.source.kinds import MessageKind

LEDGER_FILE: Final = "source-ledger.sqlite3"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

SCHEMA_VERSION: Final = 2
"""SQLite's ``user_version`` of the ledger. 0: the first ledger, which keyed rows on the
emulator's message ids alone (they collide once the emulator restarts), or a new file;
1: ``pubsub_boot`` added, and the message ids of new rows qualified with it; 2:
``event_source`` added (an event is identified by source and id, not by id alone)."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS published (
    message_id TEXT PRIMARY KEY,
    event_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('valid', 'malformed', 'duplicate')),
    event_type TEXT,
    expected_reason TEXT,
    run_id TEXT NOT NULL,
    published_at_us INTEGER NOT NULL,
    pubsub_boot TEXT,
    event_source TEXT
);
CREATE INDEX IF NOT EXISTS published_by_time ON published (published_at_us);
CREATE TABLE IF NOT EXISTS publish_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT,
    kind TEXT NOT NULL,
    error TEXT NOT NULL,
    run_id TEXT NOT NULL,
    failed_at_us INTEGER NOT NULL
);
"""


class LedgerError(BqingestError):
    """The ledger file cannot be used as it is (a newer schema than this code knows)."""


def _micros(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return (value - _EPOCH) // timedelta(microseconds=1)


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def ledger_path(settings: CoreSettings) -> Path:
    """Where the ledger of this settings' data directory lives."""
    return settings.data_dir / LEDGER_FILE


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One published message."""

    message_id: str
    event_id: str | None
    kind: MessageKind
    event_type: str | None
    expected_reason: Reason | None
    run_id: str
    published_at: datetime
    pubsub_boot: str | None = None
    event_source: str | None = None


@dataclass(frozen=True, slots=True)
class PublishFailure:
    """One message Pub/Sub did not accept."""

    event_id: str | None
    kind: MessageKind
    error: str
    run_id: str
    failed_at: datetime


class Ledger:
    """The ledger file; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
        with self._lock:
            self._migrate()

    def _migrate(self) -> None:
        """Create the tables, or bring a file of an older schema up to :data:`SCHEMA_VERSION`.

        One transaction (``BEGIN IMMEDIATE``): two processes opening an old file at once migrate
        it once. An older file's ``published`` table gets the columns it lacks (``pubsub_boot``,
        ``event_source``), NULL in its rows; they keep their message ids, which are what the
        pipeline recorded for them too.
        """
        db = self._db
        if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return  # the usual case: nothing to write, so no write lock either
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                columns = {row[1] for row in db.execute("PRAGMA table_info(published)")}
                for column in ("pubsub_boot", "event_source"):
                    if columns and column not in columns:
                        db.execute(f"ALTER TABLE published ADD COLUMN {column} TEXT")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version > SCHEMA_VERSION:
                raise LedgerError(
                    f"{self.path} has ledger schema version {version}; this bqingest knows "
                    f"{SCHEMA_VERSION} at most: update bqingest, or start afresh with "
                    "`bqingest up --fresh`"
                )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    def record(self, entries: Iterable[LedgerEntry]) -> None:
        """Add published messages (one transaction)."""
        rows = [
            (
                e.message_id,
                e.event_id,
                e.kind.value,
                e.event_type,
                e.expected_reason.value if e.expected_reason else None,
                e.run_id,
                _micros(e.published_at),
                e.pubsub_boot,
                e.event_source,
            )
            for e in entries
        ]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO published (message_id, event_id, kind, event_type, expected_reason, "
                "run_id, published_at_us, pubsub_boot, event_source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def record_failures(self, failures: Iterable[PublishFailure]) -> None:
        rows = [
            (f.event_id, f.kind.value, f.error, f.run_id, _micros(f.failed_at)) for f in failures
        ]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO publish_failures (event_id, kind, error, run_id, failed_at_us) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    # -- reading -------------------------------------------------------------------------------

    def _select(
        self, columns: str, since: datetime | None, until: datetime | None, extra: str = ""
    ) -> list[Any]:
        where = ["1 = 1"]
        params: list[Any] = []
        if since is not None:
            where.append("published_at_us >= ?")
            params.append(_micros(since))
        if until is not None:
            where.append("published_at_us < ?")
            params.append(_micros(until))
        sql = f"SELECT {columns} FROM published WHERE {' AND '.join(where)} {extra}"  # noqa: S608
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kind: MessageKind | None = None,
    ) -> list[LedgerEntry]:
        """Published messages in the window, oldest first."""
        rows = self._select(
            "message_id, event_id, kind, event_type, expected_reason, run_id, published_at_us, "
            "pubsub_boot, event_source",
            since,
            until,
            "ORDER BY published_at_us, message_id",
        )
        entries = [
            LedgerEntry(
                message_id=r[0],
                event_id=r[1],
                kind=MessageKind(r[2]),
                event_type=r[3],
                expected_reason=Reason(r[4]) if r[4] else None,
                run_id=r[5],
                published_at=_from_micros(r[6]),
                pubsub_boot=r[7],
                event_source=r[8],
            )
            for r in rows
        ]
        return [e for e in entries if kind is None or e.kind is kind]

    def expected_event_ids(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> set[str]:
        """Distinct ids the warehouse must hold for the window (valid and repeated events)."""
        rows = self._select(
            "DISTINCT event_id", since, until, "AND kind != 'malformed' AND event_id IS NOT NULL"
        )
        return {r[0] for r in rows}

    def expected_dead_letters(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, Reason]:
        """Message id -> the reason code each malformed message must be dead-lettered with."""
        rows = self._select("message_id, expected_reason", since, until, "AND kind = 'malformed'")
        return {r[0]: Reason(r[1]) for r in rows}

    def counts(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[MessageKind, int]:
        """Published messages by kind (every kind present, zero when none)."""
        rows = self._select("kind, COUNT(*)", since, until, "GROUP BY kind")
        counts = dict.fromkeys(MessageKind, 0)
        counts.update({MessageKind(kind): n for kind, n in rows})
        return counts

    def known_message_ids(self, message_ids: Iterable[str]) -> set[str]:
        """The ones among ``message_ids`` that the ledger recorded (at any time)."""
        wanted = list(dict.fromkeys(message_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT message_id FROM published WHERE message_id IN ({marks})"  # noqa: S608
            with self._lock:
                found.update(r[0] for r in self._db.execute(sql, chunk).fetchall())
        return found

    def latest_boot(self) -> str | None:
        """The Pub/Sub emulator boot of the newest message recorded (None: Pub/Sub itself, or
        an empty ledger)."""
        with self._lock:
            row = self._db.execute(
                "SELECT pubsub_boot FROM published ORDER BY published_at_us DESC LIMIT 1"
            ).fetchone()
        return None if row is None else row[0]

    def failures(self) -> list[PublishFailure]:
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, kind, error, run_id, failed_at_us FROM publish_failures "
                "ORDER BY id"
            ).fetchall()
        return [
            PublishFailure(r[0], MessageKind(r[1]), r[2], r[3], _from_micros(r[4])) for r in rows
        ]
