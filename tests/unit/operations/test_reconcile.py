"""The reconciliation window, its report as a log line, and the Cloud Monitoring request."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from google.cloud import monitoring_v3

from bqingest.operations.errors import ReconcileError
from bqingest.operations.reconcile import CloudMonitoringCounter, Report, Window, parse_time

NOW = datetime(2026, 11, 29, 12, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW - timedelta(hours=2)),
        ("90s", NOW - timedelta(seconds=90)),
        ("1.5d", NOW - timedelta(hours=36)),
        ("2026-11-29T07:00:00Z", datetime(2026, 11, 29, 7, tzinfo=UTC)),
        ("2026-11-29T07:00:00", datetime(2026, 11, 29, 7, tzinfo=UTC)),
        ("2026-11-29T08:00:00+01:00", datetime(2026, 11, 29, 7, tzinfo=UTC)),
    ],
)
def test_times_are_iso_or_a_duration_ago(text: str, expected: datetime) -> None:
    assert parse_time(text, now=NOW) == expected


def test_a_time_that_is_neither_says_what_is_accepted() -> None:
    with pytest.raises(ReconcileError, match="neither an ISO 8601 time"):
        parse_time("yesterday", now=NOW)


@pytest.mark.parametrize(
    "text", ["1000000d", "99999999999d", "1" + "0" * 400 + "h", "0001-01-01T00:00:00+01:00"]
)
def test_a_time_outside_utc_range_is_refused_with_the_range(text: str) -> None:
    with pytest.raises(ReconcileError, match=re.escape("outside 0001-01-01..9999-12-31 in UTC")):
        parse_time(text, now=NOW)


def test_the_window_ends_before_the_grace_period() -> None:
    grace = timedelta(minutes=5)
    open_ended = Window.resolve(NOW - timedelta(hours=1), None, grace=grace, now=NOW)
    assert open_ended.until == NOW - grace and open_ended.clipped
    too_late = Window.resolve(NOW - timedelta(hours=1), NOW, grace=grace, now=NOW)
    assert too_late.until == NOW - grace and too_late.clipped
    inside = Window.resolve(NOW - timedelta(hours=1), NOW - grace * 2, grace=grace, now=NOW)
    assert inside.until == NOW - grace * 2 and not inside.clipped
    with pytest.raises(ReconcileError, match="grace period"):
        Window.resolve(NOW - timedelta(minutes=1), None, grace=grace, now=NOW)


def test_the_cloud_window_is_cut_to_whole_minutes() -> None:
    window = Window(NOW - timedelta(minutes=61), NOW, timedelta(0), clipped=False).to_minutes()
    assert (window.since, window.until) == (
        datetime(2026, 11, 29, 10, 59, tzinfo=UTC),
        datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
    )
    with pytest.raises(ReconcileError, match="shorter than a minute"):
        Window(NOW, NOW + timedelta(seconds=20), timedelta(0), clipped=False).to_minutes()


def report(**changes: object) -> Report:
    values: dict[str, object] = {
        "mode": "ledger",
        "since": NOW - timedelta(hours=1),
        "until": NOW,
        "grace_seconds": 300.0,
        "published": {"valid": 98, "malformed": 2, "duplicate": 0},
        "valid_event_ids": 98,
        "ingested": 97,
        "dead_lettered": {},
        "missing_count": 1,
        "missing_ids": ["order-1"],
        "sli": 97 / 98,
    }
    values.update(changes)
    return Report(**values)  # type: ignore[arg-type]


def test_the_report_is_one_structured_log_line() -> None:
    line = report().to_json()
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["severity"] == "ERROR" and entry["kind"] == "bqingest.reconcile"
    assert entry["message"].endswith("100 published, 1 missing, 0 unexpected, SLI 98.9796%")
    assert entry["missing_ids"] == ["order-1"] and entry["sli"] == pytest.approx(97 / 98)
    assert entry["since"] == "2026-11-29T11:00:30+00:00"
    assert json.loads(report(missing_count=0, missing_ids=[]).to_json())["severity"] == "INFO"


class FakeMetricClient:
    """Answers ListTimeSeries with two series of points, as the API would."""

    def __init__(self, *series: list[int]) -> None:
        self.series = series
        self.requests: list[dict] = []

    def list_time_series(self, *, request: dict) -> list[SimpleNamespace]:
        self.requests.append(request)
        return [
            SimpleNamespace(
                points=[SimpleNamespace(value=SimpleNamespace(int64_value=v)) for v in points]
            )
            for points in self.series
        ]


def test_cloud_monitoring_counter_sums_one_aligned_window() -> None:
    client = FakeMetricClient([40, 2], [3])
    counter = CloudMonitoringCounter(client, "bqingest-prod")
    since, until = NOW - timedelta(hours=1, seconds=30), NOW - timedelta(seconds=30)
    assert counter.count("events", since, until) == 45
    [request] = client.requests
    # The request is a valid ListTimeSeriesRequest of the API's own message.
    message = monitoring_v3.ListTimeSeriesRequest(request)
    assert message.name == "projects/bqingest-prod"
    assert 'metric.type="pubsub.googleapis.com/topic/send_message_operation_count"' in (
        message.filter
    )
    assert 'resource.label."topic_id"="events"' in message.filter
    assert message.aggregation.alignment_period.seconds == 3600
    assert message.aggregation.per_series_aligner == monitoring_v3.Aggregation.Aligner.ALIGN_SUM
    assert message.aggregation.cross_series_reducer == monitoring_v3.Aggregation.Reducer.REDUCE_SUM


class FakeWarehouse:
    """The warehouse as reconciliation's queries see it: events visible as ``(source, id)``,
    dead letters by message."""

    def __init__(self, visible: set[tuple[str, str]], letters: dict[str, set[str]]) -> None:
        self.visible, self.letters = visible, letters

    def with_ids(self, ids: set[str]) -> set[tuple[str, str]]:
        return {key for key in self.visible if key[1] in ids}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from bqingest.operations import reconcile

        queries = reconcile.queries
        monkeypatch.setattr(
            queries,
            "visible_keys",
            lambda bq, t, ids: self.with_ids(set(ids)),
        )
        monkeypatch.setattr(
            queries,
            "dead_letter_reasons",
            lambda bq, t, ids: {i: self.letters[i] for i in ids if i in self.letters},
        )
        monkeypatch.setattr(queries, "event_messages", lambda bq, t, since, until: [])
        monkeypatch.setattr(queries, "dead_letter_messages", lambda bq, t, since, until: set())


def test_runs_of_the_emulator_are_told_apart_and_what_an_ended_run_lost_is_said(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bqingest.contract import Reason
    from bqingest.operations.reconcile import reconcile_ledger
    from bqingest.source.kinds import MessageKind
    from bqingest.source.ledger import Ledger, LedgerEntry
    from bqingest.warehouse.reconcile import Tables

    t0 = NOW - timedelta(hours=1)

    def entry(boot: str, n: int, kind: MessageKind, event_id: str | None) -> LedgerEntry:
        reason = Reason.NOT_JSON if kind is MessageKind.MALFORMED else None
        at = t0 + timedelta(minutes=n + (30 if boot == "b2" else 0))
        return LedgerEntry(f"{boot}-{n}", event_id, kind, "t", reason, f"run-{boot}", at, boot)

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        ledger.record(
            [
                # run 1 (boot b1) was killed: its tick 3 and malformed message 2 never arrived
                entry("b1", 1, MessageKind.VALID, "order-1"),
                entry("b1", 2, MessageKind.MALFORMED, None),
                entry("b1", 3, MessageKind.VALID, "b1-3"),
                # run 2 (boot b2) numbers from 1 again: its message 2 is a dead letter, its
                # tick 3 is still on its way
                entry("b2", 1, MessageKind.VALID, "order-2"),
                entry("b2", 2, MessageKind.MALFORMED, None),
                entry("b2", 3, MessageKind.VALID, "b2-3"),
            ]
        )
        FakeWarehouse({("//s", "order-1"), ("//s", "order-2")}, {"b2-2": {"not_json"}}).install(
            monkeypatch
        )
        window = Window(t0, NOW, timedelta(0), clipped=False)
        result = reconcile_ledger(ledger, None, Tables("e", "d", "v"), window)  # type: ignore[arg-type]
    assert result.missing_ids == ["b1-3", "b2-3", "b1-2"]
    assert result.malformed_dead_lettered == 1
    assert any(
        note.startswith("2 of the missing were published under an earlier start")
        for note in result.notes
    )


def test_an_event_is_found_by_source_and_id_not_by_id_alone(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bqingest.operations.reconcile import reconcile_ledger
    from bqingest.source.kinds import MessageKind
    from bqingest.source.ledger import Ledger, LedgerEntry
    from bqingest.warehouse.reconcile import Tables

    t0 = NOW - timedelta(hours=1)

    def entry(n: int, event_id: str, source: str | None) -> LedgerEntry:
        at = t0 + timedelta(minutes=n)
        return LedgerEntry(
            f"b-{n}", event_id, MessageKind.VALID, "t", None, "run", at, "b", event_source=source
        )

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        ledger.record(
            [
                entry(1, "order-1", "//shop"),  # arrived
                entry(2, "order-2", "//shop"),  # only another source's order-2 arrived
                entry(3, "order-2", "//web"),  # arrived: same id, its own source
                entry(4, "order-3", None),  # recorded before the ledger kept sources
            ]
        )
        FakeWarehouse(
            {("//shop", "order-1"), ("//web", "order-2"), ("//other", "order-3")}, {}
        ).install(monkeypatch)
        window = Window(t0, NOW, timedelta(0), clipped=False)
        result = reconcile_ledger(ledger, None, Tables("e", "d", "v"), window)  # type: ignore[arg-type]
    assert result.valid_event_ids == 4
    assert result.ingested == 3  # order-3 of unknown source matches by id
    assert result.missing_ids == ["order-2"] and result.missing_count == 1
    assert result.sli == pytest.approx(3 / 4)
