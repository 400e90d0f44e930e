"""The local runner's pulls get a short deadline, so an idle pull cannot hold its timers back."""

from __future__ import annotations

from typing import Any

import google.cloud.pubsub_v1 as pubsub_v1
import pytest
from google.api_core import exceptions
from google.pubsub_v1 import types

from bqingest.pipeline import local_runner


@pytest.fixture
def pulls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The deadlines the client's own pull was called with (it answers as scripted)."""
    seen: list[Any] = []

    def pull(self: Any, *args: Any, timeout: Any = None, **kwargs: Any) -> Any:
        seen.append(timeout)
        if kwargs.get("subscription") == "silent":
            raise exceptions.DeadlineExceeded("no answer in time")
        return types.PullResponse(received_messages=[types.ReceivedMessage(ack_id="a")])

    monkeypatch.setattr(pubsub_v1.SubscriberClient, "pull", pull)
    local_runner.poll_briefly()
    local_runner.poll_briefly()  # idempotent: wrapped once
    return seen


def test_the_runners_thirty_second_pull_becomes_a_short_poll(pulls: list[Any]) -> None:
    client = object.__new__(pubsub_v1.SubscriberClient)  # no channel needed: pull is faked
    answer = client.pull(subscription="s", max_messages=10, timeout=30)
    assert len(answer.received_messages) == 1
    client.pull(subscription="s", max_messages=10)
    client.pull(subscription="s", max_messages=10, timeout=0.5)
    assert pulls == [local_runner.PULL_TIMEOUT_SECONDS, local_runner.PULL_TIMEOUT_SECONDS, 0.5]


def test_a_pull_that_misses_its_deadline_found_nothing(pulls: list[Any]) -> None:
    client = object.__new__(pubsub_v1.SubscriberClient)
    assert list(client.pull(subscription="silent", timeout=30).received_messages) == []


def test_a_dofns_state_and_timers_are_looked_up_once_per_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from apache_beam.runners.direct import transform_evaluator
    from apache_beam.transforms import userstate

    from bqingest.pipeline.sink import WriteRows
    from bqingest.pipeline.transforms import ParseMessage
    from tests.unit.pipeline.test_sink import RecordingConnect
    from tests.unit.pipeline.test_writer import TABLES

    original = userstate.get_dofn_specs
    calls: list[object] = []

    def counted(dofn: object) -> tuple[set[Any], set[Any]]:
        calls.append(dofn)
        return original(dofn)

    monkeypatch.setattr(userstate, "get_dofn_specs", counted)
    monkeypatch.setattr(transform_evaluator, "get_dofn_specs", counted)
    local_runner.cache_dofn_specs()
    local_runner.cache_dofn_specs()  # idempotent: wrapped once
    write = WriteRows(tables=TABLES, connect=RecordingConnect("specs"))
    other = WriteRows(tables=TABLES, connect=RecordingConnect("specs2"), max_rows=5)
    expected = original(write)
    assert userstate.get_dofn_specs(write) == expected == transform_evaluator.get_dofn_specs(other)
    assert len(expected[0]) == 2 and len(expected[1]) == 2  # rows and size; delay, window end
    assert userstate.is_stateful_dofn(write)
    assert not userstate.is_stateful_dofn(ParseMessage(max_message_bytes=1024))
    userstate.get_dofn_specs(write)[0].clear()  # a caller's set is its own
    assert userstate.get_dofn_specs(other) == expected
    assert [type(dofn) for dofn in calls] == [WriteRows, ParseMessage]
