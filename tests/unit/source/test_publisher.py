"""Publishing records every confirmed message and every refusal; nothing is dropped."""

from __future__ import annotations

import concurrent.futures
from datetime import UTC, datetime
from pathlib import Path

from google.api_core import exceptions

from bqingest.source.generator import SCHEDULER_TICK, EventGenerator
from bqingest.source.kinds import MessageKind
from bqingest.source.ledger import Ledger
from bqingest.source.publisher import SourcePublisher

NOW = datetime(2026, 11, 29, 7, tzinfo=UTC)


class FakePublisherClient:
    """Confirms every message except the ones whose index is in ``refuse``."""

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse
        self.published: list[tuple[str, bytes, dict[str, str]]] = []

    def publish(self, topic: str, data: bytes, **attributes: str) -> concurrent.futures.Future:
        index = len(self.published)
        self.published.append((topic, data, attributes))
        future: concurrent.futures.Future = concurrent.futures.Future()
        if index in self.refuse:
            future.set_exception(exceptions.NotFound("topic gone"))
        else:
            future.set_result(f"msg-{index}")
        return future


def test_confirmed_and_refused_messages_are_both_recorded(tmp_path: Path) -> None:
    client = FakePublisherClient(refuse={2})
    messages = EventGenerator(seed=1, clock=lambda: NOW).batch(40)
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        publisher = SourcePublisher(
            client,
            "projects/p/topics/t",
            ledger,
            run_id="r",
            pubsub_boot=None,
            clock=lambda: NOW,  # type: ignore[arg-type]
        )
        report = publisher.publish(messages)
        entries = ledger.entries()
        [failure] = ledger.failures()
    assert len(report.published) == 39 and len(report.failed) == 1
    assert "NotFound" in failure.error and "topic gone" in report.summary()
    assert {e.message_id for e in entries} == {f"msg-{i}" for i in range(40) if i != 2}
    by_message = {e.message_id: e for e in entries}
    for index, message in enumerate(messages):
        if index == 2:
            continue
        recorded = by_message[f"msg-{index}"]
        expected_id = f"msg-{index}" if message.id_from_message else message.event_id
        assert recorded.event_id == expected_id
        assert recorded.kind is MessageKind.VALID
    assert all(
        attrs == m.attributes for (_, _, attrs), m in zip(client.published, messages, strict=True)
    )


def test_metrics_count_what_the_ledger_recorded(tmp_path: Path) -> None:
    from bqingest.source.metrics import build_metrics

    metrics = build_metrics()
    client = FakePublisherClient(refuse={0, 5})
    messages = EventGenerator(seed=4, malformed_fraction=0.2, clock=lambda: NOW).batch(30)
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        publisher = SourcePublisher(
            client,
            "projects/p/topics/t",
            ledger,
            run_id="r",
            pubsub_boot=None,
            clock=lambda: NOW,  # type: ignore[arg-type]
            metrics=metrics,
        )
        publisher.publish(messages)
        counts = ledger.counts()
        failures = ledger.failures()

    def value(name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(name, labels) or 0.0

    for kind in MessageKind:
        assert value("bqingest_source_published_total", kind=kind.value) == counts[kind]
    assert (
        sum(
            value("bqingest_source_publish_failures_total", kind=kind.value) for kind in MessageKind
        )
        == len(failures)
        == 2
    )
    assert value("bqingest_source_last_publish_timestamp_seconds") == NOW.timestamp()
    assert value("bqingest_source_publish_batch_duration_seconds_count") == 1


def test_under_the_emulator_message_ids_are_recorded_with_its_boot(tmp_path: Path) -> None:
    """The emulator numbers messages from 1 after every start: a second boot's ids are new."""
    messages = EventGenerator(seed=1, clock=lambda: NOW).batch(20)
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        for boot in ("aaaa", "bbbb"):  # two starts of the emulator, ids msg-0... in both
            SourcePublisher(
                FakePublisherClient(refuse=set()),
                "projects/p/topics/t",
                ledger,
                run_id=f"run-{boot}",
                pubsub_boot=boot,
                clock=lambda: NOW,  # type: ignore[arg-type]
            ).publish(messages)
        entries = ledger.entries()
    assert len(entries) == 40
    assert {e.message_id for e in entries if e.pubsub_boot == "bbbb"} == {
        f"bbbb-msg-{i}" for i in range(20)
    }
    # A tick's event id is its message id, so it is qualified too: one id per tick and boot.
    ticks = [e for e in entries if e.event_type == SCHEDULER_TICK]
    assert all(e.event_id == e.message_id for e in ticks)
    assert len({e.event_id for e in ticks}) == len(ticks) == 2 * 3  # the seed has 3 ticks
