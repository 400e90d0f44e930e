"""Projected Dataflow vCPU-seconds per million events, from the parse benchmark's figure.

Measured: our own per-event work on one core (parse + validate + row build, and the proto
encoding the sink adds). Assumed, not measured: what Dataflow's Python SDK harness adds per
element (decoding the Pub/Sub message, moving it between fused steps, counters, acknowledgement,
the Storage Write API call amortised over a bundle). The projection applies a stated range of
multipliers; docs/performance.md says why it is not measured here.
"""

from __future__ import annotations

from benchmarks.bench_parse import MESSAGES, measure

# Assumption: the runner's per-element work costs 3 to 6 times our own code's.
HARNESS_MULTIPLIERS = (3.0, 6.0)


def main() -> None:
    rates = measure(MESSAGES)
    parse_us = 1e6 / rates["parse_validate_row"]
    user_us = 1e6 / rates["parse_validate_row_encode"]
    low, high = (user_us * m for m in HARNESS_MULTIPLIERS)
    print(f"parse+validate+row build: {parse_us:.1f} us/event on one core")
    print(f"  + proto encoding (sink): {user_us:.1f} us/event")
    print(f"our code alone: {user_us:,.1f} vCPU-s per million events")
    print(
        f"projected on Dataflow: {low:,.0f} to {high:,.0f} vCPU-s per million events "
        f"(x{HARNESS_MULTIPLIERS[0]:g} to x{HARNESS_MULTIPLIERS[1]:g} for the SDK harness: "
        "an assumption)"
    )


if __name__ == "__main__":
    main()
