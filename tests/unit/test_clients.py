"""The emulator's boot id: created once per emulator start, read by everyone after."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from google.api_core import exceptions

from bqingest.clients import EMULATOR_BOOT_TOPIC, pubsub_emulator_boot, recorded_message_id
from bqingest.config import Endpoints

LOCAL = Endpoints(project="p-roject", pubsub_emulator="127.0.0.1:8085")


class FakeEmulator:
    """The two admin calls the boot id needs, on topics held in memory."""

    def __init__(self) -> None:
        self.topics: dict[str, dict[str, str]] = {}

    def create_topic(self, request: dict[str, Any], timeout: float) -> None:
        if request["name"] in self.topics:
            raise exceptions.AlreadyExists("Topic already exists")
        self.topics[request["name"]] = dict(request["labels"])

    def get_topic(self, topic: str, timeout: float) -> Any:
        return SimpleNamespace(labels=self.topics[topic])


def test_the_first_caller_creates_the_boot_id_and_every_later_one_reads_it() -> None:
    emulator = FakeEmulator()
    first = pubsub_emulator_boot(LOCAL, publisher=emulator)  # type: ignore[arg-type]
    second = pubsub_emulator_boot(LOCAL, publisher=emulator)  # type: ignore[arg-type]
    assert first == second and first is not None and len(first) == 12
    assert list(emulator.topics) == [f"projects/p-roject/topics/{EMULATOR_BOOT_TOPIC}"]
    restarted = FakeEmulator()  # a new start: empty, so a new id
    assert pubsub_emulator_boot(LOCAL, publisher=restarted) != first  # type: ignore[arg-type]


def test_pubsub_itself_has_no_boot_and_its_ids_are_kept() -> None:
    assert pubsub_emulator_boot(Endpoints(project="p-roject")) is None
    assert recorded_message_id("12436746572385711", None) == "12436746572385711"
    assert recorded_message_id("42", "0a1b2c3d4e5f") == "0a1b2c3d4e5f-42"
