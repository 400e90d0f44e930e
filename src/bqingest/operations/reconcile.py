"""``bqingest reconcile``: what was published in a window against what the warehouse holds.

**Locally** the source's ledger says, message by message, what was published; the comparison is
by id:

* every valid event published in the window (kinds ``valid`` and ``duplicate``: a repeat is
  the same event again) must be visible in ``events_dedup`` under its identity, source and id
  (one row per identity, so redeliveries and repeats count once; another source's event with
  the same id does not stand in for it); an event that is not there but whose message is in
  ``dead_letters`` is *dead-lettered* (with its reason), otherwise *missing* (listed by id);
* every ``malformed`` message must be in ``dead_letters`` (by message id), with the reason the
  source expected; otherwise it is *missing* too;
* rows of ``events`` published in the window whose message id the ledger never recorded are
  *unexpected* (events posted to the API, dead letters replayed, another publisher).

Locally the ledger spans every run of ``bqingest up`` in the checkout, while the Pub/Sub
emulator starts empty each time and numbers its messages from 1 again. Message ids are therefore
recorded qualified with the emulator's boot (``<boot>-<id>``, :mod:`bqingest.clients`) by the
source and the pipeline alike, so an id of one run never matches a row of another. A message
that is missing and was published under an earlier boot can no longer arrive (the emulator that
held it is gone): the report says how many of the missing are such, apart from those that may
still be on their way.

The processing-correctness SLI is valid events ingested / valid events published (each
counted once per identity). Ledger rows recorded before the ledger kept the event's source
match an event of that id from any source.

**In the cloud** there is no ledger: the count of messages Pub/Sub accepted on the topic in the
window (Cloud Monitoring, ``pubsub.googleapis.com/topic/send_message_operation_count``, response
code ``success``) is compared with the distinct message ids in ``events`` plus ``dead_letters``
published in the window. Only counts can be compared (no id can be named), every publisher
(Scheduler, the API, replays) is included on both sides, and the window is cut at whole minutes,
the metric's resolution. The SLI is then events / (events + dead letters), the definition of the
processing-correctness SLO.

**Window.** ``[since, until)`` by publish time. ``until`` is never later than now minus the grace
period (``BQINGEST_RECONCILE_GRACE_SECONDS``): a message published a moment ago may be on its way,
and judging it would report it missing.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol, TypeAlias

from google.cloud import bigquery

from bqingest.config import OperationsSettings
from bqingest.operations.errors import ReconcileError
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger, LedgerEntry, ledger_path
from bqingest.warehouse import reconcile as queries
from bqingest.warehouse.reconcile import Tables

LISTED: Final = 100  # ids listed in the report (all are counted)

EventKey: TypeAlias = tuple[str | None, str]
"""An event's identity as the ledger has it: ``(source, id)``; source None for rows recorded
before the ledger kept it."""
_RELATIVE: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(text: str, *, now: datetime) -> datetime:
    """ISO 8601 (UTC when it has no zone), or a duration ago: ``90s``, ``15m``, ``2h``, ``7d``."""
    relative = _RELATIVE.fullmatch(text.strip())
    try:
        if relative:
            seconds = float(relative.group(1)) * _UNITS[relative.group(2)]
            return now - timedelta(seconds=seconds)
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        value.astimezone(UTC)  # an offset can carry it outside UTC's range
        return value
    except ValueError:
        raise ReconcileError(
            f"{text!r} is neither an ISO 8601 time (2026-11-29T07:00:00Z) nor a duration ago "
            "(90s, 15m, 2h, 7d)"
        ) from None
    except OverflowError:
        raise ReconcileError(f"{text!r} is outside 0001-01-01..9999-12-31 in UTC") from None


@dataclass(frozen=True)
class Window:
    """``[since, until)`` by publish time; ``clipped`` when the grace period moved ``until``."""

    since: datetime
    until: datetime
    grace: timedelta
    clipped: bool

    @classmethod
    def resolve(
        cls, since: datetime, until: datetime | None, *, grace: timedelta, now: datetime
    ) -> Window:
        latest = now - grace
        end = latest if until is None else min(until, latest)
        if end <= since:
            raise ReconcileError(
                f"nothing to reconcile: the window starts at {since.isoformat()} and must end "
                f"before now minus the {grace.total_seconds():g}s grace period "
                f"({latest.isoformat()}); start earlier or lower --grace"
            )
        return cls(since, end, grace, clipped=until is None or until > latest)

    def to_minutes(self) -> Window:
        """The window cut to whole minutes (Cloud Monitoring's resolution)."""

        def floor(t: datetime) -> datetime:
            return t.replace(second=0, microsecond=0)

        since, until = floor(self.since), floor(self.until)
        if until <= since:
            raise ReconcileError("the window is shorter than a minute once cut to whole minutes")
        return Window(since, until, self.grace, self.clipped)


@dataclass
class Report:
    """The outcome; ``ok`` when nothing is missing. Serialised as one JSON line by ``--json``."""

    mode: str  # "ledger" (local) or "counts" (cloud)
    since: datetime
    until: datetime
    grace_seconds: float
    published: dict[str, int]  # messages by kind (cloud: {"messages": n})
    valid_event_ids: int | None  # distinct valid events (source, id) published (ledger only)
    ingested: int  # of those, visible in events_dedup (cloud: messages in events)
    dead_lettered: dict[str, int]  # valid events' messages in dead_letters, by reason
    malformed_dead_lettered: int = 0  # malformed messages dead-lettered as expected
    malformed_other_reason: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing_count: int = 0
    missing_ids: list[str] = field(default_factory=list)  # event ids, then malformed message ids
    unexpected_count: int = 0
    unexpected_ids: list[str] = field(default_factory=list)
    unexpected_dead_letters: int = 0
    sli: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.missing_count == 0

    def as_log_entry(self) -> dict[str, Any]:
        """A structured log line: Cloud Logging reads ``severity`` and ``message`` from it, and
        the monitoring module's log-based metrics read ``sli`` and ``missing_count``."""
        body = asdict(self)
        body["since"] = self.since.isoformat()
        body["until"] = self.until.isoformat()
        return {
            "severity": "INFO" if self.ok else "ERROR",
            "message": self.summary(),
            "kind": "bqingest.reconcile",
            **body,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_log_entry(), separators=(",", ":"), sort_keys=False)

    def summary(self) -> str:
        sli = f"{self.sli:.4%}" if self.sli is not None else "n/a"
        return (
            f"reconcile {self.since.isoformat()} .. {self.until.isoformat()}: "
            f"{sum(self.published.values())} published, {self.missing_count} missing, "
            f"{self.unexpected_count} unexpected, SLI {sli}"
        )


class PublishedCounter(Protocol):
    """Counts the messages a topic accepted in a window (the cloud has no ledger)."""

    def count(self, topic: str, since: datetime, until: datetime) -> int: ...


def tables(settings: OperationsSettings) -> Tables:
    """The tables reconciliation reads, from the settings."""
    return Tables(
        events=settings.events_table_id,
        dead_letters=settings.dead_letter_table_id,
        dedup_view=settings.dedup_view_id,
    )


def reconcile_ledger(ledger: Ledger, bq: bigquery.Client, where: Tables, window: Window) -> Report:
    """Compare the ledger's messages in ``window`` with the warehouse, event by event."""
    entries = ledger.entries(since=window.since, until=window.until)
    published = {kind.value: 0 for kind in MessageKind}
    messages_of: dict[EventKey, list[LedgerEntry]] = {}
    malformed: dict[str, LedgerEntry] = {}
    for entry in entries:
        published[entry.kind.value] += 1
        if entry.kind is MessageKind.MALFORMED:
            malformed[entry.message_id] = entry
        elif entry.event_id is not None:
            messages_of.setdefault((entry.event_source, entry.event_id), []).append(entry)
    found = queries.visible_keys(bq, where, (event_id for _, event_id in messages_of))
    found_ids = {event_id for _, event_id in found}
    visible = {
        key for key in messages_of if (key in found if key[0] is not None else key[1] in found_ids)
    }
    absent = sorted(set(messages_of) - visible, key=lambda key: (key[1], key[0] or ""))
    to_look_up = [e.message_id for k in absent for e in messages_of[k]] + list(malformed)
    reasons = queries.dead_letter_reasons(bq, where, to_look_up)

    dead_lettered: dict[str, int] = {}
    missing_events: list[EventKey] = []
    missing_letters: list[LedgerEntry] = []
    for key in absent:
        seen = set().union(*(reasons.get(e.message_id, set()) for e in messages_of[key]))
        if seen:
            reason = min(seen)  # one per event, even if several of its messages failed
            dead_lettered[reason] = dead_lettered.get(reason, 0) + 1
        else:
            missing_events.append(key)
    malformed_ok = 0
    other_reason: dict[str, dict[str, Any]] = {}
    for message_id, entry in sorted(malformed.items()):
        got = reasons.get(message_id)
        expected = entry.expected_reason.value if entry.expected_reason else None
        if not got:
            missing_letters.append(entry)
        elif expected in got:
            malformed_ok += 1
        else:
            other_reason[message_id] = {"expected": expected, "got": sorted(got)}

    # Listed by id: event ids first, then malformed messages' ids.
    missing = [event_id for _, event_id in missing_events]
    missing += [entry.message_id for entry in missing_letters]
    unexpected = _unexpected(ledger, bq, where, window)
    letters = queries.dead_letter_messages(bq, where, window.since, window.until)
    known = ledger.known_message_ids(letters)
    report = Report(
        mode="ledger",
        since=window.since,
        until=window.until,
        grace_seconds=window.grace.total_seconds(),
        published=published,
        valid_event_ids=len(messages_of),
        ingested=len(visible),
        dead_lettered=dead_lettered,
        malformed_dead_lettered=malformed_ok,
        malformed_other_reason=other_reason,
        missing_count=len(missing),
        missing_ids=missing[:LISTED],
        unexpected_count=len(unexpected),
        unexpected_ids=unexpected[:LISTED],
        unexpected_dead_letters=len(letters - known),
        sli=len(visible) / len(messages_of) if messages_of else None,
    )
    if window.clipped:
        report.notes.append(
            f"the window ends {window.grace.total_seconds():g}s before now (grace period)"
        )
    lost = _lost_with_an_earlier_boot(
        ledger, [messages_of[key] for key in missing_events] + [[e] for e in missing_letters]
    )
    if lost:
        report.notes.append(
            f"{lost} of the missing were published under an earlier start of the Pub/Sub "
            "emulator, which keeps messages in memory only: what the pipeline had not written "
            "when that run stopped is gone for good (docs/local.md)"
        )
    return report


def _lost_with_an_earlier_boot(ledger: Ledger, missing: list[list[LedgerEntry]]) -> int:
    """How many of the missing (each given by its messages) were published only under an
    emulator boot that has ended."""
    current = ledger.latest_boot()
    if current is None:
        return 0
    return sum(
        all(e.pubsub_boot is not None and e.pubsub_boot != current for e in entries)
        for entries in missing
    )


def _unexpected(ledger: Ledger, bq: bigquery.Client, where: Tables, window: Window) -> list[str]:
    """Event ids of ``events`` rows published in the window by nobody the ledger knows."""
    rows = queries.event_messages(bq, where, window.since, window.until)
    known = ledger.known_message_ids(message_id for _, message_id in rows)
    return sorted({event_id for event_id, message_id in rows if message_id not in known})


def reconcile_counts(
    bq: bigquery.Client, settings: OperationsSettings, window: Window, counter: PublishedCounter
) -> Report:
    """Compare Pub/Sub's count of published messages with the warehouse's (the cloud)."""
    window = window.to_minutes()
    published = counter.count(settings.topic, window.since, window.until)
    lookback = timedelta(hours=settings.reconcile_event_lookback_hours)
    counts = queries.window_counts(
        bq, tables(settings), window.since, window.until, event_lookback=lookback
    )
    ingested = counts.events
    dead_lettered = counts.dead_letters
    processed = ingested + sum(dead_lettered.values())
    return Report(
        mode="counts",
        since=window.since,
        until=window.until,
        grace_seconds=window.grace.total_seconds(),
        published={"messages": published},
        valid_event_ids=None,
        ingested=ingested,
        dead_lettered=dead_lettered,
        missing_count=max(0, published - processed),
        unexpected_count=max(0, processed - published),
        sli=ingested / processed if processed else None,
        notes=[
            "counts only: the cloud keeps no ledger, so no id can be named; the SLI is "
            "events / (events + dead letters)",
            f"events whose time is more than {settings.reconcile_event_lookback_hours} h before "
            "the window are not counted (BQINGEST_RECONCILE_EVENT_LOOKBACK_HOURS): a backfill "
            "of older events shows as missing",
        ],
    )


class CloudMonitoringCounter:
    """:class:`PublishedCounter` on Cloud Monitoring's Pub/Sub topic metrics."""

    METRIC: Final = "pubsub.googleapis.com/topic/send_message_operation_count"

    def __init__(self, client: Any, project: str) -> None:
        self._client = client
        self._project = project

    def request(self, topic: str, since: datetime, until: datetime) -> dict[str, Any]:
        """The ListTimeSeries request: one sum over the whole window, all series reduced."""
        seconds = int((until - since).total_seconds())
        return {
            "name": f"projects/{self._project}",
            "filter": (
                f'metric.type="{self.METRIC}" AND resource.type="pubsub_topic" '
                f'AND resource.label."topic_id"="{topic}" '
                'AND metric.label."response_code"="success"'
            ),
            "interval": {"start_time": since, "end_time": until},
            "aggregation": {
                "alignment_period": {"seconds": seconds},
                "per_series_aligner": "ALIGN_SUM",
                "cross_series_reducer": "REDUCE_SUM",
            },
        }

    def count(self, topic: str, since: datetime, until: datetime) -> int:
        series = self._client.list_time_series(request=self.request(topic, since, until))
        return sum(int(point.value.int64_value) for ts in series for point in ts.points)


def cloud_counter(settings: OperationsSettings) -> CloudMonitoringCounter:
    """The Cloud Monitoring client with the process's default credentials."""
    from google.cloud import monitoring_v3

    return CloudMonitoringCounter(monitoring_v3.MetricServiceClient(), settings.project)


def run(
    settings: OperationsSettings,
    bq: bigquery.Client,
    *,
    since: str,
    until: str | None,
    grace: float | None,
    now: datetime,
    counter: PublishedCounter | None = None,
) -> Report:
    """Resolve the window and reconcile: by id against the ledger locally, by count elsewhere."""
    window = Window.resolve(
        parse_time(since, now=now),
        parse_time(until, now=now) if until is not None else None,
        grace=timedelta(seconds=settings.reconcile_grace_seconds if grace is None else grace),
        now=now,
    )
    if settings.is_local:
        path = ledger_path(settings)
        if not path.is_file():
            raise ReconcileError(
                f"no source ledger at {path}: locally, reconcile compares with what "
                "`bqingest source` (or `bqingest up`) recorded there; check BQINGEST_DATA_DIR"
            )
        with Ledger(path) as ledger:
            return reconcile_ledger(ledger, bq, tables(settings), window)
    return reconcile_counts(bq, settings, window, counter or cloud_counter(settings))
