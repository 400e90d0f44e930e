"""The figures and the health rules of `bqingest status`, from readings built by hand."""

from __future__ import annotations

from typing import Any

import pytest

from bqingest.operations.counts import Counts
from bqingest.operations.figures import figures
from bqingest.operations.readings import API, PIPELINE, SOURCE, Reading, Samples
from bqingest.operations.rules import Thresholds, checks

BOUNDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, float("inf"))


def series(*entries: tuple[str, dict[str, str], float]) -> Samples:
    return Samples({(name, frozenset(labels.items())): value for name, labels, value in entries})


def freshness(lags: list[float]) -> list[tuple[str, dict[str, str], float]]:
    return [
        (
            "bqingest_pipeline_freshness_seconds_bucket",
            {"published": "after_start", "le": str(bound)},
            float(sum(1 for lag in lags if lag <= bound)),
        )
        for bound in BOUNDS
    ]


def source(published: float, failures: float = 0) -> Samples:
    return series(
        ("bqingest_source_published_total", {"kind": "valid"}, published),
        ("bqingest_source_publish_failures_total", {"kind": "valid"}, failures),
    )


def pipeline(
    read: float,
    events: float,
    lags: list[float] | None = None,
    dead: dict[tuple[str, str], float] | None = None,
) -> Samples:
    entries = [
        ("bqingest_pipeline_messages_read_total", {"published": "after_start"}, read),
        ("bqingest_pipeline_messages_read_total", {"published": "before_start"}, 0.0),
        ("bqingest_pipeline_rows_written_total", {"table": "events"}, events),
        ("bqingest_pipeline_rows_written_total", {"table": "dead_letters"}, 0.0),
        *freshness(lags or []),
        *(
            ("bqingest_pipeline_dead_letters_total", {"reason": r, "stage": s}, v)
            for (r, s), v in (dead or {}).items()
        ),
    ]
    return series(*entries)


def api(ok: float, errors: float = 0, metrics_scrapes: float = 0) -> Samples:
    return series(
        ("bqingest_api_requests_total", {"route": "/api/v1/events", "status": "200"}, ok),
        ("bqingest_api_requests_total", {"route": "/api/v1/events", "status": "503"}, errors),
        ("bqingest_api_requests_total", {"route": "/metrics", "status": "200"}, metrics_scrapes),
        ("bqingest_api_published_events_total", {}, 0.0),
    )


def reading(at: float, errors: dict[str, str] | None = None, **samples: Samples) -> Reading:
    names = {"source": SOURCE, "pipeline": PIPELINE, "api": API}
    return Reading(
        at=at,
        samples={names[k]: v for k, v in samples.items()},
        errors=errors or {},
        warehouse=Counts(),
    )


def verdicts(first: Reading, last: Reading, **limits: Any) -> dict[str, tuple[bool, str]]:
    return {c.rule: (c.ok, c.detail) for c in checks(first, last, Thresholds(**limits))}


def healthy_pair() -> tuple[Reading, Reading]:
    first = reading(0, source=source(100), pipeline=pipeline(100, 95, [0.4] * 95), api=api(10))
    last = reading(
        10, source=source(150), pipeline=pipeline(150, 140, [0.4] * 140), api=api(30, 0, 5)
    )
    return first, last


def test_a_healthy_window_passes_every_rule_and_gives_rates() -> None:
    first, last = healthy_pair()
    results = verdicts(first, last)
    assert all(ok for ok, _ in results.values()), results
    seen = figures(first, last)
    assert seen.published_rate == 5.0 and seen.read_rate == 5.0
    assert seen.backlog == 0 and seen.backlog_growth == 0
    assert seen.written_rate == {"events": 4.5, "dead_letters": 0.0}
    assert seen.freshness_rows == 45
    # 45 lags of 0.4 s, all in the (0.25, 0.5] bucket: interpolated as Prometheus does.
    assert seen.freshness_p95 == pytest.approx(0.25 + 0.25 * 0.95)
    assert seen.api_requests == 20 and seen.api_rps == 2.0  # the /metrics scrapes left out
    assert seen.api_5xx == 0


