"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bqingest.config import LocalSettings, load
from bqingest.contract import MessageContext

PUBLISHED = datetime(2026, 11, 29, 7, 0, 0, tzinfo=UTC)


def context(
    attributes: dict[str, str] | None = None, message_id: str = "1234567890"
) -> MessageContext:
    """A Pub/Sub message context as the pipeline would see it."""
    return MessageContext(
        message_id=message_id, publish_time=PUBLISHED, attributes=attributes or {}
    )


def local_settings(tmp_path: Path, **overrides: object) -> LocalSettings:
    """Settings for tests (every group): local mode, no .env, data under tmp_path."""
    values: dict[str, object] = {"data_dir": tmp_path / "data", "project": "bqingest-test"}
    values.update(overrides)
    return LocalSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's BQINGEST_* variables or a cached Settings."""
    import os

    for name in list(os.environ):
        if name.startswith("BQINGEST_") or name == "PUBSUB_EMULATOR_HOST":
            monkeypatch.delenv(name)
    load.cache_clear()
    yield
    load.cache_clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/static are static checks (``make test-static``), never unit tests."""
    for item in items:
        if "tests/static/" in str(item.fspath):
            item.add_marker(pytest.mark.static)
