"""What ``bqingest up`` shows while it runs: published, ingested and dead-lettered, live.

The counts are :mod:`bqingest.operations.counts`'. On a terminal the table updates in place
(rich ``Live``); otherwise (a pipe, a log) a line is printed when the counts change.
"""

from __future__ import annotations

import time

from google.cloud import bigquery
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from bqingest import clients
from bqingest.config import LocalSettings
from bqingest.operations.counts import Counts, read_counts
from bqingest.source.kinds import MessageKind


def counts_table(counts: Counts) -> Table:
    """The counts as a table (for a terminal)."""
    table = Table(title="bqingest: live counts", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("count", justify="right")
    for kind in MessageKind:
        table.add_row(f"published, {kind.value}", str(counts.published.get(kind, 0)))
    if counts.publish_failures:
        table.add_row("[red]publish failures[/]", str(counts.publish_failures))
    table.add_row("events: distinct ids", str(counts.event_ids))
    table.add_row("events: rows (with redeliveries)", str(counts.events_rows))
    for reason, count in sorted(counts.dead_letters.items()):
        table.add_row(f"dead letters: {reason}", str(count))
    if not counts.dead_letters:
        table.add_row("dead letters", "0")
    if counts.error:
        table.add_row("[yellow]warehouse[/]", escape(counts.error))
    return table


class LiveCounts:
    """Refreshes the counts every ``interval`` seconds while ``up`` watches its processes."""

    def __init__(self, settings: LocalSettings, console: Console, *, interval: float = 3.0) -> None:
        self._settings = settings
        self._console = console
        self._interval = interval
        self._bq: bigquery.Client | None = None
        self._live: Live | None = None
        self._next = 0.0
        self._last_line = ""

    def __enter__(self) -> LiveCounts:
        self._bq = clients.bigquery_client(self._settings.endpoints)
        if self._console.is_terminal:
            self._live = Live(console=self._console, auto_refresh=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
        if self._bq is not None:
            self._bq.close()  # type: ignore[no-untyped-call]

    def refresh(self) -> None:
        now = time.monotonic()
        if now < self._next or self._bq is None:
            return
        self._next = now + self._interval
        counts = read_counts(self._settings, self._bq)
        if self._live is not None:
            self._live.update(counts_table(counts), refresh=True)
            return
        line = counts.line()
        if line != self._last_line:
            self._console.print(line, highlight=False, soft_wrap=True)
            self._last_line = line