def test_a_process_that_does_not_answer_is_named() -> None:
    first, last = healthy_pair()
    last = Reading(
        at=last.at,
        samples={k: v for k, v in last.samples.items() if k != PIPELINE},
        errors={PIPELINE: "http://127.0.0.1:1/metrics: connection refused"},
    )
    ok, detail = verdicts(first, last)["answering"]
    assert not ok and "pipeline not answering (http://127.0.0.1:1/metrics" in detail
    assert figures(first, last).backlog is None


def test_backlog_growing_past_the_limit_fails() -> None:
    first = reading(0, source=source(100), pipeline=pipeline(100, 100))
    last = reading(10, source=source(900), pipeline=pipeline(300, 300))
    ok, detail = verdicts(first, last, max_backlog_growth=500)["backlog"]
    assert not ok and "grew by 600 messages in 10s (limit 500)" in detail
    assert verdicts(first, last, max_backlog_growth=600)["backlog"][0]


def test_a_backlog_nobody_reads_is_stalled() -> None:
    first = reading(0, source=source(100), pipeline=pipeline(60, 60))
    last = reading(10, source=source(100), pipeline=pipeline(60, 60))
    ok, detail = verdicts(first, last)["stalled"]
    assert not ok and "40 message(s) waiting and none read in 10s" in detail
    # Read during the window, even if some still wait: not stalled.
    moving = reading(10, source=source(100), pipeline=pipeline(70, 70))
    assert verdicts(first, moving)["stalled"][0]


def test_freshness_above_the_limit_fails_and_no_rows_passes() -> None:
    first = reading(0, source=source(0), pipeline=pipeline(0, 0))
    slow = reading(10, source=source(10), pipeline=pipeline(10, 10, [200.0] * 10))
    ok, detail = verdicts(first, slow, max_freshness_seconds=60)["freshness"]
    assert not ok and "over 10 row(s) (limit 60s)" in detail
    idle = reading(10, source=source(0), pipeline=pipeline(0, 0))
    assert verdicts(first, idle)["freshness"] == (True, "no event row written in the window")


def test_publish_failures_sink_dead_letters_and_api_errors_fail() -> None:
    first = reading(
        0,
        source=source(10),
        pipeline=pipeline(10, 10, dead={("not_json", "parse"): 3}),
        api=api(10),
    )
    last = reading(
        10,
        source=source(20, failures=2),
        pipeline=pipeline(20, 20, dead={("not_json", "parse"): 9, ("sink_rejected", "sink"): 1}),
        api=api(18, errors=2),
    )
    results = verdicts(first, last, max_api_error_ratio=0.05)
    assert results["publishing"] == (False, "2 publish failure(s) in the last 10s")
    assert not results["sink"][0] and "sink_rejected (sink) 1" in results["sink"][1]
    assert "not_json" not in results["sink"][1]  # the producers' errors are not the system's
    assert results["api_errors"] == (False, "20.0% of 10 API request(s) answered 5xx (limit 5%)")


def test_a_sink_the_pipeline_reports_blocked_fails_with_the_error_kind() -> None:
    first, last = healthy_pair()
    blocked = Samples(
        {
            **last.samples[PIPELINE].values,
            ("bqingest_pipeline_sink_blocked", frozenset({("kind", "not_found")})): 1.0,
            ("bqingest_pipeline_sink_blocked", frozenset({("kind", "unavailable")})): 0.0,
        }
    )
    last = Reading(at=last.at, samples={**last.samples, PIPELINE: blocked}, errors={})
    ok, detail = verdicts(first, last)["sink_blocked"]
    assert not ok
    assert "blocked: not_found" in detail and "unavailable" not in detail
    assert "bqingest bootstrap" in detail
    assert verdicts(*healthy_pair())["sink_blocked"] == (True, "the sink writes")
