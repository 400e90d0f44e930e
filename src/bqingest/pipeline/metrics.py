"""Names of the pipeline's Beam metrics (namespace ``bqingest``), in one place.

Counters: ``messages_read``, ``events_parsed``, ``parse_rejected`` (parse step);
``rows_written_events``, ``rows_written_dead_letters``, ``dead_letters_<reason>`` (one per reason
code, counted when the dead letter is written), ``sink_rejected``, ``sink_retries`` (sink).
Distribution: ``publish_to_write_lag_ms``.

On Dataflow they appear in the job's metrics; on the local runner they under-report (see
docs/adr/0002-local-runner-recovery.md), so tests count rows in the warehouse instead.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from apache_beam.metrics.metric import Metrics

NAMESPACE: Final = "bqingest"


@lru_cache(maxsize=64)
def dead_letter_counter(reason: str) -> Any:
    """The counter of dead letters written with ``reason`` (``dead_letters_not_json``...)."""
    return Metrics.counter(NAMESPACE, f"dead_letters_{reason}")
