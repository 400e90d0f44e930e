"""What was published and what arrived: the source's ledger against the warehouse's totals.

``bqingest up`` shows these counts live (:mod:`bqingest.local.display`); ``bqingest status``
reads them with every reading. Published counts come from the source's ledger, the rest from the
warehouse itself, so the numbers say what really arrived.
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from dataclasses import dataclass, field

from google.api_core import exceptions
from google.cloud import bigquery

from bqingest.config import CoreSettings
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger, ledger_path
from bqingest.warehouse.totals import totals


@dataclass(frozen=True)
class Counts:
    """One reading of the counts (``error`` when the warehouse could not be read)."""

    published: Mapping[MessageKind, int] = field(default_factory=dict)
    publish_failures: int = 0
    events_rows: int = 0
    event_ids: int = 0
    dead_letters: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None

    def line(self) -> str:
        """The counts on one line (for logs and pipes)."""
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


def read_counts(settings: CoreSettings, bq: bigquery.Client, *, timeout: float = 10.0) -> Counts:
    """Read the ledger and the warehouse once; a warehouse error is reported, not raised."""
    with Ledger(ledger_path(settings)) as ledger:
        published = ledger.counts()
        failures = len(ledger.failures())
    try:
        held = totals(
            bq,
            events_table=settings.events_table_id,
            dead_letter_table=settings.dead_letter_table_id,
            timeout=timeout,
        )
    except (exceptions.GoogleAPIError, OSError, http.client.HTTPException) as exc:
        return Counts(published, failures, error=f"{type(exc).__name__}: {exc}"[:200])
    return Counts(
        published=published,
        publish_failures=failures,
        events_rows=held.events_rows,
        event_ids=held.event_ids,
        dead_letters=dict(held.dead_letters),
    )
