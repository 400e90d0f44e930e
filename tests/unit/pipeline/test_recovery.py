"""Where the local runner seeks the subscription on start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bqingest.pipeline.recovery import plan

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
WEEK = timedelta(days=7)


def test_seek_to_last_written_minus_margin() -> None:
    last = NOW - timedelta(minutes=5)
    p = plan(last, margin=timedelta(seconds=120), retention=WEEK, now=NOW)
    assert p.seek_to == last - timedelta(seconds=120)
    assert "120s margin" in p.describe()


def test_nothing_written_replays_the_whole_retention() -> None:
    p = plan(None, margin=timedelta(seconds=120), retention=WEEK, now=NOW)
    assert p.seek_to == NOW - WEEK
    assert "nothing written yet" in p.describe()


def test_never_before_the_retention_window() -> None:
    p = plan(NOW - WEEK, margin=timedelta(hours=1), retention=WEEK, now=NOW)
    assert p.seek_to == NOW - WEEK
