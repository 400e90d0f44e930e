"""The health rules of ``bqingest status``: each judges the figures of a window.

Each failure says which rule and why; any failure makes the status unhealthy.

================  ==================================================================
``answering``     the source, the pipeline and the API answer /metrics; the Pub/Sub
                  emulator accepts connections; the warehouse answers a count
``publishing``    the source had no publish failure during the window
``backlog``       the backlog did not grow by more than ``max_backlog_growth``
``stalled``       not: a backlog at both ends of the window and nothing read in it
``freshness``     p95 publish-to-write lag of rows written in the window within
                  ``max_freshness_seconds``
``sink``          no dead letter at the sink stage or with reason ``internal_error``
                  during the window (the system's faults, not the producers')
``sink_blocked``  the pipeline does not report its sink as blocked (appends failing for a
                  reason that is not a row's: a missing table, no permission, BigQuery
                  down); the detail names the error's kind
``api_errors``    API 5xx share of requests during the window within ``max_api_error_ratio``
================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from bqingest.operations.figures import backlog, figures
from bqingest.operations.readings import Reading


@dataclass(frozen=True)
class Thresholds:
    """Limits of the health rules (``bqingest status`` options)."""

    max_freshness_seconds: float = 60.0
    max_backlog_growth: float = 500.0
    max_api_error_ratio: float = 0.05


@dataclass(frozen=True)
class Check:
    """One rule's verdict."""

    rule: str
    ok: bool
    detail: str


def checks(first: Reading, last: Reading, thresholds: Thresholds) -> list[Check]:
    """Every rule's verdict for the window between ``first`` and ``last``."""
    seen = figures(first, last)
    down = {**first.errors, **last.errors}
    results = [
        Check(
            "answering",
            not down,
            "; ".join(f"{name} not answering ({error})" for name, error in sorted(down.items()))
            or "every process answers",
        )
    ]
    failures = seen.publish_failures_in_window
    results.append(
        Check(
            "publishing",
            not failures,
            f"{failures:.0f} publish failure(s) in the last {seen.window:.0f}s"
            if failures
            else "no publish failure",
        )
    )
    growth = seen.backlog_growth
    results.append(
        Check(
            "backlog",
            growth is None or growth <= thresholds.max_backlog_growth,
            f"backlog grew by {growth:.0f} messages in {seen.window:.0f}s "
            f"(limit {thresholds.max_backlog_growth:.0f})"
            if growth is not None
            else "backlog unknown (needs the source and the pipeline)",
        )
    )
    stalled = (
        seen.backlog_growth is not None
        and backlog(first) not in (None, 0.0)
        and seen.backlog not in (None, 0.0)
        and not seen.read_in_window
    )
    results.append(
        Check(
            "stalled",
            not stalled,
            f"{seen.backlog:.0f} message(s) waiting and none read in {seen.window:.0f}s"
            if stalled
            else "the pipeline reads what is published",
        )
    )
    p95 = seen.freshness_p95
    results.append(
        Check(
            "freshness",
            p95 is None or p95 <= thresholds.max_freshness_seconds,
            f"p95 publish-to-write lag {p95:.1f}s over {seen.freshness_rows:.0f} row(s) "
            f"(limit {thresholds.max_freshness_seconds:g}s)"
            if p95 is not None
            else "no event row written in the window",
        )
    )
    system_faults = {
        key: v
        for key, v in (seen.dead_letters_in_window or {}).items()
        if v and (key[1] == "sink" or key[0] == "internal_error")
    }
    results.append(
        Check(
            "sink",
            not system_faults,
            "dead letters the system caused: "
            + ", ".join(f"{r} ({s}) {v:.0f}" for (r, s), v in sorted(system_faults.items()))
            if system_faults
            else "no sink-stage or internal_error dead letter",
        )
    )
    blocked = seen.sink_blocked or []
    results.append(
        Check(
            "sink_blocked",
            not blocked,
            f"the pipeline's writes to BigQuery are blocked: {', '.join(blocked)}; rows are held "
            "and retried (docs/runbook.md, Pipeline sink blocked"
            + ("; a missing table: `bqingest bootstrap`)" if "not_found" in blocked else ")")
            if blocked
            else "the sink writes",
        )
    )
    ratio = seen.api_5xx
    results.append(
        Check(
            "api_errors",
            ratio is None or ratio <= thresholds.max_api_error_ratio,
            f"{ratio:.1%} of {seen.api_requests:.0f} API request(s) answered 5xx "
            f"(limit {thresholds.max_api_error_ratio:.0%})"
            if ratio is not None
            else "no API request in the window",
        )
    )
    return results
