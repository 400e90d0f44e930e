"""What ``bqingest up`` shows while it runs: published, ingested and dead-lettered, live.

Published counts come from the source's ledger, the rest from the warehouse itself, so the
numbers say what really arrived. On a terminal the table updates in place (rich ``Live``);
otherwise (a pipe, a log) a line is printed when the counts change.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field

from google.api_core import exceptions
from google.cloud import bigquery
from rich.console import Console
from rich.live import Live
from rich.table import Table

from bqingest import clients, warehouse
from bqingest.config import Settings
from bqingest.source.generator import MessageKind
from bqingest.source.ledger import Ledger, ledger_path


@dataclass(frozen=True)
class Progress:
    """One reading of the counts (``error`` when the warehouse could not be read)."""

    published: dict[MessageKind, int] = field(default_factory=dict)
    publish_failures: int = 0
    events_rows: int = 0
    event_ids: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def line(self) -> str:
        p = self.published
        text = (
            f"published {sum(p.values())} ({p.get(MessageKind.VALID, 0)} valid, "
            f"{p.get(MessageKind.MALFORMED, 0)} malformed, "
            f"{p.get(MessageKind.DUPLICATE, 0)} duplicate"
            + (f", {self.publish_failures} failed" if self.publish_failures else "")
            + f") | events: {self.event_ids} ids in {self.events_rows} rows"
            + f" | dead letters: {sum(self.dead_letters.values())}"
        )
        if self.dead_letters:
            text += " (" + ", ".join(f"{r} {n}" for r, n in sorted(self.dead_letters.items())) + ")"
        if self.error:
            text += f" | warehouse: {self.error}"
        return text

    def table(self) -> Table:
        table = Table(title="bqingest: live counts", show_header=True, header_style="bold")
        table.add_column("what")
        table.add_column("count", justify="right")
        for kind in MessageKind:
            table.add_row(f"published, {kind.value}", str(self.published.get(kind, 0)))
        if self.publish_failures:
            table.add_row("[red]publish failures[/]", str(self.publish_failures))
        table.add_row("events: distinct ids", str(self.event_ids))
        table.add_row("events: rows (with redeliveries)", str(self.events_rows))
        for reason, count in sorted(self.dead_letters.items()):
            table.add_row(f"dead letters: {reason}", str(count))
        if not self.dead_letters:
            table.add_row("dead letters", "0")
        if self.error:
            table.add_row("[yellow]warehouse[/]", self.error)
        return table


def read_progress(settings: Settings, bq: bigquery.Client, *, timeout: float = 10.0) -> Progress:
    """Read the ledger and the warehouse once; a warehouse error is reported, not raised."""
    with Ledger(ledger_path(settings)) as ledger:
        published = ledger.counts()
        failures = len(ledger.failures())
    try:
        [events] = warehouse.query_all(
            bq,
            "SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids "  # noqa: S608 - settings ids
            f"FROM `{settings.events_table_id}`",
            timeout=timeout,
        )
        letters = warehouse.query_all(
            bq,
            f"SELECT reason, COUNT(DISTINCT dead_letter_id) AS n "  # noqa: S608 - settings ids
            f"FROM `{settings.dead_letter_table_id}` GROUP BY reason",
            timeout=timeout,
        )
    except (exceptions.GoogleAPIError, OSError, http.client.HTTPException) as exc:
        return Progress(published, failures, error=f"{type(exc).__name__}: {exc}"[:200])
    return Progress(
        published=published,
        publish_failures=failures,
        events_rows=int(events["n"]),
        event_ids=int(events["ids"]),
        dead_letters={row["reason"]: int(row["n"]) for row in letters},
    )


class ProgressDisplay:
    """Refreshes the counts every ``interval`` seconds while ``up`` watches its processes."""

    def __init__(self, settings: Settings, console: Console, *, interval: float = 3.0) -> None:
        self._settings = settings
        self._console = console
        self._interval = interval
        self._bq: bigquery.Client | None = None
        self._live: Live | None = None
        self._next = 0.0
        self._last_line = ""

    def __enter__(self) -> ProgressDisplay:
        self._bq = clients.bigquery_client(self._settings)
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
        progress = read_progress(self._settings, self._bq)
        if self._live is not None:
            self._live.update(progress.table(), refresh=True)
            return
        line = progress.line()
        if line != self._last_line:
            self._console.print(line, highlight=False, soft_wrap=True)
            self._last_line = line
