"""bqemulator with one DuckDB cursor per thread: ``python -m bqingest.local.bqemulator_main``.

bqemulator 1.4.0 shares a single DuckDB connection between its REST API (the event-loop thread)
and its Storage Write API (gRPC's thread pool), serialising only gRPC writes among themselves.
A query that runs while the pipeline appends rows then fails with "Attempting to execute an
unsuccessful or closed pending query result", or both calls hang until their deadlines (seen
within seconds of starting the pipeline with a test polling the warehouse). DuckDB's answer to
concurrent use is one cursor per thread (``connection.cursor()``: same database, own statement
state). This entry point makes ``DuckDBEngine.connection`` return such a cursor, with the session
setting bqemulator applies at start (UTC time zone; Python UDFs are database-wide), and then runs
bqemulator's own command line unchanged.

Unless ``BQINGEST_BIGQUERY_EMULATOR_TIME_TRAVEL=true`` is in its environment (the setting of that
name; ``BigQueryEmulator`` always sets it), bqemulator also skips the copy of the whole table it
makes after every write for time travel (``FOR SYSTEM_TIME AS OF`` then reads the live table).
That copy makes every Storage Write API append cost grow with the table: with it, freshness at
100 events/s was p99 36.8 s, without it 0.40 s (docs/performance.md). Nothing in bqingest reads
past versions of a table.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from bqemulator.cli import main as bqemulator_main
from bqemulator.storage import engine as bqemulator_engine

_per_thread = threading.local()


def _thread_cursor(root: Any) -> Any:
    cursors: dict[int, Any] | None = getattr(_per_thread, "cursors", None)
    if cursors is None:
        cursors = _per_thread.cursors = {}
    cursor = cursors.get(id(root))
    if cursor is None:
        cursor = root.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        cursors[id(root)] = cursor
    return cursor


def use_a_cursor_per_thread() -> None:
    """Patch bqemulator's engine so that each thread talks to DuckDB through its own cursor."""
    engine_class: Any = bqemulator_engine.DuckDBEngine
    if getattr(engine_class, "_bqingest_cursor_per_thread", False):
        return
    shared = engine_class.connection

    def connection(self: Any) -> Any:
        return _thread_cursor(shared.fget(self))

    engine_class.connection = property(connection, doc=shared.__doc__)
    engine_class._bqingest_cursor_per_thread = True


def skip_auto_snapshots() -> None:
    """Patch bqemulator so that a write publishes its change event without copying the table."""
    from bqemulator.domain.events import TableDataChanged
    from bqemulator.versioning import snapshots

    manager: Any = snapshots.SnapshotManager

    def record_change(self: Any, project_id: str, dataset_id: str, table_id: str) -> None:
        self._events.publish(TableDataChanged(project_id, dataset_id, table_id))

    manager.record_change = record_change


if __name__ == "__main__":
    from bqingest.local.bigquery_emulator import ensure_spatial_extension

    ensure_spatial_extension()  # offline start: install from the wheel, never download
    use_a_cursor_per_thread()
    if os.environ.get("BQINGEST_BIGQUERY_EMULATOR_TIME_TRAVEL", "false").lower() != "true":
        skip_auto_snapshots()
    bqemulator_main()
