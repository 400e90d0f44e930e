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
